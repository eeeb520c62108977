"""Calendar features: known for any future time, so a forecaster reads them for the steps it forecasts.

Each feature is a position in a cycle, written as its sine and cosine, so that the end of a cycle sits
next to its start (December beside January, 23:00 beside midnight).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from lstmkit.errors import UserError

# name -> (position in the cycle from a DatetimeIndex, cycle length)
CALENDAR = {
    "hour": (lambda t: t.hour + t.minute / 60, 24.0),
    "weekday": (lambda t: t.dayofweek, 7.0),
    "month": (lambda t: t.month - 1, 12.0),
    "dayofyear": (lambda t: t.dayofyear - 1, 365.25),
}
PREFIX = "calendar:"


def check_calendar(names: list[str]) -> None:
    unknown = [n for n in names if n not in CALENDAR]
    if unknown or len(set(names)) < len(names):
        raise UserError(f"calendar features are chosen from {', '.join(CALENDAR)}, each once; got {names}")


def calendar_names(names: list[str]) -> list[str]:
    """The columns the features become: calendar:month_sin, calendar:month_cos, ..."""
    return [f"{PREFIX}{n}_{part}" for n in names for part in ("sin", "cos")]


def calendar_values(time: pd.DatetimeIndex | None, names: list[str]) -> np.ndarray:
    """(N, 2 * len(names)): each feature's sine and cosine at each time."""
    if time is None:
        raise UserError("calendar features need a time column; name it with time_column=")
    columns = []
    for name in names:
        position, cycle = CALENDAR[name]
        angle = 2 * np.pi * np.asarray(position(time), dtype=np.float64) / cycle
        columns += [np.sin(angle), np.cos(angle)]
    return np.stack(columns, axis=1)
