"""LSTM and GRU layers: stacked, bidirectional, variable lengths, streaming, fused dispatch.

Symbol key: B batch, T timesteps, F input features, H hidden size, P output size per direction
(proj_size, or H without projection), L layers, D directions (2 if bidirectional else 1).

The layers subclass ``torch.nn.LSTM`` / ``torch.nn.GRU``: parameters, names, gate order and
initialisation are torch's, so state_dicts load both ways and, with the same seed, a plain
``lstmkit.nn.LSTM`` starts from the very weights ``torch.nn.LSTM`` would. What the subclass adds:

* ``lengths``: variable-length batches without building a PackedSequence by hand;
* ``peephole`` and ``layer_norm`` variants, which torch's fused kernels do not compute, so they run
  the explicit cell loop of ``cells.py``;
* dispatch: the fused kernel (cuDNN on GPU, oneDNN or ATen's native kernel on CPU) whenever it
  computes the same function, the explicit loop otherwise; ``last_dispatch`` says which ran and why;
* ``step``: one timestep at a time, for streaming.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Literal, NamedTuple

import torch
import torch.nn.functional as F
from torch import Tensor, nn
from torch.nn.utils.rnn import PackedSequence, pack_padded_sequence, pad_packed_sequence

from lstmkit.nn.cells import gate_projection, gru_step, lstm_step

Impl = Literal["auto", "fused", "explicit"]


GATE_NAMES = ("input", "forget", "candidate", "output", "cell")  # LSTM.gates(): what lstm_step records, in order


@dataclass(frozen=True)
class Dispatch:
    """Which implementation ran a forward call, and why."""

    path: Literal["fused", "explicit"]
    reason: str


class _Weights(NamedTuple):
    """The parameters of one layer and direction; absent ones are None."""

    weight_ih: Tensor
    weight_hh: Tensor
    bias_ih: Tensor | None
    bias_hh: Tensor | None
    weight_hr: Tensor | None
    peephole: Tensor | None
    ln_weight_ih: Tensor | None
    ln_weight_hh: Tensor | None


class _Recurrent:
    """Shared by LSTM and GRU; mixed in before the torch class, whose forward is the fused path."""

    n_gates: int
    num_layers: int
    hidden_size: int
    proj_size: int
    weight_ih_l0: Tensor  # from the torch class it is mixed into
    check_forward_args: Callable
    bidirectional: bool
    batch_first: bool
    dropout: float
    training: bool

    def __prepare_scriptable__(self):
        # torch.jit.script calls this before compiling (on every submodule too); without it TorchScript stops
        # deep inside with "Unknown type annotation", naming neither the module nor a way out
        raise RuntimeError(
            f"torch.jit.script cannot compile lstmkit.nn.{type(self).__name__}: its forward chooses in Python between "
            "torch's fused kernel, the variant cells and packed or padded inputs; run the model in eager mode"
        )

    def _add_variants(self, peephole: bool, layer_norm: bool, impl: Impl) -> None:
        if impl not in ("auto", "fused", "explicit"):
            raise ValueError(f"impl must be 'auto', 'fused' or 'explicit', got {impl!r}")
        self.peephole, self.layer_norm, self.impl = peephole, layer_norm, impl
        self.last_dispatch: Dispatch | None = None
        self._dispatch_cache: dict[tuple, Dispatch] = {}
        weight = self.weight_ih_l0
        bound = self.hidden_size**-0.5
        for layer in range(self.num_layers):
            for suffix in self._suffixes():
                if peephole:  # w_ci, w_cf, w_co: one weight per cell unit and gate
                    p = nn.Parameter(torch.empty(3 * self.hidden_size, device=weight.device, dtype=weight.dtype))
                    nn.init.uniform_(p, -bound, bound)
                    setattr(self, f"peephole_l{layer}{suffix}", p)
                if layer_norm:
                    for part in ("ih", "hh"):
                        gain = torch.ones(self.n_gates * self.hidden_size, device=weight.device, dtype=weight.dtype)
                        setattr(self, f"ln_weight_{part}_l{layer}{suffix}", nn.Parameter(gain))
        if impl == "fused" and (peephole or layer_norm):
            self._decide(self.weight_ih_l0, False)  # raises the error a forward call would

    def _suffixes(self) -> tuple[str, ...]:
        return ("", "_reverse") if self.bidirectional else ("",)

    def reset_parameters(self) -> None:
        super().reset_parameters()  # type: ignore[misc]
        for name, param in self.named_parameters():  # type: ignore[attr-defined]
            if name.startswith("ln_weight"):
                nn.init.ones_(param)

    def extra_repr(self) -> str:
        s = super().extra_repr()  # type: ignore[misc]
        for flag in ("peephole", "layer_norm"):
            if getattr(self, flag, False):
                s += f", {flag}=True"
        if getattr(self, "impl", "auto") != "auto":
            s += f", impl={self.impl!r}"
        return s

    # ----------------------------------------------------------------------------------- dispatch
    def dispatch(self, x: Tensor, with_lengths: bool = False) -> Dispatch:
        """Decide which implementation computes ``forward(x)``, and say why."""
        # Cached: at B=1, H=64 a fused forward takes ~0.25 ms, so the decision must cost ~nothing.
        key = (self.impl, x.device.type, x.dtype, with_lengths, torch.backends.mkldnn.enabled, torch.backends.cudnn.enabled)
        decision = self._dispatch_cache.get(key)
        if decision is None:
            decision = self._dispatch_cache[key] = self._decide(x, with_lengths)
        return decision

    def _decide(self, x: Tensor, with_lengths: bool) -> Dispatch:
        if self.impl == "explicit":
            return Dispatch("explicit", "impl='explicit' was requested")
        missing = [name for name in ("peephole", "layer_norm") if getattr(self, name)]
        if missing and self.impl == "fused":
            raise ValueError(f"impl='fused' cannot compute {' or '.join(missing)}: torch's kernels lack it; use impl='auto'")
        if missing:
            return Dispatch("explicit", f"torch's fused kernels do not compute {' or '.join(missing)}")
        if x.is_cuda:
            backend = "cuDNN" if torch.backends.cudnn.is_acceptable(x) else "ATen's CUDA kernel"
        elif (
            self.n_gates == 4
            and torch.backends.mkldnn.is_available()
            and torch.backends.mkldnn.enabled
            and x.dtype in (torch.float32, torch.bfloat16)
            and not self.proj_size
            and not with_lengths
        ):
            backend = "oneDNN"
        else:
            backend = "ATen's native CPU kernel"
        return Dispatch("fused", f"torch's fused kernel ({backend}) computes this configuration")

    # ------------------------------------------------------------------------------------ forward
    def forward(self, x, hx=None, lengths: Tensor | Sequence[int] | None = None):
        """Run the whole sequence.

        Inputs:
            x: (B, T, F), or (T, B, F) with ``batch_first=False``; also, as torch accepts, an unbatched
                (T, F) sequence or a ``PackedSequence``.
            hx: the initial state, torch's layout: LSTM ``(h_0 (L*D, B, P), c_0 (L*D, B, H))``,
                GRU ``h_0 (L*D, B, H)``; None for zeros.
            lengths: (B,) the real length of each sequence, 1 <= length <= T; None when all are T.
        Outputs:
            output: (B, T, D*P) the last layer's h_t at every step, zero past each sequence's length.
            state: like ``hx``, each sequence's state at its last real step (the backward direction
                reads each sequence from its real end, so its final state is at t = 0).
        """
        if isinstance(x, PackedSequence):
            if lengths is not None:
                raise ValueError("give either a PackedSequence or lengths, not both")
            padded, lengths = pad_packed_sequence(x, batch_first=self.batch_first)
            output, state = self.forward(padded, hx, lengths)
            return pack_padded_sequence(output, lengths, batch_first=self.batch_first, enforce_sorted=False), state
        if x.dim() == 2:  # unbatched, as torch allows
            state = None if hx is None else self._map_state(hx, lambda s: s.unsqueeze(1))
            output, state = self.forward(x.unsqueeze(0 if self.batch_first else 1), state, lengths)
            return output.squeeze(0 if self.batch_first else 1), self._map_state(state, lambda s: s.squeeze(1))
        if x.dim() != 3:
            raise ValueError(f"{type(self).__name__} expects input (B, T, F) or (T, F), got shape {tuple(x.shape)}")
        if lengths is not None:
            lengths = self._check_lengths(lengths, x)
        decision = self.dispatch(x, lengths is not None)
        self.__dict__["last_dispatch"] = decision  # plain attribute; nn.Module.__setattr__ costs microseconds
        if decision.path == "fused":
            return self._forward_fused(x, hx, lengths)
        if hx is not None:
            self.check_forward_args(x, hx, None)  # torch's own shape checks and messages
        if not self.batch_first:
            x = x.transpose(0, 1)
        output, final = self._forward_explicit(x, self._state_tuple(hx, x), lengths)
        if not self.batch_first:
            output = output.transpose(0, 1).contiguous()  # the fused path returns contiguous outputs too
        return output, self._state_out(final)

    def outputs(self, x: Tensor, lengths: Tensor) -> Tensor:
        """``forward(x, lengths=lengths)[0]`` (batch first, zero initial state) for callers that need no
        final state. On the fused path it runs each layer and direction unpacked, the backward direction on
        each sequence reversed within its own length, so that torch's equal-length kernel does the work:
        on the CPU its backward pass is several times faster than the packed kernel's (make bench-bucketing:
        Chinese sentiment epochs 112.5 s packed, 34.8 s unpacked)."""
        checked = self._check_lengths(lengths, x) if x.dim() == 3 and self.batch_first else None
        if checked is None or self.proj_size or self.dispatch(x, True).path != "fused":
            return self.forward(x, lengths=lengths)[0]
        steps = torch.arange(x.shape[1])
        real = steps < checked[:, None]  # (B, T)
        # position t of the reversed sequence reads step len - 1 - t; padding stays where it is (t >= len)
        reverse = torch.where(real, checked[:, None] - 1 - steps, steps).to(x.device)
        flip = lambda t: t.gather(1, reverse[..., None].expand(-1, -1, t.shape[2]))

        def run(layer_input: Tensor, layer: int, direction: int) -> tuple[Tensor, None]:
            if direction:
                return flip(self._one_direction(flip(layer_input), layer, direction)), None
            return self._one_direction(layer_input, layer, direction), None

        output, _ = self._stacked(x, run)
        return output.masked_fill(~real.to(x.device)[..., None], 0.0)

    def _one_direction(self, x: Tensor, layer: int, direction: int) -> Tensor:
        """One layer and direction, from a zero state, by torch's fused kernel: outputs (B, T, H)."""
        w = self._weights(layer, direction)
        weights = [p for p in (w.weight_ih, w.weight_hh, w.bias_ih, w.bias_hh) if p is not None]
        zeros = x.new_zeros(1, x.shape[0], self.hidden_size)
        if self.n_gates == 4:
            return torch.lstm(x, (zeros, zeros), weights, self.bias, 1, 0.0, self.training, False, True)[0]  # type: ignore[attr-defined]
        return torch.gru(x, zeros, weights, self.bias, 1, 0.0, self.training, False, True)[0]  # type: ignore[attr-defined]

    def _stacked(self, x: Tensor, run: Callable[[Tensor, int, int], tuple[Tensor, Any]]) -> tuple[Tensor, list]:
        """Layers and directions as torch stacks them: ``run(layer_input, layer, direction)`` gives one
        layer-direction's outputs (B, T, H) and final state; the directions' outputs are joined, and dropout
        falls between layers in training. Returns the last layer's outputs and every final state, in order."""
        finals = []
        layer_input = x
        for layer in range(self.num_layers):
            outputs = []
            for direction in range(2 if self.bidirectional else 1):
                out, final = run(layer_input, layer, direction)
                outputs.append(out)
                finals.append(final)
            layer_input = torch.cat(outputs, dim=2) if len(outputs) == 2 else outputs[0]
            if self.dropout and self.training and layer < self.num_layers - 1:
                layer_input = F.dropout(layer_input, self.dropout, training=True)
        return layer_input, finals

    @staticmethod
    def _map_state(state, fn):
        return tuple(map(fn, state)) if isinstance(state, tuple) else fn(state)

    def _check_lengths(self, lengths, x: Tensor) -> Tensor | None:
        lengths = torch.as_tensor(lengths, device="cpu")
        if lengths.is_floating_point() or lengths.is_complex() or lengths.dtype == torch.bool:
            raise ValueError(f"lengths must be integers, got dtype {lengths.dtype}")
        lengths = lengths.to(torch.int64)
        batch, steps = (x.shape[0], x.shape[1]) if self.batch_first else (x.shape[1], x.shape[0])
        if lengths.shape != (batch,):
            raise ValueError(f"lengths must have shape ({batch},), one per sequence, got {tuple(lengths.shape)}")
        if torch.compiler.is_exporting() or torch.jit.is_tracing():
            return lengths  # an exported graph takes any lengths: a check on these values would fix them in it
        if bool((lengths < 1).any()) or bool((lengths > steps).any()):
            raise ValueError(f"every length must be in [1, T={steps}], got min {lengths.min()} and max {lengths.max()}")
        return None if bool((lengths == steps).all()) else lengths

    def _forward_fused(self, x: Tensor, state, lengths: Tensor | None):
        if self.proj_size and not x.is_cuda:
            with warnings.catch_warnings():
                # torch warns that oneDNN has no projections and uses its native kernel; dispatch says so.
                warnings.filterwarnings("ignore", message="LSTM with projections is not supported with oneDNN")
                return self._torch_forward(x, state, lengths)
        return self._torch_forward(x, state, lengths)

    def _torch_forward(self, x: Tensor, state, lengths: Tensor | None):
        if lengths is None:
            return super().forward(x, state)  # type: ignore[misc]
        packed = pack_padded_sequence(x, lengths, batch_first=self.batch_first, enforce_sorted=False)
        output, state = super().forward(packed, state)  # type: ignore[misc]
        steps = x.shape[1] if self.batch_first else x.shape[0]
        output, _ = pad_packed_sequence(output, batch_first=self.batch_first, total_length=steps)
        return output, state

    def _forward_explicit(self, x: Tensor, state: tuple[Tensor, ...], lengths: Tensor | None, gates: list | None = None):
        """The explicit loop over layers, directions and steps; with ``gates`` (a list, LSTM only) each
        layer-direction appends its (B, T, 5, H) gate activations and cell states, in torch's order."""
        batch, steps, _ = x.shape
        mask = None
        if lengths is not None:
            mask = torch.arange(steps, device=x.device) < lengths.to(x.device)[:, None]  # (B, T)
        num_directions = 2 if self.bidirectional else 1

        def run(layer_input: Tensor, layer: int, direction: int) -> tuple[Tensor, tuple[Tensor, ...]]:
            w = self._weights(layer, direction)
            xw = self._input_part(layer_input, w)  # (B, T, G*H)
            index = layer * num_directions + direction
            return self._scan(xw, tuple(s[index] for s in state), w, mask, reverse=direction == 1, gates=gates)

        output, finals = self._stacked(x, run)
        return output, tuple(torch.stack(parts) for parts in zip(*finals))

    def _scan(self, xw: Tensor, state: tuple[Tensor, ...], w: _Weights, mask: Tensor | None, reverse: bool, gates: list | None = None):
        """Run one layer and direction over time. xw (B, T, G*H); returns (B, T, P) and the final state;
        with ``gates`` (LSTM), appends this layer-direction's (B, T, 5, H) gates and cell states."""
        # unbind, not xw[:, t]: the backward of T selects would materialise T full-size gradients of xw
        xw_steps = xw.unbind(1)
        steps = len(xw_steps)
        outputs: list[Tensor] = [xw] * steps
        step_gates: list[Tensor] = [xw] * steps
        for t in range(steps - 1, -1, -1) if reverse else range(steps):
            recorded: list[Tensor] | None = [] if gates is not None else None
            new_state = self._cell(xw_steps[t], state, w, recorded)
            if recorded:
                step_gates[t] = recorded[0] if mask is None else recorded[0].masked_fill(~mask[:, t, None, None], 0.0)
            if mask is None:
                outputs[t] = new_state[0]
            else:
                # Past its length a sequence keeps its state and outputs zeros; in reverse, the same
                # rule makes each sequence start from its initial state at its own real end.
                valid = mask[:, t, None]  # (B, 1)
                outputs[t] = new_state[0].masked_fill(~valid, 0.0)
                new_state = tuple(torch.where(valid, new, old) for new, old in zip(new_state, state))
            state = new_state
        if gates is not None:
            gates.append(torch.stack(step_gates, dim=1))
        return torch.stack(outputs, dim=1), state

    def _weights(self, layer: int, direction: int) -> _Weights:
        suffix = "_reverse" if direction else ""

        def get(name: str) -> Tensor | None:
            return getattr(self, f"{name}_l{layer}{suffix}", None)

        return _Weights(*(get(n) for n in _Weights._fields))  # type: ignore[arg-type]

    # ------------------------------------------------------------------------------------- stream
    def step(self, x_t: Tensor, state=None):
        """Advance one timestep, for streaming: ``step`` over x[:, 0], x[:, 1], ... equals ``forward(x)``.

        Inputs: x_t (B, F); state as in ``forward`` (None for zeros).
        Outputs: (B, P) the last layer's output at this step, and the new state.
        """
        if self.bidirectional:
            raise ValueError("step() needs a unidirectional layer: the backward direction reads the future")
        if x_t.dim() != 2:
            raise ValueError(f"step() expects one timestep of shape (B, F), got {tuple(x_t.shape)}")
        state = self._state_tuple(state, x_t.unsqueeze(1))
        layer_input, finals = x_t, []
        for layer in range(self.num_layers):
            w = self._weights(layer, 0)
            new = self._cell(self._input_part(layer_input, w), tuple(s[layer] for s in state), w)
            finals.append(new)
            layer_input = new[0]
            if self.dropout and self.training and layer < self.num_layers - 1:
                layer_input = F.dropout(layer_input, self.dropout, training=True)
        return layer_input, self._state_out(tuple(torch.stack(parts) for parts in zip(*finals)))

    # ---------------------------------------------------------------------- per-cell specifics
    def _input_part(self, x: Tensor, w: _Weights) -> Tensor:
        """The input's contribution to the gates, for all timesteps at once: (..., F) -> (..., G*H)."""
        return gate_projection(x, w.weight_ih, w.bias_ih, w.ln_weight_ih, self.n_gates)

    def _state_tuple(self, state, x: Tensor) -> tuple[Tensor, ...]:
        raise NotImplementedError

    def _state_out(self, state: tuple[Tensor, ...]):
        raise NotImplementedError

    def _cell(self, xw: Tensor, state: tuple[Tensor, ...], w: _Weights, gates: list | None = None) -> tuple[Tensor, ...]:
        raise NotImplementedError


class LSTM(_Recurrent, nn.LSTM):
    """A multi-layer LSTM, ``torch.nn.LSTM``-compatible, with lengths, variants, dispatch and ``step``.

    Args:
        input_size: F. hidden_size: H. num_layers: L. bias: use b_ih and b_hh.
        batch_first: inputs and outputs are (B, T, F) (the default here; torch's default is False).
        dropout: dropout on the outputs of every layer but the last, while training.
        bidirectional: D = 2. proj_size: P < H, projects h_t (as torch).
        peephole: the cell variant of :class:`lstmkit.nn.LSTMCell`; runs the explicit loop.
        layer_norm: the cell variant of :class:`lstmkit.nn.LSTMCell`; runs the explicit loop.
        impl: "auto" (fused when it computes the same function), "fused" or "explicit".

    Inputs / Outputs: see :meth:`forward`; the same tuple structure as ``torch.nn.LSTM``.

    Examples:
        >>> lstm = LSTM(3, 16, num_layers=2, bidirectional=True)
        >>> out, (h, c) = lstm(torch.zeros(4, 10, 3), lengths=[10, 7, 3, 1])
        >>> out.shape, h.shape, lstm.last_dispatch.path
        (torch.Size([4, 10, 32]), torch.Size([4, 4, 16]), 'fused')
    """

    n_gates = 4

    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        num_layers: int = 1,
        bias: bool = True,
        batch_first: bool = True,
        dropout: float = 0.0,
        bidirectional: bool = False,
        proj_size: int = 0,
        peephole: bool = False,
        layer_norm: bool = False,
        impl: Impl = "auto",
        device=None,
        dtype=None,
    ) -> None:
        super().__init__(
            input_size,
            hidden_size,
            num_layers=num_layers,
            bias=bias,
            batch_first=batch_first,
            dropout=dropout,
            bidirectional=bidirectional,
            proj_size=proj_size,
            device=device,
            dtype=dtype,
        )
        self._add_variants(peephole, layer_norm, impl)

    def _state_tuple(self, state, x: Tensor) -> tuple[Tensor, Tensor]:
        if state is None:
            rows, batch = self.num_layers * (2 if self.bidirectional else 1), x.shape[0]
            h = x.new_zeros(rows, batch, self.proj_size or self.hidden_size)
            return h, x.new_zeros(rows, batch, self.hidden_size)
        return state[0], state[1]

    def _state_out(self, state: tuple[Tensor, ...]) -> tuple[Tensor, Tensor]:
        return state[0], state[1]

    def _input_part(self, x: Tensor, w: _Weights) -> Tensor:
        # b_hh is added outside any normalisation, so it joins the input part once instead of T times
        xw = super()._input_part(x, w)
        return xw if w.bias_hh is None else xw + w.bias_hh

    def _cell(self, xw: Tensor, state: tuple[Tensor, ...], w: _Weights, gates: list | None = None) -> tuple[Tensor, ...]:
        return lstm_step(xw, state[0], state[1], w.weight_hh, None, w.weight_hr, w.peephole, w.ln_weight_hh, gates)

    def gates(self, x: Tensor, lengths: Tensor | Sequence[int] | None = None) -> dict[str, Tensor]:
        """What each gate did: ``"input"``, ``"forget"``, ``"candidate"`` and ``"output"`` (i_t, f_t, tanh g_t,
        o_t after their activations) and ``"cell"`` (c_t) of every layer, direction and step, each
        (L, D, B, T, H), zero past each sequence's length, from a zero initial state. The backward
        direction's step t is its state after reading x_t (it reads from each sequence's real end).

        Computed by the explicit cell loop, since torch's fused kernels do not expose the gates;
        ``last_dispatch`` says so. Call ``eval()`` first for a trained network's gates: in training mode
        dropout between layers makes the upper layers' gates random.
        """
        if x.dim() != 3:
            raise ValueError(f"gates() expects input (B, T, F) (or (T, B, F) with batch_first=False), got shape {tuple(x.shape)}")
        checked = self._check_lengths(lengths, x) if lengths is not None else None
        self.__dict__["last_dispatch"] = Dispatch("explicit", "gates() reads the gate activations; the fused kernels do not expose them")
        if not self.batch_first:
            x = x.transpose(0, 1)
        recorded: list[Tensor] = []
        self._forward_explicit(x, self._state_tuple(None, x), checked, recorded)
        stacked = torch.stack(recorded).unflatten(0, (self.num_layers, 2 if self.bidirectional else 1))  # (L, D, B, T, 5, H)
        return {name: stacked[..., k, :] for k, name in enumerate(GATE_NAMES)}


class GRU(_Recurrent, nn.GRU):
    """A multi-layer GRU, ``torch.nn.GRU``-compatible, with lengths, layer norm, dispatch and ``step``.

    Args: as :class:`LSTM`, without ``proj_size`` and ``peephole``.
    Inputs / Outputs: see :meth:`forward`; the state is one tensor h (L*D, B, H), as in torch.

    Examples:
        >>> out, h = GRU(3, 8)(torch.zeros(2, 5, 3))
        >>> out.shape, h.shape
        (torch.Size([2, 5, 8]), torch.Size([1, 2, 8]))
    """

    n_gates = 3

    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        num_layers: int = 1,
        bias: bool = True,
        batch_first: bool = True,
        dropout: float = 0.0,
        bidirectional: bool = False,
        layer_norm: bool = False,
        impl: Impl = "auto",
        device=None,
        dtype=None,
    ) -> None:
        super().__init__(
            input_size,
            hidden_size,
            num_layers=num_layers,
            bias=bias,
            batch_first=batch_first,
            dropout=dropout,
            bidirectional=bidirectional,
            device=device,
            dtype=dtype,
        )
        self._add_variants(False, layer_norm, impl)

    def _state_tuple(self, state, x: Tensor) -> tuple[Tensor]:
        if state is None:
            rows = self.num_layers * (2 if self.bidirectional else 1)
            return (x.new_zeros(rows, x.shape[0], self.hidden_size),)
        return (state,)

    def _state_out(self, state: tuple[Tensor, ...]) -> Tensor:
        return state[0]

    def _cell(self, xw: Tensor, state: tuple[Tensor, ...], w: _Weights, gates: list | None = None) -> tuple[Tensor, ...]:
        return (gru_step(xw, state[0], w.weight_hh, w.bias_hh, w.ln_weight_hh),)
