"""One global model on the monthly prices of five tech stocks (a long table with a symbol column).

Run: .venv/bin/python examples/panel_stocks.py
"""

from lstmkit.tasks.panel import PanelForecaster

model = PanelForecaster(id_column="symbol", horizon=6, seed=0, verbose=False).fit("tech_stocks")  # or a long DataFrame, or {id: DataFrame}
metrics = model.metrics
print("mean MASE over the series:", {name: round(m["mase"], 3) for name, m in metrics["metrics"].items()})
print("share of series where the model beats each baseline:", metrics["beats"])
print(model.predict(ids=["IBM"]).round(2).to_string(index=False))
