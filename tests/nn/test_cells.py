"""Cells against torch's cells and against the layers that share their step functions."""

import pytest
import torch

from lstmkit.nn import GRU, LSTM, GRUCell, LSTMCell


def test_lstm_cell_matches_torch_cell_outputs_and_gradients():
    torch.manual_seed(0)
    ours = LSTMCell(4, 6)
    ref = torch.nn.LSTMCell(4, 6)
    ref.load_state_dict(ours.state_dict(), strict=True)
    x = torch.randn(3, 4)
    state = (torch.randn(3, 6), torch.randn(3, 6))
    h, c = ours(x, state)
    h_ref, c_ref = ref(x, state)
    torch.testing.assert_close(h, h_ref)
    torch.testing.assert_close(c, c_ref)
    (h.sum() + 2 * c.sum()).backward()
    (h_ref.sum() + 2 * c_ref.sum()).backward()
    for name, p in ours.named_parameters():
        torch.testing.assert_close(p.grad, getattr(ref, name).grad)


def test_gru_cell_matches_torch_cell():
    torch.manual_seed(0)
    ours = GRUCell(4, 6)
    ref = torch.nn.GRUCell(4, 6)
    ref.load_state_dict(ours.state_dict(), strict=True)
    x, h = torch.randn(3, 4), torch.randn(3, 6)
    torch.testing.assert_close(ours(x, h), ref(x, h))
    torch.testing.assert_close(ours(x), ref(x))


@pytest.mark.parametrize("kwargs", [{"proj_size": 2}, {"peephole": True}, {"layer_norm": True}])
def test_lstm_cell_variants_equal_one_step_of_the_layer(kwargs):
    torch.manual_seed(0)
    cell = LSTMCell(4, 6, **kwargs)
    layer = LSTM(4, 6, **kwargs)
    renamed = {"peephole_weight": "peephole"}
    layer.load_state_dict({f"{renamed.get(k, k)}_l0": v for k, v in cell.state_dict().items()}, strict=True)
    x = torch.randn(3, 2, 4)
    state = (torch.randn(3, kwargs.get("proj_size") or 6), torch.randn(3, 6))  # non-zero: every weight matters
    out, (h_n, c_n) = layer(x, tuple(s[None] for s in state))
    for t in range(2):
        state = cell(x[:, t], state)
        torch.testing.assert_close(state[0], out[:, t])
    torch.testing.assert_close(state[1], c_n[0])


def test_gru_cell_layer_norm_equals_one_step_of_the_layer():
    torch.manual_seed(0)
    cell = GRUCell(4, 6, layer_norm=True)
    layer = GRU(4, 6, layer_norm=True)
    layer.load_state_dict({f"{k}_l0": v for k, v in cell.state_dict().items()}, strict=True)
    x, h = torch.randn(3, 2, 4), torch.randn(3, 6)
    out, _ = layer(x, h[None])
    for t in range(2):
        h = cell(x[:, t], h)
        torch.testing.assert_close(h, out[:, t])


@pytest.mark.parametrize("kwargs", [{}, {"proj_size": 2, "peephole": True, "layer_norm": True}])
def test_lstm_cell_gradcheck(kwargs):
    torch.manual_seed(0)
    cell = LSTMCell(3, 4, **kwargs).double()
    x = torch.randn(2, 3, dtype=torch.float64, requires_grad=True)
    h = torch.randn(2, kwargs.get("proj_size") or 4, dtype=torch.float64, requires_grad=True)
    c = torch.randn(2, 4, dtype=torch.float64, requires_grad=True)
    assert torch.autograd.gradcheck(lambda x, h, c: cell(x, (h, c)), (x, h, c))


def test_proj_size_must_be_smaller_than_hidden():
    with pytest.raises(ValueError, match="proj_size"):
        LSTMCell(3, 4, proj_size=4)


@pytest.mark.parametrize("cell", [LSTMCell(3, 4), GRUCell(3, 4), LSTMCell(3, 4, layer_norm=True)])
def test_a_cell_given_the_wrong_input_width_names_both_widths(cell):
    with pytest.raises(ValueError, match="the input has 5 features per step, the layer was built for input_size=3"):
        cell(torch.zeros(2, 5))
