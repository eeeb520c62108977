"""``lstmkit report``: a run's report.html again, or one page comparing several runs."""

from __future__ import annotations

from pathlib import Path

import typer

from lstmkit.cli.common import JSON_OPTION, emit


def report(
    runs: list[Path] = typer.Argument(..., help="Run directories written by train commands."),
    out: Path = typer.Option(None, "--out", help="The page to write (default for one run: RUN/report.html; needed for several)."),
    as_json: bool = JSON_OPTION,
) -> None:
    """Write a self-contained HTML page (works offline) with a run's metrics against its baselines, loss
    curves, forecasts, trial table, views and configuration; with several runs, a comparison first.

    Example: lstmkit report runs/aapl runs/aapl-gru --out compare.html
    """
    from lstmkit.errors import UserError
    from lstmkit.viz.report import REPORT, write_report

    if out is None:
        if len(runs) > 1:
            raise UserError(f"{len(runs)} runs make one comparison page: give --out, e.g. --out compare.html")
        out = runs[0] / REPORT
    written = write_report(runs, out)
    emit({"report": str(written), "runs": [str(r) for r in runs]}, as_json)
