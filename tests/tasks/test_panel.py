"""PanelForecaster: many series in one long table, one global network, per-series splits and scalers."""

import numpy as np
import pandas as pd
import pytest
import torch

from lstmkit.data.series import read_panel, to_panel
from lstmkit.errors import UserError
from lstmkit.tasks.forecast import Forecaster
from lstmkit.tasks.panel import PanelForecaster, pooled


def long_table(lengths=(120, 90, 60), seed=0) -> pd.DataFrame:
    """Monthly seasonal series of different lengths, levels and start dates, stacked with an ``id`` column."""
    rng = np.random.default_rng(seed)
    frames = []
    for k, n in enumerate(lengths):
        t = np.arange(n)
        level = 10.0 ** (k + 1)  # 10, 100, 1000: per-series scaling has to cope
        values = level * (1 + 0.3 * np.sin(2 * np.pi * t / 12) + 0.01 * t + 0.02 * rng.standard_normal(n))
        dates = pd.date_range("2000-01-01", periods=n, freq="MS") + pd.DateOffset(months=12 * k)
        frames.append(pd.DataFrame({"id": f"s{k}", "date": dates, "y": values}))
    return pd.concat(frames, ignore_index=True)


def quick(**kwargs):
    return PanelForecaster(**{"id_column": "id", "horizon": 6, "epochs": 8, "hidden_size": 16, "ensemble": 1, "verbose": False, **kwargs})


@pytest.fixture(scope="module")
def fitted():
    return quick().fit(long_table())


def test_reads_each_series_with_its_own_length_and_start():
    panel = to_panel(long_table(), "id")
    assert list(panel) == ["s0", "s1", "s2"]
    assert [len(s) for s in panel.values()] == [120, 90, 60]
    assert {s.season for s in panel.values()} == {12} and panel["s1"].time[0] == pd.Timestamp("2001-01-01")


@pytest.mark.parametrize(
    "change, message",
    [
        (lambda f: pd.concat([f, f.iloc[[5]]]), "id 's0': time column 'date' repeats 2000-06-01 00:00:00; give one row per id and time$"),
        (lambda f: f.assign(y=f["y"].astype(object).where(f.index != 130, "n/a")), "id 's1': column 'y' is not numeric: 'n/a'"),
        (lambda f: f.assign(id=f["id"].where(f.index != 3)), "id column 'id' has 1 empty values"),
    ],
)
def test_bad_panels_name_the_series(change, message):
    with pytest.raises(UserError, match=message.replace("(", r"\(")):
        to_panel(change(long_table()), "id", targets=["y"])


def test_mixed_frequencies_are_refused():
    frame = long_table()
    weekly = frame[frame["id"] == "s2"].assign(date=pd.date_range("2000-01-02", periods=60, freq="W"))
    with pytest.raises(UserError, match="do not share one frequency \\(id 's2' steps 7 days, id 's0' steps 31 days\\)"):
        to_panel(pd.concat([frame[frame["id"] != "s2"], weekly]), "id")


def test_a_dict_of_frames_is_a_panel_keyed_by_its_keys():
    frame = long_table()
    parts = {key: rows.drop(columns="id") for key, rows in frame.groupby("id")}
    stacked, _ = read_panel(parts, "store")
    assert sorted(stacked["store"].unique()) == ["s0", "s1", "s2"] and len(stacked) == len(frame)
    with pytest.raises(UserError, match="has a column 'id'"):
        read_panel({k: frame for k in "ab"}, "id")


def test_a_stacked_file_without_id_column_points_to_it(tmp_path):
    path = tmp_path / "stores.csv"
    long_table().to_csv(path, index=False)
    with pytest.raises(UserError, match="repeats .* tells them apart with id_column="):
        Forecaster(targets=["y"]).read(str(path))


def test_one_network_forecasts_every_series_in_its_own_units(fitted):
    forecast = fitted.predict()
    assert forecast.columns.tolist() == ["id", "date", "y"]
    assert forecast.groupby("id").size().to_dict() == {"s0": 6, "s1": 6, "s2": 6}
    last = long_table().groupby("id")["y"].last()
    ratio = forecast.groupby("id")["y"].mean() / last
    assert ratio.between(0.5, 2).all()  # levels 10, 100, 1000: each forecast stays near its own series
    first = forecast.groupby("id")["date"].first()
    assert first["s0"] == pd.Timestamp("2010-01-01") and first["s2"] == pd.Timestamp("2007-01-01")
    assert fitted.predict(ids=["s1"])["id"].unique().tolist() == ["s1"]
    with pytest.raises(UserError, match="id s9 not in the data"):
        fitted.predict(ids=["s9"])


def test_evaluation_pools_the_series_and_counts_wins(fitted):
    m = fitted.metrics
    assert m["series"] == 3 and set(m["per_series"]) == {"s0", "s1", "s2"}
    per = [r["metrics"]["model"]["mase"] for r in m["per_series"].values()]
    assert m["metrics"]["model"]["mase"] == pytest.approx(np.mean(per))
    assert m["metrics"]["model"]["median_mase"] == pytest.approx(np.median(per))
    for name, share in m["beats"].items():
        wins = [r["metrics"]["model"]["mase"] < r["metrics"][name]["mase"] for r in m["per_series"].values()]
        assert share == pytest.approx(np.mean(wins))
    assert {"naive", "seasonal_naive", "drift", "ets", "arima"} <= set(m["beats"])


def test_each_series_is_split_and_scaled_on_its_own_training_rows(fitted):
    table = long_table()
    for key, series in fitted.panel.items():
        val_start, test_start = fitted._bounds(len(series), 12)
        rows = table[table["id"] == key]["y"].to_numpy()[:val_start]
        assert fitted.scalers[key].shift[0] == pytest.approx(np.log(rows).mean())  # all positive: the log is modelled
        assert fitted.fitted["series"][key]["test_start"] == test_start


def test_validation_and_test_rows_never_reach_training():
    """Rows after each series' training part changed wildly: the trained weights are the same to the bit
    (early stopping off, so that the validation loss cannot choose another epoch)."""
    table = long_table()
    model = quick(epochs=3, patience=None)
    model.fit(table)
    changed = table.copy()
    for _, rows in table.groupby("id"):
        val_start = model._bounds(len(rows), 12)[0]
        later = rows.index[val_start:]
        changed.loc[later, "y"] = changed.loc[later, "y"] * 7 + 3
    other = quick(epochs=3, patience=None).fit(changed)
    for a, b in zip(model.model.state_dict().values(), other.model.state_dict().values()):
        assert torch.equal(a, b)


def test_short_series_are_left_out_with_a_warning(capsys):
    model = quick(lookback=24).fit(long_table(lengths=(120, 100, 30)))
    assert list(model.panel) == ["s0", "s1"]
    assert "1 of 3 series have too few training rows" in capsys.readouterr().err
    with pytest.raises(UserError, match="no series has more than lookback"):
        quick(lookback=24).fit(long_table(lengths=(30, 30)))


def test_save_and_load_forecast_the_same(fitted, tmp_path):
    fitted.save(tmp_path / "run")
    loaded = PanelForecaster.load(tmp_path / "run")
    pd.testing.assert_frame_equal(loaded.predict(), fitted.predict())
    again = loaded.evaluate(long_table())  # the rows after those seen: each series' test rows
    assert again["metrics"]["model"]["mase"] == pytest.approx(fitted.metrics["metrics"]["model"]["mase"], rel=1e-9)


def test_a_series_the_model_has_not_seen_is_forecast_in_its_own_units(fitted):
    new = long_table(lengths=(80,), seed=3).assign(id="new", y=lambda f: f["y"] * 50)
    forecast = fitted.predict(new)
    assert forecast["id"].unique().tolist() == ["new"]
    assert forecast["y"].mean() / new["y"].iloc[-12:].mean() == pytest.approx(1, abs=0.5)


def test_cross_validation_refits_per_window_and_tables_every_origin():
    table = long_table()
    result = quick(epochs=3).cross_validation(table, n_windows=2, step=3)
    cv = result["table"]
    assert cv.columns.tolist()[:5] == ["id", "cutoff", "date", "actual", "model"]
    assert {"naive", "seasonal_naive", "drift", "ets", "arima"} <= set(cv.columns)
    assert len(cv) == 3 * 2 * 6  # series x windows x horizon
    ends = table.groupby("id")["date"].max()
    for key, rows in cv.groupby("id"):
        cutoffs = sorted(rows["cutoff"].unique())
        assert cutoffs[-1] == ends[key] - pd.DateOffset(months=6)  # the last window ends with the series
        assert cutoffs[0] == cutoffs[-1] - pd.DateOffset(months=3)  # windows step rows apart
        actual = table.set_index(["id", "date"])["y"]
        assert np.allclose(rows["actual"], [actual[(key, d)] for d in rows["date"]])
        naive = [actual[(key, c)] for c in rows["cutoff"]]
        assert np.allclose(rows["naive"], naive)  # the naive forecast repeats the cutoff's value
    assert result["windows"] == 2 and result["series"] == 3
    errors = (cv["model"] - cv["actual"]).abs().groupby([cv["id"], cv["cutoff"]]).mean()
    assert result["metrics"]["model"]["mae"] == pytest.approx(errors.groupby(level=0).mean().mean())


def test_filling_never_reaches_from_one_series_into_the_next():
    frame = long_table(lengths=(24, 24))
    frame.loc[24:26, "y"] = np.nan  # the first rows of s1
    with pytest.raises(UserError, match="id 's1': column 'y' has 3 missing values"):
        to_panel(frame, "id")
    panel = to_panel(frame, "id", fill="ffill")
    assert np.all(panel["s1"].values[:3, 0] == frame["y"].iloc[27])  # s1's own first value, not s0's last


def test_a_flat_series_leaves_the_pooled_mase_to_the_others():
    results = {
        "a": {"metrics": {"model": {"mase": 0.5}, "naive": {"mase": 1.0}}, "origins": 2, "first_origin": 0, "horizon": 1, "season": 1},
        "b": {"metrics": {"model": {"mase": None}, "naive": {"mase": None}}, "origins": 2, "first_origin": 0, "horizon": 1, "season": 1},
    }
    for r in results.values():
        r["combine"] = None
    out = pooled(results)
    assert out["metrics"]["model"]["mase"] == 0.5 and out["beats"] == {"naive": 1.0} and out["skill"] == pytest.approx(0.5)


def test_panel_refusals_name_the_problem():
    frame = long_table(lengths=(40, 40)).assign(x=1.0)
    with pytest.raises(UserError, match="strategy 'recursive' cannot roll past covariates"):
        quick(strategy="recursive", targets=["y"], covariates=["x"], lookback=12, horizon=3).fit(frame)
    frame.loc[frame["id"] == "s1", "x"] = np.nan
    with pytest.raises(UserError, match="id 's1': column 'x' has no values at all"):
        to_panel(frame, "id", targets=["y"], covariates=["x"], fill="ffill")
    frame.loc[3, "date"] = None
    with pytest.raises(UserError, match="id 's0': time column 'date' is empty at row 5 of the file"):
        to_panel(frame, "id", targets=["y"])


def test_auto_searches_a_panel_and_refits_the_best_settings():
    from lstmkit.training.search import SearchOptions

    model = quick(ensemble=2).fit(long_table(), auto=SearchOptions(trials=2))
    trials = model.search["trials"]
    assert [t["state"] for t in trials] == ["complete", "complete"]
    best = min(trials, key=lambda t: t["score"])
    assert model.search["best"]["score"] == best["score"]
    assert model.lookback == best["lookback"] and model.config.ensemble == 2  # the winner, refitted as the ensemble
    assert model.predict().groupby("id").size().to_dict() == {"s0": 6, "s1": 6, "s2": 6}


def test_balance_repeats_short_series_windows_up_to_the_median_count():
    table = long_table(lengths=(150, 60, 60, 90))
    counts = []
    for balance in (False, True):
        model = quick(lookback=12, balance=balance, batch_size=1)  # batch 1: no repeats to fill an epoch's batches
        (starts,), _ = model._prepare(table, None)
        offsets = np.cumsum([0, *[len(s) for s in model.panel.values()]])
        counts.append(np.bincount(np.searchsorted(offsets, starts.numpy(), side="right") - 1, minlength=4))
    plain, balanced = counts
    median = np.median(plain)
    assert plain[0] > 2 * plain[1]  # without balancing the long series has most of the windows
    assert balanced.tolist() == [n * max(1, round(median / n)) for n in plain]
