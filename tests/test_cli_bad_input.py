"""Generated bad input for every command: option values of the wrong kind, malformed data files, and
`--out` / `--output` paths that cannot be used. Each must end with exit code 2 and one line on stderr that
starts with "error:", with no traceback and nothing written where the run would have gone."""

import itertools
import json
import string
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import typer.main
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from helpers import run_cli as lstmkit
from lstmkit.cli import app
from lstmkit.io.artifacts import CHECKPOINT

FAST = ["--epochs", "1"]
# free text, or paths whose refusal is tested below: any string is a valid value for them
FREE = {"--out", "--output", "--report", "--prompt", "--text", "--study-storage", "--study-name"}
BAD = {
    int: ["abc", "1.5", "nan", "", "1e3", "0x10", "--", "٣"],
    float: ["nan", "inf", "-inf", "abc", "", "1e400", "0x1p3"],
    str: ["", "bogus", "../../etc/passwd", " ", "\t", "nan", "é" * 50],
}


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    """Small data files of every kind and a trained model per task."""
    root = tmp_path_factory.mktemp("bad_input")
    text = root / "text.txt"
    text.write_text("the cat sat on the mat. the dog sat on the log. " * 200)
    rng = np.random.default_rng(0)
    reviews = root / "reviews.csv"
    pd.DataFrame({"text": [f"good film {i}" if i % 2 else f"bad film {i}" for i in range(60)], "label": ["pos", "neg"] * 30}).to_csv(
        reviews, index=False
    )
    conll = root / "tags.conll"
    conll.write_text("\n\n".join("Ann B-PER\nlives O\nin O\nParis B-LOC" for _ in range(30)) + "\n")
    series = root / "series.csv"
    pd.DataFrame({"y": np.sin(np.arange(200) / 4) + rng.normal(0, 0.1, 200)}).to_csv(series, index=False)
    paths = {"text": text, "reviews": reviews, "conll": conll, "series": series}
    for task, data, extra in [
        ("forecast", "ramp", ["--combine", "none", "--hidden-size", "8"]),
        ("textgen", str(text), ["--level", "char", "--seq-len", "10", "--batch-size", "2", "--hidden-size", "8", "--layers", "1"]),
        ("classify", str(reviews), ["--hidden-size", "8"]),
        ("tag", str(conll), ["--hidden-size", "8"]),
    ]:
        trained = lstmkit(task, "train", "--data", data, "--out", str(root / task), *FAST, *extra)
        assert trained.returncode == 0, trained.stderr
        paths[task + "_model"] = root / task
    return paths


def base(command: tuple[str, ...], f, out) -> list[str]:
    """Arguments that make ``command`` valid (and fast), before the bad one is added."""
    return {
        ("forecast", "train"): ["--data", str(f["series"]), "--out", out, *FAST],
        ("forecast", "predict"): ["--model", str(f["forecast_model"])],
        ("forecast", "evaluate"): ["--model", str(f["forecast_model"]), "--data", "ramp"],
        ("forecast", "backtest"): ["--data", str(f["series"]), "--folds", "1", *FAST],
        ("anomaly", "detect"): ["--data", str(f["series"]), "--out", out, *FAST],
        ("textgen", "train"): ["--data", str(f["text"]), "--out", out, "--seq-len", "10", "--batch-size", "2", "--level", "char", *FAST],
        ("textgen", "sample"): ["--model", str(f["textgen_model"]), "--length", "5"],
        ("textgen", "evaluate"): ["--model", str(f["textgen_model"]), "--data", str(f["text"])],
        ("classify", "train"): ["--data", str(f["reviews"]), "--out", out, *FAST],
        ("classify", "predict"): ["--model", str(f["classify_model"]), "--text", "good film"],
        ("classify", "evaluate"): ["--model", str(f["classify_model"]), "--data", str(f["reviews"])],
        ("tag", "train"): ["--data", str(f["conll"]), "--out", out, *FAST],
        ("tag", "predict"): ["--model", str(f["tag_model"]), "--text", "Ann lives in Paris"],
        ("tag", "evaluate"): ["--model", str(f["tag_model"]), "--data", str(f["conll"])],
    }[command]


def options() -> list[tuple[tuple[str, ...], str, type]]:
    """(command, flag, value type) of every option that takes a value, from the command line itself."""
    found = []
    root = typer.main.get_command(app)
    for group in ("forecast", "anomaly", "textgen", "classify", "tag"):
        for name, command in root.commands[group].commands.items():  # type: ignore[attr-defined]
            for param in command.params:
                flag = param.opts[0]
                if getattr(param, "is_flag", False) or flag in FREE:
                    continue
                kind = param.bare_type if param.bare_type in BAD else str
                found.append(((group, name), flag, kind))
    return found


OPTIONS = options()
RUNS = itertools.count()  # a new run directory per example (tmp_path is shared by all of a test's examples)


@pytest.fixture(autouse=True)
def in_tmp_path(tmp_path, monkeypatch):
    """Generated values are often relative paths ("nan", "../../etc/passwd"): what a command writes there
    lands in the test's folder, never in the checkout or the system."""
    monkeypatch.chdir(tmp_path)


@pytest.mark.parametrize("command", sorted({c for c, _, _ in OPTIONS}))
def test_each_command_runs_with_its_base_arguments(files, tmp_path, command):
    # the refusals below come from the bad value, not from base arguments that never worked
    result = lstmkit(*command, *base(command, files, str(tmp_path / "run")))
    assert result.returncode == 0, result.stderr[-2000:]


def refused_in_one_line(result, out=None) -> None:
    assert result.returncode == 2, (result.returncode, result.stderr[-2000:])
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and "Traceback" not in result.stderr, result.stderr[-2000:]
    assert out is None or not out.exists(), "a refused run wrote its directory"


def valid_or_refused(result, out=None) -> None:
    """Some generated values happen to be usable (a column that exists, a free-text label ...)."""
    if result.returncode != 0:
        refused_in_one_line(result, out)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_a_bad_option_value_is_refused_in_one_line(files, tmp_path, data):
    command, flag, kind = data.draw(st.sampled_from(OPTIONS), label="option")
    value = data.draw(st.sampled_from(BAD[kind]), label="value")
    out = tmp_path / f"run{next(RUNS)}"
    result = lstmkit(*command, *base(command, files, str(out)), flag, value)
    if kind is str:  # a string can be valid: a column named "nan", a device "bogus" is not
        valid_or_refused(result, out)
    else:
        refused_in_one_line(result, out)


MALFORMED = st.one_of(
    st.binary(max_size=300),
    st.text(alphabet=string.printable + "中文，。\x00\ufeff", max_size=300),
    st.sampled_from(["", "\n\n\n", "y\n", "y\nabc\n", "a,b\n1,2,3\n", "text,label\n", "\ufeffy\n1\n", "Ann B-PER extra columns\n\n"]),
)
DATA_COMMANDS = [
    (("forecast", "train"), ".csv"),
    (("forecast", "evaluate"), ".csv"),
    (("forecast", "predict"), ".csv"),
    (("anomaly", "detect"), ".csv"),
    (("textgen", "train"), ".txt"),
    (("textgen", "evaluate"), ".txt"),
    (("classify", "train"), ".csv"),
    (("classify", "predict"), ".csv"),
    (("classify", "evaluate"), ".csv"),
    (("tag", "train"), ".conll"),
    (("tag", "evaluate"), ".conll"),
    (("tag", "predict"), ".txt"),
]


@settings(max_examples=250, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data(), content=MALFORMED)
def test_a_malformed_data_file_is_refused_in_one_line(files, tmp_path, data, content):
    command, suffix = data.draw(st.sampled_from(DATA_COMMANDS), label="command")
    path = tmp_path / f"data{suffix}"
    path.write_bytes(content if isinstance(content, bytes) else content.encode("utf-8", "surrogatepass"))
    out = tmp_path / f"run{next(RUNS)}"
    args = base(command, files, str(out))
    if "--text" in args:  # predict reads the file instead
        del args[args.index("--text") : args.index("--text") + 2]
    if "--data" in args:
        args[args.index("--data") + 1] = str(path)
    else:
        args += ["--data", str(path)]
    valid_or_refused(lstmkit(*command, *args), out)


@pytest.mark.parametrize("command", [c for c, _ in DATA_COMMANDS if c[1] in ("train", "detect")])
def test_out_that_is_a_file_or_cannot_be_made_is_refused_before_any_work(files, tmp_path, command):
    (tmp_path / "file").write_text("x")
    for out in (tmp_path / "file", tmp_path / "file" / "below"):
        refused_in_one_line(lstmkit(*command, *base(command, files, str(out))))
    assert (tmp_path / "file").read_text() == "x"


@pytest.mark.parametrize("command", [("forecast", "predict"), ("classify", "predict"), ("tag", "predict")])
def test_output_that_is_a_directory_or_below_a_file_is_refused(files, tmp_path, command):
    (tmp_path / "file").write_text("x")
    for output in (tmp_path, tmp_path / "file" / "out.csv"):
        refused_in_one_line(lstmkit(*command, *base(command, files, ""), "--output", str(output)))


def test_an_empty_labels_name_is_a_missing_column_not_a_crash(files, tmp_path):
    # found by the property above: '' was taken as "no labels", then the report had no precision to print
    result = lstmkit("anomaly", "detect", *base(("anomaly", "detect"), files, str(tmp_path / "run")), "--labels", "")
    refused_in_one_line(result, tmp_path / "run")
    assert "column '' not found" in result.stderr


def test_a_text_too_short_to_score_gets_its_error_alone(files, tmp_path):
    # found by the malformed-file property: the "no n-gram baselines" note was printed before the refusal
    (tmp_path / "one.txt").write_bytes(b"\x01")
    refused_in_one_line(lstmkit("textgen", "evaluate", "--model", str(files["textgen_model"]), "--data", str(tmp_path / "one.txt")))


def test_a_column_name_with_a_line_break_keeps_the_error_on_one_line(tmp_path):
    (tmp_path / "odd.csv").write_text('"a\x0cb",c\n1,2\n3,4\n')
    result = lstmkit("forecast", "train", "--data", str(tmp_path / "odd.csv"), "--target", "value", "--out", str(tmp_path / "run"))
    refused_in_one_line(result)
    assert "'a\\x0cb'" in result.stderr


def test_every_task_exports_by_the_command_and_bad_exports_are_refused(files, tmp_path):
    import onnxruntime

    for task in ("forecast", "textgen", "classify", "tag"):
        out = tmp_path / f"{task}.onnx"
        result = lstmkit("export", "--model", str(files[task + "_model"]), "--out", str(out), "--json")
        assert result.returncode == 0, result.stderr[-2000:]
        report = json.loads(result.stdout)
        session = onnxruntime.InferenceSession(str(out))
        assert (
            [i.name for i in session.get_inputs()] == list(report["inputs"]) == list(json.loads(Path(f"{out}.json").read_text())["inputs"])
        )
    model = str(files["classify_model"])
    refused_in_one_line(lstmkit("export", "--model", model, "--format", "tflite", "--out", str(tmp_path / "m.tflite")))
    refused_in_one_line(lstmkit("export", "--model", model, "--out", str(tmp_path)))  # a folder, not a file
    refused_in_one_line(lstmkit("export", "--model", model, "--out", str(tmp_path / "missing" / "m.onnx")))
    refused_in_one_line(lstmkit("export", "--model", str(tmp_path / "no-run"), "--out", str(tmp_path / "m.onnx")))
    unfinished = tmp_path / "unfinished"
    unfinished.mkdir()
    (unfinished / CHECKPOINT).write_bytes(b"training was killed here")
    result = lstmkit("export", "--model", str(unfinished), "--out", str(tmp_path / "m.onnx"))
    refused_in_one_line(result)
    assert "did not finish" in result.stderr and not (tmp_path / "m.onnx").exists()


def test_explain_draws_every_tasks_views_and_refuses_what_a_model_cannot_read(files, tmp_path):
    asks = {
        "forecast": [],
        "textgen": ["--text", 'the "cat" sat (on) the mat.\nthe dog', "--cell", "3"],
        "classify": ["--text", "good film", "--text", "bad film 7"],
        "tag": ["--text", "Ann lives in Paris"],
    }
    for task, args in asks.items():
        out = tmp_path / task
        result = lstmkit("explain", "--model", str(files[task + "_model"]), "--out", str(out), *args, "--json")
        assert result.returncode == 0, result.stderr[-2000:]
        written = sorted(p.name for p in out.iterdir())
        assert written and all((out / name).read_bytes()[:4] == b"\x89PNG" for name in written)
        summary = json.loads(result.stdout)
        if task == "textgen":
            assert [c["cell"] for c in summary["views"][0]["cells"]] == [3] and "text_1_cell_3.png" in written
        if task == "classify":
            assert [v["text"] for v in summary["views"]] == ["good film", "bad film 7"]
        if task == "tag":
            assert "transitions.png" in written and "entities_1.png" in written
    textgen, forecast = str(files["textgen_model"]), str(files["forecast_model"])
    out = str(tmp_path / "refused")
    refused_in_one_line(lstmkit("explain", "--model", textgen, "--out", out, "--text", "the cat", "--cell", "8"))  # 8 units
    refused_in_one_line(lstmkit("explain", "--model", textgen, "--out", out))  # nothing to read
    refused_in_one_line(lstmkit("explain", "--model", textgen, "--out", out, "--text", "XYZ@#"))  # no known character
    refused_in_one_line(lstmkit("explain", "--model", forecast, "--out", out, "--text", "a text"))
    refused_in_one_line(lstmkit("explain", "--model", textgen, "--out", str(files["text"]), "--text", "the cat"))  # a file
    assert not Path(out).exists()
