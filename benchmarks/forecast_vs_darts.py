"""Default fit time and accuracy: lstmkit's Forecaster against Darts' BlockRNNModel (LSTM), side by side.

The issue's yardstick: a default lstmkit fit of a ~200-point monthly series should take no longer than
Darts' BlockRNNModel LSTM with 100 epochs on the same series and machine. Both forecast the last 12
months of each series from the rows before them (one origin: a time check, not a quality ranking;
``make eval`` ranks quality); fit time is wall time of ``fit`` alone after one untimed warm-up fit, each side
with its own defaults (Darts: the settings of its BlockRNN tutorial, input 24, output 12, 100 epochs,
inputs scaled to [0, 1] by its Scaler). MASE scales by the in-sample seasonal-naive error.

Run by ``make bench-darts``, which builds a separate environment with Darts (.venv-darts) so that its
dependencies never enter lstmkit's own.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).parent))
from eval_data import r_series
from lstmkit.evaluation.metrics import mase_scale
from lstmkit.tasks.forecast import Forecaster

HORIZON = 12
SERIES = ("AirPassengers", "UKDriverDeaths", "nottem")  # 144, 192 and 240 monthly rows


def darts_fit(train: np.ndarray) -> tuple[float, np.ndarray]:
    import logging

    from darts import TimeSeries
    from darts.dataprocessing.transformers import Scaler
    from darts.models import BlockRNNModel

    logging.getLogger("pytorch_lightning").setLevel(logging.ERROR)
    logging.getLogger("lightning.pytorch").setLevel(logging.ERROR)
    scaler = Scaler()
    series = scaler.fit_transform(TimeSeries.from_values(train.astype(np.float32)))
    model = BlockRNNModel(
        model="LSTM",
        input_chunk_length=24,
        output_chunk_length=HORIZON,
        n_epochs=100,
        random_state=0,
        pl_trainer_kwargs={"enable_progress_bar": False, "logger": False, "enable_model_summary": False, "accelerator": "cpu"},
    )
    started = time.perf_counter()
    model.fit(series, verbose=False)
    seconds = time.perf_counter() - started
    forecast = scaler.inverse_transform(model.predict(HORIZON, series=series)).values()[:, 0]
    return seconds, forecast


def lstmkit_fit(train: np.ndarray) -> tuple[float, np.ndarray]:
    model = Forecaster(horizon=HORIZON, season=12, test_fraction=0.0, verbose=False)
    started = time.perf_counter()
    model.fit(train)
    seconds = time.perf_counter() - started
    return seconds, model.predict().iloc[:, 0].to_numpy()


def main() -> None:
    # one untimed fit each first: both sides pay one-off imports (torch's optimiser, Lightning) on their first fit
    warm_up = r_series("AirPassengers")
    lstmkit_fit(warm_up[:-HORIZON])
    darts_fit(warm_up[:-HORIZON])
    print("| series | rows | lstmkit fit s | Darts BlockRNN fit s | time ratio (Darts / lstmkit) | lstmkit MASE | Darts MASE |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    for name in SERIES:
        y = r_series(name)
        train, truth = y[:-HORIZON], y[-HORIZON:]
        scale = mase_scale(train[:, None], 12) or 1.0
        ours, ours_forecast = lstmkit_fit(train)
        theirs, theirs_forecast = darts_fit(train)
        mase = lambda f: float(np.mean(np.abs(f - truth)) / scale)
        cells = [name, len(y), f"{ours:.2f}", f"{theirs:.2f}", f"{theirs / ours:.2f}"]
        cells += [f"{mase(ours_forecast):.3f}", f"{mase(theirs_forecast):.3f}"]
        print("| " + " | ".join(map(str, cells)) + " |", flush=True)


if __name__ == "__main__":
    main()
