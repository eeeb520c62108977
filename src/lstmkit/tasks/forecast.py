"""Forecasting: the ``Forecaster`` estimator, honest evaluation against baselines, and backtests.

Symbol key: N rows, C input columns (K targets first, then covariates), L lookback, H horizon,
Q quantiles (1 for a point forecast), n windows / origins, B batch.

Leak-free by construction: rows are split chronologically into train | validation | test; the scaler
is fitted on the training rows only; a window belongs to a part when all its target rows do (its
input rows may reach back into earlier parts, which are known at that time). The model reads each
window centred on its last observed value and divided by its own spread (``relative=True``), so
trending and non-stationary series (prices, CO2) stay inside the range the network saw in training.
"""

from __future__ import annotations

import sys
from dataclasses import asdict, dataclass, field, replace

import numpy as np
import pandas as pd
import torch
import torch.nn.functional as F
from torch import Tensor, nn

from lstmkit.checks import saved
from lstmkit.data.calendar import calendar_names, calendar_values, check_calendar
from lstmkit.data.scaling import Scaler
from lstmkit.data.series import Series, check_fill, read_table, to_series
from lstmkit.data.windows import sliding_windows
from lstmkit.errors import UserError
from lstmkit.evaluation.baselines import STATISTICAL_ROWS, all_baselines, statistical, statistical_fits
from lstmkit.evaluation.metrics import forecast_metrics, mase_scale
from lstmkit.io.export import ExportGraph, ForecastGraph
from lstmkit.tasks.base import Estimator, check_sizes, sized_training
from lstmkit.tasks.defaults import forecast_training
from lstmkit.tasks.networks import ForecastEnsemble, ForecastNet, scaled_forecast
from lstmkit.training import TrainingOptions

KIND = "forecaster"
STRATEGIES = ("direct", "recursive", "seq2seq")
TRANSFORMS = ("auto", "log", "none")
ANCHORS = ("auto", "last", "seasonal")
COMBINES = ("auto", "median", "arima", "none")
LOSSES = ("mse", "mae")
MIN_TRAIN_WINDOWS = 8  # the validation part grows to one horizon only when this many training windows remain
SEARCH_ORIGINS = 3  # --auto scores a trial on this many validation horizons, by rolling origins when the part holds fewer
UNVALIDATED_EPOCHS = 5
TRAINING_STEPS = 1200  # epochs=None: about this many optimiser steps, in 20..300 epochs
OWN_ROWS = ("model", "network")  # evaluate()'s rows that are this model's, not baselines
LAG_WARNING = 0.25  # a 1-step forecast that moves less than this share of the series' own step is "shifted input"


@dataclass
class ForecasterConfig:
    targets: list[str] | None = None  # columns to forecast; None: the dataset's target or the only numeric column
    covariates: list[str] = field(default_factory=list)  # past covariate columns (known up to the forecast origin)
    # columns known ahead (a planned promotion or price, a weather forecast): read for the lookback rows and
    # for the forecast steps, so predict() needs their values for those steps (future=)
    future_covariates: list[str] = field(default_factory=list)
    # features of the time column known for every step, read like future_covariates: hour, weekday, month, dayofyear
    calendar: list[str] = field(default_factory=list)
    time_column: str | None = None  # None: a datetime column or one named date/time/timestamp, else row order
    fill: str | None = None  # missing values: ffill, interpolate, drop or zero; None refuses them
    season: int | None = None  # seasonal period in rows; None: from the time column's frequency
    horizon: int = 1  # steps forecast from each origin
    lookback: int | None = None  # input steps; None: 3 seasonal periods (24 if none), 8..200, <= train rows / 4
    hidden_size: int = 64  # units per layer and direction
    num_layers: int = 1  # stacked recurrent layers
    dropout: float = 0.0  # while training: on the encoder's final state before the head, and between stacked layers
    cell: str = "lstm"  # "lstm" or "gru"
    bidirectional: bool = False  # read the lookback window both ways
    strategy: str = "direct"  # "direct": H outputs; "recursive": a 1-step model fed its own forecasts; "seq2seq": LSTM encoder-decoder
    quantiles: list[float] | None = None  # e.g. [0.1, 0.5, 0.9]: pinball loss and prediction intervals; 0.5 is the point forecast
    # a point forecast's training loss, "mse" or "mae" (the median; what MASE scores); quantiles train with the pinball loss
    loss: str = "mse"
    scaler: str = "standard"  # "standard", "minmax" or "none"; fitted on the training rows only
    relative: bool = True  # normalise each window: centre on its last target value, divide by its spread
    ensemble: int = 3  # networks trained side by side on lookbacks from L down to L/N; the forecast is their median
    # "auto": log when every training value of the targets is positive (growth and seasonal swings that
    # scale with the level become additive); "log" or "none"
    transform: str = "auto"
    # what the network's outputs correct: "last" value, or the "seasonal" one (one season before each
    # step); "auto": seasonal when the training rows pass a seasonality test (see is_seasonal)
    anchor: str = "auto"
    # the point forecast: "median" the median of the network's, statsforecast's AutoETS's and AutoARIMA's
    # (fitted on the rows before each origin; quantiles move with it), "arima" the mean of the network's
    # and AutoARIMA's, "none" the network's alone; "auto": median for a series without covariates, which
    # ETS and ARIMA cannot read (benchmarks/eval.py measured the choice)
    combine: str = "auto"
    val_fraction: float = 0.1  # share of rows for validation (early stopping), before the test rows
    test_fraction: float = 0.2  # share of rows held out at the end for evaluate(); 0 trains on everything
    # epochs None: about TRAINING_STEPS optimiser steps, 20..300 epochs; the best weights are the lowest validation loss
    training: TrainingOptions = field(default_factory=forecast_training)

    def check(self) -> None:
        check_sizes(self, ("horizon", "lookback", "hidden_size", "num_layers", "ensemble"))
        if self.cell not in ("lstm", "gru"):
            raise UserError(f"cell must be 'lstm' or 'gru', got {self.cell!r}")
        if self.strategy not in STRATEGIES:
            raise UserError(f"strategy must be one of {', '.join(STRATEGIES)}, got {self.strategy!r}")
        if self.quantiles is not None:
            if not all(0 < q < 1 for q in self.quantiles):
                raise UserError(f"quantiles must lie strictly between 0 and 1, got {self.quantiles}")
            if self.strategy == "recursive":
                raise UserError("quantiles need strategy 'direct' or 'seq2seq': a recursive model feeds back point forecasts only")
        if not (0 <= self.test_fraction < 1 and 0 <= self.val_fraction < 1 and self.val_fraction + self.test_fraction < 1):
            raise UserError(
                f"need 0 <= val_fraction, 0 <= test_fraction and their sum < 1, got {self.val_fraction} and {self.test_fraction}"
            )
        if self.transform not in TRANSFORMS:
            raise UserError(f"transform must be one of {', '.join(TRANSFORMS)}, got {self.transform!r}")
        if self.anchor not in ANCHORS:
            raise UserError(f"anchor must be one of {', '.join(ANCHORS)}, got {self.anchor!r}")
        named = [*(self.targets or []), *self.covariates, *self.future_covariates]
        if len(set(named)) < len(named):
            twice = sorted({c for c in named if named.count(c) > 1})
            raise UserError(f"column(s) {twice} are named more than once among targets and covariates; name each column once")
        if self.loss not in LOSSES:
            raise UserError(f"loss must be one of {', '.join(LOSSES)}, got {self.loss!r}")
        if self.combine not in COMBINES:
            raise UserError(f"combine must be one of {', '.join(COMBINES)}, got {self.combine!r}")
        if self.season is not None and self.season < 1:
            raise UserError(f"season must be a whole number of rows of at least 1 (1: no season), got {self.season}")
        check_fill(self.fill)
        check_calendar(self.calendar)
        if self.known_ahead and self.strategy == "recursive":
            raise UserError("known-ahead columns (future_covariates, calendar) need strategy 'direct' or 'seq2seq'")

    @property
    def known_ahead(self) -> int:
        """Input columns known for the forecast steps: the future covariates and two per calendar feature."""
        return len(self.future_covariates) + len(calendar_names(self.calendar))


def quantile_levels(config: ForecasterConfig) -> list[float]:
    """The model's output levels: [0.5] for a point forecast; otherwise sorted and including 0.5."""
    if config.quantiles is None:
        return [0.5]
    return sorted(set(config.quantiles) | {0.5})


def pinball_loss(pred: Tensor, target: Tensor, levels: Tensor) -> Tensor:
    """Mean quantile loss. pred (B, S, K, Q), target (B, S, K), levels (Q,)."""
    diff = target[..., None] - pred
    return torch.maximum(levels * diff, (levels - 1) * diff).mean()


@dataclass
class _Split:
    """Window index ranges of each part (window j forecasts from origin j + L)."""

    train: range
    val: range
    test: range


class Forecaster(Estimator):
    """LSTM/GRU forecaster: fit on a series, predict the next steps, evaluate against baselines.

    Examples:
        >>> from lstmkit.data.datasets import sine_wave
        >>> f = Forecaster(horizon=5, lookback=20, epochs=3, verbose=False).fit(sine_wave())
        >>> f.predict().shape
        (5, 1)
    """

    kind = KIND
    config_class = ForecasterConfig
    config: ForecasterConfig
    model: ForecastNet | ForecastEnsemble | None
    metrics: dict | None = None  # evaluate() on the held-out test rows, after fit

    # --------------------------------------------------------------------------------------- fit
    def _prepare(self, train, validation):
        """``train``: a bundled dataset name, a CSV/Parquet path, a DataFrame or a ``Series``; ``validation``
        (optional): the rows that follow it, for early stopping (then nothing is held out for testing)."""
        cfg = self.config
        series = self._read(train, like=None)  # a refit reads its data afresh, as the config says
        val_start = None
        if validation is not None:
            later = self._read(validation, like=series)
            val_start = len(series)
            series = series.concat(later)
        check_strategy(cfg, series)
        self.series = series
        n = len(series)
        val_start, test_start = self._bounds(n, series.season) if val_start is None else (val_start, n)
        self.lookback = cfg.lookback or default_lookback(series.season, val_start, cfg.horizon)
        self._check_length(n, val_start)
        train_targets = series.values[:val_start, : series.n_targets]
        self.log_targets = uses_log(cfg.transform, [(val_start, series)])
        self.anchor_season = self._anchor_season(train_targets, series.season)
        self.scaler = Scaler.fit(self._logged(series.values[:val_start]), cfg.scaler)
        self.levels = quantile_levels(cfg)
        self.fitted = fitted_rows(series, val_start, test_start)
        if cfg.test_fraction > 0 and validation is None and n - test_start < cfg.horizon:
            raise UserError(
                f"test_fraction={cfg.test_fraction} holds out {n - test_start} rows, fewer than the horizon "
                f"{cfg.horizon}: nothing could be scored; raise test_fraction=, lower horizon=, "
                "or use test_fraction=0 to train on all rows"
            )
        x, y = self._windows(series)
        split = self._split(n, val_start, test_start)
        steps = self.model_steps
        train_tensors = (x[split.train.start : split.train.stop], y[split.train.start : split.train.stop, :steps])
        val = (x[split.val.start : split.val.stop], y[split.val.start : split.val.stop, :steps])
        self._has_test = len(split.test) > 0
        train_tensors, self.epochs = sized_training(train_tensors, cfg.training.batch_size, TRAINING_STEPS, cfg.training.epochs)
        if not len(split.val) and cfg.val_fraction > 0 and not cfg.training.epochs:
            # Nothing to validate on (a series too short for a held-out horizon): a few epochs only, so that
            # the network stays near its anchor forecast instead of memorising the few windows it has.
            self.epochs = UNVALIDATED_EPOCHS
        return train_tensors, (val if len(split.val) else None)

    def _training_options(self) -> TrainingOptions:
        return replace(self.config.training, epochs=self.epochs)

    def _trainer_keywords(self) -> dict:
        return {"val_fraction": 0.0}  # validation comes from the later rows only, never from the training windows

    def _build(self) -> ForecastNet | ForecastEnsemble:
        sizes = (self.series.values.shape[1], self.series.n_targets, len(self.levels), self.config, self.anchor_season)
        if self.config.ensemble > 1:
            return ForecastEnsemble(*sizes, lookback=self.lookback, n_future=self.config.known_ahead)
        return ForecastNet(*sizes, n_future=self.config.known_ahead)

    def search_space(self, trial, train) -> dict:
        """Lookback (1..4 seasons, or 8..48 steps), width, depth, dropout, learning rate, strategy and anchor;
        single networks while searching (the final fit uses ``ensemble``)."""
        series = self._typical_series(train)
        m, horizon = series.season, self.config.horizon
        usable = int(len(series) * (1 - self.config.test_fraction - self.config.val_fraction)) - (self._origins(series) - 1) * horizon
        choices = [k * m for k in (1, 2, 3, 4)] if m > 1 else [8, 16, 24, 48]
        fitting = [c for c in choices if usable - c - horizon + 1 >= MIN_TRAIN_WINDOWS] or [min(choices)]
        space = {
            "lookback": trial.suggest_categorical("lookback", fitting),
            "hidden_size": trial.suggest_categorical("hidden_size", [16, 32, 64, 128]),
            "num_layers": trial.suggest_int("num_layers", 1, 2),
            "dropout": trial.suggest_float("dropout", 0.0, 0.3),
            "lr": trial.suggest_float("lr", 1e-3, 1e-2, log=True),
            "anchor": trial.suggest_categorical("anchor", ["auto", "last"]),
        }
        if self.config.strategy != "recursive":
            space["strategy"] = trial.suggest_categorical("strategy", ["direct", "seq2seq"])
        return space | {"ensemble": 1}

    def _typical_series(self, train) -> Series:
        """The series whose length sizes the search space: the one there is."""
        return self.read(train)

    def search_folds(self, train, validation) -> list[tuple]:
        """Rolling origins for a short series: when the validation part holds fewer than SEARCH_ORIGINS
        horizons, a trial is also fitted on the rows up to one and two horizons earlier and validated on
        the horizon after each, so that one noisy horizon does not choose the settings."""
        series = self.read(train)
        origins = 1 if validation is not None else self._origins(series)
        if origins == 1:
            return [(train, validation)]
        val_start, test_start = self._bounds(len(series), series.season)
        shifts = [j * self.config.horizon for j in range(origins)]
        return [(series.slice(0, val_start - s), series.slice(val_start - s, test_start - s)) for s in shifts]

    def _origins(self, series: Series) -> int:
        """How many validation origins --auto scores trials on (see search_folds)."""
        horizon = self.config.horizon
        val_start, test_start = self._bounds(len(series), series.season)
        if test_start - val_start == 0 or test_start - val_start >= SEARCH_ORIGINS * horizon:
            return 1
        lookback = default_lookback(series.season, val_start, horizon)
        fits = lambda k: val_start - (k - 1) * horizon - lookback - horizon + 1 >= MIN_TRAIN_WINDOWS
        return max(k for k in range(1, SEARCH_ORIGINS + 1) if k == 1 or fits(k))

    @property
    def refit_cost(self) -> float:
        return float(self.config.ensemble)

    def _auto_refit(self, winner: Estimator, settings: dict):
        """The best settings on training + validation rows, for the epochs the best trial kept, as an ensemble."""
        epochs = max(1, settings.get("best_epoch") or 1)
        config = replace(winner.config, ensemble=self.config.ensemble, val_fraction=0.0)
        return replace(config, training=replace(config.training, epochs=epochs))

    def _anchor_season(self, train_targets: np.ndarray, season: int) -> int:
        """The season the network's outputs correct from (1: the last value)."""
        if self.config.anchor == "last" or season <= 1 or season > self.lookback:
            return 1
        if self.config.anchor == "seasonal":
            return season
        values = np.log(train_targets) if self.log_targets else train_targets
        return season if all(is_seasonal(values[:, k], season) for k in range(values.shape[1])) else 1

    def _logged(self, values: np.ndarray) -> np.ndarray:
        """Rows with the target columns on the model's scale (their log, with transform='log')."""
        if not getattr(self, "log_targets", False):
            return values
        k = self.series.n_targets
        targets = values[:, :k]
        if np.any(targets <= 0):
            raise UserError("this model forecasts the log of its targets (transform='log'): the data has values <= 0")
        return np.concatenate([np.log(targets), values[:, k:]], axis=1)

    def model_inputs(self, values: np.ndarray, scaler: Scaler | None = None) -> Tensor:
        """Rows (N, C) in the network's input units: targets logged (with the log transform), then scaled
        (by ``scaler``, default the model's)."""
        return torch.as_tensor((scaler or self.scaler).transform(self._logged(values)), dtype=torch.float32)

    def _after_fit(self) -> None:
        self.metrics = self.evaluate() if self._has_test and not self.in_search else None

    @property
    def model_steps(self) -> int:
        return 1 if self.config.strategy == "recursive" else self.config.horizon

    def _loss(self, model: nn.Module, batch: tuple[Tensor, ...]) -> Tensor:
        x, y = batch
        pred = model(x)
        if pred.dim() == 5:  # an ensemble: every member against the same targets, (B, S, K, Q, N) -> (B, S, K, N, Q)
            pred, y = pred.transpose(-1, -2), y[..., None].expand(*y.shape, pred.shape[-1])
        if len(self.levels) == 1:
            return F.l1_loss(pred[..., 0], y) if self.config.loss == "mae" else F.mse_loss(pred[..., 0], y)
        return pinball_loss(pred, y, torch.tensor(self.levels, dtype=pred.dtype, device=pred.device))

    def _check_length(self, n: int, val_start: int) -> None:
        need = self.lookback + self.config.horizon
        if val_start - need + 1 < 1:
            raise UserError(
                f"the series has {n} rows; after holding out validation and test rows, {val_start} remain for training, "
                f"fewer than lookback + horizon = {need} + 1; use a smaller lookback= or horizon=, or more data"
            )

    def _split(self, n: int, val_start: int, test_start: int) -> _Split:
        lookback, horizon = self.lookback, self.config.horizon
        first = lambda origin: max(origin - lookback, 0)
        last = lambda stop: stop - horizon - lookback + 1
        return _Split(
            range(0, last(val_start)),
            range(first(val_start), max(first(val_start), last(test_start))),
            range(first(test_start), max(first(test_start), last(n))),
        )

    def _windows(self, series: Series) -> tuple[Tensor, Tensor]:
        x, y = sliding_windows(self.model_inputs(series.values), self.lookback, self.config.horizon)
        return self._with_ahead(x, y), y[..., : series.n_targets]

    def _with_ahead(self, x: Tensor, ahead: Tensor | None) -> Tensor:
        """Windows (n, L, C) and the rows after them (n, H, C) -> with known-ahead columns, the windows
        followed by those rows with every other column zeroed (n, L + H, C), else the windows as they are."""
        known = self.config.known_ahead
        if not known or ahead is None:
            return x
        ahead = ahead.clone()
        ahead[..., :-known] = 0.0
        return torch.cat([x, ahead], dim=1)

    # ----------------------------------------------------------------------------------- predict
    @torch.no_grad()
    def forecast_windows(self, x: Tensor) -> np.ndarray:
        """Scaled windows (n, L, C) -> forecasts in original units (n, H, K, Q), quantiles sorted."""
        model = self._need_model()
        model.eval()
        cfg = self.config
        batches = [x[start : start + 1024].to(self.device) for start in range(0, len(x), 1024)]
        outputs = [scaled_forecast(model, window, cfg.horizon, cfg.strategy == "recursive") for window in batches]
        scaled = torch.cat(outputs).float().cpu().numpy().astype(np.float64)
        k = self.series.n_targets
        values = scaled * self.scaler.scale[:k, None] + self.scaler.shift[:k, None]
        with np.errstate(over="ignore"):
            values = np.exp(values) if self.log_targets else values
        if not np.isfinite(values).all():
            raise UserError(
                "the forecast is not finite: the inputs lie far beyond the range of the training data, or the "
                "model files were edited; check the data's units, or train on data like it"
            )
        return values

    def predict(self, data=None, future=None) -> pd.DataFrame:
        """Forecast the ``horizon`` steps after the end of ``data`` (default: the data the model was fitted on).

        ``future``: for a model with ``future_covariates``, their values at the forecast steps: a DataFrame
        or file with those columns and a row per step (with the time column, the rows at the steps' times;
        without, the first ``horizon`` rows). Calendar features need nothing: they come from the times.

        Returns a DataFrame indexed by future time (or step number) with one column per target and, with
        quantiles, ``{target}_q{level}`` columns.
        """
        self._need_model()
        series = self.series if data is None else self.read(data)
        if len(series) < self.lookback:
            raise UserError(f"predict needs at least lookback = {self.lookback} rows, got {len(series)}")
        if future is not None and not self.config.future_covariates:
            raise UserError("this model reads no future covariates; leave out future=")
        forecast = self._combined(series, np.array([len(series)]), self.network_forecast(series, future)[None])[0]
        return self._frame(forecast, future_index(series, self.config.horizon))

    def network_forecast(self, series: Series, future=None) -> np.ndarray:
        """The network's forecast (H, K, Q) of the steps after ``series`` (config.combine not applied)."""
        window = self.model_inputs(series.values[-self.lookback :])[None]
        ahead = self.model_inputs(self._steps_ahead(series, future))[None] if self.config.known_ahead else None
        return self.forecast_windows(self._with_ahead(window, ahead))[0]

    def _steps_ahead(self, series: Series, future) -> np.ndarray:
        """The forecast steps' rows (H, C): the known-ahead columns from ``future`` and the calendar, the
        last row's values standing in for the unknown columns (which _with_ahead zeroes)."""
        cfg, horizon = self.config, self.config.horizon
        index = future_index(series, horizon)
        first = series.values.shape[1] - cfg.known_ahead
        rows = np.repeat(series.values[-1:], horizon, axis=0)
        given = len(cfg.future_covariates)
        if given:
            rows[:, first : first + given] = self._future_values(series, future, index)
        if cfg.calendar:
            rows[:, first + given :] = calendar_values(None if series.time is None else index, cfg.calendar)
        return rows

    def _future_values(self, series: Series, future, index) -> np.ndarray:
        """The future covariates' values (H, F) at the forecast steps ``index``, read from ``future``."""
        names, horizon = self.config.future_covariates, self.config.horizon
        if future is None:
            raise UserError(
                f"this model reads {names} at the {horizon} steps it forecasts: give future= a table of their values "
                f"with a row for each of the {horizon} steps after the data"
            )
        frame = future if isinstance(future, pd.DataFrame) else read_table(future)[0]
        missing = [c for c in names if c not in frame.columns]
        if missing:
            raise UserError(f"the future rows lack column(s) {missing}; give {names} for the {horizon} forecast steps")
        if series.time_column is not None and series.time_column in frame.columns and isinstance(index, pd.DatetimeIndex):
            try:
                times = pd.DatetimeIndex(pd.to_datetime(frame[series.time_column]))
            except (ValueError, TypeError) as e:
                raise UserError(f"the future rows' {series.time_column!r} column holds a value that is not a time ({e})") from None
            where = times.get_indexer(index)
            if (where < 0).any():
                lacking = index[where < 0][0]
                day = lacking.date() if lacking == lacking.normalize() else lacking
                raise UserError(f"the future rows have no row for {day}; give one for each of the {horizon} forecast steps")
            frame = frame.iloc[where]
        elif len(frame) < horizon:
            raise UserError(f"the future rows hold {len(frame)} rows; give one for each of the {horizon} forecast steps")
        values = frame[names].iloc[:horizon].apply(pd.to_numeric, errors="coerce").to_numpy(dtype=np.float64)
        if not np.isfinite(values).all():
            raise UserError(f"the future rows' {names} must be numbers, with none missing, at every forecast step")
        return values

    @property
    def combination(self) -> str | None:
        """How the point forecast combines the network's with the statistical models' (config.combine):
        "median" (with ETS and ARIMA), "arima" (the mean with ARIMA), or None (the network's alone)."""
        combine = self.config.combine
        if combine == "auto":
            return None if self.series.covariates else "median"
        return None if combine == "none" else combine

    def _combined(self, series: Series, origins: np.ndarray, network: np.ndarray, fits: dict | None = None) -> np.ndarray:
        """The network's forecasts (n, H, K, Q) from ``origins`` of ``series``, combined with the statistical
        models' from the same origins as ``combination`` says; ``fits``: their (n, H, K) forecasts by name
        ("ets", "arima"), when the caller has them. Every quantile moves with the point forecast. Too few
        rows for ETS and ARIMA: the network's alone."""
        if self.combination is None or not statistical_fits(int(origins[0]), series.season):
            return network
        fits = fits or {}
        methods = ("arima",) if self.combination == "arima" else ("ets", "arima")
        y = series.values[:, : series.n_targets]
        others = [fits[m] if m in fits else statistical(y, origins, self.config.horizon, series.season, m) for m in methods]
        point = network[..., self.levels.index(0.5)]
        combined = (np.mean if self.combination == "arima" else np.median)([point, *others], axis=0)
        return network + (combined - point)[..., None]

    def _frame(self, forecast: np.ndarray, index) -> pd.DataFrame:
        median = self.levels.index(0.5)
        columns = {name: forecast[:, k, median] for k, name in enumerate(self.series.targets)}
        if len(self.levels) > 1:
            for k, name in enumerate(self.series.targets):
                for q, level in enumerate(self.levels):
                    if level != 0.5:
                        columns[f"{name}_q{level:g}"] = forecast[:, k, q]
        return pd.DataFrame(columns, index=index)

    # ---------------------------------------------------------------------------------- evaluate
    def evaluate(self, data=None, start: int | None = None) -> dict:
        """Errors of the model and of the naive, seasonal-naive and drift baselines on the same origins.

        Args:
            data: None for the held-out test rows of the fitted data; otherwise a series whose origins
                from ``start`` (a row number; default: the first with a full lookback and season) are scored.
        """
        self._need_model()
        if data is None:
            series = self.series
            start = self._bounds(len(series), series.season)[1]
            if start >= len(series):
                raise UserError("no held-out test rows (test_fraction=0, or a loaded model): pass data to evaluate on")
        else:
            series = self.read(data)
            start = self._first_unseen_row(series) if start is None else start
        origins, forecast, points = self.scored_forecasts(series, start)
        k, horizon = series.n_targets, self.config.horizon
        actual = series.values[:, :k]
        truth = actual[origins[:, None] + np.arange(horizon)]  # (n, H, K)
        scale = self.fitted["mase_scale"]
        metrics = {name: forecast_metrics(truth, p, scale) for name, p in points.items()}
        point = points["model"]
        best = min((m for m in metrics if m not in OWN_ROWS), key=lambda m: metrics[m]["rmse"])
        result = {
            "metrics": metrics,
            "best_baseline": best,
            "skill": 1 - metrics["model"]["rmse"] / metrics[best]["rmse"] if metrics[best]["rmse"] > 0 else None,
            "origins": len(origins),
            "first_origin": series.label(int(origins[0])),
            "last_origin": series.label(int(origins[-1])),
            "horizon": horizon,
            "season": series.season,
            "lag_ratio": lag_ratio(actual, origins, point),
            "combine": self.combination if "network" in points else None,
        }
        if len(self.levels) > 1:
            lo, hi = forecast[..., 0], forecast[..., -1]
            result["interval"] = {"levels": [self.levels[0], self.levels[-1]], "coverage": float(np.mean((truth >= lo) & (truth <= hi)))}
        if result["lag_ratio"] is not None and result["lag_ratio"] < LAG_WARNING:
            skill = "" if result["skill"] is None else f" (skill over the best baseline: {result['skill']:+.1%})"
            result["warning"] = (
                f"the 1-step forecast moves only {100 * result['lag_ratio']:.0f}% as much as the series does: "
                f"it is mostly the last input value shifted by one step{skill}"
            )
        return result

    def scored_forecasts(self, series: Series, start: int) -> tuple[np.ndarray, np.ndarray, dict[str, np.ndarray]]:
        """What ``evaluate`` scores: the origins from ``start`` (moved up to the first with a full lookback
        and season), the model's forecasts (n, H, K, Q), and every method's point forecasts (n, H, K) by
        name: "model", "network" when combined with the statistical models, then the baselines."""
        start = max(start, self.lookback, series.season + 1 if series.season > 1 else 1)
        origins, network = self.network_origins(series, start)
        actual = series.values[:, : series.n_targets]
        baselines = all_baselines(actual, origins, self.config.horizon, series.season)
        forecast = self._combined(series, origins, network, baselines)
        median = self.levels.index(0.5)
        own = {"model": forecast[..., median]} if forecast is network else {"model": forecast[..., median], "network": network[..., median]}
        return origins, forecast, own | baselines

    def _first_unseen_row(self, series: Series) -> int:
        """The first row of ``series`` after those the model was trained and validated on."""
        seen = self.fitted["seen_until"]
        if series.time is not None and isinstance(seen, str):
            start = int(series.time.searchsorted(pd.Timestamp(seen), side="right"))
        else:
            start = int(seen) + 1 - series.offset
        if start > len(series) - self.config.horizon:
            raise UserError(
                f"the data has no rows after those the model was trained and validated on (up to {seen}); "
                "give newer data, or start= to score earlier rows (they were seen in training)"
            )
        return max(start, 0)

    def forecast_origins(self, series: Series, start: int) -> tuple[np.ndarray, np.ndarray]:
        """Forecasts from every origin t >= start with all H target rows inside ``series``.

        Returns origins (n,) and forecasts in original units (n, H, K, Q).
        """
        origins, network = self.network_origins(series, start)
        return origins, self._combined(series, origins, network)

    def network_origins(self, series: Series, start: int) -> tuple[np.ndarray, np.ndarray]:
        """``forecast_origins`` of the network alone (config.combine not applied)."""
        stop = len(series) - self.config.horizon + 1
        if stop <= start:
            raise UserError(f"no forecast origin to evaluate: {len(series)} rows, need more than {start + self.config.horizon - 1}")
        x, _ = self._windows(series)
        return np.arange(start, stop), self.forecast_windows(x[start - self.lookback : stop - self.lookback])

    def _bounds(self, n: int, season: int) -> tuple[int, int]:
        """First validation row and first test row of n rows of a series with ``season``: train |
        validation | test. The validation part holds at least one horizon (so that one window validates)
        when that leaves the training part MIN_TRAIN_WINDOWS windows of a season's lookback (or 8 rows)."""
        cfg = self.config
        test_start = n - int(round(cfg.test_fraction * n))
        if cfg.val_fraction == 0:
            return test_start, test_start
        val_rows = max(1, int(round(cfg.val_fraction * n)))
        lookback = max(8, season)  # a season, not the lookback, so that every trial of --auto validates alike
        if val_rows < cfg.horizon and test_start - cfg.horizon - lookback - cfg.horizon + 1 >= MIN_TRAIN_WINDOWS:
            val_rows = cfg.horizon
        return test_start - val_rows, test_start

    def plot(self, path=None, label: str | None = None):
        """History, the 1-step forecasts over the test rows, and the forecast past the end: a matplotlib
        Figure (a notebook shows it), also written as a PNG when ``path`` is given; ``label`` names the
        series in the title (default: the target column)."""
        from lstmkit.viz.plots import plot_forecast

        return plot_forecast(path, **self.plot_data(label))

    def plot_data(self, label: str | None = None) -> dict:
        """What ``plot`` draws, as arrays: the title, the history (time, actual), the 1-step forecasts over
        the test rows (test_time, test_forecast), the forecast past the end (future_time, future) and its
        interval (future_low, future_high, interval_label; None without quantiles). A model that reads
        future covariates has no forecast past the end here (their values there are not known): None."""
        series, horizon = self.series, self.config.horizon
        start = self._bounds(len(series), series.season)[1]
        index = series.time if series.time is not None else pd.RangeIndex(series.offset, series.offset + len(series))
        median = self.levels.index(0.5)
        test_time = test_forecast = None
        if start < len(series) - horizon + 1:
            origins, forecast = self.forecast_origins(series, max(start, self.lookback))
            test_time, test_forecast = index[origins], forecast[:, 0, 0, median]
        future = None if self.config.future_covariates else self.predict()
        name = series.targets[0]
        low = high = None
        band = ""
        if len(self.levels) > 1 and future is not None:
            low, high = future[f"{name}_q{self.levels[0]:g}"].to_numpy(), future[f"{name}_q{self.levels[-1]:g}"].to_numpy()
            band = f"{self.levels[0]:g}-{self.levels[-1]:g} quantiles"
        method = self.config.cell.upper() + {"median": " + ETS + ARIMA (median)", "arima": " + ARIMA"}.get(self.combination or "", "")
        return {
            "title": f"{label or name}: {method} forecast, horizon {horizon}, lookback {self.lookback}",
            "time": index,
            "actual": series.values[:, 0],
            "test_time": test_time,
            "test_forecast": test_forecast,
            "future_time": None if future is None else future.index,
            "future": None if future is None else future[name].to_numpy(),
            "future_low": low,
            "future_high": high,
            "interval_label": band,
        }

    def read(self, data) -> Series:
        """``data`` as a checked ``Series``: a dataset name, a file, a DataFrame or a Series. A fitted model
        reads it with the columns, time column and season it was fitted with, an unfitted one as its config says."""
        return self._read(data, like=getattr(self, "series", None))

    def _read(self, data, like: Series | None) -> Series:
        """``data`` with the columns of ``like`` (None: those the config names), the config's fill rule."""
        if isinstance(data, Series):
            return data
        cfg = self.config
        frame, info = read_table(data)
        targets, time, season = (like.targets, like.time_column, like.season) if like else (cfg.targets, cfg.time_column, cfg.season)
        series = to_series(frame, targets, [*cfg.covariates, *cfg.future_covariates], time, cfg.fill, info, season)
        return with_calendar(series, cfg.calendar)

    def _export_graph(self) -> ExportGraph:
        if self.config.known_ahead:
            raise UserError("a forecaster with future covariates or calendar features cannot be exported yet")
        s, k = self.series, self.series.n_targets
        recursive = self.config.strategy == "recursive"
        graph = ForecastGraph(self._need_model(), self.scaler.shift, self.scaler.scale, k, self.log_targets, self.config.horizon, recursive)
        window = torch.as_tensor(s.values[-self.lookback :], dtype=torch.float32)[None].expand(2, -1, -1).contiguous()
        return ExportGraph(
            graph,
            {"window": window},
            {"window": {0: "batch"}},
            {"forecast": f"(batch, {self.config.horizon} steps, {k} targets, {len(self.levels)} quantiles) in the data's units"},
            {
                "window": f"the last {self.lookback} rows before each forecast, columns {[*s.targets, *s.covariates]}, in the data's units",
                "quantiles": self.levels,
                "combination": "the networks' median alone: predict() also combines it with ETS and ARIMA "
                f"({self.combination or 'none'}), which a graph cannot hold",
            },
        )

    # -------------------------------------------------------------------------------- save/load
    def _preprocessing(self) -> dict:
        s = self.series
        # the rows predict() reads when given no data: the network's lookback, and ETS's and ARIMA's fitting rows
        keep = max(self.lookback, STATISTICAL_ROWS if self.combination else 0)
        context = s.slice(max(0, len(s) - keep), len(s))
        return {
            "scaler": self.scaler.to_dict(),
            "targets": s.targets,
            "covariates": s.covariates,
            "time_column": s.time_column,
            "season": s.season,
            "freq": s.freq,
            "fitted": self.fitted,
            "context": {
                "values": context.values.tolist(),
                "time": None if context.time is None else [t.isoformat() for t in context.time],
                "rows": len(s),
            },
        }

    def _saved_config(self) -> dict:
        return {
            **asdict(self.config),
            "lookback": self.lookback,
            "epochs": self.epochs,
            "n_inputs": self.series.values.shape[1],
            "log_targets": self.log_targets,
            "anchor_season": self.anchor_season,
        }

    def _restore(self, config: dict, pre: dict) -> None:
        # every field is checked (lstmkit.checks.saved): a hand-edited file must not forecast NaN or crash later
        positive = (lambda v: v >= 1, "at least 1")
        self.lookback = saved(config, "lookback", int, *positive)
        self.epochs = saved(config, "epochs", int, *positive)
        self.log_targets = saved(config, "log_targets", bool)
        self.anchor_season = saved(config, "anchor_season", int, lambda v: v == 1 or 1 < v <= self.lookback, "1 or 2..lookback")
        self.levels = quantile_levels(self.config)  # derived from the config, not read back
        targets = saved(pre, "targets", list[str], lambda v: len(v) > 0 and _distinct_names(v), "at least one distinct non-empty name")
        covariates = saved(pre, "covariates", list[str], _distinct_names, "distinct non-empty names")
        width = len(targets) + len(covariates)
        if saved(config, "n_inputs", int) != width:
            raise UserError(f"n_inputs is {config['n_inputs']} but there are {width} target and covariate columns")
        self.scaler = Scaler.from_dict(saved(pre, "scaler", dict), width)
        ctx = saved(pre, "context", dict)
        values = np.asarray(
            saved(
                ctx,
                "values",
                list[list[float]],
                lambda v: len(v) >= self.lookback and {len(r) for r in v} == {width},
                f"at least lookback = {self.lookback} rows of {width} finite numbers",
            ),
            dtype=np.float64,
        )
        if self.log_targets and not np.all(values[:, : len(targets)] > 0):
            raise UserError("values must be positive in the target columns of a model trained on their log")
        stamps = saved(ctx, "time", list[str] | None, lambda v: v is None or len(v) == len(values), "one time per row or None")
        try:
            time = None if stamps is None else pd.DatetimeIndex(pd.to_datetime(stamps, format="ISO8601"))
        except (ValueError, TypeError) as e:
            raise UserError(f"time holds a value that is not an ISO time ({e})") from None
        if time is not None and not time.is_monotonic_increasing:
            raise UserError("time must increase row by row")
        self.series = Series(
            values,
            targets,
            covariates,
            time,
            saved(pre, "season", int, *positive),
            saved(pre, "time_column", str | None),
            offset=saved(ctx, "rows", int, lambda v: v >= len(values), f"at least the {len(values)} rows kept") - len(values),
            freq=saved(pre, "freq", str | None),
        )
        fitted = saved(pre, "fitted", dict)
        saved(fitted, "seen_until", str | int)
        saved(fitted, "mase_scale", float | None, lambda v: v is None or v > 0, "a positive number or None")
        self.fitted = fitted
        self.config.test_fraction = 0.0  # only the context rows came back: nothing held out to evaluate on


def with_calendar(series: Series, names: list[str]) -> Series:
    """``series`` with the calendar features of its time index as its last columns."""
    if not names:
        return series
    values = np.concatenate([series.values, calendar_values(series.time, names)], axis=1)
    return replace(series, values=values, covariates=[*series.covariates, *calendar_names(names)])


def _distinct_names(names: list[str]) -> bool:
    return len(set(names)) == len(names) and all(names)


def check_strategy(config: ForecasterConfig, series: Series) -> None:
    if config.strategy == "recursive" and series.covariates:
        raise UserError("strategy 'recursive' cannot roll past covariates forward; use strategy 'direct' or 'seq2seq'")


def uses_log(transform: str, parts: list[tuple[int, Series]]) -> bool:
    """Whether the targets of the series are modelled in logs: transform 'log', or 'auto' when every
    training value (the rows before each series' validation start) is positive. 'log' with a value <= 0
    anywhere is refused."""
    targets = [(s.values[:val_start, : s.n_targets], s.values[:, : s.n_targets]) for val_start, s in parts]
    log = transform == "log" or (transform == "auto" and all(bool(np.all(train > 0)) for train, _ in targets))
    if log and not all(np.all(every > 0) for _, every in targets):
        raise UserError("transform='log' needs positive target values; use transform='none' (or 'auto')")
    return log


def fitted_rows(series: Series, val_start: int, test_start: int) -> dict:
    """What later evaluations need to know about a series' fitted rows: where unseen rows begin, the MASE scale."""
    return {
        "rows": len(series),
        "test_start": test_start,
        "seen_until": _stamp(series, test_start - 1),
        "mase_scale": mase_scale(series.values[:val_start, : series.n_targets], series.season),
    }


def _stamp(series: Series, row: int):
    """A row's time as ISO text, or its row number without a time index (JSON-friendly)."""
    return series.time[row].isoformat() if series.time is not None else series.offset + row


def default_lookback(season: int, train_rows: int, horizon: int = 1) -> int:
    """Three seasonal periods (24 steps without a season), within 8..200 and at most a quarter of the
    training rows; but at least one season where that leaves 4 training windows (the seasonal anchor
    needs a full season of input)."""
    wanted = 3 * season if season > 1 else 24
    lookback = int(max(1, min(max(8, min(wanted, 200)), train_rows // 4)))
    if 1 < season <= 200 and lookback < season and train_rows - season - horizon + 1 >= 4:
        lookback = season
    return lookback


def is_seasonal(values: np.ndarray, season: int) -> bool:
    """The M4 competition's seasonality test: the autocorrelation at lag ``season`` exceeds its 90%
    bound, 1.645 * sqrt((1 + 2 * sum of the squared autocorrelations below that lag) / n), on the
    series' first differences (so that a trend alone does not pass as a season). Needs 2 seasons."""
    x = np.diff(values)
    n = len(x)
    if season <= 1 or n < 2 * season:
        return False
    x = x - x.mean()
    denominator = float(np.dot(x, x))
    if denominator == 0:
        return False
    acf = np.array([np.dot(x[: n - k], x[k:]) / denominator for k in range(1, season + 1)])
    bound = 1.645 * np.sqrt((1 + 2 * np.sum(acf[:-1] ** 2)) / n)
    return bool(acf[-1] > bound)


def lag_ratio(actual: np.ndarray, origins: np.ndarray, forecast: np.ndarray) -> float | None:
    """How far the 1-step forecast moves from the last observed value, relative to how far the series moves.

    Near 0: the forecast is the input shifted by one step (the classic stock-price illusion).
    """
    moved = np.mean(np.abs(actual[origins] - actual[origins - 1]))
    if moved == 0:
        return None
    return float(np.mean(np.abs(forecast[:, 0] - actual[origins - 1])) / moved)


def future_index(series: Series, horizon: int):
    """The time stamps (or step numbers) of the ``horizon`` rows after the end of ``series``."""
    if series.time is None:
        end = series.offset + len(series)
        return pd.RangeIndex(end, end + horizon, name="step")
    freq = series.freq or "D"  # a one-row series has no step of its own
    return pd.date_range(series.time[-1], periods=horizon + 1, freq=freq)[1:].rename(series.time_column or "date")


def backtest(data, config: ForecasterConfig | None = None, folds: int = 3) -> dict:
    """Rolling-origin evaluation: for each fold refit (scaler included) on all rows before the fold's block
    of test rows, then score the model and the baselines on that block. Metrics are averaged over folds,
    weighted by each fold's number of origins."""
    config = config or ForecasterConfig()
    series = Forecaster(config).read(data)
    n = len(series)
    block = max(config.horizon, int(round(n * 0.1)))
    if folds < 1 or n - folds * block < 4 * config.horizon:
        raise UserError(f"{folds} folds of {block} rows do not fit in {n} rows; use fewer folds= or more data")
    results = []
    # every fold trains from scratch: no checkpoints of the folds in a run directory
    fold_config = replace(config, test_fraction=0.0, training=replace(config.training, checkpoint_dir=None, resume=False))
    for fold in range(folds):
        cut = n - (folds - fold) * block
        model = Forecaster(fold_config)
        model.fit(series.slice(0, cut))
        if model.history is not None and model.history.interrupted:  # Ctrl-C: a partial backtest is no result
            raise KeyboardInterrupt
        result = model.evaluate(series.slice(0, cut + block), start=cut)
        result["train_rows"] = cut
        results.append(result)
        if config.training.verbose:
            print(f"fold {fold + 1}/{folds}: trained on {cut} rows, scored {result['origins']} origins", file=sys.stderr)
    weights = np.array([r["origins"] for r in results], dtype=float)
    methods = list(results[0]["metrics"])
    pooled = {
        m: {key: _weighted([r["metrics"][m][key] for r in results], weights, key) for key in results[0]["metrics"][m]} for m in methods
    }
    best = min((m for m in methods if m not in OWN_ROWS), key=lambda m: pooled[m]["rmse"])
    return {
        "metrics": pooled,
        "best_baseline": best,
        "skill": 1 - pooled["model"]["rmse"] / pooled[best]["rmse"] if pooled[best]["rmse"] > 0 else None,
        "folds": results,
        "horizon": config.horizon,
        "season": series.season,
        "combine": results[-1]["combine"],
    }


def _weighted(values: list, weights: np.ndarray, key: str):
    """Pool a metric over folds of equal horizon: origin-weighted means, RMSE through the pooled MSE."""
    if any(v is None for v in values):
        return None
    if key == "rmse":
        return float(np.sqrt(np.average(np.square(values), weights=weights)))
    return float(np.average(values, weights=weights))
