"""classify and tag commands through the command's entry point (run in-process), on small files the tests write."""

import json
import random

from helpers import run_cli as lstmkit


def write_reviews(path):
    rng = random.Random(0)
    good, bad = ["great", "lovely", "superb", "fun"], ["awful", "dull", "boring", "bad"]
    rows = ["review,verdict"]
    for i in range(200):
        words = rng.sample(good if i % 2 else bad, 2) + rng.sample(["the", "film", "was", "plot", "cast"], 3)
        rng.shuffle(words)
        rows.append(f"{' '.join(words)} {i},{'up' if i % 2 else 'down'}")
    path.write_text("\n".join(rows) + "\n")


def test_classify_train_predict_evaluate(tmp_path):
    data, out = tmp_path / "reviews.csv", tmp_path / "clf"
    write_reviews(data)
    trained = lstmkit(
        "classify",
        "train",
        "--data",
        str(data),
        "--text-column",
        "review",
        "--label-column",
        "verdict",
        "--hidden-size",
        "16",
        "--embedding-dim",
        "16",
        "--epochs",
        "8",
        "--lr",
        "0.01",
        "--out",
        str(out),
        "--json",
    )
    assert trained.returncode == 0, trained.stderr
    report = json.loads(trained.stdout)
    assert set(report["metrics"]) == {"model", "bow_logreg"} and report["split"] == {"train": 160, "dev": 20, "test": 20}
    assert report["metrics"]["model"]["accuracy"] >= 0.9 and set(report["metrics"]["model"]) == {"accuracy", "precision", "recall", "f1"}
    assert json.loads((out / "metrics.json").read_text())["confusion"] == report["confusion"]
    predicted = lstmkit(
        "classify",
        "predict",
        "--model",
        str(out),
        "--text",
        "superb fun cast",
        "--text",
        "awful dull plot",
        "--output",
        str(tmp_path / "p.csv"),
    )
    assert predicted.returncode == 0, predicted.stderr
    lines = predicted.stdout.splitlines()
    assert lines[0].startswith("up ") and lines[1].startswith("down ") and "attention:" in lines[0]
    assert (tmp_path / "p.csv").read_text().splitlines()[0] == "text,label,probability"
    evaluated = lstmkit("classify", "evaluate", "--model", str(out), "--json")
    assert evaluated.returncode == 0 and json.loads(evaluated.stdout)["metrics"] == report["metrics"]
    text = lstmkit("classify", "evaluate", "--model", str(out))
    assert "bow_logreg" in text.stdout and "confusion matrix" in text.stdout
    into_dir = lstmkit("classify", "predict", "--model", str(out), "--text", "fun", "--output", str(tmp_path))
    assert into_dir.returncode == 2 and "is a directory" in into_dir.stderr
    nested = lstmkit("classify", "predict", "--model", str(out), "--text", "fun", "--output", str(tmp_path / "new" / "p.csv"))
    assert nested.returncode == 0 and (tmp_path / "new" / "p.csv").exists()
    with data.open("a") as f:  # the training file changes: its old test part can no longer be found
        f.write("superb fun extra,up\n")
    changed = lstmkit("classify", "evaluate", "--model", str(out))
    assert changed.returncode == 2 and "has changed since training" in changed.stderr


def test_classify_errors(tmp_path):
    (tmp_path / "d.csv").write_text("text,label\na,x\nb,y\n")
    missing = lstmkit("classify", "train", "--data", str(tmp_path / "d.csv"), "--text-column", "body", "--out", str(tmp_path / "o"))
    assert missing.returncode == 2 and "no column(s) ['body']" in missing.stderr and "Traceback" not in missing.stderr
    tiny = lstmkit("classify", "train", "--data", str(tmp_path / "d.csv"), "--out", str(tmp_path / "o"))
    assert tiny.returncode == 2 and "cannot be split into train/dev/test" in tiny.stderr
    assert lstmkit("classify", "train", "--data", "nope", "--out", str(tmp_path / "o")).returncode == 2


CONLL = """EU B-ORG
rejects O
German B-MISC
call O

Peter B-PER
Blackburn I-PER
"""


def write_conll(path, n, seed):
    rng = random.Random(seed)
    names, cities = ["Anna", "Bob", "Chen", "Dana"], ["Oslo", "Lima", "Kyiv", "Doha"]
    lines = []
    for _ in range(n):
        p, c = rng.choice(names), rng.choice(cities)
        lines += [f"{p} B-PER", "visited O", f"{c} B-LOC", ". O", ""]
    path.write_text("\n".join(lines))


def test_tag_train_predict_evaluate(tmp_path):
    data, out = tmp_path / "train.conll", tmp_path / "ner"
    write_conll(data, 150, 0)
    trained = lstmkit(
        "tag",
        "train",
        "--data",
        str(data),
        "--hidden-size",
        "16",
        "--embedding-dim",
        "16",
        "--epochs",
        "10",
        "--lr",
        "0.01",
        "--out",
        str(out),
        "--json",
    )
    assert trained.returncode == 0, trained.stderr
    report = json.loads(trained.stdout)
    assert report["split"] == {"train": 120, "dev": 15, "test": 15}
    assert report["metrics"]["model"]["f1"] > 0.9 and set(report["per_type"]) == {"PER", "LOC"}
    predicted = lstmkit("tag", "predict", "--model", str(out), "--text", "Chen visited Oslo .", "--output", str(tmp_path / "p.conll"))
    assert predicted.returncode == 0 and predicted.stdout.strip() == "[Chen]PER visited [Oslo]LOC ."
    assert (tmp_path / "p.conll").read_text().startswith("Chen B-PER\nvisited O\nOslo B-LOC\n")
    as_json = json.loads(lstmkit("tag", "predict", "--model", str(out), "--text", "Anna visited Lima .", "--json").stdout)
    assert as_json["predictions"][0]["entities"][1] == {"type": "LOC", "text": "Lima", "start": 2, "end": 3}
    write_conll(tmp_path / "test.conll", 20, 1)
    evaluated = lstmkit("tag", "evaluate", "--model", str(out), "--data", str(tmp_path / "test.conll"))
    assert evaluated.returncode == 0 and "overall" in evaluated.stdout and "PER" in evaluated.stdout
    (tmp_path / "other.conll").write_text(CONLL)
    other = lstmkit("tag", "evaluate", "--model", str(out), "--data", str(tmp_path / "other.conll"))
    assert other.returncode == 2 and "['MISC', 'ORG'] that the model was not trained on" in other.stderr


def test_tag_errors(tmp_path):
    (tmp_path / "bad.conll").write_text("EU B-ORG\nrejects\n")
    bad = lstmkit("tag", "train", "--data", str(tmp_path / "bad.conll"), "--out", str(tmp_path / "o"))
    assert bad.returncode == 2 and "bad.conll:2: expected 2 columns" in bad.stderr and "Traceback" not in bad.stderr
    (tmp_path / "few.conll").write_text(CONLL)
    few = lstmkit("tag", "train", "--data", str(tmp_path / "few.conll"), "--out", str(tmp_path / "o"))
    assert few.returncode == 2 and "too few to hold out" in few.stderr
    bundled = lstmkit("tag", "train", "--data", "peoples_daily_ner", "--dev", str(tmp_path / "few.conll"), "--out", str(tmp_path / "o"))
    assert bundled.returncode == 2 and "has its own fixed split" in bundled.stderr
    missing = lstmkit(
        "tag", "train", "--data", str(tmp_path / "few.conll"), "--dev", str(tmp_path / "nope.conll"), "--out", str(tmp_path / "o")
    )
    assert missing.returncode == 2 and "--dev" in missing.stderr and "is not a file" in missing.stderr


def test_text_datasets_are_listed_and_shown():
    listed = json.loads(lstmkit("datasets", "list", "--json").stdout)["text"]
    assert {r["name"]: r["task"] for r in listed if r["task"] != "textgen"} == {
        "sentiment_en": "classify",
        "sentiment_zh": "classify",
        "peoples_daily_ner": "tag",
    }
    shown = json.loads(lstmkit("datasets", "show", "sentiment_en", "--json").stdout)
    assert set(shown["labels"]) == {"fresh", "rotten"} and shown["texts"] == sum(shown["labels"].values())
    ner = json.loads(lstmkit("datasets", "show", "peoples_daily_ner", "--json").stdout)
    assert ner["example"] == "[中共中央]ORG总书记、国家主席[江泽民]PER" and set(ner["entities"]["test"]) == {"PER", "LOC", "ORG"}
