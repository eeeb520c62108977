"""Many series: what one global PanelForecaster costs as the panel grows, and what it buys against a loop of
per-series Forecasters.

Synthetic monthly series of 500 points (trend, a yearly season whose strength varies by series, noise,
levels from 1 to 10,000). For each panel size, in a fresh process so that peak memory is its own:
reading the long table (to_panel, and that process's peak resident memory), and, in another process
from series made directly from arrays, the fit (scaling, window indices, training for a fixed number
of optimiser steps, validation) in windows per second and its peak resident memory. Then, on 1,000 series,
time-to-quality: the global model trained with its defaults against per-series Forecasters (defaults,
the network alone on both sides) fitted on a sample of the series, whose time is scaled to all of them;
mean MASE of both on the same test rows of the sampled series.

    python benchmarks/panel_scale.py [--sizes 100,1000,10000,100000] [--sample 20]

Writes benchmarks/results/panel_scale.json. Run it on an idle machine: it times training.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

ROWS = 500
STEPS = 200
HORIZON = 12


def synthetic_values(series: int, rows: int = ROWS, seed: int = 0) -> np.ndarray:
    """(series, rows) positive values: level x exp(trend + season + random walk + noise)."""
    rng = np.random.default_rng(seed)
    t = np.arange(rows)
    level = 10 ** rng.uniform(0, 4, series)[:, None]
    season = rng.uniform(0, 0.3, series)[:, None] * np.sin(2 * np.pi * (t / 12 + rng.uniform(0, 1, series)[:, None]))
    trend = rng.normal(0, 0.002, series)[:, None] * t
    noise = rng.normal(0, 0.05, (series, rows)).cumsum(axis=1) * 0.2 + rng.normal(0, 0.03, (series, rows))
    return level * np.exp(trend + season + noise)


def synthetic(series: int, rows: int = ROWS, seed: int = 0) -> pd.DataFrame:
    """The same series as a long table: id, date, y."""
    values = synthetic_values(series, rows, seed)
    dates = pd.date_range("1980-01-01", periods=rows, freq="MS")
    ids = pd.Categorical.from_codes(np.repeat(np.arange(series), rows), [f"s{i}" for i in range(series)])
    return pd.DataFrame({"id": ids, "date": np.tile(dates, series), "y": values.ravel()})


def one_size(series: int, part: str) -> dict:
    """Cost at one panel size, in its own process: ``read``, a long DataFrame through to_panel; ``fit``,
    training on series made directly from arrays, so that its peak memory is training's, not the table's."""
    import torch

    from lstmkit.data.series import Series, to_panel
    from lstmkit.tasks.panel import PanelForecaster

    torch.set_num_threads(2)
    if part == "read":
        frame = synthetic(series)
        started = time.perf_counter()
        to_panel(frame, "id")
        return {"to_panel_s": round(time.perf_counter() - started, 2), "read_peak_rss_mib": _peak_mib()}
    values = synthetic_values(series)
    dates = pd.date_range("1980-01-01", periods=ROWS, freq="MS")
    panel = {f"s{i}": Series(values[i, :, None], ["y"], [], dates, 12, "date", freq="MS") for i in range(series)}
    model = PanelForecaster(id_column="id", horizon=HORIZON, steps=STEPS, verbose=False, test_fraction=0.0, ensemble=1)
    started = time.perf_counter()
    model.fit(panel)
    fit = time.perf_counter() - started
    return {
        "fit_s": round(fit, 2),
        "train_windows_per_s": round(STEPS * model.config.training.batch_size / fit),
        "fit_peak_rss_mib": _peak_mib(),
    }


def _peak_mib() -> int:
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)


def time_to_quality(series: int, sample: int) -> dict:
    """The global model on ``series`` series against per-series fits on ``sample`` of them."""
    from lstmkit.data.series import to_panel
    from lstmkit.tasks.forecast import Forecaster
    from lstmkit.tasks.panel import PanelForecaster

    panel = to_panel(synthetic(series, rows=120, seed=1), "id")
    keys = list(panel)[:: max(1, series // sample)][:sample]

    def fitted(model, data):
        model.in_search = True  # fit only: scoring against the baselines (ETS and ARIMA per series) is not timed
        model.fit(data)
        model.in_search = False
        return model

    started = time.perf_counter()
    model = fitted(PanelForecaster(id_column="id", horizon=HORIZON, combine="none", verbose=False), panel)
    global_s = time.perf_counter() - started
    together = model.evaluate(ids=keys)["per_series"]
    alone, per_series_s = {}, 0.0
    for k in keys:
        started = time.perf_counter()
        one = fitted(Forecaster(horizon=HORIZON, combine="none", verbose=False), panel[k])
        per_series_s += time.perf_counter() - started
        alone[k] = one.evaluate()["metrics"]["model"]["mase"]
    per_series_s *= series / len(keys)
    return {
        "series": series,
        "rows_per_series": 120,
        "sampled": len(keys),
        "global_fit_s": round(global_s, 1),  # fits only, neither side's scoring
        "per_series_fits_s_scaled": round(per_series_s, 1),
        "speedup": round(per_series_s / global_s, 1),
        "mean_mase_global": round(float(np.mean([together[k]["metrics"]["model"]["mase"] for k in keys])), 3),
        "mean_mase_per_series": round(float(np.mean(list(alone.values()))), 3),
        "mean_mase_seasonal_naive": round(float(np.mean([together[k]["metrics"]["seasonal_naive"]["mase"] for k in keys])), 3),
        "mean_mase_ets": round(float(np.mean([together[k]["metrics"]["ets"]["mase"] for k in keys])), 3),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="100,1000,10000,100000")
    parser.add_argument("--sample", type=int, default=20)
    parser.add_argument("--one", type=int, help=argparse.SUPPRESS)  # the child process of one size and part
    parser.add_argument("--part", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        print(json.dumps(one_size(args.one, args.part)))
        return
    scale = []
    for size in map(int, args.sizes.split(",")):
        row = {"series": size, "rows": size * ROWS}
        for part in ("read", "fit"):
            child = subprocess.run([sys.executable, __file__, "--one", str(size), "--part", part], capture_output=True, text=True)
            row |= (
                {f"{part}_error": child.stderr.strip().splitlines()[-1]}
                if child.returncode
                else json.loads(child.stdout.strip().splitlines()[-1])
            )
        scale.append(row)
        print(row, flush=True)
    quality = time_to_quality(1000, args.sample)
    print(quality, flush=True)
    out = Path(__file__).parent / "results" / "panel_scale.json"
    out.write_text(json.dumps({"scale": scale, "time_to_quality": quality}, indent=1) + "\n")
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
