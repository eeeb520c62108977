"""Tutorial example 1: learn the ramp 0.0, 0.1, ..., 9.9 and predict what follows 0.5 (about 0.6).

The tutorial feeds single values to an LSTM(50, relu) and trains 200 epochs on every point. Here the
same one-step model is trained with the last 20% of the ramp held out, and scored against baselines.
The LSTM answers alone (combine="none"): by default its forecast is the median with ETS and ARIMA.

Run: .venv/bin/python examples/forecast_ramp.py
"""

import pandas as pd

from lstmkit.tasks.forecast import Forecaster

model = Forecaster(lookback=1, horizon=1, hidden_size=50, epochs=200, scaler="minmax", combine="none", verbose=False)
model.fit("ramp")

after_half = model.predict(pd.DataFrame({"value": [0.5]}))["value"].iloc[0]
print(f"after 0.5 the model predicts {after_half:.3f} (the tutorial expects about 0.6)")
rmse = {name: m["rmse"] for name, m in model.metrics["metrics"].items()}
print("test RMSE on the held-out end of the ramp:", {k: float(f"{v:.2g}") for k, v in rmse.items()})
