"""The quality suite (``make eval``): lstmkit's defaults (and ``--auto``) against the baselines a user
would otherwise pick, on real series that ship in pip packages (benchmarks/eval_data.py), measured the
way forecasting competitions do.

Forecasting protocol: for each series, three rolling origins, one horizon apart, at the end of the
series; at each origin every method is fitted afresh on the rows before it and forecasts one horizon.
MASE scales each fold's mean absolute error by the in-sample seasonal-naive error of its training rows;
a series' MASE is the mean over its folds; the summary is the geometric mean over series and the share
of series where a method beats the seasonal naive forecast.

    python benchmarks/eval.py                      # defaults, every series
    python benchmarks/eval.py --auto-minutes 0.5   # also --auto with that budget per fit
    python benchmarks/eval.py --only AirPassengers,UKgas --set lookback=24
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).parent))
from eval_data import FORECAST_SERIES
from lstmkit.evaluation.baselines import all_baselines
from lstmkit.evaluation.metrics import mase_scale
from lstmkit.tasks.forecast import Forecaster

RESULTS = Path(__file__).parent / "results"
FOLDS = 3
BASELINES = ("naive", "seasonal_naive", "drift", "ets", "arima")


def parse_value(text: str):
    for cast in (int, float):
        try:
            return cast(text)
        except ValueError:
            pass
    return {"true": True, "false": False, "none": None}.get(text.lower(), text)


def forecast_series(name: str, overrides: dict, auto_minutes: float | None) -> dict:
    loader, season, horizon, freq = FORECAST_SERIES[name]
    y = loader()
    errors: dict[str, list[float]] = {}
    seconds: dict[str, float] = {}
    for fold in range(FOLDS):
        cut = len(y) - (FOLDS - fold) * horizon
        train, truth = y[:cut], y[cut : cut + horizon]
        scale = mase_scale(train[:, None], season) or 1.0
        forecasts = {}
        started = time.perf_counter()
        for method, values in all_baselines(y[:, None], np.array([cut]), horizon, season).items():
            forecasts[method] = values[0, :, 0]
        forecasts.setdefault("seasonal_naive", forecasts["naive"])  # no season: the seasonal naive forecast is the naive one
        seconds["baselines"] = seconds.get("baselines", 0.0) + time.perf_counter() - started
        runs = {"lstmkit": {}} | ({"lstmkit --auto": {"max_minutes": auto_minutes}} if auto_minutes else {})
        for method, extra in runs.items():
            started = time.perf_counter()
            model = Forecaster(horizon=horizon, season=season, test_fraction=0.0, verbose=False, **overrides, **extra).fit(
                train, auto=bool(extra)
            )
            forecasts[method] = model.predict().iloc[:, 0].to_numpy()
            seconds[method] = seconds.get(method, 0.0) + time.perf_counter() - started
            if method == "lstmkit" and model.combination:  # the network's own forecast, beside the combination
                forecasts["lstmkit network"] = model.network_forecast(model.series)[:, 0, 0]
        for method, forecast in forecasts.items():
            errors.setdefault(method, []).append(float(np.mean(np.abs(forecast - truth)) / scale))
    return {
        "series": name,
        "frequency": freq,
        "rows": len(y),
        "season": season,
        "horizon": horizon,
        "mase": {m: float(np.mean(e)) for m, e in errors.items()},
        "seconds": seconds,
    }


def summary(rows: list[dict]) -> dict:
    methods = [m for m in rows[0]["mase"]]
    geo = {m: math.exp(np.mean([math.log(max(r["mase"][m], 1e-9)) for r in rows])) for m in methods}
    beats = {m: sum(r["mase"][m] < r["mase"]["seasonal_naive"] for r in rows) for m in methods}
    return {"geometric_mean_mase": geo, "beats_seasonal_naive": beats, "series": len(rows)}


def markdown(rows: list[dict], totals: dict) -> str:
    methods = list(rows[0]["mase"])
    lines = [
        "| series | freq | rows | " + " | ".join(methods) + " | lstmkit s/fit |",
        "|---|---|---|" + "---|" * len(methods) + "---|",
    ]
    for r in rows:
        best = min(r["mase"].values())
        cells = [f"**{v:.3f}**" if v == best else f"{v:.3f}" for v in (r["mase"][m] for m in methods)]
        lines.append(
            f"| {r['series']} | {r['frequency']} | {r['rows']} | " + " | ".join(cells) + f" | {r['seconds']['lstmkit'] / FOLDS:.1f} |"
        )
    geo = totals["geometric_mean_mase"]
    lines.append("| **geometric mean** | | | " + " | ".join(f"{geo[m]:.3f}" for m in methods) + " | |")
    beats = totals["beats_seasonal_naive"]
    lines.append(
        f"| beats seasonal naive (of {totals['series']}) | | | "
        + " | ".join("" if m == "seasonal_naive" else str(beats[m]) for m in methods)
        + " | |"
    )
    return "\n".join(lines) + "\n"


def suite_parser(doc: str, items: str, config: str, stem: str) -> argparse.ArgumentParser:
    """The options both parts of the suite take."""
    parser = argparse.ArgumentParser(description=doc, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--only", help=f"comma-separated {items} names")
    parser.add_argument("--set", action="append", default=[], help=f"a {config} or training option override, key=value")
    parser.add_argument("--auto-minutes", type=float, help="also run --auto with this budget per fit")
    parser.add_argument("--out", default=str(RESULTS / stem), help="path stem of the .md and .json tables")
    return parser


def write_tables(stem: str, results: dict, table: str) -> None:
    """The suite's results as ``stem.json`` (``results``) and ``stem.md`` (``table``)."""
    out = Path(stem)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.with_suffix(".json").write_text(json.dumps(results, indent=1) + "\n")
    out.with_suffix(".md").write_text(table)


def parse_overrides(items: list[str]) -> dict:
    return {key: parse_value(value) for key, value in (item.split("=", 1) for item in items)}


def main() -> None:
    args = suite_parser(__doc__, "series", "ForecasterConfig", "eval_forecast").parse_args()
    overrides = parse_overrides(args.set)
    names = args.only.split(",") if args.only else list(FORECAST_SERIES)
    rows = []
    started = time.perf_counter()
    for name in names:
        row = forecast_series(name, overrides, args.auto_minutes)
        rows.append(row)
        cells = "  ".join(f"{m} {v:.3f}" for m, v in row["mase"].items())
        print(f"{name:26s} {cells}  ({row['seconds']['lstmkit'] / FOLDS:.1f} s/fit)", flush=True)
    totals = summary(rows)
    print(json.dumps(totals, indent=1))
    print(f"total {time.perf_counter() - started:.0f} s")
    write_tables(args.out, {"rows": rows, "summary": totals, "overrides": overrides}, markdown(rows, totals))


if __name__ == "__main__":
    main()
