"""Anomaly detection from 1-step forecast residuals.

A 1-step ``Forecaster`` is trained on the first rows of the series (assumed mostly normal). A point is
anomalous when its residual, in robust z-units of the training residuals, exceeds ``threshold``:

    z_t = |r_t - median(r_train)| / (1.4826 * MAD(r_train)),   anomaly when z_t > threshold

A spike also corrupts the next windows' inputs, which would flag the normal points after it; so the
flagged points are replaced by their forecasts and the residuals recomputed from those inputs (the
targets stay the observed values), repeatedly, with flags allowed to clear but not to spread.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field

import numpy as np
import pandas as pd

from lstmkit.checks import saved
from lstmkit.data.series import Series, check_fill, read_table, to_series
from lstmkit.errors import UserError
from lstmkit.evaluation.metrics import precision_recall
from lstmkit.io.export import ExportGraph
from lstmkit.tasks.base import Estimator, config_from_dict
from lstmkit.tasks.defaults import forecast_training
from lstmkit.tasks.forecast import Forecaster, ForecasterConfig
from lstmkit.tasks.networks import ForecastEnsemble, ForecastNet
from lstmkit.training import TrainingOptions

KIND = "anomaly"
MIN_TRAIN_ROWS = 50
MAX_REPAIR_PASSES = 10


@dataclass
class AnomalyConfig:
    threshold: float = 5.0  # robust z-score above which a point is anomalous
    train_fraction: float = 0.5  # leading share of rows the forecaster and the threshold learn from
    target: str | None = None  # the column to watch; None: the dataset's target or the only numeric column
    time_column: str | None = None  # None: a datetime column or one named date/time/timestamp, else row order
    fill: str | None = None  # missing values: ffill, interpolate, drop or zero; None refuses them
    lookback: int | None = None  # forecaster input window; None: chosen from the data
    hidden_size: int = 64
    training: TrainingOptions = field(default_factory=forecast_training)

    def check(self) -> None:
        if not 0 < self.train_fraction < 1:
            raise UserError(f"train_fraction must be between 0 and 1, got {self.train_fraction}")
        if not (math.isfinite(self.threshold) and self.threshold > 0):
            raise UserError(f"threshold must be a positive number, got {self.threshold}")
        check_fill(self.fill)


class AnomalyDetector(Estimator):
    """Flags points whose 1-step forecast residual is far outside what training showed.

    Examples:
        >>> import numpy as np, pandas as pd
        >>> t = np.arange(600)
        >>> y = np.sin(t / 10) + np.random.default_rng(0).normal(0, 0.05, 600)
        >>> y[450] += 2.0
        >>> d = AnomalyDetector(epochs=20, verbose=False).fit(pd.DataFrame({"y": y}))
        >>> d.predict().query("anomaly").index.tolist()
        [450]
    """

    kind = KIND
    config_class = AnomalyConfig
    config: AnomalyConfig
    series: Series | None = None  # the data fit() scanned (None after load: predict is given data)

    def fit(self, train, validation=None, *, callbacks=(), auto=False) -> AnomalyDetector:
        """Learn normal behaviour from the first ``train_fraction`` of ``train``'s rows (a dataset name, a
        file, a DataFrame or a Series); ``validation``, if given, are later normal rows for early stopping."""
        if auto:
            raise UserError("AnomalyDetector has no --auto search yet; set its options (lookback=, hidden_size=, ...) by hand")
        cfg = self.config
        series = self.read(train)
        if series.n_targets != 1 or series.covariates:
            raise UserError("anomaly detection works on one target column; pick it with target=")
        self.series = series
        train_rows = int(len(series) * cfg.train_fraction)
        if train_rows < MIN_TRAIN_ROWS:
            raise UserError(
                f"anomaly detection learns normal behaviour from the first {cfg.train_fraction:.0%} of the rows: "
                f"{train_rows} of {len(series)}, fewer than {MIN_TRAIN_ROWS}; give more data or a larger train_fraction="
            )
        self.forecaster = Forecaster(
            # the data options too: new data is read later by the forecaster, with the detector's fill rule
            ForecasterConfig(
                targets=series.targets,
                time_column=series.time_column,
                fill=cfg.fill,
                horizon=1,
                lookback=cfg.lookback,
                hidden_size=cfg.hidden_size,
                test_fraction=0.0,
                training=cfg.training,
            )
        )
        self.forecaster.fit(series.slice(0, train_rows), None if validation is None else self.read(validation), callbacks=callbacks)
        self.model, self.history = self.forecaster.model, self.forecaster.history
        residuals = self._residuals(series.values[:train_rows, 0], clean=False)[0][self.forecaster.lookback :]
        self.center = float(np.median(residuals))
        self.spread = float(1.4826 * np.median(np.abs(residuals - self.center))) or float(np.std(residuals)) or 1.0
        return self

    def read(self, data) -> Series:
        if isinstance(data, Series):
            return data
        if getattr(self, "forecaster", None) is not None and self.model is not None:
            return self.forecaster.read(data)
        cfg = self.config
        frame, info = read_table(data)
        return to_series(frame, [cfg.target] if cfg.target else None, (), cfg.time_column, cfg.fill, info)

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
        scaled = f.model_inputs(inputs[:, None])
        windows = scaled.unfold(0, lookback, 1).transpose(1, 2)[:-1]  # (N - L, L, 1): inputs for rows L..N-1
        predicted = np.full(len(inputs), np.nan)
        predicted[lookback:] = f.forecast_windows(windows)[:, 0, 0, 0]
        return predicted

    def _scores(self, residuals: np.ndarray) -> np.ndarray:
        with np.errstate(invalid="ignore"):
            return np.nan_to_num(np.abs(residuals - self.center) / self.spread, nan=0.0)

    def predict(self, data=None) -> pd.DataFrame:
        """One row per time step: value, expected (the forecast), residual, score and the anomaly flag."""
        self._need_model()
        series = self.series if data is None else self.read(data)
        if series is None:
            raise UserError("a loaded AnomalyDetector needs the data to scan: predict(data)")
        values = series.values[:, 0]
        if len(values) <= self.forecaster.lookback:
            raise UserError(f"detect needs more than lookback = {self.forecaster.lookback} rows, got {len(values)}")
        residuals, predicted = self._residuals(values, clean=True)
        scores = self._scores(residuals)
        index = series.time if series.time is not None else pd.RangeIndex(series.offset, series.offset + len(series))
        return pd.DataFrame(
            {"value": values, "expected": predicted, "residual": residuals, "score": scores, "anomaly": scores > self.config.threshold},
            index=index,
        )

    detect = predict

    def evaluate(self, data, labels) -> dict:
        """Precision and recall of the flags against known anomalies ``labels`` (0/1, one per row of ``data``)."""
        truth = np.asarray(labels, dtype=float)
        if not np.isin(truth, (0, 1)).all():
            raise UserError("labels must hold 0 (normal) or 1 (anomaly) only")
        flags = self.predict(data)["anomaly"].to_numpy()
        if len(truth) != len(flags):
            raise UserError(f"got {len(truth)} labels for {len(flags)} rows; give one label per row")
        return {"metrics": {"model": precision_recall(flags, truth > 0)}, "rows": len(flags)}

    def settings(self) -> dict:
        return {
            **{k: v for k, v in asdict(self.config).items() if k != "training"},
            "lookback": self.forecaster.lookback,
            "residual_median": self.center,
            "residual_scale": self.spread,
        }

    def _export_graph(self) -> ExportGraph:
        graph = self.forecaster._export_graph()
        graph.description["scoring"] = (
            "z = |actual - forecast[:, 0, 0, 0] - residual_median| / residual_scale (preprocessing); an anomaly where "
            "z > threshold (config). detect() then repairs: flagged points are replaced by their forecasts and every window is "
            "forecast again (a few passes), so that a spike does not flag the points after it; a consumer that skips this flags more"
        )
        return graph

    # -------------------------------------------------------------------------------- save/load
    def _preprocessing(self) -> dict:
        return {
            "forecaster": self.forecaster._preprocessing(),
            "forecaster_config": self.forecaster._saved_config(),
            "residual_median": self.center,
            "residual_scale": self.spread,
        }

    def _restore(self, config: dict, pre: dict) -> None:
        inner = saved(pre, "forecaster_config", dict)
        self.forecaster = Forecaster(config_from_dict(ForecasterConfig, inner))
        self.forecaster._restore(inner, saved(pre, "forecaster", dict))
        self.center = saved(pre, "residual_median", float)
        self.spread = saved(pre, "residual_scale", float, lambda v: v > 0, "a positive number")
        self.series = None

    def _build(self) -> ForecastNet | ForecastEnsemble:
        self.forecaster.model = self.forecaster._build()
        return self.forecaster.model


def read_labelled(
    data, labels: str, target: str | None = None, time_column: str | None = None, fill: str | None = None
) -> tuple[Series, np.ndarray]:
    """A one-column series and its 0/1 anomaly labels from the column ``labels`` of the same table.

    The labels ride along as a covariate while reading, so that sorting by time and dropping rows keep
    them aligned with the values."""
    frame, info = read_table(data)
    series = to_series(frame, [target] if target else None, [labels], time_column, fill, info)
    truth = series.values[:, 1]
    if not np.isin(truth, (0, 1)).all():
        raise UserError(f"labels={labels!r} must hold 0 (normal) or 1 (anomaly) only")
    values = Series(series.values[:, :1], series.targets, [], series.time, series.season, series.time_column, freq=series.freq)
    return values, truth
