"""The tutorial's sine workload, hand-written in plain PyTorch vs lstmkit's defaults, in one run.

Workload (tutorial 2): sin(linspace(0, 20*pi, 1000)), look_back 20, LSTM(50) + Dense(1), batch 32,
Adam, 100 epochs, MSE. Both sides train on the windows whose target lies in the first 80% of the
rows and are scored on the same 1-step test windows (targets in the last 20%). The hand-written side
is what the tutorial's code becomes in PyTorch: a Python loop builds the windows, a DataLoader
shuffles them, 100 epochs run. lstmkit runs ``Forecaster`` with only lookback=20 set; it is free to
use its own defaults (batch 32, lr 3e-3 with plateau decay, an ensemble of 3, early stopping on 10% validation rows).

Reported, medians over --repeats seeds: wall time (data preparation + training + test prediction)
and test MSE of each side, and lstmkit's time to quality: the training time at which its model first
scores the hand-written side's test MSE or better (scored after each epoch with the clock paused).
Then both sides again as whole processes, start-up included: benchmarks/sine_by_hand.py (numpy and
torch only) against ``lstmkit forecast train --data sine --lookback 20 --horizon 1``, which also
scores the baselines, plots and saves the run, as a user gets it.

Run: make bench-forecast   (or: python benchmarks/forecast_seeds.py --repeats 3)
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd
import torch

from lstmkit.data.datasets import sine_wave
from lstmkit.tasks.forecast import Forecaster
from lstmkit.training import Callback
from sine_by_hand import LOOK_BACK, TEST_FRACTION, hand_written

HERE = Path(__file__).parent


class TimeToQuality(Callback):
    """After each epoch, scores the model in training on the test windows, with the clock paused, and
    notes the training time at which its test MSE first reaches ``target``."""

    def __init__(self, forecaster: Forecaster, target: float, start: float) -> None:
        self.forecaster, self.target, self.start = forecaster, target, start
        self.paused, self.reached = 0.0, None

    def on_epoch_end(self, trainer, record) -> None:
        if self.reached is not None:
            return
        tick = time.perf_counter()
        f = self.forecaster
        origins, forecast = f.forecast_origins(f.series, f._bounds(len(f.series), f.series.season)[1])
        mse = float(np.mean((forecast[:, 0, 0, 0] - f.series.values[origins, 0]) ** 2))
        if mse <= self.target:
            self.reached = tick - self.start - self.paused
        self.paused += time.perf_counter() - tick


def with_lstmkit(data: np.ndarray, seed: int, target: float) -> tuple[float, float, int, float | None]:
    start = time.perf_counter()
    model = Forecaster(lookback=LOOK_BACK, seed=seed, verbose=False, test_fraction=TEST_FRACTION)
    probe = TimeToQuality(model, target, start)
    model.fit(pd.DataFrame({"value": data}), callbacks=[probe])
    mse = model.metrics["metrics"]["model"]["rmse"] ** 2
    return time.perf_counter() - start - probe.paused, mse, len(model.history.epochs), probe.reached


def whole_processes(seed: int, out: Path) -> tuple[float, float]:
    """Seconds of each side as a fresh process, start-up included: the hand-written script, and the
    command a user types (``lstmkit forecast train``, which also scores baselines, plots and saves)."""
    seconds = []
    for command in (
        [sys.executable, str(HERE / "sine_by_hand.py"), str(seed)],
        [sys.executable, "-m", "lstmkit", "forecast", "train", "--data", "sine", "--lookback", str(LOOK_BACK), "--horizon", "1"]
        + ["--test-fraction", str(TEST_FRACTION), "--seed", str(seed), "--out", str(out), "--overwrite"],
    ):
        start = time.perf_counter()
        subprocess.run(command, check=True, capture_output=True)
        seconds.append(time.perf_counter() - start)
    return seconds[0], seconds[1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeats", type=int, default=3, help="seeds per side; medians are reported")
    args = parser.parse_args()
    data = sine_wave()["value"].to_numpy()
    rows = []
    for seed in range(args.repeats):  # interleaved, so machine load hits both sides alike
        hand_s, hand_mse = hand_written(data, seed)
        ours_s, ours_mse, epochs, reached = with_lstmkit(data, seed, hand_mse)
        rows.append((hand_s, hand_mse, ours_s, ours_mse, epochs, reached if reached is not None else float("inf")))
        print(
            f"seed {seed}: hand-written {hand_s:.2f}s MSE {hand_mse:.2e} | lstmkit {ours_s:.2f}s MSE {ours_mse:.2e} "
            f"({epochs} epochs); reached the hand-written MSE after {rows[-1][5]:.2f}s",
            flush=True,
        )
    with tempfile.TemporaryDirectory() as out:
        processes = [whole_processes(seed, Path(out) / "run") for seed in range(args.repeats)]
    hand_process, ours_process = (statistics.median(p[i] for p in processes) for i in range(2))
    med = [statistics.median(r[i] for r in rows) for i in range(6)]
    print("\n| side | wall time (s) | test MSE | epochs | time to the hand-written MSE (s) |\n|---|---:|---:|---:|---:|")
    print(f"| hand-written PyTorch (tutorial settings) | {med[0]:.2f} | {med[1]:.2e} | 100 | {med[0]:.2f} |")
    print(f"| lstmkit Forecaster defaults (lookback 20) | {med[2]:.2f} | {med[3]:.2e} | {med[4]:.0f} | {med[5]:.2f} |")
    full, to_quality = med[0] / med[2], med[0] / med[5]
    print(f"\nfull default run: {full:.1f}x faster, test MSE {med[1] / med[3]:.0f}x lower than hand-written;")
    print(
        f"time to quality (first epoch whose test MSE <= hand-written's): {to_quality:.1f}x faster; target >= 3x at "
        f"equal or lower error: {'met' if to_quality >= 3 else 'NOT met'} by time to quality, "
        f"{'met' if full >= 3 else 'NOT met'} by the full run. Medians of {args.repeats} seeds, {torch.get_num_threads()} threads."
    )
    print(
        f"whole processes (start-up included): hand-written script {hand_process:.2f}s, `lstmkit forecast train` "
        f"{ours_process:.2f}s (ratio {hand_process / ours_process:.2f}; target >= 1.5)"
    )


if __name__ == "__main__":
    main()
