"""Forecast error metrics. Symbol key: n origins, H horizon, K target columns.

All take arrays of the same shape, e.g. (n, H, K), and average over every entry. Values that are
undefined for the data (MAPE with a zero actual, MASE with a constant training series) are None,
so that JSON output never holds NaN.
"""

from __future__ import annotations

import numpy as np


def mae(y: np.ndarray, p: np.ndarray) -> float:
    return float(np.mean(np.abs(y - p)))


def rmse(y: np.ndarray, p: np.ndarray) -> float:
    return float(np.sqrt(np.mean((y - p) ** 2)))


def mape(y: np.ndarray, p: np.ndarray) -> float | None:
    """Mean absolute percentage error, in percent; None when an actual is zero."""
    if np.any(y == 0):
        return None
    return float(100 * np.mean(np.abs((y - p) / y)))


def smape(y: np.ndarray, p: np.ndarray) -> float:
    """Symmetric MAPE in percent (0..200): 200 |y - p| / (|y| + |p|), with 0/0 counted as 0."""
    denominator = np.abs(y) + np.abs(p)
    ratio = np.divide(np.abs(y - p), denominator, out=np.zeros_like(denominator, dtype=float), where=denominator > 0)
    return float(200 * np.mean(ratio))


def mase_scale(train: np.ndarray, season: int) -> float | None:
    """The in-sample MAE of the seasonal-naive forecast (naive when season <= 1) on the training rows."""
    m = season if season > 1 and len(train) > season else 1
    if len(train) <= m:
        return None
    scale = float(np.mean(np.abs(train[m:] - train[:-m])))
    return scale if scale > 0 else None


def forecast_metrics(y: np.ndarray, p: np.ndarray, scale: float | None) -> dict[str, float | None]:
    """MAE, RMSE, MAPE, sMAPE and MASE (MAE over ``scale``, from :func:`mase_scale`)."""
    error = mae(y, p)
    return {
        "mae": error,
        "rmse": rmse(y, p),
        "mape": mape(y, p),
        "smape": smape(y, p),
        "mase": None if scale is None else error / scale,
    }
