"""lstmkit.nn layers against torch.nn.LSTM/GRU, brute force and gradcheck.

The reference for variable lengths is brute force: each sequence run alone through torch's module
on its real steps only, so it does not share the packing code the fused path uses.
"""

import itertools

import pytest
import torch
import torch.nn.functional as F
from torch.func import functional_call

from lstmkit.nn import GRU, LSTM

B, T, FEAT, H = 3, 5, 4, 6
LENGTHS = [5, 2, 4]
ATOL, RTOL = 2e-5, 1e-4


def as_tuple(state):
    return state if isinstance(state, tuple) else (state,)


def from_tuple(states, like_lstm):
    return states if like_lstm else states[0]


def random_state(mode, layers, directions, proj, dtype=torch.float32):
    rows = layers * directions
    h = torch.randn(rows, B, proj or H, dtype=dtype, requires_grad=True)
    if mode == "lstm":
        return (h, torch.randn(rows, B, H, dtype=dtype, requires_grad=True))
    return h


def brute_force(torch_module, x, state, lengths, like_lstm):
    """Each sequence alone, on its real steps only; outputs zero-padded to T."""
    outputs, finals = [], []
    for b in range(x.shape[0]):
        steps = lengths[b] if lengths else x.shape[1]
        s = None if state is None else from_tuple(tuple(part[:, b : b + 1] for part in as_tuple(state)), like_lstm)
        out, final = torch_module(x[b : b + 1, :steps], s)
        outputs.append(F.pad(out, (0, 0, 0, x.shape[1] - steps)))
        finals.append(as_tuple(final))
    return torch.cat(outputs), tuple(torch.cat(parts, dim=1) for parts in zip(*finals))


def loss_and_grads(module, x, state, out, final):
    """A loss touching every output and state entry with fixed random weights, and its gradients."""
    gen = torch.Generator().manual_seed(1)
    loss = (out * torch.randn(out.shape, generator=gen)).sum()
    for part in as_tuple(final):
        loss = loss + (part * torch.randn(part.shape, generator=gen)).sum()
    inputs = [x] + ([] if state is None else list(as_tuple(state))) + list(module.parameters())
    return torch.autograd.grad(loss, inputs)


def assert_close_all(got, want):
    for g, w in zip(got, want, strict=True):
        torch.testing.assert_close(g, w, atol=ATOL, rtol=RTOL)


GRID = list(itertools.product([1, 2], [False, True], [None, LENGTHS], [False, True]))


@pytest.mark.parametrize("impl", ["fused", "explicit"])
@pytest.mark.parametrize("proj", [0, 3])
@pytest.mark.parametrize("layers,bidirectional,lengths,init_state", GRID)
def test_lstm_matches_torch(impl, proj, layers, bidirectional, lengths, init_state):
    torch.manual_seed(0)
    ours = LSTM(FEAT, H, num_layers=layers, bidirectional=bidirectional, proj_size=proj, impl=impl)
    ref = torch.nn.LSTM(FEAT, H, num_layers=layers, bidirectional=bidirectional, proj_size=proj, batch_first=True)
    ref.load_state_dict(ours.state_dict())
    x = torch.randn(B, T, FEAT, requires_grad=True)
    state = random_state("lstm", layers, 2 if bidirectional else 1, proj) if init_state else None

    out, final = ours(x, state, lengths=lengths)
    assert ours.last_dispatch.path == impl
    ref_out, ref_final = brute_force(ref, x, state, lengths, like_lstm=True)
    assert_close_all((out, *final), (ref_out, *ref_final))
    assert_close_all(loss_and_grads(ours, x, state, out, final), loss_and_grads(ref, x, state, ref_out, ref_final))


@pytest.mark.parametrize("impl", ["fused", "explicit"])
@pytest.mark.parametrize("layers,bidirectional,lengths,init_state", GRID)
def test_gru_matches_torch(impl, layers, bidirectional, lengths, init_state):
    torch.manual_seed(0)
    ours = GRU(FEAT, H, num_layers=layers, bidirectional=bidirectional, impl=impl)
    ref = torch.nn.GRU(FEAT, H, num_layers=layers, bidirectional=bidirectional, batch_first=True)
    ref.load_state_dict(ours.state_dict())
    x = torch.randn(B, T, FEAT, requires_grad=True)
    state = random_state("gru", layers, 2 if bidirectional else 1, 0) if init_state else None

    out, final = ours(x, state, lengths=lengths)
    assert ours.last_dispatch.path == impl
    ref_out, ref_final = brute_force(ref, x, state, lengths, like_lstm=False)
    assert_close_all((out, *as_tuple(final)), (ref_out, *ref_final))
    assert_close_all(loss_and_grads(ours, x, state, out, final), loss_and_grads(ref, x, state, ref_out, ref_final))


@pytest.mark.parametrize("impl", ["fused", "explicit"])
def test_time_major_layout_matches_batch_first(impl):
    torch.manual_seed(0)
    first = LSTM(FEAT, H, num_layers=2, bidirectional=True, impl=impl)
    major = LSTM(FEAT, H, num_layers=2, bidirectional=True, batch_first=False, impl=impl)
    major.load_state_dict(first.state_dict())
    x = torch.randn(B, T, FEAT)
    out_first, (h1, c1) = first(x, lengths=LENGTHS)
    out_major, (h2, c2) = major(x.transpose(0, 1), lengths=LENGTHS)
    assert_close_all((out_major.transpose(0, 1), h2, c2), (out_first, h1, c1))


def test_state_dict_loads_into_torch_and_back():
    ours = LSTM(FEAT, H, num_layers=2, bidirectional=True, proj_size=2)
    ref = torch.nn.LSTM(FEAT, H, num_layers=2, bidirectional=True, proj_size=2, batch_first=True)
    ref.load_state_dict(ours.state_dict(), strict=True)
    back = LSTM(FEAT, H, num_layers=2, bidirectional=True, proj_size=2)
    back.load_state_dict(ref.state_dict(), strict=True)
    for name, value in ours.state_dict().items():
        assert torch.equal(back.state_dict()[name], value), name
    gru = GRU(FEAT, H, num_layers=2)
    torch.nn.GRU(FEAT, H, num_layers=2).load_state_dict(gru.state_dict(), strict=True)


def test_plain_layer_initialises_like_torch():
    torch.manual_seed(7)
    ours = LSTM(FEAT, H, num_layers=2)
    torch.manual_seed(7)
    ref = torch.nn.LSTM(FEAT, H, num_layers=2)
    for name, value in ref.state_dict().items():
        assert torch.equal(ours.state_dict()[name], value), name


def test_dispatch_says_why():
    x = torch.randn(B, T, FEAT)
    plain = LSTM(FEAT, H)
    plain(x)
    assert plain.last_dispatch.path == "fused" and "oneDNN" in plain.last_dispatch.reason
    plain(x, lengths=LENGTHS)
    assert "native" in plain.last_dispatch.reason  # packed input does not go to oneDNN
    variant = LSTM(FEAT, H, peephole=True, layer_norm=True)
    variant(x)
    assert variant.last_dispatch.path == "explicit"
    assert "peephole or layer_norm" in variant.last_dispatch.reason
    with pytest.raises(ValueError, match="impl=.fused. cannot compute peephole"):
        LSTM(FEAT, H, peephole=True, impl="fused")


@pytest.mark.parametrize("lengths", [[0, 2, 3], [6, 2, 3], [5, 2]])
def test_bad_lengths_are_rejected(lengths):
    with pytest.raises(ValueError, match="length"):
        LSTM(FEAT, H)(torch.randn(B, T, FEAT), lengths=lengths)


def test_full_lengths_take_the_unpacked_fast_path():
    lstm = LSTM(FEAT, H)
    lstm(torch.randn(B, T, FEAT), lengths=[T] * B)
    assert "oneDNN" in lstm.last_dispatch.reason


@pytest.mark.parametrize("cls", [LSTM, GRU])
@pytest.mark.parametrize("layers,bidirectional", [(1, True), (2, True), (2, False)])
def test_outputs_alone_equal_the_brute_force_outputs_and_their_gradients(cls, layers, bidirectional):
    """outputs() runs the fused kernel unpacked (each direction on sequences reversed within their lengths)."""
    torch.manual_seed(0)
    module = cls(FEAT, H, num_layers=layers, bidirectional=bidirectional)
    x = torch.randn(B, T, FEAT, requires_grad=True)
    got = module.outputs(x, torch.tensor(LENGTHS))
    reference = cls(FEAT, H, num_layers=layers, bidirectional=bidirectional)
    reference.load_state_dict(module.state_dict())
    want = torch.cat([F.pad(reference(x[b : b + 1, :n])[0], (0, 0, 0, T - n)) for b, n in enumerate(LENGTHS)])
    torch.testing.assert_close(got, want, atol=ATOL, rtol=RTOL)
    weights = torch.randn(got.shape, generator=torch.Generator().manual_seed(1))
    got_grads = torch.autograd.grad((got * weights).sum(), [x, *module.parameters()])
    want_grads = torch.autograd.grad((want * weights).sum(), [x, *reference.parameters()])
    assert_close_all(got_grads, want_grads)


def test_outputs_alone_of_a_variant_or_a_projection_are_the_forward_outputs():
    x, lengths = torch.randn(B, T, FEAT), torch.tensor(LENGTHS)
    for module in (LSTM(FEAT, H, layer_norm=True, bidirectional=True), LSTM(FEAT, H, proj_size=3, bidirectional=True)):
        assert torch.equal(module.outputs(x, lengths), module(x, lengths=lengths)[0])


# ----------------------------------------------------------------------------------------- variants
def test_peephole_with_zero_peepholes_is_the_plain_lstm():
    torch.manual_seed(0)
    peep = LSTM(FEAT, H, num_layers=2, peephole=True)
    plain = LSTM(FEAT, H, num_layers=2)
    plain.load_state_dict(peep.state_dict(), strict=False)
    with torch.no_grad():
        peep.peephole_l0.zero_()
        peep.peephole_l1.zero_()
    x = torch.randn(B, T, FEAT)
    assert_close_all(peep(x)[0:1], plain(x)[0:1])


def handwritten_peephole_ln_lstm(x, w_ih, w_hh, b_ih, b_hh, peep, g_ih, g_hh):
    """Single-layer LSTM written gate by gate with separate matrices, as the papers write it."""
    hidden = w_hh.shape[1]
    W_x = dict(zip("ifgo", w_ih.split(hidden)))
    W_h = dict(zip("ifgo", w_hh.split(hidden)))
    b = {k: bi + bh for k, bi, bh in zip("ifgo", b_ih.split(hidden), b_hh.split(hidden))}
    gx = dict(zip("ifgo", g_ih.split(hidden)))
    gh = dict(zip("ifgo", g_hh.split(hidden)))
    w_c = dict(zip("ifo", peep.split(hidden)))
    norm = torch.nn.LayerNorm(hidden, elementwise_affine=False)
    h = x.new_zeros(x.shape[0], hidden)
    c = x.new_zeros(x.shape[0], hidden)
    outputs = []
    for t in range(x.shape[1]):
        pre = {k: norm(x[:, t] @ W_x[k].T) * gx[k] + norm(h @ W_h[k].T) * gh[k] + b[k] for k in "ifgo"}
        i = torch.sigmoid(pre["i"] + w_c["i"] * c)
        f = torch.sigmoid(pre["f"] + w_c["f"] * c)
        g = torch.tanh(pre["g"])
        c = f * c + i * g
        o = torch.sigmoid(pre["o"] + w_c["o"] * c)
        h = o * torch.tanh(c)
        outputs.append(h)
    return torch.stack(outputs, 1), h, c


def test_peephole_layer_norm_lstm_matches_handwritten_equations():
    torch.manual_seed(0)
    lstm = LSTM(FEAT, H, peephole=True, layer_norm=True)
    with torch.no_grad():  # gains away from 1 so that a missing gain would show
        lstm.ln_weight_ih_l0.uniform_(0.5, 1.5)
        lstm.ln_weight_hh_l0.uniform_(0.5, 1.5)
    x = torch.randn(B, T, FEAT)
    out, (h, c) = lstm(x)
    p = {name.removesuffix("_l0"): value for name, value in lstm.named_parameters()}
    want = handwritten_peephole_ln_lstm(
        x, p["weight_ih"], p["weight_hh"], p["bias_ih"], p["bias_hh"], p["peephole"], p["ln_weight_ih"], p["ln_weight_hh"]
    )
    assert_close_all((out, h[0], c[0]), want)


def test_layer_norm_gru_matches_handwritten_equations():
    torch.manual_seed(0)
    gru = GRU(FEAT, H, layer_norm=True)
    with torch.no_grad():
        gru.ln_weight_ih_l0.uniform_(0.5, 1.5)
        gru.ln_weight_hh_l0.uniform_(0.5, 1.5)
    x = torch.randn(B, T, FEAT)
    out, h_n = gru(x)
    p = {name.removesuffix("_l0"): value for name, value in gru.named_parameters()}
    norm = torch.nn.LayerNorm(H, elementwise_affine=False)
    W_x, W_h = p["weight_ih"].split(H), p["weight_hh"].split(H)
    b_x, b_h = p["bias_ih"].split(H), p["bias_hh"].split(H)
    g_x, g_h = p["ln_weight_ih"].split(H), p["ln_weight_hh"].split(H)
    h = torch.zeros(B, H)
    for t in range(T):
        ax = [norm(x[:, t] @ W_x[k].T) * g_x[k] + b_x[k] for k in range(3)]
        ah = [norm(h @ W_h[k].T) * g_h[k] + b_h[k] for k in range(3)]
        r, z = torch.sigmoid(ax[0] + ah[0]), torch.sigmoid(ax[1] + ah[1])
        n = torch.tanh(ax[2] + r * ah[2])
        h = (1 - z) * n + z * h
        torch.testing.assert_close(out[:, t], h, atol=ATOL, rtol=RTOL)
    torch.testing.assert_close(h_n[0], h, atol=ATOL, rtol=RTOL)


# -------------------------------------------------------------------------------------------- step
@pytest.mark.parametrize(
    "kwargs",
    [{}, {"num_layers": 2, "proj_size": 3}, {"num_layers": 2, "peephole": True, "layer_norm": True}],
    ids=["plain", "stacked-proj", "stacked-variants"],
)
def test_lstm_step_over_time_equals_whole_sequence(kwargs):
    torch.manual_seed(0)
    lstm = LSTM(FEAT, H, **kwargs)
    x = torch.randn(B, T, FEAT)
    layers = kwargs.get("num_layers", 1)
    state = (torch.randn(layers, B, kwargs.get("proj_size") or H), torch.randn(layers, B, H))
    whole, final = lstm(x, state)
    s, outputs = state, []
    for t in range(T):
        y, s = lstm.step(x[:, t], s)
        outputs.append(y)
    assert_close_all((torch.stack(outputs, 1), *s), (whole, *final))


def test_gru_step_over_time_equals_whole_sequence():
    torch.manual_seed(0)
    gru = GRU(FEAT, H, num_layers=2)
    x = torch.randn(B, T, FEAT)
    whole, final = gru(x)
    s, outputs = None, []
    for t in range(T):
        y, s = gru.step(x[:, t], s)
        outputs.append(y)
    assert_close_all((torch.stack(outputs, 1), s), (whole, final))


def test_step_refuses_bidirectional():
    with pytest.raises(ValueError, match="unidirectional"):
        LSTM(FEAT, H, bidirectional=True).step(torch.randn(B, FEAT))


# ---------------------------------------------------------------------------------------- dropout
@pytest.mark.parametrize("impl", ["fused", "explicit"])
def test_dropout_between_layers_only_while_training(impl):
    torch.manual_seed(0)
    lstm = LSTM(FEAT, H, num_layers=2, dropout=0.5, impl=impl)
    x = torch.randn(B, T, FEAT)
    lstm.eval()
    a, b = lstm(x)[0], lstm(x)[0]
    assert torch.equal(a, b)
    lstm.train()
    assert not torch.allclose(lstm(x)[0], a)


@pytest.mark.parametrize("impl", ["fused", "explicit"])
def test_no_dropout_after_the_last_layer(impl):
    torch.manual_seed(0)
    with pytest.warns(UserWarning, match="non-zero dropout expects num_layers greater than 1"):
        lstm = LSTM(FEAT, H, num_layers=1, dropout=0.5, impl=impl)
    x = torch.randn(B, T, FEAT)
    train_out = lstm.train()(x)[0]
    torch.testing.assert_close(train_out, lstm.eval()(x)[0])


def test_explicit_dropout_acts_on_the_layer_outputs_with_rate_p(monkeypatch):
    lstm = LSTM(FEAT, H, num_layers=3, dropout=0.3, impl="explicit")
    calls = []
    original = torch.nn.functional.dropout

    def spy(t, p, training):
        out = original(t, p, training)
        calls.append((tuple(t.shape), (out != 0).float().mean().item()))
        return out

    monkeypatch.setattr(torch.nn.functional, "dropout", spy)
    lstm.train()(torch.randn(256, T, FEAT))
    assert [shape for shape, _ in calls] == [(256, T, H)] * 2  # after layers 1 and 2, not after the last
    assert all(kept == pytest.approx(0.7, abs=0.02) for _, kept in calls)


# ------------------------------------------------------------------------------------- torch compat
@pytest.mark.parametrize("impl", ["fused", "explicit"])
def test_accepts_what_torch_accepts(impl):
    torch.manual_seed(0)
    ours = LSTM(FEAT, H, num_layers=2, impl=impl)
    ref = torch.nn.LSTM(FEAT, H, num_layers=2, batch_first=True)
    ref.load_state_dict(ours.state_dict())
    x = torch.randn(B, T, FEAT)
    hx = (torch.randn(2, B, H), torch.randn(2, B, H))
    assert_close_all((ours(x, hx=hx)[0],), (ref(x, hx)[0],))
    single, (h, c) = ours(x[0], (hx[0][:, 0], hx[1][:, 0]))  # unbatched (T, F)
    ref_single, (rh, rc) = ref(x[0], (hx[0][:, 0], hx[1][:, 0]))
    assert_close_all((single, h, c), (ref_single, rh, rc))
    packed = torch.nn.utils.rnn.pack_padded_sequence(x, LENGTHS, batch_first=True, enforce_sorted=False)
    out, (h, c) = ours(packed, hx)
    ref_out, (rh, rc) = ref(packed, hx)
    unpack = lambda p: torch.nn.utils.rnn.pad_packed_sequence(p, batch_first=True)[0]
    assert_close_all((unpack(out), h, c), (unpack(ref_out), rh, rc))


def test_explicit_path_checks_the_state_shape_like_torch():
    lstm = LSTM(FEAT, H, impl="explicit")
    with pytest.raises(RuntimeError, match="Expected hidden"):
        lstm(torch.randn(B, T, FEAT), (torch.zeros(3, B, H), torch.zeros(3, B, H)))
    with pytest.raises(RuntimeError, match="Expected hidden"):
        GRU(FEAT, H, impl="explicit")(torch.randn(B, T, FEAT), torch.zeros(1, 1, H))


def test_explicit_time_major_output_is_contiguous():
    out, _ = LSTM(FEAT, H, batch_first=False, impl="explicit")(torch.randn(T, B, FEAT))
    assert out.is_contiguous()


def test_fractional_lengths_are_rejected():
    with pytest.raises(ValueError, match="lengths must be integers"):
        LSTM(FEAT, H)(torch.randn(B, T, FEAT), lengths=[2.9, 1.5, 3.0])


# --------------------------------------------------------------------------------------- gradcheck
GRADCHECK_CASES = [
    ("lstm", {"impl": "fused"}),
    ("lstm", {"impl": "explicit"}),
    ("lstm", {"impl": "fused", "num_layers": 2, "bidirectional": True, "proj_size": 2, "lengths": True}),
    ("lstm", {"impl": "explicit", "num_layers": 2, "bidirectional": True, "proj_size": 2, "lengths": True}),
    ("lstm", {"peephole": True}),
    ("lstm", {"layer_norm": True}),
    ("lstm", {"peephole": True, "layer_norm": True, "proj_size": 2, "bidirectional": True, "lengths": True}),
    ("gru", {"impl": "fused", "bidirectional": True, "lengths": True}),
    ("gru", {"impl": "explicit", "bidirectional": True, "lengths": True}),
    ("gru", {"layer_norm": True, "num_layers": 2}),
]


@pytest.mark.parametrize("mode,kwargs", GRADCHECK_CASES, ids=[f"{m}-{sorted(k)}" for m, k in GRADCHECK_CASES])
def test_gradcheck_float64(mode, kwargs):
    kwargs = dict(kwargs)
    lengths = [3, 1] if kwargs.pop("lengths", False) else None
    torch.manual_seed(0)
    cls = LSTM if mode == "lstm" else GRU
    layer = cls(2, 3, dtype=torch.float64, **kwargs)
    names = [n for n, _ in layer.named_parameters()]
    params = [p.detach().clone().requires_grad_() for p in layer.parameters()]
    x = torch.randn(2, 3, 2, dtype=torch.float64, requires_grad=True)
    directions = 2 if kwargs.get("bidirectional") else 1
    rows = kwargs.get("num_layers", 1) * directions
    h0 = torch.randn(rows, 2, kwargs.get("proj_size") or 3, dtype=torch.float64, requires_grad=True)
    c0 = torch.randn(rows, 2, 3, dtype=torch.float64, requires_grad=True)

    def f(x, h0, c0, *flat):
        state = (h0, c0) if mode == "lstm" else h0
        out, final = functional_call(layer, dict(zip(names, flat)), (x, state), {"lengths": lengths})
        return (out, *as_tuple(final))

    inputs = (x, h0, c0, *params) if mode == "lstm" else (x, h0, c0.detach(), *params)
    assert torch.autograd.gradcheck(f, inputs, atol=1e-6, rtol=1e-4)


@pytest.mark.parametrize("cls", [LSTM, GRU])
@pytest.mark.filterwarnings("ignore:`torch.jit.script` is deprecated")
def test_torchscript_is_refused_with_a_message_that_names_the_module(cls):
    with pytest.raises(RuntimeError, match=f"torch.jit.script cannot compile lstmkit.nn.{cls.__name__}.*eager mode"):
        torch.jit.script(cls(3, 4))
    with pytest.raises(RuntimeError, match=f"lstmkit.nn.{cls.__name__}"):  # inside a user's model too
        torch.jit.script(torch.nn.Sequential(cls(3, 4)))


def test_gates_match_the_equations_by_hand_and_forward_gives_the_same_outputs():
    torch.manual_seed(0)
    lstm = LSTM(3, 4)
    x = torch.randn(2, 6, 3)
    gates = lstm.gates(x)
    assert lstm.last_dispatch.path == "explicit" and "gates()" in lstm.last_dispatch.reason
    assert set(gates) == {"input", "forget", "candidate", "output", "cell"} and gates["cell"].shape == (1, 1, 2, 6, 4)
    h, c = torch.zeros(2, 4), torch.zeros(2, 4)
    for t in range(6):  # torch's documented LSTM equations, gate order i, f, g, o
        z = x[:, t] @ lstm.weight_ih_l0.T + lstm.bias_ih_l0 + h @ lstm.weight_hh_l0.T + lstm.bias_hh_l0
        i, f, g, o = torch.sigmoid(z[:, :4]), torch.sigmoid(z[:, 4:8]), torch.tanh(z[:, 8:12]), torch.sigmoid(z[:, 12:])
        c = f * c + i * g
        h = o * torch.tanh(c)
        for name, value in (("input", i), ("forget", f), ("candidate", g), ("output", o), ("cell", c)):
            assert torch.allclose(gates[name][0, 0, :, t], value, atol=1e-6), (name, t)
    assert torch.allclose(lstm(x)[1][1][0], gates["cell"][0, 0, :, -1], atol=1e-6)


def test_gates_of_a_padded_bidirectional_stack_are_each_sequences_own():
    torch.manual_seed(1)
    lstm = LSTM(2, 3, num_layers=2, bidirectional=True, peephole=True).eval()
    x, lengths = torch.randn(3, 5, 2), torch.tensor([5, 2, 4])
    gates = lstm.gates(x, lengths)
    assert gates["forget"].shape == (2, 2, 3, 5, 3)
    for b, n in enumerate(lengths.tolist()):
        alone = lstm.gates(x[b : b + 1, :n])
        for name in gates:
            assert torch.allclose(gates[name][:, :, b, :n], alone[name][:, :, 0], atol=1e-6), name
            assert torch.all(gates[name][:, :, b, n:] == 0)
    with pytest.raises(ValueError, match=r"gates\(\) expects input"):
        lstm.gates(x[0])
