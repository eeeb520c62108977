"""Bundled real datasets, loaded offline from packages that ship them, plus two generated series.

Every loader returns a DataFrame with a ``date`` column (or none, for generated series) and numeric
columns; the registry says which column is the natural target and what the seasonal period is.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from lstmkit.errors import UserError


@dataclass(frozen=True)
class DatasetInfo:
    name: str
    description: str
    source: str  # the package (and licence) the data comes from
    target: str  # the column forecast by default
    loader: Callable[[], pd.DataFrame] = field(repr=False)
    time: str | None = "date"  # the time column; None: rows are equally spaced steps
    season: int | None = None  # seasonal period when the time column's frequency does not say it well
    install: str | None = None  # how to get the package, for the error when it is missing
    id_column: str | None = None  # a panel of many series in long format: the column naming each row's series


def _need(module: str, install: str):
    import importlib

    try:
        return importlib.import_module(module)
    except ImportError:
        raise UserError(f"this dataset needs the package {module!r}, which is not installed; run: {install}") from None


def _stock(symbol: str) -> Callable[[], pd.DataFrame]:
    def load() -> pd.DataFrame:
        stocks = _need("bokeh_sampledata.stocks", "pip install --no-deps bokeh_sampledata")
        frame = pd.DataFrame(getattr(stocks, symbol))
        frame["date"] = pd.to_datetime(frame["date"])
        return frame

    return load


def _seattle_weather() -> pd.DataFrame:
    local = _need("vega_datasets", "pip install vega_datasets").local_data
    return local.seattle_weather().drop(columns="weather")  # 'weather' is a text label, not a series


def _seattle_temps() -> pd.DataFrame:
    return _need("vega_datasets", "pip install vega_datasets").local_data.seattle_temps()


def _sunspots() -> pd.DataFrame:
    data = _need("statsmodels.datasets.sunspots", "pip install statsmodels").load_pandas().data
    years = data["YEAR"].astype(int).astype(str)
    return pd.DataFrame({"date": pd.to_datetime(years, format="%Y"), "sunactivity": data["SUNACTIVITY"].to_numpy()})


def _co2() -> pd.DataFrame:
    data = _need("statsmodels.datasets.co2", "pip install statsmodels").load_pandas().data
    return pd.DataFrame({"date": data.index.to_numpy(), "co2": data["co2"].to_numpy()})


def _tech_stocks() -> pd.DataFrame:
    return _need("vega_datasets", "pip install vega_datasets").local_data.stocks()


def _us_employment() -> pd.DataFrame:
    """Long format: one row per (sector, month); the totals and the monthly change are left out."""
    wide = _need("vega_datasets", "pip install vega_datasets").local_data.us_employment()
    sectors = wide.drop(columns=["nonfarm", "private", "nonfarm_change"]).rename(columns={"month": "date"})
    frame = sectors.melt(id_vars="date", var_name="sector", value_name="employees")
    frame["date"] = pd.to_datetime(frame["date"])
    return frame[["sector", "date", "employees"]]


def _fertility() -> pd.DataFrame:
    """Long format: one row per (country, year), over each country's observed years (the 9 countries with
    none are left out; the 10 with gaps inside their years are interpolated linearly)."""
    data = _need("statsmodels.datasets.fertility", "pip install statsmodels").load_pandas().data
    years = [c for c in data.columns if c.isdigit()]
    wide = data.set_index("Country Name")[years].astype(float)
    wide = wide[wide.notna().any(axis=1)].T.interpolate(limit_area="inside").T
    frame = wide.rename_axis("country").reset_index().melt(id_vars="country", var_name="date", value_name="fertility").dropna()
    frame["date"] = pd.to_datetime(frame["date"], format="%Y")
    frame["country"] = pd.Categorical(frame["country"], categories=wide.index)  # the data's country order
    return frame.sort_values(["country", "date"]).astype({"country": str}).reset_index(drop=True)


def sine_wave(n: int = 1000, cycles: float = 10.0) -> pd.DataFrame:
    """The tutorial's series: ``sin(linspace(0, 20*pi, 1000))``, ten cycles of 100 points."""
    return pd.DataFrame({"value": np.sin(np.linspace(0, 2 * np.pi * cycles, n))})


def ramp() -> pd.DataFrame:
    """The tutorial's first example: 0.0, 0.1, ..., 9.9."""
    return pd.DataFrame({"value": np.arange(100) / 10})


_STOCK_SOURCE = "bokeh_sampledata (Yahoo Finance daily prices, public domain)"
DATASETS: dict[str, DatasetInfo] = {
    info.name: info
    for info in [
        *(
            DatasetInfo(
                sym.lower(),
                f"{sym} daily prices: open/high/low/close/volume/adj_close (trading days)",
                _STOCK_SOURCE,
                "adj_close",
                _stock(sym),
                install="pip install --no-deps bokeh_sampledata",
            )
            for sym in ("AAPL", "IBM", "MSFT", "GOOG")
        ),
        DatasetInfo(
            "seattle_weather",
            "Seattle daily weather 2012-2015: precipitation, temp_max, temp_min, wind",
            "vega_datasets (MIT)",
            "temp_max",
            _seattle_weather,
        ),
        DatasetInfo("seattle_temps", "Seattle hourly temperature 2010 (degrees F)", "vega_datasets (MIT)", "temp", _seattle_temps),
        DatasetInfo(
            "sunspots", "Yearly mean sunspot numbers 1700-2008 (about 11-year cycle)", "statsmodels", "sunactivity", _sunspots, season=11
        ),
        DatasetInfo("co2", "Weekly atmospheric CO2 at Mauna Loa 1958-2001 (ppm; 59 weeks missing)", "statsmodels", "co2", _co2),
        DatasetInfo(
            "sine", "Generated: sin(linspace(0, 20*pi, 1000)), 100 points per cycle", "generated", "value", sine_wave, time=None, season=100
        ),
        DatasetInfo(
            "tech_stocks",
            "Panel: monthly prices of 5 tech stocks 2000-2010 (symbol column; GOOG from 2004)",
            "vega_datasets (MIT)",
            "price",
            _tech_stocks,
            install="pip install vega_datasets",
            id_column="symbol",
        ),
        DatasetInfo(
            "us_employment",
            "Panel: US employees (thousands) in 20 sectors, monthly 2006-2015 (sector column)",
            "vega_datasets (MIT; US Bureau of Labor Statistics)",
            "employees",
            _us_employment,
            install="pip install vega_datasets",
            id_column="sector",
        ),
        DatasetInfo(
            "fertility",
            "Panel: births per woman in 210 countries, yearly 1960-2011 (country column)",
            "statsmodels (World Bank)",
            "fertility",
            _fertility,
            install="pip install statsmodels",
            id_column="country",
        ),
        DatasetInfo("ramp", "Generated: 0.0, 0.1, ..., 9.9 (the tutorials' first example)", "generated", "value", ramp, time=None),
    ]
}


def get_dataset(name: str) -> DatasetInfo:
    info = DATASETS.get(name.lower())
    if info is None:
        raise UserError(f"unknown dataset {name!r}; bundled datasets are {', '.join(DATASETS)} (see: lstmkit datasets list)")
    return info


def load_dataset(name: str) -> pd.DataFrame:
    return get_dataset(name).loader()


def catalog() -> dict[str, list[dict]]:
    """Every bundled dataset: series (forecast, anomaly) and text (textgen, classify, tag)."""
    from lstmkit.data.tagging import NER_CORPORA
    from lstmkit.data.text import CORPORA, LABELLED

    series = [{"name": d.name, "target": d.target, "description": d.description, "source": d.source} for d in DATASETS.values()]
    text = [
        {"name": name, "task": task, "description": description}
        for task, table in (("textgen", CORPORA), ("classify", LABELLED), ("tag", NER_CORPORA))
        for name, description in table.items()
    ]
    return {"datasets": series, "text": text}


def describe(name: str) -> tuple[dict, pd.DataFrame | None]:
    """A dataset's size, columns or classes, time range, missing values and first example; for a series
    also its first rows."""
    from collections import Counter

    from lstmkit.data.tagging import NER_CORPORA, entities, mark_entities, peoples_daily_ner
    from lstmkit.data.text import CORPORA, LABELLED, labelled_texts, read_text

    if name in CORPORA:
        text = read_text(name)
        return {
            "name": name,
            "description": CORPORA[name],
            "characters": len(text),
            "lines": text.count("\n"),
            "first_line": text.strip().splitlines()[0],
        }, None
    if name in LABELLED:
        texts, labels = labelled_texts(name)
        return {
            "name": name,
            "description": LABELLED[name],
            "texts": len(texts),
            "labels": dict(Counter(labels)),
            "first": f"{labels[0]}: {texts[0]}",
        }, None
    if name in NER_CORPORA:
        parts = peoples_daily_ner()
        return {
            "name": name,
            "description": NER_CORPORA[name],
            "sentences": {k: len(v[0]) for k, v in parts.items()},
            "entities": {k: dict(Counter(e[0] for t in v[1] for e in entities(t))) for k, v in parts.items()},
            "example": mark_entities(parts["train"][0][1], parts["train"][1][1], ""),
        }, None
    info = get_dataset(name)
    frame = info.loader()
    return {
        "name": info.name,
        "description": info.description,
        "source": info.source,
        "rows": len(frame),
        "columns": list(map(str, frame.columns)),
        "target": info.target,
        "time": info.time,
        "from": str(frame[info.time].iloc[0]) if info.time else 0,
        "to": str(frame[info.time].iloc[-1]) if info.time else len(frame) - 1,
        "missing": {str(c): int(v) for c, v in frame.isna().sum().items() if v},
    }, frame
