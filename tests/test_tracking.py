"""--log tensorboard|mlflow: read back with the libraries' own readers, against the run's metrics.json."""

import json

import pytest

from helpers import run_cli as lstmkit
from lstmkit.errors import UserError
from lstmkit.tasks.forecast import Forecaster

TRAIN = ("forecast", "train", "--data", "ramp", "--epochs", "3", "--combine", "none", "--hidden-size", "8")


def test_tensorboard_holds_every_epochs_losses_the_config_and_the_final_metrics(tmp_path):
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    out = tmp_path / "run"
    result = lstmkit(*TRAIN, "--log", "tensorboard", "--out", out)
    assert result.returncode == 0, result.stderr[-2000:]
    report = json.loads((out / "metrics.json").read_text())
    events = EventAccumulator(str(out / "tensorboard"), size_guidance={"scalars": 0, "tensors": 0})
    events.Reload()
    train = [(e.step, e.value) for e in events.Scalars("loss/train_loss")]
    assert train == [(r["epoch"], pytest.approx(r["train_loss"], rel=1e-6)) for r in report["history"]]
    assert [e.step for e in events.Scalars("loss/val_loss")] == [r["epoch"] for r in report["history"]]
    assert events.Scalars("test/model/mase")[0].value == pytest.approx(report["metrics"]["model"]["mase"], rel=1e-6)
    assert events.Scalars("test/naive/mase")[0].value == pytest.approx(report["metrics"]["naive"]["mase"], rel=1e-6)
    assert "config/text_summary" in events.Tags()["tensors"]


def test_mlflow_holds_params_metrics_and_the_report_in_the_run_directory(tmp_path):
    from mlflow.tracking import MlflowClient

    out = tmp_path / "run"
    result = lstmkit(*TRAIN, "--log", "mlflow", "--out", out)
    assert result.returncode == 0, result.stderr[-2000:]
    report = json.loads((out / "metrics.json").read_text())
    client = MlflowClient(tracking_uri=f"sqlite:///{out / 'mlflow.db'}")
    (run,) = client.search_runs([client.get_experiment_by_name("lstmkit").experiment_id])
    assert run.info.status == "FINISHED" and run.data.params["training.epochs"] == "3" and run.data.params["task.horizon"] == "1"
    history = client.get_metric_history(run.info.run_id, "loss.train_loss")
    assert [(m.step, m.value) for m in history] == [(r["epoch"], pytest.approx(r["train_loss"], rel=1e-6)) for r in report["history"]]
    assert run.data.metrics["test.model.mase"] == pytest.approx(report["metrics"]["model"]["mase"], rel=1e-6)
    assert {a.path for a in client.list_artifacts(run.info.run_id)} == {"report.html", "metrics.json"}
    assert (out / "mlflow-artifacts").is_dir() and not (tmp_path / "mlruns").exists()


def test_bad_log_requests_are_refused(tmp_path):
    for extra in (["--log", "wandb"], ["--log", "mlflow", "--auto", "--trials", "1"]):
        result = lstmkit(*TRAIN, *extra, "--out", tmp_path / "x")
        assert result.returncode == 2 and len(result.stderr.strip().splitlines()) == 1, result.stderr
    with pytest.raises(UserError, match="set checkpoint_dir"):
        Forecaster(log="tensorboard")
