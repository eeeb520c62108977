"""``lstmkit export``: a trained model as an ONNX or TorchScript file, with its description beside it."""

from __future__ import annotations

from pathlib import Path

import typer

from lstmkit.cli.common import JSON_OPTION, emit, load_estimator


def export(
    model: Path = typer.Option(..., "--model", help="A model or run directory written by a train command or save()."),
    fmt: str = typer.Option("onnx", "--format", help="onnx (run by onnxruntime and other runtimes) or torchscript (torch.jit.load)."),
    out: Path = typer.Option(..., "--out", help="The file to write; its description goes to OUT.json."),
    as_json: bool = JSON_OPTION,
) -> None:
    """Export a trained network: dynamic batch and sequence length, preprocessing inside the graph where it
    is arithmetic, the rest (vocabulary, CRF scores, columns) described in OUT.json.

    Example: lstmkit export --model runs/demo --format onnx --out demo.onnx
    """
    from lstmkit.io.export import check_format
    from lstmkit.io.export import export as write_export

    check_format(fmt)  # before loading: a typo should not cost a model load
    estimator = load_estimator(model)
    description = write_export(estimator, out, fmt)
    emit(
        {
            "file": str(out),
            "description": f"{out}.json",
            "format": fmt,
            "task": description["task"],
            "inputs": {name: spec["shape"] for name, spec in description["inputs"].items()},
            "outputs": list(description["outputs"]),
        },
        as_json,
    )
