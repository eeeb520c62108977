"""Columns known ahead: daily sales that jump on promotion days, forecast 7 days ahead with and without
knowing the promotions (and the weekday) of the days being forecast.

Run: .venv/bin/python examples/forecast_known_ahead.py
"""

import numpy as np
import pandas as pd

from lstmkit.tasks.forecast import Forecaster

# --8<-- [start:data]
rng = np.random.default_rng(0)
days = pd.date_range("2020-01-01", periods=400, freq="D")
promo = (rng.random(400) < 0.2).astype(float)  # a fifth of the days, planned in advance
sales = 50 + 5 * np.sin(2 * np.pi * np.arange(400) / 7) + 20 * promo + rng.normal(0, 1, 400)
frame = pd.DataFrame({"date": days, "sales": sales, "promo": promo})
# --8<-- [end:data]

# --8<-- [start:fit]
settings = {
    "sales alone": {},
    "promo and weekday ahead": {"future_covariates": ["promo"], "calendar": ["weekday"]},
}
for name, extra in settings.items():
    model = Forecaster(targets=["sales"], horizon=7, seed=0, verbose=False, **extra).fit(frame)
    scores = model.metrics["metrics"]
    print(f"{name:<24} test MASE {scores['model']['mase']:.3f}   (seasonal naive {scores['seasonal_naive']['mase']:.3f})")

# the next week's plan: promotions on its first and fourth day
plan = pd.DataFrame({"date": pd.date_range(days[-1], periods=8, freq="D")[1:], "promo": [1, 0, 0, 1, 0, 0, 0]})
print(model.predict(future=plan).round(1).to_string())
# --8<-- [end:fit]
