"""textgen commands through the command's entry point (run in-process)."""

import json

from helpers import run_cli as lstmkit

SMALL = ["--hidden-size", "32", "--embedding-dim", "16", "--layers", "1", "--seq-len", "30", "--batch-size", "4", "--epochs", "2"]


def test_train_sample_evaluate_on_a_text_file(tmp_path):
    (tmp_path / "t.txt").write_text("lstmkit models text. " * 200, encoding="utf-8")
    out = tmp_path / "lm"
    trained = lstmkit("textgen", "train", "--data", str(tmp_path / "t.txt"), *SMALL, "--out", str(out), "--json")
    assert trained.returncode == 0, trained.stderr
    report = json.loads(trained.stdout)
    assert set(report["metrics"]) == {"model", "unigram", "ngram"} and report["metrics"]["model"]["bpc"] > 0
    sampled = lstmkit("textgen", "sample", "--model", str(out), "--prompt", "lstm", "--length", "20", "--seed", "1")
    assert sampled.returncode == 0 and sampled.stdout.startswith("lstm") and len(sampled.stdout.strip()) == 24
    again = lstmkit("textgen", "sample", "--model", str(out), "--prompt", "lstm", "--length", "20", "--seed", "1")
    assert again.stdout == sampled.stdout
    beam = lstmkit("textgen", "sample", "--model", str(out), "--prompt", "lst", "--length", "5", "--method", "beam", "--json")
    assert beam.returncode == 0 and json.loads(beam.stdout)["text"].startswith("lst")
    unknown = lstmkit("textgen", "sample", "--model", str(out), "--prompt", "XYZ", "--length", "3")
    assert unknown.returncode == 0 and "3 token(s) not in the vocabulary" in unknown.stderr
    evaluated = lstmkit("textgen", "evaluate", "--model", str(out), "--data", str(tmp_path / "t.txt"))
    assert evaluated.returncode == 0 and "5-gram KN" in evaluated.stdout and "bits/char" in evaluated.stdout
    assert "held-out test part" in evaluated.stdout
    unnamed = lstmkit("textgen", "evaluate", "--model", str(out))
    assert unnamed.returncode == 2 and "give --data that file" in unnamed.stderr and "Traceback" not in unnamed.stderr


def test_bad_text_inputs(tmp_path):
    (tmp_path / "e.txt").write_text("")
    result = lstmkit("textgen", "train", "--data", str(tmp_path / "e.txt"), "--out", str(tmp_path / "x"))
    assert result.returncode == 2 and "is empty" in result.stderr
    (tmp_path / "s.txt").write_text("tiny text")
    result = lstmkit("textgen", "train", "--data", str(tmp_path / "s.txt"), "--seq-len", "100", "--out", str(tmp_path / "x"))
    assert result.returncode == 2 and "lower --seq-len" in result.stderr and "Traceback" not in result.stderr
