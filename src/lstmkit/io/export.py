"""A trained network as an ONNX or TorchScript file that runs without lstmkit.

The exported graph is the estimator's inference function, not only its ``nn.Module``: the arithmetic
preprocessing (log transform, scaling, per-sequence standardisation) and postprocessing (the ensemble
median, unscaling, softmax) are inside it, so a consumer feeds raw numbers or token ids. What cannot be
arithmetic in a graph (tokenising text, the vocabulary, the CRF's Viterbi search, the statistical
models a forecast is combined with) is described in a JSON file beside it, ``FILE.json``, which ONNX
also carries as the metadata property ``lstmkit`` and TorchScript as the extra file ``lstmkit.json``.

Batch and sequence length are dynamic axes; the recurrent layers become ONNX ``LSTM``/``GRU`` operators
(the dynamo exporter) or ``aten::lstm`` (TorchScript), so any length runs, and variable-length batches
take a ``lengths`` input.
"""

from __future__ import annotations

import contextlib
import copy
import io
import json
import logging
import os
import tempfile
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from lstmkit.errors import UserError
from lstmkit.io.artifacts import atomic_write_bytes, atomic_write_json, to_json_bytes
from lstmkit.nn.conv import padding_mask
from lstmkit.tasks.networks import scaled_forecast

if TYPE_CHECKING:
    from lstmkit.tasks.base import Estimator

FORMATS = ("onnx", "torchscript")
OPSET = 18  # onnxruntime 1.16+ runs it; the dynamo exporter's default


@dataclass
class ExportGraph:
    """What an estimator hands the exporter: the module to trace and how to call and describe it."""

    module: nn.Module
    inputs: dict[str, Tensor]  # example inputs by name, in the order forward takes them
    dynamic: dict[str, dict[int, str]]  # input name -> {axis: "batch" | "time"}
    outputs: dict[str, str]  # output name -> what it holds
    description: dict[str, Any] = field(default_factory=dict)  # input names -> meaning, plus what a consumer needs


def export(estimator: Estimator, path: str | os.PathLike, fmt: str = "onnx") -> dict:
    """Write ``estimator``'s network to ``path`` in format ``fmt`` and its description to ``path + .json``;
    returns the description."""
    check_format(fmt)
    path = Path(path)
    if not path.parent.is_dir():
        raise UserError(f"cannot write {str(path)!r}: the folder {str(path.parent)!r} does not exist; create it or choose another --out")
    if path.is_dir():
        raise UserError(f"cannot write {str(path)!r}: it is a folder; give a file name, e.g. {str(path / 'model.onnx')!r}")
    estimator._need_model()
    graph = estimator._export_graph()
    # a copy without gradients: the estimator's own model stays as it was, and TorchScript's outputs need no detach
    graph.module = copy.deepcopy(graph.module).cpu().eval().requires_grad_(False)  # a GPU-trained model exports from the CPU
    description = {
        "format": fmt,
        "task": estimator.kind,
        "inputs": {
            name: {
                "shape": _shape(name, t, graph.dynamic),
                "dtype": str(t.dtype).removeprefix("torch."),
                "meaning": graph.description.get(name, ""),
            }
            for name, t in graph.inputs.items()
        },
        "outputs": graph.outputs,
        **{k: v for k, v in graph.description.items() if k not in graph.inputs},
        "config": estimator._saved_config(),
        "preprocessing": estimator._preprocessing(),
    }
    with _quiet():
        data = _onnx_bytes(graph, description) if fmt == "onnx" else _torchscript_bytes(graph, description)
    try:
        atomic_write_bytes(path, data)
        atomic_write_json(Path(f"{path}.json"), description)
    except OSError as e:
        raise UserError(f"cannot write {str(path)!r}: {e.strerror or e}; choose another --out") from None
    return description


def check_format(fmt: str) -> None:
    if fmt not in FORMATS:
        raise UserError(f"unknown export format {fmt!r}; use one of {', '.join(FORMATS)}")


def _shape(name: str, tensor: Tensor, dynamic: dict[str, dict[int, str]]) -> list:
    axes = dynamic.get(name, {})
    return [axes.get(i, size) for i, size in enumerate(tensor.shape)]


@contextlib.contextmanager
def _quiet():
    """The exporters print progress on stdout and warn about their own internals; a command's --json
    output must stay one object."""
    exporter = logging.getLogger("torch.onnx")  # "torchvision is not installed" on every export
    level = exporter.level
    with warnings.catch_warnings(), contextlib.redirect_stdout(io.StringIO()):
        warnings.simplefilter("ignore")
        exporter.setLevel(logging.ERROR)
        try:
            yield
        finally:
            exporter.setLevel(level)


def _onnx_bytes(graph: ExportGraph, description: dict) -> bytes:
    try:
        import onnx
        import onnxscript  # noqa: F401  torch's dynamo exporter needs it
    except ImportError:
        raise UserError("ONNX export needs the onnx and onnxscript packages: pip install 'lstmkit[export]'") from None
    # torch registers its while-loop decompositions of aten.lstm/gru for each export and removes them after,
    # but the operators' dispatch caches keep the first export's kernel: without this a second export in the
    # same process unrolls the time loop and fixes the sequence length
    for op in (torch.ops.aten.lstm.input, torch.ops.aten.gru.input):
        getattr(op, "_dispatch_cache", {}).clear()
    dims: dict[str, Any] = {}
    shapes = tuple(
        {axis: dims.setdefault(label, torch.export.Dim(label)) for axis, label in graph.dynamic.get(name, {}).items()} or None
        for name in graph.inputs
    )
    with tempfile.TemporaryDirectory() as tmp:
        target = Path(tmp, "model.onnx")
        try:
            program = torch.onnx.export(
                graph.module,
                tuple(graph.inputs.values()),
                dynamic_shapes=shapes,
                input_names=list(graph.inputs),
                output_names=list(graph.outputs),
                opset_version=OPSET,
                dynamo=True,
                external_data=False,
                verbose=False,
            )
        except Exception as e:  # torch's exporter raises its own error types, many lines long
            first = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
            raise UserError(f"torch's ONNX exporter could not export this model ({first}); try --format torchscript") from None
        assert program is not None
        program.save(str(target), external_data=False)
        model = onnx.load(str(target))
    model.metadata_props.add(key="lstmkit", value=json.dumps(description, ensure_ascii=False))
    return model.SerializeToString()


def _torchscript_bytes(graph: ExportGraph, description: dict) -> bytes:
    traced = torch.jit.trace(graph.module, tuple(graph.inputs.values()), check_trace=False)
    buffer = io.BytesIO()
    torch.jit.save(traced, buffer, _extra_files={"lstmkit.json": to_json_bytes(description)})
    return buffer.getvalue()


# ------------------------------------------------------------------------------------------ graphs
class ForecastGraph(nn.Module):
    """Raw windows (B, L, C) in the data's units -> forecasts (B, H, K, Q) in the same units: the
    networks' median (the forecast before any combination with ETS or ARIMA), quantiles sorted."""

    shift: Tensor
    scale: Tensor

    def __init__(self, network: nn.Module, shift, scale, n_targets: int, log_targets: bool, horizon: int, recursive: bool) -> None:
        super().__init__()
        self.network, self.k, self.log_targets, self.horizon, self.recursive = network, n_targets, log_targets, horizon, recursive
        self.register_buffer("shift", torch.as_tensor(shift, dtype=torch.float32))
        self.register_buffer("scale", torch.as_tensor(scale, dtype=torch.float32))

    def forward(self, window: Tensor) -> Tensor:
        k = self.k
        x = torch.cat([window[..., :k].log(), window[..., k:]], dim=2) if self.log_targets else window
        x = (x - self.shift) / self.scale
        out = scaled_forecast(self.network, x, self.horizon, self.recursive) * self.scale[:k, None] + self.shift[:k, None]
        return out.exp() if self.log_targets else out


class ClassifierGraph(nn.Module):
    """(ids (B, T) or features (B, T, F), lengths (B,)) -> class probabilities (B, K) [, attention (B, T')].
    Numeric features are standardised inside, as the estimator does (per sequence over its real steps,
    or by the training data's mean and spread); sequences longer than the model's max_len are cut by
    the caller, as ``predict`` cuts them."""

    mean: Tensor
    std: Tensor

    def __init__(self, network: nn.Module, normalize: str | None, mean, std) -> None:
        super().__init__()
        self.network, self.normalize = network, normalize
        if normalize not in (None, "sequence"):  # "feature" (the training data's) or "none" (zeros and ones)
            self.register_buffer("mean", torch.as_tensor(mean, dtype=torch.float32))
            self.register_buffer("std", torch.as_tensor(std, dtype=torch.float32))

    def forward(self, inputs: Tensor, lengths: Tensor):
        if self.normalize is not None:
            real = padding_mask(lengths, inputs.shape[1])[..., None].to(inputs.dtype)  # (B, T, 1)
            if self.normalize == "sequence":
                count = real.sum(1, keepdim=True)
                mean = (inputs * real).sum(1, keepdim=True) / count
                std = (((inputs - mean) * real) ** 2).sum(1, keepdim=True).div(count).sqrt()
                inputs = (inputs - mean) / torch.where(std > 0, std, torch.ones_like(std))
            else:
                inputs = (inputs - self.mean) / self.std
            inputs = inputs * real  # padding is zero after standardising, as in training
        logits, weights = self.network(inputs, lengths)
        probabilities = F.softmax(logits.float(), dim=1)
        return probabilities if weights is None else (probabilities, weights)


class TaggerGraph(nn.Module):
    """(ids (B, T), lengths (B,) [, chars (B, T, W)]) -> emission scores (B, T, K); the CRF's transition
    scores are in the description (Viterbi search is a loop over time that a consumer runs)."""

    def __init__(self, network: nn.Module) -> None:
        super().__init__()
        self.network = network

    def forward(self, ids: Tensor, lengths: Tensor, chars: Tensor | None = None) -> Tensor:
        return self.network(ids, lengths, chars)


class LanguageModelGraph(nn.Module):
    """(ids (B, T), h0 (L, B, H), c0 (L, B, H)) -> (logits (B, T, V), hn, cn): the state in and out, for
    streaming; zeros start a text."""

    def __init__(self, network: nn.Module) -> None:
        super().__init__()
        self.network = network

    def forward(self, ids: Tensor, h: Tensor, c: Tensor):
        logits, (h, c) = self.network(ids, (h, c))
        return logits, h, c
