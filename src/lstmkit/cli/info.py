"""``lstmkit info``, ``lstmkit inspect`` and ``lstmkit datasets list | show``."""

from __future__ import annotations

import platform
from pathlib import Path

import typer

from lstmkit.cli.common import JSON_OPTION, emit

datasets_app = typer.Typer(help="Bundled real datasets (offline) and generated series.", no_args_is_help=True)


def environment_info() -> dict:
    import numpy
    import torch

    from lstmkit import __version__

    cuda = torch.cuda.is_available()
    return {
        "lstmkit": __version__,
        "torch": torch.__version__,
        "numpy": numpy.__version__,
        "python": platform.python_version(),
        "device": torch.cuda.get_device_name(0) if cuda else f"cpu ({platform.machine()})",
        "cuda_devices": torch.cuda.device_count() if cuda else 0,
        "threads": torch.get_num_threads(),
        "fused_cpu_backend": "oneDNN" if torch.backends.mkldnn.is_available() and torch.backends.mkldnn.enabled else "ATen native",
        "cudnn": torch.backends.cudnn.version() if cuda and torch.backends.cudnn.is_available() else None,
    }


def info(as_json: bool = JSON_OPTION) -> None:
    """Show versions, the compute device, threads and which fused LSTM kernels are available.

    Example: lstmkit info --json
    """
    emit(environment_info(), as_json)


def inspect(
    model: Path = typer.Argument(..., help="A model directory written by a train command or save()."),
    as_json: bool = JSON_OPTION,
) -> None:
    """Verify a model directory and show what it holds and how its training ended.

    Example: lstmkit inspect runs/aapl
    """
    from lstmkit.io.artifacts import load_model

    artifact = load_model(model)
    emit(
        {
            "directory": str(model),
            "kind": artifact.kind,
            "written_by": f"lstmkit {artifact.lstmkit_version}",
            "parameters": sum(t.numel() for t in artifact.state_dict.values()),
            "training": artifact.training,
            "config": artifact.config,
        },
        as_json,
    )


@datasets_app.command("list")
def datasets_list(as_json: bool = JSON_OPTION) -> None:
    """List the bundled datasets.

    Example: lstmkit datasets list
    """
    from lstmkit.data.datasets import catalog

    listed = catalog()
    if as_json:
        emit(listed, True)
        return
    rows, text = listed["datasets"], listed["text"]
    width = max(len(r["name"]) for r in rows + text)
    print("series (lstmkit forecast / anomaly):")
    for r in rows:
        print(f"  {r['name']:<{width}}  {r['description']}  [target: {r['target']}; {r['source']}]")
    print("text:")
    for r in text:
        print(f"  {r['name']:<{width}}  lstmkit {r['task']}: {r['description']}")


@datasets_app.command("show")
def datasets_show(name: str = typer.Argument(..., help="A name from `lstmkit datasets list`."), as_json: bool = JSON_OPTION) -> None:
    """Show a dataset's columns, size, time range, missing values and first rows.

    Example: lstmkit datasets show co2
    """
    from lstmkit.data.datasets import describe

    summary, frame = describe(name)
    emit(summary, as_json)
    if frame is not None and not as_json:
        print()
        print(frame.head().to_string(index=False))
