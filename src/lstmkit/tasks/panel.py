"""Many series at once: ``PanelForecaster``, one global network trained on the windows of every series in
a long table (one row per id and time), as Darts, NeuralForecast and DeepAR do.

Symbol key as in ``tasks/forecast.py``; P series.

Each series is handled as ``Forecaster`` handles one: split chronologically on its own (train |
validation | test by the config's fractions), scaled by a scaler fitted on its own training rows, and
cut into windows. The network trains on the training windows of all series together and early-stops on
their validation windows, so nothing from a series' validation or test rows reaches training. Every
per-series step (scaling, windows, forecasts, the combination with ETS and ARIMA, evaluation against the
baselines) is done by a ``Forecaster`` that shares the global network: one code path for one series and
for many.
"""

from __future__ import annotations

import math
import sys
from dataclasses import dataclass, replace

import numpy as np
import pandas as pd
import torch

from lstmkit.checks import saved
from lstmkit.data.scaling import Scaler
from lstmkit.data.series import Series, read_panel, to_panel
from lstmkit.errors import UserError, listed
from lstmkit.evaluation.metrics import forecast_metrics, mase_scale
from lstmkit.tasks.base import sized_training
from lstmkit.tasks.forecast import (
    TRAINING_STEPS,
    UNVALIDATED_EPOCHS,
    Forecaster,
    ForecasterConfig,
    _weighted,
    check_strategy,
    default_lookback,
    fitted_rows,
    quantile_levels,
    uses_log,
)
from lstmkit.training.checkpoint import fingerprint

KIND = "panel_forecaster"
PANEL_EPOCH_BATCHES = 100  # many series: an epoch is this many batches of a fresh shuffle, not every window
MAX_VAL_WINDOWS = 8192  # many series: early stopping reads a fixed sample of this many validation windows


@dataclass
class PanelConfig(ForecasterConfig):
    id_column: str = "id"  # the column naming each row's series
    balance: bool = False  # repeat short series' training windows up to the median series' count
    # the absolute error: across series of different volatility the squared error lets the most volatile
    # windows drive training (mean MASE on three bundled panels, network alone: us_employment 0.271 -> 0.198,
    # fertility 2.604 -> 1.662, tech_stocks 1.405 -> 1.305)
    loss: str = "mae"

    def check(self) -> None:
        super().check()
        if not self.id_column:
            raise UserError("id_column must name the column that says which series a row belongs to")
        if self.id_column in (self.targets or []) + self.covariates or self.id_column == self.time_column:
            raise UserError(f"id_column {self.id_column!r} is also a target, covariate or time column; name each column once")
        if self.known_ahead:
            raise UserError("future covariates and calendar features are for one series yet, not with id_column")


class PanelForecaster(Forecaster):
    """One LSTM/GRU forecaster for many series: fit on a long table, forecast every series (or some).

    Examples:
        >>> from lstmkit.data.datasets import load_dataset
        >>> f = PanelForecaster(id_column="symbol", horizon=3, epochs=2, verbose=False).fit(load_dataset("tech_stocks"))
        >>> f.predict(ids=["IBM"]).columns.tolist()
        ['symbol', 'date', 'price']
    """

    kind = KIND
    config_class = PanelConfig
    config: PanelConfig

    # --------------------------------------------------------------------------------------- fit
    def _prepare(self, train, validation):
        """``train``: a long table (dataset name, file, DataFrame; or a dict or list of DataFrames);
        ``validation`` (optional): the rows that follow each series', for early stopping."""
        cfg = self.config
        panel = self._read_panel(train, like=None)
        given: dict[str, int] = {}  # where each series' validation rows begin, when they are given apart
        if validation is not None:
            later = self._read_panel(validation, like=next(iter(panel.values())))
            for key, rows in later.items():
                if key not in panel:
                    raise UserError(f"validation has {cfg.id_column} {key!r}, which the training data lacks; give each series' later rows")
                given[key] = len(panel[key])
                panel[key] = panel[key].concat(rows)
        bounds = {k: (given[k], len(s)) if k in given else self._bounds(len(s), s.season) for k, s in panel.items()}
        season = next(iter(panel.values())).season
        self.lookback = cfg.lookback or default_lookback(season, int(np.median([v for v, _ in bounds.values()])), cfg.horizon)
        need = self.lookback + cfg.horizon
        short = [k for k, (v, _) in bounds.items() if v - need + 1 < 1]
        if len(short) == len(panel):
            raise UserError(
                f"no series has more than lookback + horizon = {need} training rows (after holding out validation and "
                "test rows); use a smaller lookback= or horizon=, or longer series"
            )
        if short:
            print(
                f"warning: {len(short)} of {len(panel)} series have too few training rows for lookback + horizon = {need} "
                f"and are left out of training (e.g. {cfg.id_column} {short[0]!r})",
                file=sys.stderr,
            )
        self.panel = {k: s for k, s in panel.items() if k not in short}
        self.series = next(iter(self.panel.values()))  # the columns, season and time column every series shares
        check_strategy(cfg, self.series)
        self.log_targets = uses_log(cfg.transform, [(bounds[k][0], s) for k, s in self.panel.items()])
        trains = [s.values[: bounds[k][0], : s.n_targets] for k, s in self.panel.items()]
        votes = [self._anchor_season(t, season) for t in trains]  # seasonal when most series are
        self.anchor_season = season if 2 * votes.count(season) >= len(votes) > 0 and season > 1 else 1
        self.levels = quantile_levels(cfg)
        self.scalers, self.fitted = {}, {"series": {}}
        # Windows are not materialised: every series' scaled rows are concatenated once, and a window is
        # the index of its first row; _loss gathers a batch's windows from the rows (memory: the rows, not
        # lookback times the rows).
        rows, starts = [], {"train": [], "val": [], "test": []}
        offset = 0
        for key, s in self.panel.items():
            val_start, test_start = bounds[key]
            self.scalers[key] = Scaler.fit(self._logged(s.values[:val_start]), cfg.scaler)
            self.fitted["series"][key] = fitted_rows(s, val_start, test_start)
            rows.append(self.model_inputs(s.values, self.scalers[key]))
            split = self._split(len(s), val_start, test_start)
            for name, part in starts.items():
                part.append(offset + torch.arange(getattr(split, name).start, getattr(split, name).stop))
            offset += len(s)
        self._rows = torch.cat(rows)  # (sum of N, C)
        if cfg.balance:  # a short series' training windows repeat up to the median series' count
            median = float(np.median([len(part) for part in starts["train"]]))
            starts["train"] = [part.repeat(max(1, round(median / len(part)))) if len(part) else part for part in starts["train"]]
        train, val, test = (torch.cat(starts[name]) for name in ("train", "val", "test"))
        self._has_test = len(test) > 0
        if len(val) > MAX_VAL_WINDOWS:  # a fixed sample: a validation check then costs the same for any number of series
            val = val[torch.randperm(len(val), generator=torch.Generator().manual_seed(cfg.training.seed))[:MAX_VAL_WINDOWS]].sort().values
        batches = math.ceil(len(train) / cfg.training.batch_size)
        self._epoch_batches = PANEL_EPOCH_BATCHES if batches > PANEL_EPOCH_BATCHES else None
        (train,), self.epochs = sized_training((train,), cfg.training.batch_size, TRAINING_STEPS, cfg.training.epochs)
        if self._epoch_batches:
            self.epochs = cfg.training.epochs or int(min(300, max(20, math.ceil(TRAINING_STEPS / PANEL_EPOCH_BATCHES))))
        if not len(val) and cfg.val_fraction > 0 and not cfg.training.epochs:
            self.epochs = UNVALIDATED_EPOCHS
        return (train,), ((val,) if len(val) else None)

    def _trainer_keywords(self) -> dict:
        return super()._trainer_keywords() | {"epoch_batches": self._epoch_batches}

    def _describe(self) -> dict:
        # the Trainer fingerprints the window indices it gets; the rows they index are part of the run too
        return super()._describe() | {"rows_sha256": fingerprint([self._rows], {})}

    def _loss(self, model, batch):
        """A batch of window start rows -> the windows' inputs and targets, gathered from the rows."""
        (starts,) = batch
        if self._rows.device != starts.device:
            self._rows = self._rows.to(starts.device)
        span = self.lookback + self.model_steps
        windows = self._rows[starts[:, None] + torch.arange(span, device=starts.device)]  # (B, L + S, C)
        x, y = windows[:, : self.lookback], windows[:, self.lookback :, : self.series.n_targets]
        return super()._loss(model, (x, y))

    def _member(self, key: str, series: Series, known: int | None = None) -> Forecaster:
        """The one-series ``Forecaster`` for ``series`` that shares this model's network and settings: its
        own scaler and MASE scale, fitted on its first ``known`` rows (default: all) when the model has not
        seen ``key`` (so that rows being scored do not scale themselves)."""
        one = Forecaster.__new__(Forecaster)
        one.__dict__.update({k: v for k, v in self.__dict__.items() if k not in ("panel", "scalers", "fitted", "history")})
        one.config = replace(self.config, combine=self._combine_choice())
        one.series = series
        one.history = None
        if key in self.scalers:
            one.scaler, one.fitted = self.scalers[key], self.fitted["series"][key]
        else:  # a series the model has not seen: scaled by its own rows, as each training series was
            rows = series.values[: known or len(series)]
            one.scaler = Scaler.fit(one._logged(rows), self.config.scaler)
            scale = mase_scale(rows[:, : series.n_targets], series.season)
            one.fitted = {"rows": len(series), "seen_until": -1, "mase_scale": scale}
        return one

    def _combine_choice(self) -> str:
        """The members' combine setting: auto means the network alone for a panel (a global model's point)."""
        return "none" if self.config.combine == "auto" else self.config.combine

    @property
    def combination(self) -> str | None:
        combine = self._combine_choice()
        return None if combine == "none" else combine

    def search_folds(self, train, validation) -> list[tuple]:
        return [(train, validation)]  # many series validate on many windows: no rolling origins

    def _origins(self, series: Series) -> int:
        return 1

    def _typical_series(self, train) -> Series:
        """The median-length series: the search's lookbacks must leave it training windows."""
        panel = sorted(self.read(train).values(), key=len)
        return panel[len(panel) // 2]

    # ----------------------------------------------------------------------------------- predict
    def predict(self, data=None, ids=None) -> pd.DataFrame:
        """Forecast the ``horizon`` steps after the end of every series of ``data`` (default: the data the
        model was fitted on), or of the series named in ``ids``. Returns a long DataFrame: the id column,
        the time (or step) column, one column per target and, with quantiles, ``{target}_q{level}``."""
        self._need_model()
        panel = self.panel if data is None else self.read(data)
        frames = []
        for key in self._chosen(panel, ids):
            forecast = self._member(key, panel[key]).predict()
            frames.append(forecast.reset_index().rename(columns={"index": "step"}).assign(**{self.config.id_column: key}))
        frame = pd.concat(frames, ignore_index=True)
        return frame[[self.config.id_column, *[c for c in frame.columns if c != self.config.id_column]]]

    def _chosen(self, panel: dict[str, Series], ids) -> list[str]:
        if ids is None:
            return list(panel)
        ids = [ids] if isinstance(ids, str) else [str(i) for i in ids]
        unknown = [i for i in ids if i not in panel]
        if unknown:
            raise UserError(f"{self.config.id_column} {listed(unknown)} not in the data; its ids are: {listed(list(panel)[:20])}")
        return ids

    # ---------------------------------------------------------------------------------- evaluate
    def evaluate(self, data=None, start=None, ids=None) -> dict:
        """Each series scored as ``Forecaster.evaluate`` scores one (data None: its held-out test rows;
        otherwise the rows of ``data`` after those seen in training, or from row ``start``), then pooled:
        ``metrics`` holds each method's mean over the series, plus ``median_mase``; ``beats`` the share of
        series where the model's MASE is lower than each baseline's; ``per_series`` every series' own."""
        self._need_model()
        panel = self.panel if data is None else self.read(data)
        results = {}
        horizon, skipped = self.config.horizon, 0
        for key in self._chosen(panel, ids):
            series = panel[key]
            seen = key in self.scalers
            member = self._member(key, series, known=None if seen else max(start or 0, self.lookback, series.season + 1))
            if data is None:
                first = self.fitted["series"][key]["test_start"]
            elif start is None:
                try:
                    first = member._first_unseen_row(series)
                except UserError:  # no rows after those seen in training
                    first = len(series)
            else:
                first = start
            if max(first, self.lookback, series.season + 1) > len(series) - horizon:  # no origin with a whole horizon left
                skipped += 1
                continue
            results[key] = member.evaluate(series, start=first)
        if not results:
            where = "held-out rows (test_fraction=0, or a loaded model: pass data)" if data is None else "rows after those seen in training"
            raise UserError(f"no series has {where} to score a horizon of {horizon} on; give newer data, or start= for earlier rows")
        return pooled(results) | {"skipped": skipped}

    # -------------------------------------------------------------------------- cross-validation
    def cross_validation(self, data, n_windows: int = 3, step: int | None = None) -> dict:
        """Rolling-origin cross-validation of the global model, as a user refitting it every ``step`` rows
        would see it: for each of ``n_windows`` cutoffs, ``step`` rows apart (default: the horizon) and
        counted back from each series' end so that the last window ends with the series, a model with
        this config is fitted on every series' rows up to its cutoff, and each series is forecast for the
        horizon after it. Returns the pooled metrics (as ``evaluate``, each series' windows averaged) and
        ``table``: a long DataFrame, one row per series, cutoff and step: the id column, ``cutoff`` (the
        last row the fold was fitted on), the time, ``actual``, ``model`` and each baseline (with several
        targets, a ``target`` column too)."""
        cfg, horizon = self.config, self.config.horizon
        step = step or horizon
        if n_windows < 1 or step < 1:
            raise UserError(f"n_windows and step must be at least 1, got {n_windows} and {step}")
        panel = self._read_panel(data, like=None)
        fold_config = replace(cfg, test_fraction=0.0, training=replace(cfg.training, checkpoint_dir=None, resume=False))
        per_fold: dict[str, list[dict]] = {}
        rows: list[dict] = []
        for fold in range(n_windows):
            back = horizon + (n_windows - 1 - fold) * step  # rows after each series' cutoff
            usable = {k: s.slice(0, len(s) - back) for k, s in panel.items() if len(s) - back > 0}
            if not usable:
                raise UserError(f"no series is longer than the {back} rows {n_windows} windows of {step} hold out; use fewer windows")
            model = PanelForecaster(fold_config).fit(usable)
            if model.history is not None and model.history.interrupted:  # Ctrl-C: a partial cross-validation is no result
                raise KeyboardInterrupt
            for key in model.panel:
                series = panel[key].slice(0, len(usable[key]) + horizon)
                cut = len(usable[key])
                member = model._member(key, series)
                if max(cut, model.lookback, series.season + 1) != cut:
                    continue  # the origin lacks a full lookback or season of rows
                origins, _, points = member.scored_forecasts(series, cut)
                truth = series.values[cut : cut + horizon, : series.n_targets][None]  # (1, H, K)
                scale = member.fitted["mase_scale"]
                per_fold.setdefault(key, []).append(
                    {
                        "metrics": {name: forecast_metrics(truth, p, scale) for name, p in points.items()},
                        "origins": 1,
                        "first_origin": series.label(cut),
                        "horizon": horizon,
                        "season": series.season,
                        "combine": member.combination if "network" in points else None,
                    }
                )
                rows.extend(_table_rows(cfg.id_column, key, series, cut, truth[0], points))
            if cfg.training.verbose:
                print(f"window {fold + 1}/{n_windows}: {len(usable)} series fitted up to {back} rows before their ends", file=sys.stderr)
        if not per_fold:
            raise UserError("no series had a forecast origin with a full lookback in any window; use fewer windows or longer series")
        by_series = {key: _over_windows(results) for key, results in per_fold.items()}
        return pooled(by_series) | {"windows": n_windows, "step": step, "table": pd.DataFrame(rows)}

    # ----------------------------------------------------------------------------------- reading
    def read(self, data) -> dict[str, Series]:  # type: ignore[override]  # a panel reads many series
        """``data`` as checked series by id, read as the model was fitted (columns, time column, season)."""
        return self._read_panel(data, like=getattr(self, "series", None))

    def _read_panel(self, data, like: Series | None) -> dict[str, Series]:
        cfg = self.config
        if isinstance(data, dict) and data and all(isinstance(s, Series) for s in data.values()):
            return dict(data)  # already read (the command line reads the data before fitting)
        frame, info = read_panel(data, cfg.id_column)
        if like is not None:
            return to_panel(frame, cfg.id_column, like.targets, like.covariates, like.time_column, cfg.fill, info, like.season)
        return to_panel(frame, cfg.id_column, cfg.targets, cfg.covariates, cfg.time_column, cfg.fill, info, cfg.season)

    def plot(self, path=None, ids=None):
        """The forecast plot of one series (the first, or ``ids``' first): a Figure, also a PNG at ``path``."""
        key = self._chosen(self.panel, ids)[0]
        return self._member(key, self.panel[key]).plot(path, label=f"{self.config.id_column} {key}, {', '.join(self.series.targets)}")

    # -------------------------------------------------------------------------------- save/load
    def _export_graph(self):
        raise UserError(
            "a panel model scales each series by its own statistics, which one exported graph does not hold yet; "
            "export a Forecaster trained on one series, or use the model from Python"
        )

    def _preprocessing(self) -> dict:
        return {"id_column": self.config.id_column, "series": {k: self._member(k, s)._preprocessing() for k, s in self.panel.items()}}

    def _restore(self, config: dict, pre: dict) -> None:
        every = saved(pre, "series", dict, lambda v: len(v) > 0, "at least one series")
        self.panel, self.scalers, self.fitted = {}, {}, {"series": {}}
        for key in every:
            one = Forecaster.__new__(Forecaster)
            one.config = self.config
            Forecaster._restore(one, config, saved(every, key, dict))
            self.panel[key], self.scalers[key], self.fitted["series"][key] = one.series, one.scaler, one.fitted
            for name in ("lookback", "epochs", "log_targets", "anchor_season", "levels"):
                setattr(self, name, getattr(one, name))
        self.series = next(iter(self.panel.values()))
        self.config.test_fraction = 0.0


def _table_rows(id_column: str, key: str, series: Series, cut: int, truth: np.ndarray, points: dict[str, np.ndarray]) -> list[dict]:
    """The cross-validation table's rows of one series and cutoff: one per step (and target)."""
    index = series.time if series.time is not None else pd.RangeIndex(series.offset, series.offset + len(series))
    time = series.time_column or ("date" if series.time is not None else "step")
    stamp = index.__getitem__
    out = []
    for h in range(len(truth)):
        for k, target in enumerate(series.targets):
            row = {id_column: key, "cutoff": stamp(cut - 1), time: stamp(cut + h)}
            if series.n_targets > 1:
                row["target"] = target
            out.append(row | {"actual": float(truth[h, k])} | {name: float(p[0, h, k]) for name, p in points.items()})
    return out


def _over_windows(results: list[dict]) -> dict:
    """One series' cross-validation windows pooled as backtest pools folds (RMSE through the mean MSE)."""
    weights = np.ones(len(results))
    metrics = {
        m: {key: _weighted([r["metrics"][m][key] for r in results], weights, key) for key in results[0]["metrics"][m]}
        for m in results[0]["metrics"]
    }
    return results[0] | {"metrics": metrics, "origins": len(results)}


def pooled(results: dict[str, dict]) -> dict:
    """Per-series evaluations pooled: the mean of every metric over the series (those that have it: MASE
    needs a training part that is not flat, MAPE actuals that are not 0), the median MASE, the share of
    series where the model's MASE is below each baseline's, and the mean interval coverage."""
    first = next(iter(results.values()))
    methods = [m for m in first["metrics"] if all(m in r["metrics"] for r in results.values())]
    metrics = {}
    for m in methods:
        keys = first["metrics"][m]
        values = {k: [v for r in results.values() if (v := r["metrics"][m][k]) is not None] for k in keys}
        metrics[m] = {k: float(np.mean(vs)) if vs else None for k, vs in values.items()}
        metrics[m]["median_mase"] = float(np.median(values["mase"])) if values.get("mase") else None
    own = {"model", "network"}
    beats = {}
    for m in methods:
        if m in own:
            continue
        pairs = [(r["metrics"]["model"]["mase"], r["metrics"][m]["mase"]) for r in results.values()]
        pairs = [(a, b) for a, b in pairs if a is not None and b is not None]
        beats[m] = float(np.mean([a < b for a, b in pairs])) if pairs else None
    mase_of = {m: np.inf if (v := metrics[m]["mase"]) is None else v for m in methods}
    best = min((m for m in methods if m not in own), key=mase_of.__getitem__)
    model_mase, best_mase = metrics["model"]["mase"], metrics[best]["mase"]
    return {
        "metrics": metrics,
        "best_baseline": best,
        "skill": None if not best_mase or model_mase is None else 1 - model_mase / best_mase,
        "skill_metric": "mase",
        "beats": beats,
        "series": len(results),
        "origins": int(sum(r["origins"] for r in results.values())),
        "horizon": first["horizon"],
        "season": first["season"],
        "combine": first["combine"],
        "per_series": {k: {key: r[key] for key in ("metrics", "origins", "first_origin")} for k, r in results.items()},
    } | _coverage(results)


def _coverage(results: dict[str, dict]) -> dict:
    """The quantile interval's coverage, averaged over the series (empty for a point forecast)."""
    covered = [r["interval"] for r in results.values() if "interval" in r]
    if not covered:
        return {}
    return {"interval": {"levels": covered[0]["levels"], "coverage": float(np.mean([c["coverage"] for c in covered]))}}
