"""Anomaly detection from 1-step forecast residuals.

A 1-step ``Forecaster`` is trained on the first rows of the series (assumed mostly normal). A point is
anomalous when its residual, in robust z-units of the training residuals, exceeds ``threshold``:

    z_t = |r_t - median(r_train)| / (1.4826 * MAD(r_train)),   anomaly when z_t > threshold

A spike also corrupts the next windows' inputs, which would flag the normal points after it; so the
flagged points are replaced by their forecasts and the residuals recomputed from those inputs (the
targets stay the observed values), repeatedly, with flags allowed to clear but not to spread.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np
import pandas as pd
import torch

from lstmkit.data.series import Series
from lstmkit.errors import UserError
from lstmkit.tasks.forecast import Forecaster, ForecasterConfig, load_series

MIN_TRAIN_ROWS = 50
MAX_REPAIR_PASSES = 10


@dataclass
class AnomalyConfig:
    threshold: float = 5.0  # robust z-score above which a point is anomalous
    train_fraction: float = 0.5  # leading share of rows the forecaster and the threshold learn from
    lookback: int | None = None  # forecaster input window; None: chosen from the data
    hidden_size: int = 64
    epochs: int | None = None
    max_minutes: float | None = None
    seed: int = 0
    verbose: bool = True


class AnomalyDetector:
    """Flags points whose 1-step forecast residual is far outside what training showed.

    Example:
        >>> import numpy as np, pandas as pd
        >>> t = np.arange(600)
        >>> y = np.sin(t / 10) + np.random.default_rng(0).normal(0, 0.05, 600)
        >>> y[450] += 2.0
        >>> d = AnomalyDetector(AnomalyConfig(epochs=20, verbose=False)).fit(pd.DataFrame({"y": y}))
        >>> d.detect().query("anomaly").index.tolist()
        [450]
    """

    def __init__(self, config: AnomalyConfig | None = None) -> None:
        self.config = config or AnomalyConfig()
        if not 0 < self.config.train_fraction < 1:
            raise UserError(f"train_fraction must be between 0 and 1, got {self.config.train_fraction}")
        if self.config.threshold <= 0:
            raise UserError(f"threshold must be positive, got {self.config.threshold}")

    def fit(self, data, target: str | None = None, time: str | None = None, fill: str | None = None) -> "AnomalyDetector":
        cfg = self.config
        series = data if isinstance(data, Series) else load_series(data, [target] if target else None, (), time, fill)
        if series.n_targets != 1 or series.covariates:
            raise UserError("anomaly detection works on one target column; pick it with --target")
        self.series = series
        train_rows = int(len(series) * cfg.train_fraction)
        if train_rows < MIN_TRAIN_ROWS:
            raise UserError(f"anomaly detection learns normal behaviour from the first {cfg.train_fraction:.0%} of the rows: "
                            f"{train_rows} of {len(series)}, fewer than {MIN_TRAIN_ROWS}; give more data or a larger --train-fraction")
        forecast_config = ForecasterConfig(horizon=1, lookback=cfg.lookback, hidden_size=cfg.hidden_size, epochs=cfg.epochs,
                                           max_minutes=cfg.max_minutes, seed=cfg.seed, verbose=cfg.verbose, test_fraction=0.0)
        self.forecaster = Forecaster(forecast_config).fit(series.slice(0, train_rows))
        residuals = self._residuals(series.values[:train_rows, 0], clean=False)[0][self.forecaster.lookback :]
        self.center = float(np.median(residuals))
        self.spread = float(1.4826 * np.median(np.abs(residuals - self.center))) or float(np.std(residuals)) or 1.0
        return self

    def _residuals(self, values: np.ndarray, clean: bool) -> tuple[np.ndarray, np.ndarray]:
        """Observed values minus 1-step forecasts (NaN for the first lookback rows), and the forecasts.

        With ``clean``, flagged points are replaced by their forecasts and everything is forecast again
        from those inputs, repeatedly; a point may leave the flagged set but never join it, so a run of
        flags cannot feed on itself. Each forecast reads only earlier rows, so this stays causal.
        """
        predicted = self._one_step(values)
        residuals = values - predicted
        if clean:
            flagged = self._scores(residuals) > self.config.threshold
            for _ in range(MAX_REPAIR_PASSES):
                predicted = self._one_step(np.where(flagged, predicted, values))
                residuals = values - predicted
                still = flagged & (self._scores(residuals) > self.config.threshold)
                if np.array_equal(still, flagged):
                    break
                flagged = still
        return residuals, predicted

    def _one_step(self, inputs: np.ndarray) -> np.ndarray:
        """The forecast of each row from the lookback rows before it; NaN where there are too few."""
        f, lookback = self.forecaster, self.forecaster.lookback
        scaled = torch.as_tensor(f.scaler.transform(inputs[:, None]), dtype=torch.float32)
        windows = scaled.unfold(0, lookback, 1).transpose(1, 2)[:-1]  # (N - L, L, 1): inputs for rows L..N-1
        predicted = np.full(len(inputs), np.nan)
        predicted[lookback:] = f._forecast(windows)[:, 0, 0, 0]
        return predicted

    def _scores(self, residuals: np.ndarray) -> np.ndarray:
        with np.errstate(invalid="ignore"):
            return np.nan_to_num(np.abs(residuals - self.center) / self.spread, nan=0.0)

    def detect(self, data=None) -> pd.DataFrame:
        """One row per time step: value, expected (the forecast), residual, score and the anomaly flag."""
        if not hasattr(self, "spread"):
            raise UserError("this AnomalyDetector is not fitted yet; call fit(data) first")
        series = self.series if data is None else self.forecaster._series_like(data)
        values = series.values[:, 0]
        if len(values) <= self.forecaster.lookback:
            raise UserError(f"detect needs more than lookback = {self.forecaster.lookback} rows, got {len(values)}")
        residuals, predicted = self._residuals(values, clean=True)
        scores = self._scores(residuals)
        index = series.time if series.time is not None else pd.RangeIndex(series.offset, series.offset + len(series))
        return pd.DataFrame({"value": values, "expected": predicted, "residual": residuals, "score": scores,
                             "anomaly": scores > self.config.threshold}, index=index)

    def settings(self) -> dict:
        return {**asdict(self.config), "lookback": self.forecaster.lookback, "residual_median": self.center,
                "residual_scale": self.spread}


def precision_recall(flagged: np.ndarray, truth: np.ndarray, tolerance: int = 0) -> dict:
    """Point-wise precision and recall; a flag within ``tolerance`` rows of a true anomaly counts as a hit."""
    flagged, truth = np.asarray(flagged, bool), np.asarray(truth, bool)
    if tolerance:
        kernel = np.ones(2 * tolerance + 1)
        near_truth = np.convolve(truth, kernel, mode="same") > 0
        near_flag = np.convolve(flagged, kernel, mode="same") > 0
    else:
        near_truth, near_flag = truth, flagged
    true_hits = int((flagged & near_truth).sum())
    found = int((truth & near_flag).sum())
    return {
        "precision": true_hits / int(flagged.sum()) if flagged.any() else None,
        "recall": found / int(truth.sum()) if truth.any() else None,
        "flagged": int(flagged.sum()),
        "true_anomalies": int(truth.sum()),
    }
