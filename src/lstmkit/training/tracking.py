"""``--log tensorboard|mlflow``: a run's config, per-epoch losses, final metrics and report in an
experiment tracker, stored in the run directory (no server, no network).

* tensorboard: event files in ``RUN/tensorboard`` (``tensorboard --logdir RUN/tensorboard``); the config
  as text, train/validation loss, learning rate and epoch seconds per epoch, the final metrics as
  ``test/METHOD/METRIC`` scalars.
* mlflow: a SQLite store ``RUN/mlflow.db`` with artifacts in ``RUN/mlflow-artifacts``
  (``mlflow ui --backend-store-uri sqlite:///RUN/mlflow.db``), or the tracking server that
  ``MLFLOW_TRACKING_URI`` names; the config as parameters, the same metrics, report.html and
  metrics.json as artifacts.

The Trainer logs epochs through ``Tracker`` (a Callback); the command line adds the final metrics and
the report once the run directory is written (``finish_tracking``).
"""

from __future__ import annotations

import json
import logging
import math
import os
from pathlib import Path
from typing import Any

from lstmkit.errors import UserError
from lstmkit.training.trainer import Callback, Trainer

EXPERIMENT = "lstmkit"


class Tracker(Callback):
    """Logs a fit to TensorBoard or MLflow; ``history.tracking`` tells ``finish_tracking`` where."""

    def __init__(self, kind: str, run_dir: str | os.PathLike, config: dict[str, Any]) -> None:
        self.kind, self.run_dir, self.config = kind, Path(run_dir), config
        self.writer: Any = None
        self.run_id: str | None = None

    def on_fit_start(self, trainer: Trainer) -> None:
        if self.kind == "tensorboard":
            self.writer = _tensorboard(self.run_dir)
            self.writer.add_text("config", "```\n" + json.dumps(self.config, indent=1, default=str) + "\n```")
        else:
            client, experiment = _mlflow(self.run_dir)
            self.writer = client
            self.run_id = client.create_run(experiment, run_name=self.run_dir.name).info.run_id
            for key, value in _flat(self.config).items():
                client.log_param(self.run_id, key, str(value)[:500])
        trainer.history.tracking = {"kind": self.kind, "run_id": self.run_id}

    def on_epoch_end(self, trainer: Trainer, record: dict) -> None:
        values = {f"loss/{name}": record.get(name) for name in ("train_loss", "val_loss")} | {
            "lr": record.get("lr"),
            "seconds": record.get("seconds"),
        }
        _log(self.kind, self.writer, self.run_id, values, int(record["epoch"]))

    def on_fit_end(self, trainer: Trainer) -> None:
        if self.kind == "tensorboard":
            self.writer.close()


def finish_tracking(history, run_dir: Path, report: dict, files: list[Path]) -> None:
    """Add a finished run's final metrics (``report["metrics"]``: method -> metric -> value) and files
    to the tracker its fit logged to; nothing when it logged nowhere."""
    tracking = getattr(history, "tracking", None)
    if not tracking:
        return
    values = {
        f"test/{method}/{name}": v
        for method, metrics in (report.get("metrics") or {}).items()
        if isinstance(metrics, dict)
        for name, v in metrics.items()
    }
    step = int(report.get("epochs") or 0)
    if tracking["kind"] == "tensorboard":
        writer = _tensorboard(run_dir)
        _log("tensorboard", writer, None, values, step)
        writer.close()
        return
    client, _ = _mlflow(run_dir)
    _log("mlflow", client, tracking["run_id"], values, step)
    for file in files:
        client.log_artifact(tracking["run_id"], str(file))
    client.set_terminated(tracking["run_id"])


def _log(kind: str, writer, run_id: str | None, values: dict[str, Any], step: int) -> None:
    for name, value in values.items():
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
            continue
        if kind == "tensorboard":
            writer.add_scalar(name, value, step)
        else:
            writer.log_metric(run_id, name.replace("/", "."), float(value), step=step)


def _tensorboard(run_dir: Path):
    try:
        from torch.utils.tensorboard import SummaryWriter
    except ImportError:
        raise UserError("--log tensorboard needs the tensorboard package: pip install 'lstmkit[log]'") from None
    return SummaryWriter(log_dir=str(run_dir / "tensorboard"))


def _mlflow(run_dir: Path):
    try:
        from mlflow.tracking import MlflowClient
    except ImportError:
        raise UserError("--log mlflow needs the mlflow package: pip install 'lstmkit[log]'") from None
    logging.getLogger("mlflow").setLevel(logging.WARNING)  # its database set-up chatter is not the run's
    run_dir.mkdir(parents=True, exist_ok=True)
    uri = os.environ.get("MLFLOW_TRACKING_URI") or f"sqlite:///{(run_dir / 'mlflow.db').resolve()}"
    client = MlflowClient(tracking_uri=uri)
    found = client.get_experiment_by_name(EXPERIMENT)
    if found is not None:
        return client, found.experiment_id
    return client, client.create_experiment(EXPERIMENT, artifact_location=(run_dir / "mlflow-artifacts").resolve().as_uri())


def _flat(config: dict, prefix: str = "") -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in config.items():
        if isinstance(value, dict):
            out |= _flat(value, f"{prefix}{key}.")
        else:
            out[f"{prefix}{key}"] = value
    return out
