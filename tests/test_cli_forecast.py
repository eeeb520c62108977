"""The datasets, forecast and anomaly commands through the command's entry point (run in-process)."""

import json

import numpy as np
import pandas as pd
import pytest

from helpers import run_cli as lstmkit


def test_datasets_list_and_show():
    listed = json.loads(lstmkit("datasets", "list", "--json").stdout)["datasets"]
    assert {"aapl", "ibm", "msft", "goog", "seattle_weather", "sunspots", "co2", "sine", "ramp"} <= {d["name"] for d in listed}
    shown = json.loads(lstmkit("datasets", "show", "co2", "--json").stdout)
    assert shown["rows"] == 2284 and shown["missing"] == {"co2": 59}
    bad = lstmkit("datasets", "show", "nasdaq")
    assert bad.returncode == 2 and "unknown dataset 'nasdaq'" in bad.stderr


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory):
    out = tmp_path_factory.mktemp("runs") / "sine"
    result = lstmkit(
        "forecast",
        "train",
        "--data",
        "sine",
        "--horizon",
        "5",
        "--lookback",
        "20",
        "--epochs",
        "5",
        "--quantiles",
        "0.1,0.9",
        "--out",
        str(out),
        "--json",
    )
    assert result.returncode == 0, result.stderr
    return out, json.loads(result.stdout)


def test_train_writes_the_run_directory_and_reports_against_baselines(run_dir):
    out, report = run_dir
    assert {p.name for p in out.iterdir()} >= {
        "config.json",
        "model.safetensors",
        "preprocessing.json",
        "metrics.json",
        "forecast.png",
        "loss.png",
    }
    assert set(report["metrics"]) == {"model", "network", "naive", "drift", "seasonal_naive", "ets", "arima"}
    assert set(report["metrics"]["model"]) == {"mae", "rmse", "mape", "smape", "mase"}
    assert report["run_dir"] == str(out) and report["epochs"] >= 1 and report["seconds"] > 0
    assert json.loads((out / "metrics.json").read_text())["metrics"] == report["metrics"]
    assert (out / "forecast.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_predict_and_evaluate_from_the_run_directory(run_dir, tmp_path):
    out, _ = run_dir
    predicted = lstmkit("forecast", "predict", "--model", str(out), "--output", str(tmp_path / "f.csv"), "--json")
    assert predicted.returncode == 0, predicted.stderr
    rows = json.loads(predicted.stdout)["forecast"]
    assert len(rows) == 5 and rows[0]["step"] == 1000 and rows[0]["value_q0.1"] <= rows[0]["value"]
    assert len(pd.read_csv(tmp_path / "f.csv")) == 5
    evaluated = lstmkit("forecast", "evaluate", "--model", str(out), "--data", "sine", "--start", "900")
    assert evaluated.returncode == 0, evaluated.stderr
    assert "seasonal_naive" in evaluated.stdout and "96 forecast origins 900 .. 995" in evaluated.stdout


def test_train_prints_a_table_and_where_the_plot_is(tmp_path):
    result = lstmkit("forecast", "train", "--data", "ramp", "--epochs", "3", "--out", str(tmp_path / "r"))
    assert result.returncode == 0, result.stderr
    assert "method" in result.stdout and "naive" in result.stdout and "drift" in result.stdout
    assert f"plot: {tmp_path / 'r' / 'forecast.png'}" in result.stdout
    assert "epoch   1/3" in result.stderr  # progress goes to stderr


def test_backtest_on_a_user_file_with_nothing_but_the_target(tmp_path):
    t = pd.date_range("2020-01-01", periods=500, freq="D")
    pd.DataFrame({"day": t, "load": 10 + np.sin(np.arange(500) * 2 * np.pi / 7)}).to_csv(tmp_path / "load.csv", index=False)
    result = lstmkit(
        "forecast",
        "backtest",
        "--data",
        str(tmp_path / "load.csv"),
        "--target",
        "load",
        "--horizon",
        "3",
        "--folds",
        "2",
        "--epochs",
        "3",
        "--report",
        str(tmp_path / "backtest.html"),
        "--json",
    )
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["season"] == 7 and len(report["folds"]) == 2 and "seasonal_naive" in report["metrics"]
    assert report["combine"] == "median" and "network" in report["metrics"]  # the text table names the combination from this
    page = (tmp_path / "backtest.html").read_text()
    assert report["report"] == str(tmp_path / "backtest.html") and 'id="fold2-metrics"' in page
    for fold in (1, 2):  # each fold's table holds that fold's exact scores
        mase = report["folds"][fold - 1]["metrics"]["model"]["mase"]
        assert f'id="fold{fold}-metrics"' in page and f'data-value="{json.dumps(mase)}"' in page
    refused = lstmkit("forecast", "backtest", "--data", str(tmp_path / "load.csv"), "--target", "load", "--report", str(tmp_path))
    assert refused.returncode == 2 and "is a folder" in refused.stderr


def test_future_covariates_and_calendar_from_the_command_line(tmp_path):
    rng = np.random.default_rng(1)
    days = pd.date_range("2021-01-01", periods=220, freq="D")
    promo = (rng.random(220) < 0.25).astype(float)
    sales = 30 + 10 * promo + rng.normal(0, 1, 220)
    pd.DataFrame({"date": days, "sales": sales, "promo": promo}).to_csv(tmp_path / "sales.csv", index=False)
    ahead = pd.date_range(days[-1], periods=4, freq="D")[1:]
    pd.DataFrame({"date": ahead, "promo": [0.0, 1.0, 0.0]}).to_csv(tmp_path / "future.csv", index=False)
    run = str(tmp_path / "run")
    flags = ["--target", "sales", "--future-covariate", "promo", "--calendar", "weekday,month", "--horizon", "3", "--epochs", "3"]
    trained = lstmkit("forecast", "train", "--data", str(tmp_path / "sales.csv"), *flags, "--hidden-size", "8", "--out", run)
    assert trained.returncode == 0, trained.stderr
    config = json.loads((tmp_path / "run" / "config.json").read_text())["config"]
    assert config["future_covariates"] == ["promo"] and config["calendar"] == ["weekday", "month"] and config["n_inputs"] == 6
    predicted = lstmkit("forecast", "predict", "--model", run, "--future", str(tmp_path / "future.csv"), "--json")
    assert predicted.returncode == 0, predicted.stderr
    assert [row["date"][:10] for row in json.loads(predicted.stdout)["forecast"]] == [str(d.date()) for d in ahead]
    refused = lstmkit("forecast", "predict", "--model", run)
    assert refused.returncode == 2 and refused.stderr.strip().splitlines() == [
        "error: this model reads ['promo'] at the 3 steps it forecasts: give --future a table of their values "
        "with a row for each of the 3 steps after the data"
    ]
    panel = lstmkit("forecast", "train", "--data", "us_employment", "--id-column", "sector", "--calendar", "month", "--out", run + "2")
    assert panel.returncode == 2 and "not with id_column" in panel.stderr


@pytest.mark.parametrize(
    "args,message",
    [
        (["--data", "aapl", "--target", "price"], "column 'price' not found; columns are: date, open"),
        (["--data", "co2"], "column 'co2' has 59 missing values"),
        (["--data", "nope.csv"], "neither a bundled dataset"),
        (["--data", "ramp", "--lookback", "90"], "use a smaller --lookback"),
        (["--data", "ramp", "--quantiles", "a,b"], "--quantiles must be comma-separated numbers"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(tmp_path, args, message):
    result = lstmkit("forecast", "train", *args, "--out", str(tmp_path / "x"))
    assert result.returncode == 2, result.stderr
    assert message in result.stderr and "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert not (tmp_path / "x").exists()  # nothing half-written


def test_non_numeric_and_empty_files(tmp_path):
    (tmp_path / "text.csv").write_text("date,y\n2024-01-01,1\n2024-01-02,abc\n")
    result = lstmkit("forecast", "backtest", "--data", str(tmp_path / "text.csv"), "--target", "y")
    assert result.returncode == 2 and "column 'y' is not numeric: 'abc'" in result.stderr
    (tmp_path / "empty.csv").write_text("")
    result = lstmkit("forecast", "backtest", "--data", str(tmp_path / "empty.csv"), "--target", "y")
    assert result.returncode == 2 and "is empty" in result.stderr


def test_anomaly_detect_reports_precision_and_recall(tmp_path):
    rng = np.random.default_rng(0)
    n = 900
    y = np.sin(np.arange(n) * 2 * np.pi / 30) + rng.normal(0, 0.05, n)
    labels = np.zeros(n, int)
    labels[[600, 700, 800]] = 1
    y[[600, 700, 800]] += 1.5
    pd.DataFrame({"y": y, "label": labels}).to_csv(tmp_path / "s.csv", index=False)
    result = lstmkit(
        "anomaly",
        "detect",
        "--data",
        str(tmp_path / "s.csv"),
        "--target",
        "y",
        "--labels",
        "label",
        "--epochs",
        "30",
        "--out",
        str(tmp_path / "a"),
        "--json",
    )
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["recall"] == 1.0 and report["precision"] >= 0.75
    assert [f["at"] for f in report["flagged"]][:3] == ["600", "700", "800"]
    assert (tmp_path / "a" / "anomalies.png").exists() and (tmp_path / "a" / "anomalies.csv").exists()


def test_labels_stay_aligned_when_rows_are_sorted_and_text_labels_are_refused(tmp_path):
    rng = np.random.default_rng(1)
    n = 600
    t = pd.date_range("2020-01-01", periods=n, freq="D")
    y = np.sin(np.arange(n) * 2 * np.pi / 20) + rng.normal(0, 0.05, n)
    y[[450, 520]] += 2.0
    labels = np.zeros(n, int)
    labels[[450, 520]] = 1
    frame = pd.DataFrame({"date": t, "y": y, "lab": labels}).sample(frac=1.0, random_state=0)  # shuffled rows
    frame.to_csv(tmp_path / "s.csv", index=False)
    result = lstmkit("anomaly", "detect", "--data", str(tmp_path / "s.csv"), "--target", "y", "--labels", "lab", "--epochs", "20", "--json")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["recall"] == 1.0
    frame.assign(lab=np.where(frame["lab"] > 0, "yes", "no")).to_csv(tmp_path / "t.csv", index=False)
    result = lstmkit("anomaly", "detect", "--data", str(tmp_path / "t.csv"), "--target", "y", "--labels", "lab")
    assert result.returncode == 2 and "column 'lab' is not numeric" in result.stderr


def test_out_that_is_a_file_is_refused(tmp_path):
    (tmp_path / "taken").write_text("x")
    result = lstmkit("forecast", "train", "--data", "ramp", "--out", str(tmp_path / "taken"))
    assert result.returncode == 2 and "is an existing file" in result.stderr


def test_cli_auto_writes_the_trial_table_and_refuses_search_flags_without_auto(tmp_path):
    data = tmp_path / "s.csv"
    pd.DataFrame({"y": np.sin(2 * np.pi * np.arange(120) / 12) + 0.02 * np.arange(120)}).to_csv(data, index=False)
    out = tmp_path / "run"
    result = lstmkit(
        "forecast",
        "train",
        "--data",
        data,
        "--horizon",
        "4",
        "--season",
        "12",
        "--epochs",
        "2",
        "--auto",
        "--trials",
        "2",
        "--out",
        out,
        "--json",
    )
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["search"]["trials"] == 2 and report["search"]["storage"] == "memory"
    assert len(json.loads((out / "trials.json").read_text())) == 2
    assert "--auto: the trials" in (out / "report.html").read_text()
    assert result.stderr.count("trial ") >= 2  # a progress line per trial
    refused = lstmkit("forecast", "train", "--data", data, "--trials", "2", "--out", tmp_path / "other")
    assert refused.returncode == 2 and "--trials only applies with --auto" in refused.stderr


def test_cli_trains_predicts_and_evaluates_a_panel(tmp_path):
    data = tmp_path / "stores.csv"
    months = pd.date_range("2000-01-01", periods=72, freq="MS")
    wave = 1 + 0.3 * np.sin(2 * np.pi * np.arange(72) / 12)
    table = pd.concat([pd.DataFrame({"id": f"s{k}", "date": months, "y": 10.0**k * wave}) for k in range(3)])
    table.to_csv(data, index=False)
    out = tmp_path / "run"
    common = ["--epochs", "3", "--hidden-size", "8"]
    trained = lstmkit("forecast", "train", "--data", str(data), "--id-column", "id", "--horizon", "4", "--out", str(out), *common, "--json")
    assert trained.returncode == 0, trained.stderr
    report = json.loads(trained.stdout)
    assert report["series"] == 3 and set(report["metrics"]) >= {"model", "naive", "ets"}
    csv = tmp_path / "forecast.csv"
    predicted = lstmkit("forecast", "predict", "--model", str(out), "--output", str(csv), "--id", "s2")
    assert predicted.returncode == 0, predicted.stderr
    written = pd.read_csv(csv)
    assert written.columns.tolist() == ["id", "date", "y"] and len(written) == 4 and set(written["id"]) == {"s2"}
    scored = lstmkit("forecast", "evaluate", "--model", str(out), "--data", str(data))
    assert scored.returncode == 0 and "3 series" in scored.stdout and "series where the model's MASE is lower" in scored.stdout
    unknown = lstmkit("forecast", "predict", "--model", str(out), "--id", "nope")
    assert unknown.returncode == 2 and "id nope not in the data" in unknown.stderr
    table = tmp_path / "cv.csv"
    args = ["--data", str(data), "--id-column", "id", "--horizon", "4", "--folds", "2", "--output", str(table), *common]
    backtested = lstmkit("forecast", "backtest", *args)
    assert backtested.returncode == 0, backtested.stderr
    assert "2 rolling windows 4 rows apart, horizon 4, 3 series" in backtested.stdout
    cv = pd.read_csv(table)
    assert len(cv) == 3 * 2 * 4 and cv.columns.tolist()[:5] == ["id", "cutoff", "date", "actual", "model"]
    stray = lstmkit("forecast", "backtest", "--data", "sine", "--step", "3")
    assert stray.returncode == 2 and "give --id-column too" in stray.stderr
    bundled = lstmkit("forecast", "train", "--data", "tech_stocks", "--out", str(tmp_path / "x"))
    assert bundled.returncode == 2 and "pass --id-column symbol" in bundled.stderr


def test_metrics_table_keeps_columns_apart_when_a_value_fills_its_width():
    from lstmkit.cli.forecast import metrics_table

    tiny = {"mae": 2.5e-14, "rmse": 3.1e-14, "mape": 2.29e13, "smape": 2.99e-14, "mase": 2.66e-14}
    table = metrics_table({"metrics": {"model": tiny, "naive": {**tiny, "mape": None}}}, "title")
    rows = table.splitlines()[2:4]
    assert rows[0].split() == ["model", "2.5e-14", "3.1e-14", "2.29e+13", "2.99e-14", "2.66e-14"]
    assert rows[1].split()[3] == "-"
