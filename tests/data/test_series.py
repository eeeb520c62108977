"""Reading tables and datasets into checked series: every user mistake is a UserError naming the fix."""

import numpy as np
import pandas as pd
import pytest

from lstmkit.data.datasets import DATASETS
from lstmkit.data.series import infer_season, read_table, to_panel, to_series
from lstmkit.errors import UserError


def frame(n=10, **columns):
    data = {"date": pd.date_range("2024-01-01", periods=n, freq="D"), "y": np.arange(n, dtype=float)}
    data.update(columns)
    return pd.DataFrame(data)


@pytest.mark.parametrize("name", list(DATASETS))
def test_every_bundled_dataset_loads_offline(name):
    table, info = read_table(name)
    assert info.target in table.columns and len(table) >= 100
    if info.id_column:  # a panel: every series of it
        panel = to_panel(table, info.id_column, info=info)
        assert len(panel) >= 5 and all(np.isfinite(s.values).all() and s.season == panel[next(iter(panel))].season for s in panel.values())
        return
    series = to_series(table, info=info, fill="interpolate")
    assert np.isfinite(series.values).all() and series.season >= 1


def test_bundled_stock_is_the_documented_table():
    table, info = read_table("aapl")
    assert len(table) == 3270 and str(table["date"].iloc[0].date()) == "2000-03-01"
    assert to_series(table, info=info).season == 5  # trading days


def test_csv_and_parquet_files(tmp_path):
    f = frame()
    f.to_csv(tmp_path / "a.csv", index=False)
    f.to_parquet(tmp_path / "a.parquet")
    for path in ("a.csv", "a.parquet"):
        table, _ = read_table(tmp_path / path)
        s = to_series(table)
        assert s.targets == ["y"] and s.time_column == "date" and s.values[:, 0].tolist() == list(range(10))


def test_times_with_different_utc_offsets_are_read_as_utc(capsys):
    stamps = ["2024-01-01 00:00+00:00", "2024-01-01 06:00+05:00", "2024-01-01 02:00+00:00"]  # 06:00+05:00 is 01:00 UTC
    s = to_series(pd.DataFrame({"time": stamps, "y": [0.0, 1.0, 2.0]}))
    assert [t.hour for t in s.time] == [0, 1, 2] and str(s.time.tz) == "UTC"
    assert "mixes UTC offsets; its times are read as UTC" in capsys.readouterr().err


def test_rows_are_sorted_by_time():
    s = to_series(frame().iloc[::-1])
    assert s.values[:, 0].tolist() == list(range(10))


@pytest.mark.parametrize(
    "make,kwargs,message",
    [
        (lambda: frame(), {"targets": ["price"]}, "column 'price' not found; columns are: date, y"),
        (lambda: frame(z=["a"] * 10), {"targets": ["z"]}, "column 'z' is not numeric: 'a' at row 0"),
        (lambda: frame(y=[1.0, np.inf] + [0.0] * 8), {}, "column 'y' contains inf"),
        (lambda: frame(y=[1.0, np.nan] + [0.0] * 8), {}, r"column 'y' has 1 missing values \(first at 2024-01-02.*pass fill= with one of"),
        (lambda: frame(date=["2024-01-01"] * 10), {}, "repeats 2024-01-01"),
        (lambda: frame(date=["soon"] * 10), {}, "time column 'date' has a value that is not a date/time: 'soon'"),
        (lambda: frame(), {"time": "when"}, "time_column='when' is not a column"),
        (lambda: frame(x=np.zeros(10)), {}, "give the column to forecast with targets=; numeric columns are: y, x"),
        (lambda: frame(), {"targets": ["y"], "covariates": ["y"]}, "both as target and covariate"),
        (lambda: frame(), {"fill": "mean"}, "fill='mean' is not one of ffill, interpolate, drop, zero"),
        (lambda: frame(t=np.arange(10)), {"time": "t"}, "time column 't' holds numbers, not dates"),
        (lambda: frame(), {"targets": ["date"]}, "column 'date' holds dates"),
    ],
)
def test_bad_tables_are_user_errors(make, kwargs, message):
    with pytest.raises(UserError, match=message):
        to_series(make(), **kwargs)


@pytest.mark.parametrize(
    "fill,expected", [("ffill", [0, 0, 2, 3]), ("interpolate", [0, 1, 2, 3]), ("zero", [0, 0, 2, 3]), ("drop", [0, 2, 3])]
)
def test_fill_rules(fill, expected):
    s = to_series(frame(4, y=[0.0, np.nan, 2.0, 3.0]), fill=fill)
    assert s.values[:, 0].tolist() == expected
    assert len(s.time) == len(expected)


def test_empty_and_unreadable_files(tmp_path):
    (tmp_path / "empty.csv").write_text("")
    with pytest.raises(UserError, match="is empty"):
        read_table(tmp_path / "empty.csv")
    (tmp_path / "header.csv").write_text("date,y\n")
    with pytest.raises(UserError, match="has no data rows"):
        read_table(tmp_path / "header.csv")
    (tmp_path / "data.xlsx").write_text("x")
    with pytest.raises(UserError, match="unsupported file type '.xlsx'"):
        read_table(tmp_path / "data.xlsx")
    with pytest.raises(UserError, match="neither a bundled dataset .* nor an existing file"):
        read_table(tmp_path / "missing.csv")


@pytest.mark.parametrize(
    "freq,weekends,season",
    [("h", True, 24), ("D", True, 7), ("B", False, 5), ("W", True, 52), ("MS", True, 12), ("QS", True, 4), ("YS", True, 1)],
)
def test_season_from_frequency(freq, weekends, season):
    index = pd.date_range("2020-01-06", periods=60, freq=freq)
    assert infer_season(index) == season


def test_whole_number_years_are_a_time_column():
    s = to_series(pd.DataFrame({"year": [2001, 2000, 2002], "y": [1.0, 0.0, 2.0]}), time="year")
    assert s.values[:, 0].tolist() == [0.0, 1.0, 2.0] and s.time[0] == pd.Timestamp("2000-01-01")


def test_a_numeric_column_named_time_is_not_taken_for_dates():
    s = to_series(pd.DataFrame({"time": np.arange(5), "y": np.arange(5.0)}), targets=["y"])
    assert s.time is None


@pytest.mark.parametrize("bad", [[[1.0, 2.0], [3.0]], [["a"]], ("x",)])
def test_a_ragged_or_textual_array_is_refused_not_read_as_a_path(bad):
    with pytest.raises(UserError, match="a series array must hold numbers in rows of equal length"):
        read_table(bad)
