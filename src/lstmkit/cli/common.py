"""What every command group shares: ``--json`` output, the training flags generated from
``TrainingOptions``, ``--out`` checks, the one helper that writes a run directory, ``--output`` files."""

from __future__ import annotations

import contextlib
import functools
import inspect
import json
import math
import shutil
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import fields, replace
from pathlib import Path
from typing import Any

import typer

from lstmkit.errors import UserError
from lstmkit.interrupts import on_interrupt

JSON_OPTION = typer.Option(False, "--json", help="Print one JSON object on stdout instead of text.")
OUT_OPTION = typer.Option(..., "--out", help="Run directory to write (model, metrics.json, plots, checkpoints).")
OVERWRITE_OPTION = typer.Option(False, "--overwrite", help="Replace the run already in --out.")
INTERRUPTED_EXIT = 130  # the shell's code for a run stopped by Ctrl-C

# TrainingOptions fields that are not flags: the run directory is --out, progress always goes to stderr
_NOT_FLAGS = ("checkpoint_dir", "verbose")
_FLAG_TYPES = {
    "epochs": int,
    "steps": int,
    "batch_size": int,
    "patience": int,
    "seed": int,
    "max_minutes": float,
    "lr": float,
    "weight_decay": float,
    "min_improvement": float,
    "clip_grad_norm": float,
    "checkpoint_every": float,
    "schedule": str,
    "log": str,
    "device": str,
    "precision": str,
    "threads": int,
    "resume": bool,
}


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


def training_flags(defaults: Callable[[], Any], exclude: tuple[str, ...] = ()) -> Callable:
    """Add the training flags (``--epochs``, ``--patience``, ``--device``, ``--resume`` ...) to a train command.

    The flags come from the fields of ``TrainingOptions``, with the same names and help in every task; the
    help shows this task's default (``defaults()``). The command receives ``training``: the task's options
    with the given flags applied. The wrapped function must take ``training`` and ``out``.
    """
    from lstmkit.training import TrainingOptions

    task_defaults = defaults()
    flags = [f for f in fields(TrainingOptions) if f.name not in _NOT_FLAGS + exclude]

    def decorate(command: Callable) -> Callable:
        signature = inspect.signature(command)
        searches = "search" in signature.parameters
        own = [p for p in signature.parameters.values() if p.name not in ("training", "search")]
        added = list(_AUTO_FLAGS) if searches else []
        for f in flags:
            default = getattr(task_defaults, f.name)
            if f.name == "resume":
                option = typer.Option(False, "--resume", help=f.metadata["help"])
                added.append(inspect.Parameter(f.name, inspect.Parameter.KEYWORD_ONLY, default=option, annotation=bool))
                continue
            shown = "none" if default is None else default
            option = typer.Option(
                None, "--" + f.name.replace("_", "-"), help=f"{f.metadata['help']} (default: {shown})", show_default=False
            )
            added.append(inspect.Parameter(f.name, inspect.Parameter.KEYWORD_ONLY, default=option, annotation=_FLAG_TYPES[f.name] | None))

        @functools.wraps(command)
        def wrapper(**kwargs):
            given = {f.name: kwargs.pop(f.name) for f in flags}
            auto = {name: kwargs.pop(name) for name in ("auto", "trials", "study_storage", "study_name")} if searches else {}
            out = kwargs.get("out")
            options = replace(
                task_defaults,
                **{k: v for k, v in given.items() if v is not None and k != "resume"},
                resume=bool(given.get("resume")),
                checkpoint_dir=None if out is None else str(out),
            )
            if searches:
                kwargs["search"] = _search_options(auto, options)
            with on_interrupt(_finishing) as interrupts, _replacing(out):
                result = command(training=options, **kwargs)
            if interrupts.requested:  # after training ended on its own: what was started is complete
                print(f"interrupted: {out or 'the command'} finished writing first", file=sys.stderr)
                raise typer.Exit(INTERRUPTED_EXIT)
            return result

        wrapper.__signature__ = signature.replace(parameters=own + added)  # type: ignore[attr-defined]
        return wrapper

    return decorate


_AUTO_FLAGS = [
    inspect.Parameter(
        "auto",
        inspect.Parameter.KEYWORD_ONLY,
        default=typer.Option(
            False,
            "--auto",
            help="Search the model's settings with Optuna within --max-minutes / --trials, scored on validation data only, "
            "then fit the best; the run directory keeps the trial table (trials.json).",
        ),
        annotation=bool,
    ),
    inspect.Parameter(
        "trials",
        inspect.Parameter.KEYWORD_ONLY,
        default=typer.Option(None, "--trials", help="--auto: at most this many trials in this process."),
        annotation=int | None,
    ),
    inspect.Parameter(
        "study_storage",
        inspect.Parameter.KEYWORD_ONLY,
        default=typer.Option(
            None,
            "--study-storage",
            help="--auto: share one study between processes or machines: journal:PATH (a journal file) or an Optuna RDB URL "
            "(sqlite:///study.db, postgresql://...). Default: in memory.",
        ),
        annotation=str | None,
    ),
    inspect.Parameter(
        "study_name",
        inspect.Parameter.KEYWORD_ONLY,
        default=typer.Option(None, "--study-name", help="--auto: the study's name in --study-storage (default: lstmkit-<task>)."),
        annotation=str | None,
    ),
]


def _search_options(auto: dict, training):
    """The ``--auto`` flags as SearchOptions (None without --auto); --max-minutes bounds the whole search."""
    from lstmkit.training.search import SearchOptions

    if not auto.get("auto"):
        for name in ("trials", "study_storage", "study_name"):
            if auto.get(name) is not None:
                raise UserError(f"--{name.replace('_', '-')} only applies with --auto; add --auto or drop it")
        return None
    if training.resume:
        raise UserError(
            "--resume continues one training run; it cannot resume an --auto search (rerun --auto with --study-storage instead)"
        )
    options = SearchOptions(auto["trials"], training.max_minutes, auto["study_storage"], auto["study_name"])
    options.check()
    return options


def lead_process() -> bool:
    """Whether this process writes and prints: the only one, or rank 0 of a torchrun launch (the others
    train their share of each batch and stay silent)."""
    import os

    return os.environ.get("RANK", "0") == "0"


def prepare_out(out: Path, training, overwrite: bool = False) -> None:
    """Check ``--out`` before any work: a directory we can write that is new, empty or an lstmkit run;
    a run only when asked to replace it (``overwrite``) or continue it (``training.resume``).

    A replaced run is moved aside whole (one rename, to ``.NAME.replaced`` beside it) so that the new run
    starts in an empty directory; the training command's wrapper deletes it once the new run has saved its
    model, and moves it back if the new run fails or is aborted before that (``_replacing``)."""
    import os

    from lstmkit.io.artifacts import CHECKPOINT, CONFIG

    if not lead_process():
        return
    if out.exists() and not out.is_dir():
        raise UserError(f"--out {str(out)!r} is an existing file; give a directory path")
    has_model, has_checkpoint = (out / CONFIG).is_file(), (out / CHECKPOINT).is_file()
    if training.resume:
        if not has_checkpoint:
            done = "its training finished" if has_model else "it holds no checkpoint"
            raise UserError(f"--resume: nothing to continue in {str(out)!r} ({done}); drop --resume to train a new run")
        return
    if (has_model or has_checkpoint) and not overwrite:
        raise UserError(
            f"--out {str(out)!r} already holds a run; pass --resume to continue it, --overwrite to replace it, or choose another directory"
        )
    if out.is_dir() and not (has_model or has_checkpoint) and any(out.iterdir()):
        raise UserError(
            f"--out {str(out)!r} holds files that are not an lstmkit run; choose a new or empty directory (--overwrite replaces runs only)"
        )
    existing = next(p for p in (out, *out.absolute().parents) if p.exists())
    if not existing.is_dir() or not os.access(existing, os.W_OK | os.X_OK):
        raise UserError(
            f"--out {str(out)!r} cannot be written ({str(existing)!r} is not a writable directory); choose a writable directory"
        )
    if has_model or has_checkpoint:
        aside = _aside(out)
        if aside.is_dir():  # an earlier replacement was killed: out holds its unfinished run, aside the old one
            shutil.rmtree(out)
        else:
            out.rename(aside)
        out.mkdir()


def _aside(out: Path) -> Path:
    return out.with_name(f".{out.name}.replaced")


@contextlib.contextmanager
def _replacing(out: Path | None) -> Iterator[None]:
    """Around a training command: a run that ``prepare_out`` moved aside is deleted once the new run has
    saved its model (``config.json`` is written last), else it comes back whole."""
    try:
        yield
    finally:
        if out is not None and lead_process():  # the other processes of a torchrun launch never touch --out
            _settle_replacement(out)


def _settle_replacement(out: Path) -> None:
    from lstmkit.io.artifacts import CONFIG

    aside = _aside(out)
    if not aside.is_dir():
        return
    if (out / CONFIG).is_file():
        shutil.rmtree(aside)
    else:
        shutil.rmtree(out, ignore_errors=True)
        aside.rename(out)


def _finishing(signum: int) -> None:
    print(
        "\ninterrupt: the run stops at its next safe point and writes a complete run directory (press Ctrl-C again to abort at once)",
        file=sys.stderr,
        flush=True,
    )


def task_config(cls, training, **flags):
    """A task config from command-line values (None: the task's default) and the training flags, made and
    checked as the Python API makes it (``lstmkit.tasks.base.configure``)."""
    from lstmkit.tasks.base import configure

    given = {k: v for k, v in flags.items() if v is not None}
    return configure(cls, None, {**given, "training": training}, cls.__name__)


def train_run(
    out: Path,
    estimator,
    train,
    validation=None,
    measure: Callable[[], dict] | None = None,
    plots: Callable[[], dict] | None = None,
    search=None,
) -> dict:
    """Fit ``estimator`` (after an ``--auto`` search when ``search`` is given) and write its run directory
    (``write_run``); the report's ``seconds`` is the fit's wall time, ``measure()`` adds what the command
    scores once the model is saved. A search's trial table goes to ``trials.json``; the report keeps its summary."""
    from lstmkit.io.artifacts import atomic_write_json
    from lstmkit.viz.report import TRIALS

    started = time.monotonic()
    estimator.fit(train, validation, auto=search or False)
    seconds = round(time.monotonic() - started, 2)
    if not lead_process():
        return {"interrupted": estimator.history.interrupted}

    def report() -> dict:
        extra = {}
        if search is not None:
            found = estimator.search
            atomic_write_json(out / TRIALS, found["trials"])
            extra["search"] = {k: v for k, v in found.items() if k != "trials"} | {"trials": len(found["trials"])}
        return {"seconds": seconds, **extra, **(measure() if measure else {})}

    return write_run(out, estimator, report, plots)


def write_run(out: Path, estimator, report: dict | Callable[[], dict], plots: Callable[[], dict] | None = None) -> dict:
    """Save the model into ``out`` first (a Ctrl-C after that leaves a loadable model), then measure, draw
    the plots and write metrics.json (last, atomically).

    ``report`` is what the command measured, or a function that measures it once the model is saved; the
    run's history (epochs, kept epoch, why it stopped, interrupted) is added. Returns the full report."""
    from lstmkit.io.artifacts import METRICS, atomic_write_json

    estimator.save(out)
    history = estimator.history
    full = {
        "run_dir": str(out),
        **(report() if callable(report) else report),
        "epochs": len(history.epochs),
        "best_epoch": history.best_epoch,
        "stopped_because": history.stopped_because,
        "interrupted": history.interrupted,
        "device": history.device,
        "processes": history.processes,
    }
    finite = lambda v: None if isinstance(v, float) and not math.isfinite(v) else v  # metrics.json stays standard JSON
    full["history"] = [{k: finite(r.get(k)) for k in ("epoch", "train_loss", "val_loss", "lr", "seconds")} for r in history.epochs]
    if plots is not None:
        full["plots"] = plots()
    from lstmkit.viz.explain import run_views
    from lstmkit.viz.report import REPORT, write_report

    views = run_views(estimator, out, full)
    if views:
        full["plots"] = {**full.get("plots", {}), **views}
    atomic_write_json(out / METRICS, full)
    full["report"] = str(write_report([out], out / REPORT))
    from lstmkit.training.tracking import finish_tracking

    finish_tracking(history, out, full, [out / REPORT, out / METRICS])
    return full


def finish(report: dict, as_json: bool, text: Callable[[], None]) -> None:
    """Print the result; an interrupted run says how to continue it and exits 130."""
    if not lead_process():
        return
    if as_json:
        emit(report, True)
    else:
        text()
    if report.get("interrupted"):
        where = report.get("run_dir")
        told = (
            f"{where} holds the best weights so far; continue with the same command and --resume"
            if where
            else "the results above come from the best weights so far"
        )
        print(f"training was interrupted: {told}", file=sys.stderr)
        raise typer.Exit(INTERRUPTED_EXIT)


def output_file(output: Path) -> Path:
    """An --output file path, its folder created; a directory there is refused."""
    if output.is_dir():
        raise UserError(f"--output {str(output)!r} is a directory; give a file path such as {str(output / 'predictions.csv')!r}")
    try:
        output.parent.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise UserError(f"--output {str(output)!r}: its folder cannot be created ({e.strerror}); choose another path") from None
    return output


def write_csv(output: Path, frame, index: bool = True) -> None:
    from lstmkit.io.artifacts import atomic_write_bytes

    try:
        atomic_write_bytes(output_file(output), frame.to_csv(index=index).encode("utf-8"))
    except OSError as e:
        raise UserError(f"--output {str(output)!r} cannot be written ({e.strerror}); choose another path") from None


def load_estimator(directory: Path):
    """The trained estimator in a model or run directory, whichever task wrote it."""
    from lstmkit.io.artifacts import saved_kind
    from lstmkit.tasks.anomaly import AnomalyDetector
    from lstmkit.tasks.classify import SequenceClassifier
    from lstmkit.tasks.forecast import Forecaster
    from lstmkit.tasks.panel import PanelForecaster
    from lstmkit.tasks.tag import SequenceTagger
    from lstmkit.tasks.textgen import TextGenerator

    classes = (Forecaster, PanelForecaster, AnomalyDetector, TextGenerator, SequenceClassifier, SequenceTagger)
    return {cls.kind: cls for cls in classes}[saved_kind(directory)].load(directory)
