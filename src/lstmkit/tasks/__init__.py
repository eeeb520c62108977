"""One estimator per task (forecasting, anomaly detection, text generation, classification, tagging), all
following the template in :mod:`lstmkit.tasks.base`; their networks live apart, in :mod:`lstmkit.tasks.networks`."""
