"""Run directories through the command line: kill -9 and --resume, Ctrl-C (in real processes), budgets, unfinished and
existing runs."""

import json
import os
import signal
import subprocess
import sys
import time

import pytest

from helpers import run_cli as lstmkit
from lstmkit.io.artifacts import CHECKPOINT, CONFIG

# 60 epochs of about 6 batches, checkpoints every 0.05 s and after every epoch: long enough to be killed mid-run
TRAIN = ("forecast train --data sine --lookback 20 --hidden-size 16 --epochs 60 --patience 1000 --checkpoint-every 0.05 --seed 3").split()


def real(*args, timeout=300):
    """The command in its own process: what signals and kill -9 are tested on."""
    return subprocess.run([sys.executable, "-m", "lstmkit.cli", *args], capture_output=True, text=True, timeout=timeout)


def start(*args):
    return subprocess.Popen([sys.executable, "-m", "lstmkit.cli", *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def wait_for_training(process, run, seconds=60.0):
    """Until the run has written a checkpoint and a few more epochs (stderr shows them)."""
    deadline = time.monotonic() + seconds
    while not (run / CHECKPOINT).is_file():
        assert process.poll() is None, process.communicate()
        assert time.monotonic() < deadline, "no checkpoint appeared"
        time.sleep(0.02)
    time.sleep(0.5)


@pytest.mark.slow
def test_kill_9_then_resume_ends_with_the_weights_of_an_uninterrupted_run(tmp_path):
    reference = real(*TRAIN, "--out", str(tmp_path / "ref"), "--json")
    assert reference.returncode == 0, reference.stderr
    assert not (tmp_path / "ref" / CHECKPOINT).exists()  # a finished run retires its checkpoint

    run = tmp_path / "killed"
    process = start(*TRAIN, "--out", str(run))
    wait_for_training(process, run)
    process.send_signal(signal.SIGKILL)
    process.wait()
    assert (run / CHECKPOINT).is_file() and not (run / CONFIG).exists(), "the run finished before it was killed"

    for command in (["inspect", str(run)], ["forecast", "predict", "--model", str(run)]):
        unfinished = real(*command)
        assert unfinished.returncode == 2 and "did not finish; resume it with --resume" in unfinished.stderr
    again = real(*TRAIN, "--out", str(run))
    assert again.returncode == 2 and "already holds a run; pass --resume" in again.stderr

    resumed = real(*TRAIN, "--out", str(run), "--resume", "--json")
    assert resumed.returncode == 0, resumed.stderr
    assert "resuming after epoch" in resumed.stderr
    assert (run / "model.safetensors").read_bytes() == (tmp_path / "ref" / "model.safetensors").read_bytes()
    assert json.loads(resumed.stdout)["metrics"] == json.loads(reference.stdout)["metrics"]
    assert not (run / CHECKPOINT).exists()
    done = real(*TRAIN, "--out", str(run), "--resume")
    assert done.returncode == 2 and "nothing to continue" in done.stderr and "training finished" in done.stderr


@pytest.mark.slow
@pytest.mark.parametrize("sent", [signal.SIGINT, signal.SIGTERM])
def test_ctrl_c_or_sigterm_leaves_a_loadable_run_that_says_it_was_interrupted(tmp_path, sent):
    run = tmp_path / "run"
    process = start(*TRAIN, "--out", str(run), "--json")
    wait_for_training(process, run)
    process.send_signal(sent)
    out, err = process.communicate(timeout=120)
    assert process.returncode == 130, err
    assert "Traceback" not in err and "continue with the same command and --resume" in err
    report = json.loads(out)
    assert report["interrupted"] is True and report["stopped_because"].startswith("interrupted")
    assert json.loads((run / "metrics.json").read_text())["interrupted"] is True
    assert (run / CHECKPOINT).is_file()  # kept, so that the run can continue
    if sent == signal.SIGTERM:
        return  # the rest is the same for both
    shown = json.loads(real("inspect", str(run), "--json").stdout)
    assert shown["training"]["interrupted"] is True
    predicted = real("forecast", "predict", "--model", str(run), "--json")
    assert predicted.returncode == 0, predicted.stderr
    resumed = real(*TRAIN, "--out", str(run), "--resume", "--json")
    assert resumed.returncode == 0 and json.loads(resumed.stdout)["interrupted"] is False
    assert not (run / CHECKPOINT).exists()


def interrupt_during(monkeypatch, owner, name, sent=signal.SIGINT):
    """Send ``sent`` to this process when ``owner.name`` is called (the command runs in this process)."""
    original = getattr(owner, name)

    def interrupted(*args, **kwargs):
        os.kill(os.getpid(), sent)
        return original(*args, **kwargs)

    monkeypatch.setattr(owner, name, interrupted)


def test_an_interrupt_while_the_run_directory_is_written_lets_it_finish_then_exits_130(tmp_path, monkeypatch):
    from lstmkit.tasks.forecast import Forecaster

    interrupt_during(monkeypatch, Forecaster, "plot_data")  # after training and saving, before metrics.json
    run = tmp_path / "run"
    result = lstmkit("forecast", "train", "--data", "ramp", "--epochs", "2", "--out", str(run))
    assert result.returncode == 130 and "finished writing first" in result.stderr, result.stderr
    report = json.loads((run / "metrics.json").read_text())
    assert report["interrupted"] is False and report["epochs"] == 2 and (run / "forecast.png").is_file()


def test_an_interrupt_before_training_stops_it_after_one_batch_with_a_resumable_run(tmp_path, monkeypatch):
    from lstmkit.tasks.forecast import Forecaster

    interrupt_during(monkeypatch, Forecaster, "read", signal.SIGTERM)
    run = tmp_path / "run"
    result = lstmkit("forecast", "train", "--data", "ramp", "--epochs", "50", "--out", str(run), "--json")
    assert result.returncode == 130 and "--resume" in result.stderr, result.stderr
    report = json.loads(result.stdout)
    assert report["interrupted"] is True and report["epochs"] <= 1 and (run / CHECKPOINT).is_file()


def test_overwrite_replaces_a_run_whole_and_a_failed_or_aborted_replacement_leaves_it_whole(tmp_path, monkeypatch):
    from lstmkit.tasks.forecast import Forecaster

    run = tmp_path / "run"
    first = lstmkit("forecast", "train", "--data", "ramp", "--epochs", "2", "--out", str(run))
    assert first.returncode == 0, first.stderr
    (run / "notes.txt").write_text("the user's own file in the old run")
    before = {p.name: p.read_bytes() for p in run.iterdir()}

    bad = lstmkit("forecast", "train", "--data", "ramp", "--target", "nope", "--epochs", "2", "--out", str(run), "--overwrite")
    assert bad.returncode == 2 and {p.name: p.read_bytes() for p in run.iterdir()} == before
    with monkeypatch.context() as patch:
        patch.setattr(Forecaster, "fit", lambda *a, **k: (_ for _ in ()).throw(KeyboardInterrupt))  # a second Ctrl-C
        aborted = lstmkit("forecast", "train", "--data", "ramp", "--epochs", "2", "--out", str(run), "--overwrite")
    assert aborted.returncode == 130 and {p.name: p.read_bytes() for p in run.iterdir()} == before
    assert [p.name for p in tmp_path.iterdir()] == ["run"]  # nothing left beside it

    replaced = lstmkit("forecast", "train", "--data", "ramp", "--epochs", "3", "--seed", "1", "--out", str(run), "--overwrite")
    assert replaced.returncode == 0, replaced.stderr
    assert json.loads((run / "metrics.json").read_text())["epochs"] == 3
    assert not (run / "notes.txt").exists() and [p.name for p in tmp_path.iterdir()] == ["run"]


def test_out_refuses_a_directory_of_other_files_even_with_overwrite(tmp_path):
    (tmp_path / "thesis.tex").write_text("years of work")
    for extra in ((), ("--overwrite",)):
        result = lstmkit("forecast", "train", "--data", "ramp", "--epochs", "1", "--out", str(tmp_path), *extra)
        assert result.returncode == 2 and "holds files that are not an lstmkit run" in result.stderr
    assert [p.name for p in tmp_path.iterdir()] == ["thesis.tex"]


@pytest.mark.slow
def test_a_budget_of_a_fifth_of_a_minute_is_kept_within_ten_percent(tmp_path):
    # the default 2x512 character model on Hamlet: one epoch alone takes about a minute on 2 cores
    result = lstmkit("textgen", "train", "--data", "hamlet", "--max-minutes", "0.2", "--out", str(tmp_path / "lm"), "--json")
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["stopped_because"] == "the 0.2-minute budget was spent"
    assert report["seconds"] <= 0.2 * 60 * 1.1


def test_training_flags_are_the_same_in_every_task():
    flags = (
        "--epochs",
        "--steps",
        "--max-minutes",
        "--batch-size",
        "--lr",
        "--patience",
        "--min-improvement",
        "--clip-grad-norm",
        "--seed",
        "--device",
        "--precision",
        "--threads",
        "--checkpoint-every",
        "--resume",
    )
    for task in ("forecast", "textgen", "classify", "tag", "anomaly"):
        command = "detect" if task == "anomaly" else "train"
        shown = lstmkit(task, command, "--help").stdout
        assert all(flag in shown for flag in flags), task


def test_library_parameter_names_become_flags_in_errors(tmp_path):
    result = lstmkit("forecast", "train", "--data", "co2", "--out", str(tmp_path / "r"))
    assert result.returncode == 2
    assert "pass --fill with one of ffill" in result.stderr and "fill=" not in result.stderr
    missing_device = lstmkit("forecast", "train", "--data", "ramp", "--device", "cuda:3", "--out", str(tmp_path / "c"))
    if "no CUDA GPU" in missing_device.stderr:
        assert missing_device.returncode == 2 and "use --device 'cpu' or 'auto'" in missing_device.stderr


def test_anomaly_detect_writes_a_run_directory_with_a_reloadable_detector(tmp_path):
    from lstmkit.tasks.anomaly import AnomalyDetector

    run = tmp_path / "sine"
    result = lstmkit("anomaly", "detect", "--data", "sine", "--epochs", "3", "--out", str(run), "--json")
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert {p.name for p in run.iterdir()} >= {
        CONFIG,
        "model.safetensors",
        "preprocessing.json",
        "metrics.json",
        "anomalies.csv",
        "anomalies.png",
    }
    assert json.loads((run / "metrics.json").read_text())["anomalies"] == report["anomalies"]
    flagged = AnomalyDetector.load(run).predict("sine")["anomaly"]
    assert int(flagged.sum()) == report["anomalies"]
