"""From a dataset name, a CSV/Parquet file or a DataFrame to a checked numeric series.

Every problem a user can fix (an unknown column, text in a numeric column, missing values without a
fill rule, an empty file, duplicated timestamps) is a ``UserError`` that names it and the fix.
"""

from __future__ import annotations

import os
import sys
import warnings
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from lstmkit.data.datasets import DATASETS, DatasetInfo, get_dataset
from lstmkit.data.tables import read_file
from lstmkit.errors import UserError, listed

FILL_METHODS = ("ffill", "interpolate", "drop", "zero")  # interpolate reads the next observed value; ffill is causal


def check_fill(fill: str | None) -> None:
    if fill is not None and fill not in FILL_METHODS:
        raise UserError(f"fill={fill!r} is not one of {', '.join(FILL_METHODS)}")


TIME_NAMES = ("date", "time", "timestamp", "datetime", "ds")


@dataclass
class Series:
    """A multivariate series ready for windowing. Symbol key: N rows, C columns (targets, then covariates)."""

    values: np.ndarray  # (N, C) float64
    targets: list[str]
    covariates: list[str]
    time: pd.DatetimeIndex | None  # None: equally spaced steps offset..offset+N-1
    season: int  # seasonal period in rows (1: none known)
    time_column: str | None = None  # the column the time index came from
    offset: int = 0  # row number of the first row in the data it was sliced from
    freq: str | None = None  # pandas frequency of the time index ("B" for trading days); None: irregular or no time

    @property
    def n_targets(self) -> int:
        return len(self.targets)

    def __len__(self) -> int:
        return len(self.values)

    def slice(self, start: int, stop: int) -> Series:
        time = None if self.time is None else self.time[start:stop]
        return Series(
            self.values[start:stop], self.targets, self.covariates, time, self.season, self.time_column, self.offset + start, self.freq
        )

    def concat(self, later: Series) -> Series:
        """This series followed by ``later`` (the same columns, later rows), e.g. training then validation rows."""
        if (later.targets, later.covariates) != (self.targets, self.covariates):
            raise UserError(
                f"validation has columns {later.targets + later.covariates}, the training data "
                f"{self.targets + self.covariates}; give both the same columns"
            )
        time = None
        if self.time is not None and later.time is not None:
            if len(self) and len(later) and later.time[0] <= self.time[-1]:
                raise UserError(
                    f"validation starts at {later.time[0]}, not after the training data's end "
                    f"{self.time[-1]}; give the rows that follow the training rows"
                )
            time = self.time.append(later.time)
        return Series(
            np.concatenate([self.values, later.values]),
            self.targets,
            self.covariates,
            time,
            self.season,
            self.time_column,
            self.offset,
            self.freq,
        )

    def label(self, row: int):
        """A printable name for a row: its date/time, or its step number."""
        if self.time is None:
            return self.offset + row
        stamp = self.time[row]
        return str(stamp.date()) if stamp == stamp.normalize() else str(stamp)


def read_table(data: str | os.PathLike | pd.DataFrame | pd.Series | np.ndarray) -> tuple[pd.DataFrame, DatasetInfo | None]:
    """A DataFrame and, for a bundled dataset, its registry entry. A 1-D array or a pandas Series is one
    column named ``y`` (or the Series' name); a 2-D array has columns ``y0``, ``y1``, ..."""
    if isinstance(data, pd.DataFrame):
        return data.copy(), None
    if isinstance(data, pd.Series):
        return data.to_frame(name=data.name if data.name is not None else "y"), None
    if isinstance(data, (np.ndarray, list, tuple)):
        try:
            array = np.asarray(data, dtype=float)
        except (ValueError, TypeError) as e:  # ragged rows, or text among the numbers
            raise UserError(f"a series array must hold numbers in rows of equal length ({e}); give a rectangular numeric array") from None
        if array.ndim == 1:
            return pd.DataFrame({"y": array}), None
        if array.ndim == 2:
            return pd.DataFrame(array, columns=[f"y{k}" for k in range(array.shape[1])]), None
        raise UserError(f"a series array must be 1-D (one series) or 2-D (rows x columns), got shape {array.shape}")
    text = str(data)
    if text.lower() in DATASETS:
        info = get_dataset(text)
        return info.loader(), info
    return read_file(text, known=", ".join(DATASETS)), None


def to_series(
    frame: pd.DataFrame,
    targets: Sequence[str] | None = None,
    covariates: Sequence[str] = (),
    time: str | None = None,
    fill: str | None = None,
    info: DatasetInfo | None = None,
    season: int | None = None,
) -> Series:
    """Select, check and order the columns of ``frame``.

    Args:
        targets: columns to forecast; default: the dataset's target, or the only numeric column.
        covariates: past covariates, known up to the forecast origin.
        time: the time column; default: the dataset's, else a datetime column or one named date/time/....
        fill: what to do with missing values: None (error), "ffill", "interpolate", "drop" or "zero".
        season: seasonal period in rows; default: inferred from the time column's frequency.
    """
    if info is not None and info.id_column:
        raise UserError(
            f"{info.name} holds many series, one per {info.id_column!r}; pass id_column={info.id_column} to train one model "
            "on all of them (in Python, to a PanelForecaster)"
        )
    table = _checked(frame, targets, covariates, time, fill, info)
    return next(iter(_split_series(table, info, season).values()))


@dataclass
class _Table:
    """A checked long table: rows sorted by series, then time. Symbol key: N rows, C columns, P series."""

    values: np.ndarray  # (N, C)
    time: pd.DatetimeIndex | None
    codes: np.ndarray  # (N,) each row's series, 0..P-1 in order of first appearance
    names: list[str]  # (P,) the series' ids
    targets: list[str]
    covariates: list[str]
    time_column: str | None
    id_column: str | None


def _checked(
    frame: pd.DataFrame,
    targets: Sequence[str] | None,
    covariates: Sequence[str],
    time: str | None,
    fill: str | None,
    info: DatasetInfo | None,
    id_column: str | None = None,
) -> _Table:
    """Every check of to_series, done once for a whole table: by column, vectorised over the rows of every
    series (``id_column`` names them; None: one series). Errors name the series a problem is in."""
    check_fill(fill)
    columns = list(map(str, frame.columns))
    frame = frame.set_axis(columns, axis=1)
    if id_column is not None:
        if id_column not in columns:
            raise UserError(f"id_column={id_column!r} is not a column; columns are: {listed(columns)}")
        ids = frame[id_column]
        if ids.isna().any():
            raise UserError(f"id column {id_column!r} has {int(ids.isna().sum())} empty values; give every row an id")
        codes, uniques = pd.factorize(ids.astype(str), sort=False)
        names = [str(u) for u in uniques]
        frame = frame.drop(columns=id_column)
        columns = list(frame.columns)
    else:
        codes, names = np.zeros(len(frame), dtype=np.int64), ["0"]
    where = (lambda row: f"{id_column} {names[codes[row]]!r}: ") if id_column is not None else (lambda row: "")
    time = time if time is not None else (info.time if info else _detect_time(frame))
    if time is not None and time not in columns:
        raise UserError(f"time_column={time!r} is not a column; columns are: {listed(columns)}")
    targets = list(targets) if targets else _default_targets(frame, info, time)
    covariates = list(covariates)
    for name in targets + covariates:
        if name not in columns:
            raise UserError(f"column {name!r} not found; columns are: {listed(columns)}")
    if set(targets) & set(covariates):
        raise UserError(f"{sorted(set(targets) & set(covariates))} are given both as target and covariate; choose one")
    for name in targets + covariates:
        if name == time or pd.api.types.is_datetime64_any_dtype(frame[name]):
            raise UserError(f"column {name!r} holds dates, not values to forecast; choose a numeric column")

    stamps = None
    if time is not None:
        stamps = _parse_time(frame[time], time)
        bad = stamps.isna() & frame[time].notna()
        if bad.any():
            row = int(np.flatnonzero(bad.to_numpy())[0])
            value = frame[time].iloc[row]
            raise UserError(f"{where(row)}time column {time!r} has a value that is not a date/time: {value!r} (row {row + 2} of the file)")
        if stamps.isna().any():
            row = int(np.flatnonzero(stamps.isna().to_numpy())[0])
            raise UserError(f"{where(row)}time column {time!r} is empty at row {row + 2} of the file; give every row a time")
        order = np.lexsort((stamps.to_numpy(), codes))  # by series, then time; stable for equal times
    else:
        order = np.argsort(codes, kind="stable")
    frame, codes = frame.iloc[order].reset_index(drop=True), codes[order]
    if stamps is not None:
        stamps = stamps.iloc[order].reset_index(drop=True)
        repeated = np.flatnonzero((stamps.to_numpy()[1:] == stamps.to_numpy()[:-1]) & (codes[1:] == codes[:-1]))
        if len(repeated):
            row = int(repeated[0]) + 1
            fix = (
                "give one row per id and time"
                if id_column is not None
                else "give one row per time step, or for many series in one table name the column that tells them apart "
                "with id_column= (in Python, to a PanelForecaster)"
            )
            raise UserError(f"{where(row)}time column {time!r} repeats {stamps.iloc[row]}; {fix}")

    selected = frame[targets + covariates]
    numeric = selected.apply(pd.to_numeric, errors="coerce")
    for name in selected.columns:
        bad = numeric[name].isna() & selected[name].notna()
        if bad.any():
            row = int(np.flatnonzero(bad.to_numpy())[0])
            raise UserError(
                f"{where(row)}column {name!r} is not numeric: {selected[name].iloc[row]!r} at row {row}; clean it or choose another column"
            )
    values = numeric.to_numpy(dtype=np.float64)
    if np.isinf(values).any():
        row, k = (int(v[0]) for v in np.nonzero(np.isinf(values)))
        raise UserError(
            f"{where(row)}column {numeric.columns[k]!r} contains inf; replace it with a number or leave it empty and pass fill="
        )
    missing = numeric.isna()
    if missing.to_numpy().any():
        if fill is None:
            name = missing.columns[missing.any()][0]
            first = int(np.flatnonzero(missing[name].to_numpy())[0])
            at = f"at {frame[time].iloc[first]}" if time else f"at row {first}"
            count = int(missing[name][codes == codes[first]].sum())
            raise UserError(
                f"{where(first)}column {name!r} has {count} missing values (first {at}); "
                f"pass fill= with one of {', '.join(FILL_METHODS)} to choose how to fill them"
            )
        by_series = numeric.groupby(codes, sort=False)  # a fill never reaches across two series
        if fill == "drop":
            complete = ~missing.any(axis=1).to_numpy()
            numeric, codes = numeric[complete], codes[complete]
            stamps = None if stamps is None else stamps[complete]
        elif fill == "zero":
            numeric = numeric.fillna(0.0)
        elif fill == "ffill":
            numeric = by_series.ffill().groupby(codes, sort=False).bfill()  # leading gaps take the first observed value
        else:
            numeric = by_series.transform(lambda column: column.interpolate(limit_direction="both"))
        values = numeric.to_numpy(dtype=np.float64)
        if np.isnan(values).any():  # a column without a single value in some series: nothing to fill from
            row, k = (int(v[0]) for v in np.nonzero(np.isnan(values)))
            raise UserError(f"{where(row)}column {numeric.columns[k]!r} has no values at all; leave that column (or series) out")
    if len(values) == 0:
        raise UserError("the data has no rows left; give more data")
    index = pd.DatetimeIndex(stamps) if stamps is not None else None
    return _Table(values, index, np.asarray(codes), names, targets, covariates, time, id_column)


def _split_series(table: _Table, info: DatasetInfo | None, season: int | None) -> dict[str, Series]:
    """A checked table's series by id: views of its rows. The season and the frequency are read off the
    longest series (a short one's spacing says less); mixed spacings are refused."""
    stops = np.flatnonzero(np.diff(table.codes)) + 1
    bounds = list(zip([0, *stops.tolist()], [*stops.tolist(), len(table.values)]))
    names = [table.names[table.codes[a]] for a, _ in bounds]  # a series whose rows were all dropped has none
    times = [None if table.time is None else table.time[a:b] for a, b in bounds]
    longest = int(np.argmax([b - a for a, b in bounds]))
    if table.time is not None and len(bounds) > 1:
        _check_spacing(table)
    if season is None:
        season = (info.season if info and info.season else None) or infer_season(times[longest])
    freq = infer_freq(times[longest])
    return {
        name: Series(table.values[a:b], table.targets, table.covariates, time, int(season), table.time_column, freq=freq)
        for name, (a, b), time in zip(names, bounds, times)
    }


def _check_spacing(table: _Table) -> None:
    """Every series steps alike: their median steps within a factor 1.5 (monthly 28-31 days stays one
    frequency; weekly against monthly does not)."""
    assert table.time is not None
    steps = pd.Series(np.diff(table.time.asi8)).where(table.codes[1:] == table.codes[:-1])
    medians = steps.groupby(table.codes[1:]).median().dropna()
    if len(medians) > 1 and medians.max() > 1.5 * medians.min():
        shown = ", ".join(
            f"{table.id_column} {table.names[int(code)]!r} steps {_duration(pd.Timedelta(int(medians[code]), 'ns'))}"
            for code in (medians.idxmin(), medians.idxmax())
        )
        raise UserError(f"the series do not share one frequency ({shown}); give one frequency per file, e.g. resample them first")


def _duration(step: pd.Timedelta) -> str:
    return f"{step.days} days" if step == pd.Timedelta(days=step.days) else str(step)


def _parse_time(column: pd.Series, name: str) -> pd.Series:
    """Dates from text or datetimes; whole numbers between 1000 and 2999 are years; other numbers are refused
    (pandas would read them as nanoseconds since 1970)."""
    if pd.api.types.is_numeric_dtype(column):
        values = column.dropna()
        if len(values) and (values == values.round()).all() and values.between(1000, 2999).all():
            return pd.to_datetime(column.astype("Int64").astype(str), format="%Y", errors="coerce")
        raise UserError(
            f"time column {name!r} holds numbers, not dates; leave out time_column= to use the row order, or give dates such as 2024-01-31"
        )
    with warnings.catch_warnings():  # pandas warns when it must guess each format; bad values are reported later
        warnings.simplefilter("ignore", UserWarning)
        warnings.simplefilter("ignore", FutureWarning)  # its notice about mixed UTC offsets, handled below
        try:
            stamps = pd.to_datetime(column, errors="coerce")
            if pd.api.types.is_datetime64_any_dtype(stamps):
                return stamps
        except ValueError as e:  # pandas versions differ: mixed offsets raise, or give objects
            if not any(word in str(e).lower() for word in ("timezone", "utc=true")):
                raise
        # rows with different UTC offsets (+00:00 and +05:00) are still instants: compared and spaced in UTC
        print(f"note: time column {name!r} mixes UTC offsets; its times are read as UTC", file=sys.stderr)
        return pd.to_datetime(column, errors="coerce", utc=True)


def _detect_time(frame: pd.DataFrame) -> str | None:
    for name in frame.columns:
        if pd.api.types.is_datetime64_any_dtype(frame[name]):
            return name
    for name in frame.columns:
        if name.lower() in TIME_NAMES and not pd.api.types.is_numeric_dtype(frame[name]):
            return name
    for name in frame.columns:  # text that reads as dates, e.g. a CSV's "2024-01-31"
        column = frame[name]
        if column.dtype == object or pd.api.types.is_string_dtype(column):
            head = column.dropna().head(20).astype(str)
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", UserWarning)
                if len(head) and pd.to_datetime(head, errors="coerce").notna().all():
                    return name
    return None


def _default_targets(frame: pd.DataFrame, info: DatasetInfo | None, time: str | None) -> list[str]:
    if info is not None:
        return [info.target]
    numeric = [c for c in frame.columns if c != time and pd.api.types.is_numeric_dtype(frame[c])]
    if len(numeric) == 1:
        return numeric
    raise UserError(f"give the column to forecast with targets=; numeric columns are: {listed(numeric) or 'none'}")


def infer_freq(index: pd.DatetimeIndex | None) -> str | None:
    """The step between rows as a pandas frequency: inferred when regular, "B" for daily data without
    weekends (trading days), otherwise the median step as a fixed offset. None without a time index."""
    if index is None or len(index) < 2:
        return None
    with warnings.catch_warnings():  # pandas 3 announces infer_freq returning offsets; .freqstr below covers both
        warnings.simplefilter("ignore")
        freq = pd.infer_freq(index[-1000:]) if len(index) >= 3 else None
    freq = getattr(freq, "freqstr", freq)
    step = pd.Series(index).diff().median()
    if freq is None and step == pd.Timedelta(days=1) and not (index.day_of_week >= 5).any():
        freq = "B"
    return freq or pd.tseries.frequencies.to_offset(step).freqstr


def infer_season(index: pd.DatetimeIndex | None) -> int:
    """Seasonal period from the typical spacing of the timestamps: hourly 24, daily 7 (5 for trading days,
    i.e. daily data without weekends), weekly 52, monthly 12, quarterly 4; 1 when unknown."""
    if index is None or len(index) < 3:
        return 1
    step = pd.Series(index).diff().median()
    hours = step / pd.Timedelta(hours=1)
    if hours <= 1 / 60 * 1.5:
        return 60  # minutely: hourly cycle
    if hours <= 1.5:
        return 24
    if hours <= 36:
        return 7 if (index.day_of_week >= 5).any() else 5
    days = hours / 24
    if days <= 10:
        return 52
    if days <= 45:
        return 12
    if days <= 120:
        return 4
    return 1


def read_panel(data, id_column: str) -> tuple[pd.DataFrame, DatasetInfo | None]:
    """A long table of many series: a dataset name, a file or a DataFrame with ``id_column``; or a dict of
    DataFrames by id, or a list of them (ids "0", "1", ...), stacked into one with ``id_column``."""
    parts = list(data.items() if isinstance(data, dict) else enumerate(data) if isinstance(data, list) else [])
    if parts and all(isinstance(part, pd.DataFrame) for _, part in parts):
        frames = []
        for key, part in parts:
            if id_column in part.columns:
                raise UserError(f"the DataFrame of id {key!r} has a column {id_column!r}; the dict's keys are the ids: rename that column")
            frames.append(part.assign(**{id_column: str(key)}))
        return pd.concat(frames, ignore_index=True), None
    frame, info = read_table(data)
    if id_column not in map(str, frame.columns):
        raise UserError(f"id_column={id_column!r} is not a column; columns are: {listed(frame.columns)}")
    return frame, info


def to_panel(
    frame: pd.DataFrame,
    id_column: str,
    targets: Sequence[str] | None = None,
    covariates: Sequence[str] = (),
    time: str | None = None,
    fill: str | None = None,
    info: DatasetInfo | None = None,
    season: int | None = None,
) -> dict[str, Series]:
    """The series of a long table, by id (in order of first appearance): checked as ``to_series`` checks
    one (their errors name the id), sharing one frequency and season."""
    table = _checked(frame, targets, covariates, time, fill, info, id_column)
    return _split_series(table, info, season)
