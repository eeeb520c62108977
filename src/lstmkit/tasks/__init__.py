"""One estimator per task: forecasting, anomaly detection, ..."""
