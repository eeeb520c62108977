"""Tutorial example 3: AAPL closing prices, time_step 100, a stacked LSTM(50) x 2, done honestly.

The tutorial shuffles the windows before splitting (train_test_split with random_state) and fits the
MinMaxScaler on all prices, so the test set leaks into training and the error it reports is not
what a forecast achieves. Here the split is chronological, the scaler sees the training rows only,
and the model is compared with the naive forecast (tomorrow = today). Adjusted close is used: the
raw close has splits in it.

Run: .venv/bin/python examples/forecast_stock.py
"""

from pathlib import Path

from lstmkit.tasks.forecast import Forecaster

model = Forecaster(targets=["adj_close"], lookback=100, horizon=1, hidden_size=50, num_layers=2, scaler="minmax", verbose=False).fit("aapl")
result = model.metrics
print(f"test origins {result['first_origin']} .. {result['last_origin']} ({result['origins']} trading days)")
for name, m in result["metrics"].items():
    print(f"{name:>15}: RMSE {m['rmse']:.3f}  MAPE {m['mape']:.2f}%")
print(f"skill vs the best baseline ({result['best_baseline']}): {result['skill']:+.1%}")
if "warning" in result:
    print("lag check:", result["warning"])
Path("runs/examples").mkdir(parents=True, exist_ok=True)
model.plot("runs/examples/aapl_forecast.png")  # returns the matplotlib Figure, here also written as a PNG
print("plot: runs/examples/aapl_forecast.png")
