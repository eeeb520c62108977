"""The ``lstmkit`` command line: parses arguments, calls the library, prints.

A ``UserError`` becomes one line on stderr and exit code 2. With ``--json`` a command prints exactly
one JSON object on stdout; logs go to stderr.
"""

from __future__ import annotations

import json
import platform
import sys
from pathlib import Path

import typer

from lstmkit.errors import UserError

app = typer.Typer(
    help="LSTM sequence modelling: forecasting, text generation, classification, tagging, anomaly detection.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

JSON_OPTION = typer.Option(False, "--json", help="Print one JSON object on stdout instead of text.")


def emit(payload: dict, as_json: bool) -> None:
    """Print a command's result: one JSON object, or aligned ``key: value`` lines."""
    if as_json:
        print(json.dumps(payload, ensure_ascii=False))
        return
    width = max(map(len, payload))
    for key, value in payload.items():
        if isinstance(value, (dict, list)):
            value = json.dumps(value, ensure_ascii=False)
        print(f"{key:<{width}}  {value}")


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


@app.command()
def info(as_json: bool = JSON_OPTION) -> None:
    """Show versions, the compute device, threads and which fused LSTM kernels are available.

    Example: lstmkit info --json
    """
    emit(environment_info(), as_json)


@app.command()
def inspect(
    model: Path = typer.Argument(..., help="A model directory written by a train command or save()."),
    as_json: bool = JSON_OPTION,
) -> None:
    """Verify a model directory and show what it holds.

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
            "config": artifact.config,
        },
        as_json,
    )


def main() -> None:
    try:
        app()
    except UserError as e:
        print(f"error: {e}", file=sys.stderr)
        sys.exit(2)


if __name__ == "__main__":
    main()
