"""report.html: written by every train command, rebuilt and compared by ``lstmkit report``, and opened in a
real headless Chromium (Debian's, driven by selenium through Debian's chromedriver; nothing downloaded):
no console errors, the metrics table holds metrics.json's numbers, the charts render, the page is not blank."""

import io
import json
import shutil

import numpy as np
import pytest

from helpers import run_cli as lstmkit

CHROMIUM, CHROMEDRIVER = shutil.which("chromium"), shutil.which("chromedriver")


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    root = tmp_path_factory.mktemp("report")
    made = {}
    for name, extra in (("lstm", []), ("gru", ["--cell", "gru"])):
        out = root / name
        args = ["forecast", "train", "--data", "ramp", "--horizon", "3", "--epochs", "3", "--quantiles", "0.1,0.9", "--out", out]
        result = lstmkit(*args, *extra)
        assert result.returncode == 0, result.stderr[-2000:]
        assert f"report: {out / 'report.html'}" in result.stdout
        made[name] = out
    return made


def test_every_run_writes_its_report_and_the_command_rebuilds_and_compares(runs, tmp_path):
    page = (runs["lstm"] / "report.html").read_text()
    metrics = json.loads((runs["lstm"] / "metrics.json").read_text())
    assert page.startswith("<!doctype html>") and "<script src=" not in page and "<link" not in page  # nothing fetched
    assert len(metrics["history"]) == metrics["epochs"] and all({"epoch", "train_loss", "val_loss"} <= r.keys() for r in metrics["history"])
    assert 'id="run-metrics"' in page and 'id="run-forecast"' in page and 'id="run-loss"' in page
    assert 'alt="gates"' in page  # the LSTM's gate view, kept in the run directory as gates.png
    rebuilt = lstmkit("report", runs["lstm"], "--out", tmp_path / "again.html", "--json")
    assert rebuilt.returncode == 0, rebuilt.stderr
    assert (tmp_path / "again.html").read_text() == page
    compared = lstmkit("report", runs["lstm"], runs["gru"], "--out", tmp_path / "compare.html")
    assert compared.returncode == 0, compared.stderr
    both = (tmp_path / "compare.html").read_text()
    assert f"{runs['lstm']} / model" in both and f"{runs['gru']} / model" in both and 'id="compare-loss"' in both


def test_bad_report_requests_are_one_line_errors(runs, tmp_path):
    for args in (
        [tmp_path],  # no metrics.json: not a run
        [runs["lstm"], runs["gru"]],  # several runs need --out
        [runs["lstm"], "--out", tmp_path],  # a folder
        [runs["lstm"], "--out", tmp_path / "missing" / "r.html"],
    ):
        result = lstmkit("report", *args)
        assert result.returncode == 2 and result.stderr.startswith("error: ") and len(result.stderr.strip().splitlines()) == 1, (
            result.stderr
        )


@pytest.mark.slow
@pytest.mark.skipif(not (CHROMIUM and CHROMEDRIVER), reason="needs Debian's chromium and chromium-driver (.ci/run installs them)")
def test_the_report_renders_in_headless_chromium_with_metrics_json_numbers(runs):
    from PIL import Image
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--window-size=1280,3000", "--no-first-run"):
        options.add_argument(flag)
    for flag in ("--disable-background-networking", "--disable-component-update", "--disable-sync"):  # no network here
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    try:
        driver.get((runs["lstm"] / "report.html").resolve().as_uri())
        for chart in ("run-loss", "run-forecast"):  # plotly draws its SVG into each chart's div
            WebDriverWait(driver, 30).until(lambda d, c=chart: d.find_elements(By.CSS_SELECTOR, f"#{c} .main-svg"))
            assert len(driver.find_elements(By.CSS_SELECTOR, f"#{chart} .scatterlayer .trace")) >= 2
        errors = [entry for entry in driver.get_log("browser") if entry["level"] in ("SEVERE", "ERROR")]
        assert not errors, errors
        metrics = json.loads((runs["lstm"] / "metrics.json").read_text())["metrics"]
        shown = {}
        for row in driver.find_elements(By.CSS_SELECTOR, "#run-metrics tr[data-method]"):
            cells = row.find_elements(By.CSS_SELECTOR, "td[data-value]")
            shown[row.get_attribute("data-method")] = [float(c.get_attribute("data-value")) for c in cells]
        assert shown == {method: [float(v) for v in values.values() if v is not None] for method, values in metrics.items()}
        model_mase = driver.find_element(By.CSS_SELECTOR, '#run-metrics tr[data-method="model"] td:last-child').text
        assert model_mase == f"{metrics['model']['mase']:.4g}"
        screenshot = np.asarray(Image.open(io.BytesIO(driver.get_screenshot_as_png())).convert("L"), dtype=float)
        assert screenshot.std() > 20 and (screenshot < 128).mean() > 0.01  # drawn, not a blank or all-white page
    finally:
        driver.quit()


def test_report_pieces_keep_exact_numbers_and_escape_text():
    from lstmkit.viz.report import _metrics_table

    table = _metrics_table({"model": {"mase": 0.123456789, "note": "<b>"}, "naive": {"mase": float("nan")}}, "t")
    assert 'data-value="0.123456789">0.1235<' in table and "&lt;b&gt;" in table and "<b>" not in table
    assert "<td></td>" in table  # NaN is shown empty, not as a number
