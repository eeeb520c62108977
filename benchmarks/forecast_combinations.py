"""Which combination of the networks' forecast with statistical models forecasts best: every member's
forecasts on make eval's series and folds (benchmarks/eval.py's protocol), then the geometric-mean MASE
of each combination computed from them, so that every combination is scored on the same fits.

Members: the default Forecaster's networks alone (combine="none"), AutoETS, AutoARIMA, AutoTheta and
AutoCES (statsforecast, fitted as lstmkit.evaluation.baselines.statistical fits them), seasonal naive.

    python benchmarks/forecast_combinations.py                # fit, write results/forecast_combinations.json
    python benchmarks/forecast_combinations.py --score-only   # rescore the kept forecasts
"""

from __future__ import annotations

import argparse
import itertools
import json
import math
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).parent))
from eval import FOLDS, RESULTS
from eval_data import FORECAST_SERIES
from lstmkit.evaluation.baselines import all_baselines, statistical, statistical_fits
from lstmkit.evaluation.metrics import mase_scale
from lstmkit.tasks.forecast import Forecaster

STATISTICAL = ("ets", "arima", "theta", "ces")
OUT = RESULTS / "forecast_combinations.json"


def members(name: str) -> list[dict]:
    """Per fold: the truth, the MASE scale and every member's forecast."""
    loader, season, horizon, _ = FORECAST_SERIES[name]
    y = loader()
    folds = []
    for fold in range(FOLDS):
        cut = len(y) - (FOLDS - fold) * horizon
        train = y[:cut]
        origins = np.array([cut])
        simple = all_baselines(y[:, None], origins, horizon, season, statistical_models=False)
        forecasts = {"seasonal_naive": simple.get("seasonal_naive", simple["naive"])}
        seconds = {}
        if statistical_fits(cut, season):
            for method in STATISTICAL:
                started = time.perf_counter()
                forecasts[method] = statistical(y[:, None], origins, horizon, season, method)
                seconds[method] = time.perf_counter() - started
        started = time.perf_counter()
        model = Forecaster(horizon=horizon, season=season, test_fraction=0.0, verbose=False, combine="none").fit(train)
        forecasts["network"] = model.predict().iloc[:, 0].to_numpy()
        seconds["network"] = time.perf_counter() - started
        folds.append(
            {
                "truth": y[cut : cut + horizon].tolist(),
                "scale": mase_scale(train[:, None], season) or 1.0,
                "forecasts": {m: np.asarray(f).reshape(-1).tolist() for m, f in forecasts.items()},
                "seconds": seconds,
            }
        )
    return folds


def score(kept: dict) -> list[tuple[str, float, int]]:
    """(combination, geometric-mean MASE, series beating seasonal naive) for every median and mean of
    the network with 2..4 statistical models, and of the statistical models alone."""
    combos = []
    for size in range(1, len(STATISTICAL) + 1):
        for stats in itertools.combinations(STATISTICAL, size):
            combos += [("median", ("network", *stats)), ("mean", ("network", *stats))]
            if size > 1:
                combos += [("median", stats), ("mean", stats)]
    combos += [("median", ("network",)), ("median", ("seasonal_naive",))]
    rows = []
    for how, parts in combos:
        logs, beats = [], 0
        for folds in kept.values():
            mase = snaive = 0.0
            for f in folds:
                truth = np.array(f["truth"])
                have = [np.array(f["forecasts"][p]) for p in parts if p in f["forecasts"]] or [np.array(f["forecasts"]["network"])]
                forecast = (np.median if how == "median" else np.mean)(have, axis=0)
                mase += np.mean(np.abs(forecast - truth)) / f["scale"] / len(folds)
                snaive += np.mean(np.abs(np.array(f["forecasts"]["seasonal_naive"]) - truth)) / f["scale"] / len(folds)
            logs.append(math.log(max(mase, 1e-9)))
            beats += mase < snaive
        rows.append((f"{how}({', '.join(parts)})", math.exp(np.mean(logs)), beats))
    return sorted(rows, key=lambda r: r[1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--only", help="comma-separated series names")
    parser.add_argument("--score-only", action="store_true")
    args = parser.parse_args()
    kept = json.loads(OUT.read_text()) if OUT.exists() else {}
    if not args.score_only:
        for name in args.only.split(",") if args.only else FORECAST_SERIES:
            kept[name] = members(name)
            OUT.write_text(json.dumps(kept) + "\n")
            print(name, {m: round(s, 1) for m, s in kept[name][-1]["seconds"].items()}, flush=True)
    for combo, geo, beats in score(kept):
        print(f"{geo:.3f}  {beats:2d}/{len(kept)}  {combo}")


if __name__ == "__main__":
    main()
