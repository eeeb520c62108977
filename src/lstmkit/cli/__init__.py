"""The ``lstmkit`` command line: one module per command group; commands parse, call the library, print.

A ``UserError`` becomes one line on stderr and exit code 2, with the library's parameter names
(``fill=``) shown as the command's flags (``--fill``). With ``--json`` a command prints exactly one
JSON object on stdout; logs go to stderr.
"""

from __future__ import annotations

import re
import signal
import sys
import threading

import typer

from lstmkit.cli import anomaly, classify, explain, export, forecast, info, report, tag, textgen
from lstmkit.cli.common import INTERRUPTED_EXIT, emit
from lstmkit.errors import UserError

__all__ = ["app", "emit", "main"]

app = typer.Typer(
    help="LSTM sequence modelling: forecasting, text generation, classification, tagging, anomaly detection.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
app.command()(info.info)
app.command()(info.inspect)
app.command()(export.export)
app.command()(explain.explain)
app.command()(report.report)
app.add_typer(info.datasets_app, name="datasets")
app.add_typer(forecast.app, name="forecast")
app.add_typer(anomaly.app, name="anomaly")
app.add_typer(textgen.app, name="textgen")
app.add_typer(classify.app, name="classify")
app.add_typer(tag.app, name="tag")

# library parameter names whose flag is not simply --name-with-dashes
FLAG_NAMES = {
    "targets": "--target",
    "covariates": "--covariate",
    "time_column": "--time",
    "num_layers": "--layers",
    "text_column": "--text-column",
    "label_column": "--label-column",
}


def _flags() -> dict[str, str]:
    """Every option of every command: parameter name -> its flag."""
    found: dict[str, str] = {}

    def walk(command) -> None:  # a click command (typer vendors its own click)
        for param in command.params:
            opts = getattr(param, "opts", [])
            if param.param_type_name == "option" and param.name and opts and opts[0].startswith("--"):
                found.setdefault(param.name, opts[0])
        for sub in getattr(command, "commands", {}).values():
            walk(sub)

    walk(typer.main.get_command(app))
    return {**found, **FLAG_NAMES}


def as_flags(message: str) -> str:
    """A library message with ``name=`` written as the command line's ``--name``."""
    flags = _flags()

    def swap(match: re.Match) -> str:
        name, after = match.group(1), match.group(2)
        if name not in flags:
            return match.group(0)
        # "fill='x'" -> "--fill 'x'", "lookback=," -> "--lookback,"
        return flags[name] + (" " if after and (after.isalnum() or after in "'\"[(-.") else "") + after

    return re.sub(r"\b([a-z][a-z_]*)=(\S?)", swap, message)


def main() -> None:
    # SIGTERM as Ctrl-C: a command stops the same way (temporary files removed, nothing half-written)
    previous = signal.signal(signal.SIGTERM, _as_ctrl_c) if threading.current_thread() is threading.main_thread() else None
    try:
        code = app(standalone_mode=False)  # click's own handling would print usage errors as a box of lines
    except typer.TyperException as e:  # usage errors: an unknown flag, a missing one, "abc" for a number ...
        context, message = getattr(e, "ctx", None), " ".join(e.format_message().split()).rstrip(".")
        if not message and context is not None:  # a command group given no command: its help
            print(context.get_help())
        else:
            where = f" (see '{context.command_path} --help')" if context is not None else ""
            print(f"error: {message}{where}", file=sys.stderr)
        sys.exit(e.exit_code)
    except typer.Abort:  # Ctrl-C while typer itself was reading input
        print("interrupted", file=sys.stderr)
        sys.exit(INTERRUPTED_EXIT)
    except UserError as e:
        print(f"error: {as_flags(str(e))}", file=sys.stderr)
        sys.exit(2)
    except KeyboardInterrupt:  # a second Ctrl-C, or one outside training: what was written stays whole (atomic)
        print("interrupted", file=sys.stderr)
        sys.exit(INTERRUPTED_EXIT)
    finally:
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)
    if isinstance(code, int) and code:
        sys.exit(code)


def _as_ctrl_c(signum: int, frame) -> None:
    raise KeyboardInterrupt
