"""``report.html``: one self-contained page per run directory, or one page comparing several runs.

Built from the run directory's files alone (metrics.json with its per-epoch history, config.json,
forecast.json, trials.json, the PNGs), so ``lstmkit report RUN ...`` draws the same page later. plotly's JavaScript
is embedded once, and figures as base64 PNGs: the page opens without a network.
"""

from __future__ import annotations

import base64
import html
import json
import math
from pathlib import Path
from typing import Any

import numpy as np

from lstmkit.errors import UserError
from lstmkit.io.artifacts import CONFIG, METRICS, atomic_write_bytes, atomic_write_json
from lstmkit.viz.plots import ZOOM

REPORT = "report.html"
FORECAST = "forecast.json"
TRIALS = "trials.json"  # an --auto run's trial table (cli.common.train_run writes it)

STYLE = """
body { font-family: system-ui, sans-serif; margin: 2rem auto; max-width: 1100px; color: #222; padding: 0 1rem; }
h1 { font-size: 1.5rem; } h2 { font-size: 1.15rem; margin-top: 2rem; border-bottom: 1px solid #ddd; }
table { border-collapse: collapse; margin: 0.5rem 0; font-size: 0.9rem; }
th, td { border: 1px solid #ddd; padding: 0.25rem 0.6rem; text-align: right; }
th:first-child, td:first-child { text-align: left; }
tr.model td { font-weight: 600; background: #f3f6ff; }
.facts td { text-align: left; } img { max-width: 100%; border: 1px solid #eee; margin: 0.5rem 0; }
pre { background: #f7f7f7; padding: 0.6rem; white-space: pre-wrap; }
"""


def forecast_json(data: dict) -> dict:
    """``Forecaster.plot_data()`` as JSON: arrays as lists, times as ISO strings, None kept."""

    def plain(value):
        if value is None or isinstance(value, str):
            return value
        return [v.isoformat() if hasattr(v, "isoformat") else _number(v) for v in list(value)]

    return {key: plain(value) for key, value in data.items()}


def write_forecast(out: Path, data: dict) -> None:
    atomic_write_json(out / FORECAST, forecast_json(data))


def write_report(runs: list[Path], out: Path) -> Path:
    """Write the page for ``runs`` (one run: its own page; several: a comparison first) to ``out``."""
    loaded = [_load(Path(run)) for run in runs]
    if out.is_dir():
        raise UserError(f"--out {str(out)!r} is a folder; give a file name such as {str(out / REPORT)!r}")
    sections = []
    if len(loaded) > 1:
        sections.append(_comparison(loaded))
    for number, run in enumerate(loaded):
        sections.append(_run_section(run, prefix=f"run{number}" if len(loaded) > 1 else "run"))
    return _write_page(out, "lstmkit run " + ", ".join(str(r["dir"]) for r in loaded), sections)


def write_backtest_report(result: dict, out: Path, title: str) -> Path:
    """A rolling-origin backtest's page: the metrics over all folds, then each fold's own table and scores."""
    if out.is_dir():
        raise UserError(f"--report {str(out)!r} is a folder; give a file name such as {str(out / 'backtest.html')!r}")
    rows = []
    for number, fold in enumerate(result["folds"], 1):
        best = fold["best_baseline"]
        row = {"fold": number, "train_rows": fold["train_rows"], "origins": fold["origins"], "first_origin": fold["first_origin"]}
        row |= {"last_origin": fold["last_origin"], "best_baseline": best}
        row |= {f"{method} {k}": fold["metrics"][method].get(k) for method in ("model", best) for k in ("rmse", "mase")}
        rows.append(row)
    sections = ["<h3>Metrics over all folds (weighted by origins)</h3>" + _metrics_table(result["metrics"], "backtest-metrics")]
    sections.append("<h3>Per fold</h3>" + _records_table(rows))
    for number, fold in enumerate(result["folds"], 1):
        sections.append(f"<h3>Fold {number}</h3>" + _metrics_table(fold["metrics"], f"fold{number}-metrics"))
    return _write_page(out, title, [f'<section id="backtest">{"".join(sections)}</section>'])


def _write_page(out: Path, title: str, sections: list[str]) -> Path:
    import plotly.offline

    title = html.escape(title)
    page = (
        f'<!doctype html><html lang="en"><head><meta charset="utf-8"><title>{title}</title><style>{STYLE}</style>'
        f"<script>{plotly.offline.get_plotlyjs()}</script></head><body><h1>{title}</h1>{''.join(sections)}</body></html>"
    )
    try:
        atomic_write_bytes(out, page.encode("utf-8"))
    except OSError as e:
        raise UserError(f"cannot write {str(out)!r}: {e.strerror or e}; choose another --out") from None
    return out


def _load(run: Path) -> dict:
    metrics_path = run / METRICS
    if not metrics_path.is_file():
        raise UserError(f"{str(run)!r} has no {METRICS}: it is not a finished run directory (a train command writes one)")
    try:
        metrics = json.loads(metrics_path.read_text(encoding="utf-8"))
        config = json.loads((run / CONFIG).read_text(encoding="utf-8")) if (run / CONFIG).is_file() else {}
        forecast = json.loads((run / FORECAST).read_text(encoding="utf-8")) if (run / FORECAST).is_file() else None
        trials = json.loads((run / TRIALS).read_text(encoding="utf-8")) if (run / TRIALS).is_file() else None
    except (json.JSONDecodeError, UnicodeDecodeError) as e:
        raise UserError(f"a JSON file in {str(run)!r} is damaged ({e}); train the run again") from None
    figures = sorted(p for p in run.glob("*.png"))
    return {"dir": run, "metrics": metrics, "config": config, "forecast": forecast, "trials": trials, "figures": figures}


# ------------------------------------------------------------------------------------------ sections
def _run_section(run: dict, prefix: str) -> str:
    """Results first (metrics, forecast, loss), then how the run went, its other tables, views and settings."""
    m, parts = run["metrics"], [f"<h2>{html.escape(str(run['dir']))}</h2>"]
    if m.get("warning"):
        parts.append(f"<p><b>Warning:</b> {html.escape(str(m['warning']))}</p>")
    if isinstance(m.get("metrics"), dict):
        parts.append("<h3>Metrics against the baselines</h3>" + _metrics_table(m["metrics"], f"{prefix}-metrics"))
    if run["forecast"]:
        parts.append("<h3>Forecast</h3>" + _forecast_plot(run["forecast"], f"{prefix}-forecast"))
    if m.get("history"):
        parts.append("<h3>Loss per epoch</h3>" + _loss_plot([(str(run["dir"]), m["history"], m.get("best_epoch"))], f"{prefix}-loss"))
    facts = {
        "task": run["config"].get("kind", ""),
        "directory": str(run["dir"]),
        "written by": f"lstmkit {run['config'].get('lstmkit_version', '?')}",
        "training": f"{m.get('epochs', '?')} epochs in {m.get('seconds', '?')} s, kept epoch {m.get('best_epoch')}",
        "stopped": m.get("stopped_because", ""),
        "device": f"{m.get('device', '?')}, {m.get('processes', 1)} process(es)",
    }
    measured = ("split", "origins", "first_origin", "last_origin", "horizon", "season", "lookback", "combine")
    facts |= {key: m[key] for key in measured if key in m}
    parts.append("<h3>Run</h3>" + _facts(facts))
    for key in ("per_class", "per_type", "interval"):
        if isinstance(m.get(key), dict) and m[key]:
            parts.append(f"<h3>{key.replace('_', ' ')}</h3>" + _dict_table(m[key]))
    if "confusion" in m and "classes" in m:
        rows = {f"true {c}": dict(zip([f"predicted {p}" for p in m["classes"]], row)) for c, row in zip(m["classes"], m["confusion"])}
        parts.append("<h3>Confusion matrix</h3>" + _dict_table(rows))
    if run["trials"]:
        parts.append("<h3>--auto: the trials</h3>" + _records_table(run["trials"]))
    for key, value in m.items():  # a backtest's folds, and any other table the command measured
        if key != "history" and isinstance(value, list) and value and all(isinstance(v, dict) for v in value):
            parts.append(f"<h3>{html.escape(key)}</h3>" + _records_table(value))
    if m.get("sample"):
        parts.append(f"<h3>Sample</h3><pre>{html.escape(str(m['sample']))}</pre>")
    interactive = {"loss": bool(m.get("history")), "forecast": bool(run["forecast"])}  # their PNGs would repeat them
    for figure in (f for f in run["figures"] if not interactive.get(f.stem)):
        data = base64.b64encode(figure.read_bytes()).decode("ascii")
        parts.append(f'<h3>{html.escape(figure.stem)}</h3><img alt="{html.escape(figure.stem)}" src="data:image/png;base64,{data}">')
    config = run["config"].get("config", {})
    if config:
        parts.append("<h3>Configuration</h3>" + _facts({k: v for k, v in config.items() if not isinstance(v, dict)}))
    return f'<section id="{prefix}">{"".join(parts)}</section>'


def _comparison(runs: list[dict]) -> str:
    rows: dict[str, dict] = {}
    for run in runs:
        for method, values in (run["metrics"].get("metrics") or {}).items():
            rows[f"{run['dir']} / {method}"] = values
    curves = [(str(r["dir"]), r["metrics"]["history"], r["metrics"].get("best_epoch")) for r in runs if r["metrics"].get("history")]
    loss = "<h3>Loss per epoch</h3>" + _loss_plot(curves, "compare-loss") if curves else ""
    return f'<section id="comparison"><h2>Comparison</h2>{_metrics_table(rows, "compare-metrics")}{loss}</section>'


# -------------------------------------------------------------------------------------------- pieces
def _number(value) -> Any:
    if isinstance(value, (np.floating, np.integer)):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def _cell(value) -> str:
    value = _number(value)
    if isinstance(value, bool) or value is None:
        return f"<td>{'' if value is None else value}</td>"
    if isinstance(value, (int, float)):
        shown = f"{value:,}" if isinstance(value, int) else f"{value:.4g}"
        return f'<td data-value="{json.dumps(value)}">{shown}</td>'
    return f"<td>{html.escape(value if isinstance(value, str) else json.dumps(value, ensure_ascii=False))}</td>"


def _metrics_table(metrics: dict, table_id: str) -> str:
    """Methods as rows, metrics as columns; the model's row first and marked; numbers exact in data-value."""
    columns = list(dict.fromkeys(name for values in metrics.values() if isinstance(values, dict) for name in values))
    head = "".join(f"<th>{html.escape(c)}</th>" for c in columns)
    body = ""
    for method, values in metrics.items():
        if not isinstance(values, dict):
            continue
        marked = ' class="model"' if method == "model" or method.endswith("/ model") else ""
        cells = "".join(_cell(values.get(c)) for c in columns)
        body += f'<tr{marked} data-method="{html.escape(method)}"><td>{html.escape(method)}</td>{cells}</tr>'
    return f'<table id="{table_id}" class="metrics"><tr><th>method</th>{head}</tr>{body}</table>'


def _dict_table(rows: dict) -> str:
    nested = {k: v for k, v in rows.items() if isinstance(v, dict)}
    if not nested:
        return _facts(rows)
    columns = list(dict.fromkeys(c for v in nested.values() for c in v))
    head = "".join(f"<th>{html.escape(str(c))}</th>" for c in columns)
    body = "".join(f"<tr><td>{html.escape(str(k))}</td>{''.join(_cell(v.get(c)) for c in columns)}</tr>" for k, v in nested.items())
    return f"<table><tr><th></th>{head}</tr>{body}</table>"


def _records_table(records: list[dict]) -> str:
    columns = list(dict.fromkeys(c for r in records for c in r))
    head = "".join(f"<th>{html.escape(str(c))}</th>" for c in columns)
    body = "".join("<tr>" + "".join(_cell(r.get(c)) for c in columns) + "</tr>" for r in records)
    return f"<table><tr>{head}</tr>{body}</table>"


def _facts(facts: dict) -> str:
    rows = "".join(f"<tr><td>{html.escape(str(k))}</td>{_cell(v)}</tr>" for k, v in facts.items())
    return f'<table class="facts">{rows}</table>'


def _plot(figure, div_id: str) -> str:
    import plotly.io

    return plotly.io.to_html(figure, include_plotlyjs=False, full_html=False, div_id=div_id, config={"displaylogo": False})


def _loss_plot(curves: list[tuple[str, list[dict], int | None]], div_id: str) -> str:
    import plotly.graph_objects as go

    figure = go.Figure()
    for name, history, best in curves:
        label = "" if len(curves) == 1 else f"{name}: "
        epochs = [r["epoch"] for r in history]
        figure.add_scatter(x=epochs, y=[_number(r.get("train_loss")) for r in history], name=f"{label}train", mode="lines+markers")
        if any(r.get("val_loss") is not None for r in history):
            figure.add_scatter(x=epochs, y=[_number(r.get("val_loss")) for r in history], name=f"{label}validation", mode="lines+markers")
        if best is not None and len(curves) == 1:
            figure.add_vline(x=best, line_dash="dot", line_color="grey", annotation_text=f"kept (epoch {best})")
    figure.update_layout(yaxis_type="log", xaxis_title="epoch", yaxis_title="loss (scaled units)", height=360, margin={"t": 30})
    return _plot(figure, div_id)


def _forecast_plot(data: dict, div_id: str) -> str:
    import plotly.graph_objects as go

    figure = go.Figure()
    figure.add_scatter(x=data["time"], y=data["actual"], name="actual", line={"color": "black", "width": 1})
    if data.get("test_time"):
        figure.add_scatter(x=data["test_time"], y=data["test_forecast"], name="1-step forecasts (test rows)", line={"color": "#ff7f0e"})
    if data.get("future_low"):
        band = data.get("interval_label") or "interval"
        figure.add_scatter(x=data["future_time"], y=data["future_high"], line={"width": 0}, showlegend=False, hoverinfo="skip")
        figure.add_scatter(
            x=data["future_time"], y=data["future_low"], fill="tonexty", line={"width": 0}, name=band, fillcolor="rgba(31,119,180,0.2)"
        )
    if data.get("future"):  # none when the future covariates' values past the end are not known
        figure.add_scatter(x=data["future_time"], y=data["future"], name="forecast", line={"color": "#1f77b4"})
    # opens on the last rows and the forecast, the y axis fitted to them; the slider below shows all
    first = max(0, len(data["time"]) - ZOOM)
    tail = len(data["time"]) - first
    visible = [*data["actual"][first:], *(data.get("test_forecast") or [])[-tail:], *(data.get("future") or [])]
    visible += [*(data.get("future_low") or []), *(data.get("future_high") or [])]
    low, high = min(v for v in visible if v is not None), max(v for v in visible if v is not None)
    pad = 0.05 * (high - low or 1.0)
    end = (data.get("future_time") or data["time"])[-1]
    xaxis = {"rangeslider": {"visible": True}, "range": [data["time"][first], end]}
    figure.update_layout(title=data.get("title", ""), height=420, margin={"t": 50}, xaxis=xaxis, yaxis={"range": [low - pad, high + pad]})
    return _plot(figure, div_id)
