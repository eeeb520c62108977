"""LSTM and GRU cells written from their gate equations.

Symbol key: B batch, F input features, H hidden size, P projection size (P = H without projection).

The step functions take the input contribution ``xw`` already computed (``x_t W_ih^T + b_ih``, layer
normalised when asked) so that a layer can compute it for all timesteps in one matrix product and only
the recurrent part runs once per step. The cell modules and the layers in ``recurrent.py`` share them.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import Tensor, nn

LN_EPS = 1e-5


def gate_projection(x: Tensor, weight: Tensor, bias: Tensor | None, ln_weight: Tensor | None, n_gates: int) -> Tensor:
    """``x W^T + b``; with ``ln_weight`` each gate's block is layer-normalised and scaled before the bias.

    Normalising the input and recurrent contributions separately, per gate, follows Ba et al. (2016),
    "Layer Normalization", section 6: the torch biases play the role of the normalisation's shift.

    Inputs: x (..., in). Outputs: (..., n_gates * H).
    """
    if x.shape[-1] != weight.shape[1]:  # else a matrix-multiply error that names no layer size
        raise ValueError(f"the input has {x.shape[-1]} features per step, the layer was built for input_size={weight.shape[1]}")
    if ln_weight is None:
        return F.linear(x, weight, bias)
    y = F.linear(x, weight)
    hidden = y.shape[-1] // n_gates
    y = F.layer_norm(y.unflatten(-1, (n_gates, hidden)), (hidden,), eps=LN_EPS).flatten(-2) * ln_weight
    return y if bias is None else y + bias


def lstm_step(
    xw: Tensor,
    h_tm1: Tensor,
    c_tm1: Tensor,
    weight_hh: Tensor,
    bias_hh: Tensor | None = None,
    weight_hr: Tensor | None = None,
    peephole: Tensor | None = None,
    ln_weight_hh: Tensor | None = None,
    record: list[Tensor] | None = None,
) -> tuple[Tensor, Tensor]:
    """One LSTM step; see :class:`LSTMCell` for the equations.

    Inputs: xw (B, 4H) the input contribution, h_tm1 (B, P), c_tm1 (B, H).
    Outputs: h_t (B, P), c_t (B, H). With ``record`` (a list), also appends (B, 5, H): i_t, f_t, g_t, o_t
    (the activated gates) and c_t.
    """
    if bias_hh is None and ln_weight_hh is None:  # one fused op; layers fold b_hh into xw up front
        gates = torch.addmm(xw, h_tm1, weight_hh.t())
    else:
        gates = xw + gate_projection(h_tm1, weight_hh, bias_hh, ln_weight_hh, 4)
    i, f, g, o = gates.chunk(4, dim=1)
    if peephole is not None:
        w_ci, w_cf, w_co = peephole.chunk(3)
        i = i + w_ci * c_tm1
        f = f + w_cf * c_tm1
    i_t, f_t, g_t = torch.sigmoid(i), torch.sigmoid(f), torch.tanh(g)
    c_t = f_t * c_tm1 + i_t * g_t
    if peephole is not None:
        o = o + w_co * c_t
    o_t = torch.sigmoid(o)
    h_t = o_t * torch.tanh(c_t)
    if record is not None:
        record.append(torch.stack((i_t, f_t, g_t, o_t, c_t), dim=1))
    if weight_hr is not None:
        h_t = h_t @ weight_hr.t()
    return h_t, c_t


def gru_step(
    xw: Tensor,
    h_tm1: Tensor,
    weight_hh: Tensor,
    bias_hh: Tensor | None = None,
    ln_weight_hh: Tensor | None = None,
) -> Tensor:
    """One GRU step; see :class:`GRUCell` for the equations.

    Inputs: xw (B, 3H) the input contribution, h_tm1 (B, H). Outputs: h_t (B, H).
    """
    hw = gate_projection(h_tm1, weight_hh, bias_hh, ln_weight_hh, 3)
    x_r, x_z, x_n = xw.chunk(3, dim=1)
    h_r, h_z, h_n = hw.chunk(3, dim=1)
    r = torch.sigmoid(x_r + h_r)
    z = torch.sigmoid(x_z + h_z)
    n = torch.tanh(x_n + r * h_n)
    return (1 - z) * n + z * h_tm1


def init_uniform(module: nn.Module, hidden_size: int) -> None:
    """torch's RNN initialisation: every parameter U(-1/sqrt(H), 1/sqrt(H)); layer-norm gains start at 1."""
    bound = 1.0 / math.sqrt(hidden_size)
    for name, param in module.named_parameters():
        if name.startswith("ln_weight"):
            nn.init.ones_(param)
        else:
            nn.init.uniform_(param, -bound, bound)


class LSTMCell(nn.Module):
    r"""One LSTM step, from the gate equations (gate order i, f, g, o, as in torch)::

        i   = sigmoid(W_ii x_t + b_ii + W_hi h_tm1 + b_hi [+ w_ci * c_tm1])
        f   = sigmoid(W_if x_t + b_if + W_hf h_tm1 + b_hf [+ w_cf * c_tm1])
        g   = tanh   (W_ig x_t + b_ig + W_hg h_tm1 + b_hg)
        c_t = f * c_tm1 + i * g
        o   = sigmoid(W_io x_t + b_io + W_ho h_tm1 + b_ho [+ w_co * c_t])
        h_t = o * tanh(c_t)                        [h_t = W_hr (o * tanh(c_t)) with proj_size]

    Bracketed terms are the optional variants: ``peephole`` adds diagonal connections from the cell
    state to the gates (Gers & Schmidhuber, 2000); ``proj_size`` projects h_t to P < H features
    (Sak et al., 2014, as ``torch.nn.LSTM(proj_size=...)``); ``layer_norm`` normalises the input and
    recurrent pre-activations of each gate separately (Ba et al., 2016).

    Args:
        input_size: F. hidden_size: H. bias: add b_ih and b_hh. proj_size: P, 0 for none.
        peephole: the peephole variant above.
        layer_norm: the layer-normalised variant above.

    Inputs: x (B, F), state (h_tm1 (B, P), c_tm1 (B, H)) or None for zeros.
    Outputs: (h_t (B, P), c_t (B, H)), the same tuple as ``torch.nn.LSTMCell``.

    Parameters carry torch's names (``weight_ih``, ``weight_hh``, ``bias_ih``, ``bias_hh``), so the
    state_dict of a cell without variants loads into ``torch.nn.LSTMCell``.

    Examples:
        >>> cell = LSTMCell(3, 8)
        >>> h, c = cell(torch.zeros(2, 3))
        >>> h.shape, c.shape
        (torch.Size([2, 8]), torch.Size([2, 8]))
    """

    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        bias: bool = True,
        proj_size: int = 0,
        peephole: bool = False,
        layer_norm: bool = False,
    ) -> None:
        super().__init__()
        if not 0 <= proj_size < hidden_size:
            raise ValueError(f"proj_size must be in [0, hidden_size={hidden_size}), got {proj_size}")
        self.input_size, self.hidden_size, self.proj_size = input_size, hidden_size, proj_size
        self.peephole, self.layer_norm = peephole, layer_norm
        out_size = proj_size or hidden_size
        self.weight_ih = nn.Parameter(torch.empty(4 * hidden_size, input_size))
        self.weight_hh = nn.Parameter(torch.empty(4 * hidden_size, out_size))
        self.bias_ih = nn.Parameter(torch.empty(4 * hidden_size)) if bias else None
        self.bias_hh = nn.Parameter(torch.empty(4 * hidden_size)) if bias else None
        self.weight_hr = nn.Parameter(torch.empty(proj_size, hidden_size)) if proj_size else None
        self.peephole_weight = nn.Parameter(torch.empty(3 * hidden_size)) if peephole else None  # w_ci, w_cf, w_co
        self.ln_weight_ih = nn.Parameter(torch.empty(4 * hidden_size)) if layer_norm else None
        self.ln_weight_hh = nn.Parameter(torch.empty(4 * hidden_size)) if layer_norm else None
        init_uniform(self, hidden_size)

    def forward(self, x: Tensor, state: tuple[Tensor, Tensor] | None = None) -> tuple[Tensor, Tensor]:
        if state is None:
            zeros = x.new_zeros(x.shape[0], self.hidden_size)
            state = (x.new_zeros(x.shape[0], self.proj_size or self.hidden_size), zeros)
        xw = gate_projection(x, self.weight_ih, self.bias_ih, self.ln_weight_ih, 4)
        return lstm_step(xw, state[0], state[1], self.weight_hh, self.bias_hh, self.weight_hr, self.peephole_weight, self.ln_weight_hh)


class GRUCell(nn.Module):
    r"""One GRU step, from the gate equations (gate order r, z, n, as in torch)::

        r   = sigmoid(W_ir x_t + b_ir + W_hr h_tm1 + b_hr)
        z   = sigmoid(W_iz x_t + b_iz + W_hz h_tm1 + b_hz)
        n   = tanh   (W_in x_t + b_in + r * (W_hn h_tm1 + b_hn))
        h_t = (1 - z) * n + z * h_tm1

    ``layer_norm`` normalises the input and recurrent pre-activations of each gate separately.

    Inputs: x (B, F), h_tm1 (B, H) or None for zeros. Outputs: h_t (B, H).
    The state_dict of a cell without layer norm loads into ``torch.nn.GRUCell``.

    Examples:
        >>> GRUCell(3, 8)(torch.zeros(2, 3)).shape
        torch.Size([2, 8])
    """

    def __init__(self, input_size: int, hidden_size: int, bias: bool = True, layer_norm: bool = False) -> None:
        super().__init__()
        self.input_size, self.hidden_size, self.layer_norm = input_size, hidden_size, layer_norm
        self.weight_ih = nn.Parameter(torch.empty(3 * hidden_size, input_size))
        self.weight_hh = nn.Parameter(torch.empty(3 * hidden_size, hidden_size))
        self.bias_ih = nn.Parameter(torch.empty(3 * hidden_size)) if bias else None
        self.bias_hh = nn.Parameter(torch.empty(3 * hidden_size)) if bias else None
        self.ln_weight_ih = nn.Parameter(torch.empty(3 * hidden_size)) if layer_norm else None
        self.ln_weight_hh = nn.Parameter(torch.empty(3 * hidden_size)) if layer_norm else None
        init_uniform(self, hidden_size)

    def forward(self, x: Tensor, h_tm1: Tensor | None = None) -> Tensor:
        if h_tm1 is None:
            h_tm1 = x.new_zeros(x.shape[0], self.hidden_size)
        xw = gate_projection(x, self.weight_ih, self.bias_ih, self.ln_weight_ih, 3)
        return gru_step(xw, h_tm1, self.weight_hh, self.bias_hh, self.ln_weight_hh)
