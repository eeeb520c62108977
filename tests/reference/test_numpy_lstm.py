"""The NumPy reference against torch.nn.LSTM (float64), and its backward against finite differences."""

import numpy as np
import pytest
import torch

from lstmkit.reference import init_params, lstm_backward, lstm_forward, params_from_state_dict


@pytest.mark.parametrize("layers", [1, 3])
def test_forward_and_bptt_match_torch(layers):
    torch.manual_seed(0)
    lstm = torch.nn.LSTM(3, 5, num_layers=layers, batch_first=True, dtype=torch.float64)
    x = torch.randn(4, 6, 3, dtype=torch.float64, requires_grad=True)
    h0 = torch.randn(layers, 4, 5, dtype=torch.float64, requires_grad=True)
    c0 = torch.randn(layers, 4, 5, dtype=torch.float64, requires_grad=True)
    y, (h_n, c_n) = lstm(x, (h0, c0))
    rng = np.random.default_rng(0)
    dy, dh_n, dc_n = rng.normal(size=y.shape), rng.normal(size=h_n.shape), rng.normal(size=c_n.shape)
    loss = (y * torch.from_numpy(dy)).sum() + (h_n * torch.from_numpy(dh_n)).sum() + (c_n * torch.from_numpy(dc_n)).sum()
    loss.backward()

    params = params_from_state_dict({k: v.detach().numpy() for k, v in lstm.state_dict().items()})
    y_np, (h_np, c_np), cache = lstm_forward(x.detach().numpy(), params, h0.detach().numpy(), c0.detach().numpy())
    np.testing.assert_allclose(y_np, y.detach().numpy(), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(h_np, h_n.detach().numpy(), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(c_np, c_n.detach().numpy(), rtol=1e-10, atol=1e-12)

    grads, dx, dh0, dc0 = lstm_backward(dy, dh_n, dc_n, cache)
    np.testing.assert_allclose(dx, x.grad.numpy(), rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(dh0, h0.grad.numpy(), rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(dc0, c0.grad.numpy(), rtol=1e-9, atol=1e-12)
    for layer in range(layers):
        for name, grad in grads[layer].items():
            want = getattr(lstm, f"{name}_l{layer}").grad.numpy()
            np.testing.assert_allclose(grad, want, rtol=1e-9, atol=1e-12, err_msg=f"{name}_l{layer}")


def test_backward_matches_finite_differences():
    rng = np.random.default_rng(1)
    params = init_params(2, 3, 2, rng)
    x = rng.normal(size=(2, 4, 2))
    dy = rng.normal(size=(2, 4, 3))

    def loss(params):
        y, _, _ = lstm_forward(x, params)
        return float((y * dy).sum())

    _, (h_n, c_n), cache = lstm_forward(x, params)
    grads, _, _, _ = lstm_backward(dy, np.zeros_like(h_n), np.zeros_like(c_n), cache)
    eps = 1e-6
    for layer, name, index in [(0, "weight_ih", (5, 1)), (1, "weight_hh", (7, 2)), (0, "bias_hh", (3,))]:
        bumped = [dict(p) for p in params]
        plus, minus = bumped[layer][name].copy(), bumped[layer][name].copy()
        plus[index] += eps
        minus[index] -= eps
        bumped[layer][name] = plus
        up = loss(bumped)
        bumped[layer][name] = minus
        down = loss(bumped)
        assert grads[layer][name][index] == pytest.approx((up - down) / (2 * eps), rel=1e-6, abs=1e-9)


def test_reference_refuses_parameters_it_does_not_model():
    from lstmkit.nn import LSTM

    with pytest.raises(ValueError, match="cannot use"):
        params_from_state_dict(LSTM(3, 4, peephole=True).state_dict())
