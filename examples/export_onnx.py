"""Export a forecaster to ONNX and run it with onnxruntime and numpy alone, from its description.

Run: .venv/bin/python examples/export_onnx.py
"""

import json
from pathlib import Path

import numpy as np
import onnxruntime  # the consumer part below uses only these imports, not lstmkit or torch
import pandas as pd
from statsmodels.datasets import sunspots

from lstmkit.tasks.forecast import Forecaster

# --8<-- [start:export]
model = Forecaster(horizon=11, season=11, quantiles=[0.1, 0.9], verbose=False).fit("sunspots")
Path("runs/examples").mkdir(parents=True, exist_ok=True)
description = model.export("runs/examples/sunspots.onnx")  # also runs/examples/sunspots.onnx.json
print("inputs:", {name: spec["shape"] for name, spec in description["inputs"].items()})
print("outputs:", description["outputs"])
# --8<-- [end:export]

# --8<-- [start:consume]
# A consumer needs neither lstmkit nor torch, only json, numpy, pandas, onnxruntime and the data:
# the scaling, the ensemble's median and the unscaling are in the graph; the description says what to feed it.
description = json.loads(Path("runs/examples/sunspots.onnx.json").read_text())
lookback = description["inputs"]["window"]["shape"][1]
years = sunspots.load_pandas().data
window = years["SUNACTIVITY"].to_numpy(np.float32)[-lookback:].reshape(1, lookback, 1)
session = onnxruntime.InferenceSession("runs/examples/sunspots.onnx")
(forecast,) = session.run(None, {"window": window})  # (batch, steps, targets, quantiles)
levels = description["quantiles"]
next_years = int(years["YEAR"].iloc[-1]) + 1 + np.arange(forecast.shape[1])
table = pd.DataFrame(forecast[0, :, 0, :].astype(float), columns=[f"q{q:g}" for q in levels], index=next_years)
print(table.round(1).to_string())
# --8<-- [end:consume]

# The same numbers as the estimator's own networks (before its combination with ETS and ARIMA):
own = model.forecast_windows(model.model_inputs(window[0])[None])
print(
    f"largest difference from lstmkit's own forecast, relative to the largest value: {np.abs(own - forecast).max() / np.abs(own).max():.1e}"
)
