"""Tutorial example 2: a sine wave, look_back 20, LSTM(50), and a 10-step recursive forecast.

The tutorial's loop crashes after its first step (``last_sequence[1:]`` on a (1, 20, 1) array drops
the batch axis, not the oldest time step). lstmkit's recursive strategy rolls the window correctly;
the direct strategy, which predicts all 10 steps at once, is shown next to it. Both are the LSTM's own
forecasts (combine="none"; by default lstmkit forecasts the median with ETS and ARIMA).

Run: .venv/bin/python examples/forecast_sine.py
"""

import numpy as np

from lstmkit.data.datasets import sine_wave
from lstmkit.tasks.forecast import Forecaster

series = sine_wave()  # sin(linspace(0, 20*pi, 1000)), as in the tutorial
step = 20 * np.pi / 999
truth = np.sin(step * np.arange(1000, 1010))  # the wave's true continuation

for strategy in ("recursive", "direct"):
    model = Forecaster(lookback=20, horizon=10, hidden_size=50, strategy=strategy, season=100, combine="none", verbose=False)
    model.fit(series)
    forecast = model.predict()["value"].to_numpy()
    test = model.metrics["metrics"]
    print(f"{strategy:>9}: next 10 points {np.round(forecast, 3).tolist()}")
    print(
        f"{'':>9}  max error vs the true wave {np.abs(forecast - truth).max():.4f}; test RMSE over all 10-step "
        f"forecasts {test['model']['rmse']:.4f} (naive {test['naive']['rmse']:.4f}, "
        f"seasonal naive {test['seasonal_naive']['rmse']:.4f}); {len(model.history.epochs)} epochs"
    )
    verdict = "beats" if test["model"]["rmse"] < test["seasonal_naive"]["rmse"] else "does not beat"
    print(f"{'':>9}  {strategy} {verdict} seasonal naive on the test part")
