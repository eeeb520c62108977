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

Run: make bench-forecast   (or: python benchmarks/forecast_seeds.py --repeats 3)
"""

from __future__ import annotations

import argparse
import statistics
import time

import numpy as np
import pandas as pd
import torch
from torch import nn
from torch.utils.data import DataLoader, TensorDataset

from lstmkit.data.datasets import sine_wave
from lstmkit.tasks.forecast import Forecaster
from lstmkit.training import Callback

LOOK_BACK, TEST_FRACTION = 20, 0.2


def hand_written(data: np.ndarray, seed: int) -> tuple[float, float]:
    start = time.perf_counter()
    torch.manual_seed(seed)
    X, y = [], []
    for i in range(len(data) - LOOK_BACK):  # the tutorial's create_dataset
        X.append(data[i : i + LOOK_BACK])
        y.append(data[i + LOOK_BACK])
    X = torch.tensor(np.array(X), dtype=torch.float32).unsqueeze(-1)
    y = torch.tensor(np.array(y), dtype=torch.float32).unsqueeze(-1)
    test_start = len(data) - int(round(TEST_FRACTION * len(data)))
    n_train = test_start - LOOK_BACK  # windows whose target row is before the test rows

    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.lstm = nn.LSTM(1, 50, batch_first=True)
            self.dense = nn.Linear(50, 1)

        def forward(self, x):
            return self.dense(self.lstm(x)[0][:, -1])

    model = Net()
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    loader = DataLoader(TensorDataset(X[:n_train], y[:n_train]), batch_size=32, shuffle=True)
    for _ in range(100):
        for xb, yb in loader:
            optimizer.zero_grad()
            loss = nn.functional.mse_loss(model(xb), yb)
            loss.backward()
            optimizer.step()
    with torch.no_grad():
        mse = nn.functional.mse_loss(model(X[n_train:]), y[n_train:]).item()
    return time.perf_counter() - start, mse


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


if __name__ == "__main__":
    main()
