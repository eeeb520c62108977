"""The Forecaster: leak-free splits, strategies, quantiles, covariates, persistence, evaluation."""

from dataclasses import replace

import numpy as np
import pandas as pd
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from lstmkit.data.datasets import sine_wave
from lstmkit.data.scaling import Scaler
from lstmkit.errors import UserError
from lstmkit.tasks.forecast import Forecaster, ForecasterConfig, backtest


def quick(**kwargs):
    """A small network's settings; its forecasts are the network's own (the ARIMA combination has its own tests)."""
    defaults = dict(lookback=20, epochs=15, verbose=False, hidden_size=32, ensemble=1, combine="none")
    return Forecaster(**{**defaults, **kwargs}).config


@pytest.fixture(scope="module")
def sine_model():
    return Forecaster(quick(horizon=10, epochs=40)).fit("sine")


def test_sine_forecast_beats_naive_and_drift_tenfold(sine_model):
    m = sine_model.metrics
    rmse = {name: v["rmse"] for name, v in m["metrics"].items()}
    assert rmse["model"] < 0.1 * min(rmse["naive"], rmse["drift"])
    # a noiseless sine repeats itself: the seasonal baselines (its period, 100 rows, taken out by MSTL for ETS
    # and ARIMA) are near-oracles
    assert m["best_baseline"] in ("seasonal_naive", "ets", "arima") and m["season"] > 24
    assert m["origins"] == 1000 - 800 - 10 + 1
    assert set(m["metrics"]) == {"model", "naive", "drift", "seasonal_naive", "ets", "arima"}
    assert "warning" not in m


@settings(max_examples=50, deadline=None)
@given(n=st.integers(60, 400), lookback=st.integers(1, 10), horizon=st.integers(1, 5), val=st.floats(0.05, 0.3), test=st.floats(0.0, 0.3))
def test_no_training_target_reaches_into_validation_or_test(n, lookback, horizon, val, test):
    f = Forecaster(ForecasterConfig(lookback=lookback, horizon=horizon, val_fraction=val, test_fraction=test))
    f.lookback = lookback
    val_start, test_start = f._bounds(n, 1)
    split = f._split(n, val_start, test_start)
    last_target_row = lambda window: window + lookback + horizon - 1
    if len(split.train):
        assert last_target_row(split.train[-1]) == val_start - 1  # every usable training window, none past it
    for window in split.val:
        assert window + lookback >= val_start and last_target_row(window) < test_start
    for window in split.test:
        assert window + lookback >= test_start and last_target_row(window) < n


def test_scaler_is_fitted_on_training_rows_only():
    values = np.concatenate([np.sin(np.arange(300) / 5), 1000 + np.arange(100.0)])  # the last rows are wild
    f = Forecaster(quick(epochs=1, val_fraction=0.1, test_fraction=0.15)).fit(pd.DataFrame({"y": values}))
    val_start = f._bounds(len(values), f.series.season)[0]
    expected = Scaler.fit(values[:val_start, None], "standard")
    np.testing.assert_allclose(f.scaler.shift, expected.shift)
    np.testing.assert_allclose(f.scaler.scale, expected.scale)


class PlusOne(torch.nn.Module):
    """A stand-in 1-step model: next value = last input value + 1 (in scaled units), shape (B, 1, K, 1)."""

    def forward(self, x):
        return (x[:, -1:, :] + 1)[..., None]


def test_recursive_strategy_feeds_each_forecast_back():
    f = Forecaster(quick(strategy="recursive", horizon=4, scaler="none", epochs=1)).fit(pd.DataFrame({"y": np.arange(100.0)}))
    f.model = PlusOne()
    assert f.predict()["y"].tolist() == [100.0, 101.0, 102.0, 103.0]  # the tutorial's loop crashed after step 1


@pytest.mark.parametrize("strategy", ["recursive", "seq2seq"])
def test_other_strategies_learn_the_sine(strategy):
    f = Forecaster(quick(horizon=5, strategy=strategy, epochs=30)).fit(sine_wave())
    assert f.metrics["skill"] > 0.3, f.metrics
    assert f.predict().shape == (5, 1)


def test_bidirectional_gru_encoder_trains():
    f = Forecaster(quick(horizon=3, cell="gru", bidirectional=True, num_layers=2, dropout=0.1)).fit(sine_wave())
    assert f.metrics["skill"] > 0.0


def test_quantiles_give_ordered_intervals_with_coverage():
    f = Forecaster(quick(horizon=3, quantiles=[0.1, 0.9], epochs=30)).fit(noisy_sine())
    forecast = f.predict()
    assert list(forecast.columns) == ["y", "y_q0.1", "y_q0.9"]
    assert (forecast["y_q0.1"] <= forecast["y"]).all() and (forecast["y"] <= forecast["y_q0.9"]).all()
    assert 0.6 < f.metrics["interval"]["coverage"] <= 1.0  # nominal 0.8


def noisy_sine(n=1200, seed=0):
    rng = np.random.default_rng(seed)
    t = np.arange(n)
    return pd.DataFrame({"y": np.sin(2 * np.pi * t / 40) + rng.normal(0, 0.2, n)})


def test_several_targets_and_a_covariate():
    t = np.arange(600)
    driver = np.sin(2 * np.pi * t / 30)
    frame = pd.DataFrame({"a": np.roll(driver, 3), "b": np.cos(2 * np.pi * t / 30), "driver": driver})
    f = Forecaster(quick(horizon=2, epochs=10, targets=["a", "b"], covariates=["driver"])).fit(frame)
    assert list(f.predict().columns) == ["a", "b"]
    assert f.model.encoder.input_size == 3
    with pytest.raises(UserError, match="recursive' cannot roll past covariates"):
        Forecaster(quick(strategy="recursive", targets=["a"], covariates=["driver"])).fit(frame)


def promotions(n: int = 300, seed: int = 0) -> pd.DataFrame:
    """Daily sales that jump by 20 on promotion days (a fifth of the days, at random): known ahead, never from the past."""
    rng = np.random.default_rng(seed)
    promo = (rng.random(n) < 0.2).astype(float)
    sales = 50 + 5 * np.sin(2 * np.pi * np.arange(n) / 7) + 20 * promo + rng.normal(0, 1, n)
    return pd.DataFrame({"date": pd.date_range("2020-01-01", periods=n, freq="D"), "sales": sales, "promo": promo})


@pytest.fixture(scope="module")
def promo_models():
    base = dict(horizon=7, targets=["sales"], ensemble=1, hidden_size=16, verbose=False)
    frame = promotions()
    return frame, Forecaster(**base).fit(frame), Forecaster(**base, future_covariates=["promo"], calendar=["weekday"]).fit(frame)


def test_known_ahead_columns_are_read_for_the_forecast_steps(promo_models, tmp_path):
    frame, blind, informed = promo_models
    assert informed.metrics["metrics"]["model"]["mase"] < 0.5 * blind.metrics["metrics"]["model"]["mase"]
    # the windows hold the forecast steps' promotion and calendar columns, and nothing else of those steps
    x, _ = informed._windows(informed.series)
    lookback, known = informed.lookback, informed.config.known_ahead
    assert x.shape[1] == lookback + 7 and known == 3 and informed.series.covariates[-2:] == ["calendar:weekday_sin", "calendar:weekday_cos"]
    assert torch.all(x[:, lookback:, :-known] == 0) and torch.equal(x[1:, lookback - 1, -known:], x[:-1, lookback, -known:])
    # predict reads the promotion at each step's date: the promoted days are forecast about 20 higher
    days = pd.date_range(frame["date"].iloc[-1], periods=8, freq="D")[1:]
    future = pd.DataFrame({"date": days[::-1], "promo": [1.0, 0, 0, 1, 0, 0, 0][::-1]})  # any row order: matched by date
    forecast = informed.predict(future=future)["sales"].to_numpy()
    assert np.all(forecast[[0, 3]][:, None] > forecast[[1, 2, 4, 5, 6]][None] + 8)
    informed.save(tmp_path / "m")
    np.testing.assert_allclose(Forecaster.load(tmp_path / "m").predict(future=future)["sales"], forecast, rtol=1e-6)
    with pytest.raises(UserError, match=r"reads \['promo'\] at the 7 steps it forecasts: give future= a table"):
        informed.predict()
    with pytest.raises(UserError, match="no row for 2020-11-02;"):
        informed.predict(future=future.iloc[1:])
    with pytest.raises(UserError, match=r"lack column\(s\) \['promo'\]"):
        informed.predict(future=future.rename(columns={"promo": "offer"}))
    with pytest.raises(UserError, match="must be numbers, with none missing"):
        informed.predict(future=future.assign(promo=[1, None, 0, 0, 0, 0, 0]))
    with pytest.raises(UserError, match="cannot be exported yet"):
        informed.export(tmp_path / "m.onnx")
    with pytest.raises(UserError, match="reads no future covariates; leave out future="):
        blind.predict(future=future)


def test_calendar_features_are_cycles_and_need_a_time_column():
    from lstmkit.data.calendar import calendar_values

    hours = pd.date_range("2021-01-01", periods=48, freq="h")
    values = calendar_values(hours, ["hour", "month"])
    np.testing.assert_allclose(values[:24], values[24:48], atol=1e-12)  # one day's cycle
    np.testing.assert_allclose(values[0], [0.0, 1.0, 0.0, 1.0], atol=1e-12)  # midnight, January
    np.testing.assert_allclose(np.hypot(values[:, 0], values[:, 1]), 1.0)
    with pytest.raises(UserError, match="calendar features need a time column"):
        Forecaster(quick(calendar=["month"])).fit(pd.DataFrame({"y": np.arange(100.0)}))


def test_combined_forecasts_are_the_median_with_ets_and_arima_or_the_mean_with_arima_from_every_origin(tmp_path):
    from lstmkit.evaluation.baselines import statistical

    t = np.arange(400)
    y = 10 + np.sin(2 * np.pi * t / 12) + 0.01 * t + np.random.default_rng(0).normal(0, 0.1, 400)
    frame = pd.DataFrame({"y": y})
    config = quick(horizon=3, epochs=3, season=12, combine="arima", quantiles=[0.1, 0.9], test_fraction=0.1)
    model = Forecaster(config).fit(frame)
    rows = model.metrics["metrics"]
    assert {"model", "network", "arima"} <= set(rows) and model.metrics["best_baseline"] not in ("model", "network")

    origins, network = model.network_origins(model.series, 360)
    arima = statistical(y[:, None], origins, 3, 12, "arima")
    _, combined = model.forecast_origins(model.series, 360)
    np.testing.assert_allclose(combined[..., 1], (network[..., 1] + arima) / 2)
    np.testing.assert_allclose(combined[..., 2] - combined[..., 0], network[..., 2] - network[..., 0])  # intervals keep their width
    truth = y[origins[:, None] + np.arange(3)]
    assert rows["model"]["mae"] == pytest.approx(np.abs(combined[..., 0, 1] - truth).mean())

    future = model.predict()
    own = model.forecast_windows(model.model_inputs(y[-model.lookback :, None])[None])[0, :, 0, 1]  # the network by hand
    np.testing.assert_allclose(future["y"], (own + statistical(y[:, None], np.array([400]), 3, 12, "arima")[0, :, 0]) / 2)
    model.save(tmp_path / "m")  # the saved context holds ARIMA's fitting rows: the loaded model forecasts the same
    pd.testing.assert_frame_equal(Forecaster.load(tmp_path / "m").predict(), future)

    median = Forecaster(replace(config, combine="auto")).fit(frame)  # the default: the median with ETS and ARIMA
    assert median.combination == "median" and median.metrics["combine"] == "median"
    origins, network = median.network_origins(median.series, 360)
    _, combined = median.forecast_origins(median.series, 360)
    ets = statistical(y[:, None], origins, 3, 12, "ets")
    np.testing.assert_allclose(combined[..., 1], np.median([network[..., 1], ets, arima], axis=0))
    np.testing.assert_allclose(combined[..., 2] - combined[..., 0], network[..., 2] - network[..., 0])
    assert median.metrics["metrics"]["model"]["mae"] == pytest.approx(np.abs(combined[..., 0, 1] - truth).mean())

    covariate = Forecaster(replace(config, combine="auto", targets=["y"], covariates=["x"])).fit(frame.assign(x=np.cos(t)))
    assert covariate.combination is None and "network" not in covariate.metrics["metrics"]  # ETS and ARIMA cannot read covariates
    with pytest.raises(UserError, match="combine must be one of auto, median, arima, none"):
        Forecaster(combine="mean")
    with pytest.raises(UserError, match=r"column\(s\) \['y'\] are named more than once among targets and covariates"):
        Forecaster(targets=["y", "y"])


def test_save_load_round_trip_predicts_the_same(tmp_path, sine_model):
    sine_model.save(tmp_path / "run")
    loaded = Forecaster.load(tmp_path / "run")
    pd.testing.assert_frame_equal(loaded.predict(), sine_model.predict())
    assert loaded.predict().index[0] == 1000  # the step numbering continues after the fitted rows
    np.testing.assert_allclose(
        loaded.evaluate(sine_wave(), start=800)["metrics"]["model"]["rmse"], sine_model.metrics["metrics"]["model"]["rmse"], rtol=1e-6
    )
    with pytest.raises(UserError, match="no held-out test rows"):
        loaded.evaluate()


def test_same_seed_same_forecast():
    a = Forecaster(quick(epochs=3, seed=4)).fit(sine_wave()).predict()
    b = Forecaster(quick(epochs=3, seed=4)).fit(sine_wave()).predict()
    pd.testing.assert_frame_equal(a, b)


def test_random_walk_forecast_triggers_the_lag_warning():
    rng = np.random.default_rng(0)
    walk = pd.DataFrame({"y": 100 + np.cumsum(rng.normal(0, 1, 1500))})
    result = Forecaster(quick(epochs=10)).fit(walk).metrics
    assert result["lag_ratio"] < 0.25
    assert "mostly the last input value shifted by one step" in result["warning"]


def test_series_too_short_for_lookback_and_horizon():
    with pytest.raises(UserError, match=r"fewer than lookback \+ horizon = 25 \+ 1; use a smaller lookback="):
        Forecaster(quick(lookback=20, horizon=5)).fit(pd.DataFrame({"y": np.arange(30.0)}))


@pytest.mark.parametrize(
    "kwargs,message",
    [
        ({"strategy": "beam"}, "strategy must be one of direct, recursive, seq2seq"),
        ({"quantiles": [0.1, 1.5]}, "quantiles must lie strictly between 0 and 1"),
        ({"quantiles": [0.1], "strategy": "recursive"}, "quantiles need strategy 'direct' or 'seq2seq'"),
        ({"cell": "rnn"}, "cell must be 'lstm' or 'gru'"),
        ({"horizon": 0}, "horizon must be at least 1"),
        ({"batch_size": 0}, "batch_size must be a whole number of at least 1"),
        ({"epochs": 0}, "epochs must be a whole number of at least 1"),
        ({"season": 0}, "season must be a whole number of rows of at least 1"),
        ({"dropout": 2.0}, r"dropout must be in \[0, 1\)"),
        ({"loss": "huber"}, "loss must be one of mse, mae"),
        ({"calendar": ["hours"]}, "calendar features are chosen from hour, weekday, month, dayofyear, each once"),
        ({"calendar": ["month"], "strategy": "recursive"}, "known-ahead columns .* need strategy 'direct' or 'seq2seq'"),
        ({"future_covariates": ["promo"], "covariates": ["promo"]}, r"column\(s\) \['promo'\] are named more than once"),
    ],
)
def test_bad_configuration(kwargs, message):
    with pytest.raises(UserError, match=message):
        Forecaster(**kwargs)


def test_point_loss_is_the_squared_or_the_absolute_error():
    import torch.nn.functional as F

    for loss, reference in (("mse", F.mse_loss), ("mae", F.l1_loss)):
        model = Forecaster(quick(horizon=2, epochs=1, loss=loss)).fit(pd.DataFrame({"y": np.sin(np.arange(80) / 3)}))
        x, y = model._windows(model.series)
        assert model._loss(model.model, (x, y)).item() == pytest.approx(reference(model.model(x)[..., 0], y).item())


def test_predict_before_fit_is_a_user_error():
    with pytest.raises(UserError, match="not fitted yet"):
        Forecaster().predict()


def test_backtest_refits_the_scaler_on_each_fold(monkeypatch):
    fitted_rows = []
    real_fit = Scaler.fit.__func__

    def spy(cls, values, kind="standard"):
        fitted_rows.append(len(values))
        return real_fit(cls, values, kind)

    monkeypatch.setattr(Scaler, "fit", classmethod(spy))
    result = backtest("sine", quick(horizon=2, epochs=2), folds=3)
    assert len(result["folds"]) == 3 and len(set(fitted_rows)) == 3  # three different training spans
    assert [f["train_rows"] for f in result["folds"]] == [700, 800, 900]
    origins = sum(f["origins"] for f in result["folds"])
    assert origins == 3 * (100 - 2 + 1) and set(result["metrics"]) == {"model", "naive", "drift", "seasonal_naive", "ets", "arima"}


def test_horizon_longer_than_the_test_rows_is_refused_before_training():
    with pytest.raises(UserError, match="holds out 60 rows, fewer than the horizon 100"):
        Forecaster(quick(horizon=100, lookback=5)).fit(pd.DataFrame({"y": np.sin(np.arange(300.0))}))


@pytest.mark.parametrize("freq", ["h", "MS"])
def test_future_timestamps_survive_save_and_load_with_a_short_lookback(tmp_path, freq):
    t = pd.date_range("2020-01-01", periods=200, freq=freq)
    frame = pd.DataFrame({"date": t, "y": np.sin(np.arange(200) / 3)})
    model = Forecaster(quick(lookback=1, horizon=3, epochs=1)).fit(frame)
    model.save(tmp_path / "m")
    assert list(Forecaster.load(tmp_path / "m").predict().index) == list(model.predict().index)
    assert model.predict().index[0] == t[-1] + t.freq


def test_evaluating_new_data_scores_only_unseen_rows_with_the_training_mase_scale(tmp_path, sine_model):
    sine_model.save(tmp_path / "run")
    loaded = Forecaster.load(tmp_path / "run")
    result = loaded.evaluate("sine")  # the same series: only its held-out rows are unseen
    assert result["first_origin"] == 800 and result["origins"] == sine_model.metrics["origins"]
    assert result["metrics"]["model"]["mase"] == pytest.approx(sine_model.metrics["metrics"]["model"]["mase"], rel=1e-6)
    with pytest.raises(UserError, match="no rows after those the model was trained and validated on"):
        loaded.evaluate(pd.DataFrame({"value": np.zeros(500)}))


def test_backtest_pools_rmse_through_the_mean_squared_error():
    result = backtest("sine", quick(horizon=2, epochs=2), folds=2)
    folds = result["folds"]
    weights = np.array([f["origins"] for f in folds])
    mse = np.array([f["metrics"]["model"]["rmse"] ** 2 for f in folds])
    assert result["metrics"]["model"]["rmse"] == pytest.approx(np.sqrt(np.average(mse, weights=weights)))


def _monthly_frame(n=120, seed=0, growth=0.01):
    rng = np.random.default_rng(seed)
    t = np.arange(n)
    y = 100 * np.exp(growth * t) * (1 + 0.2 * np.sin(2 * np.pi * t / 12)) * np.exp(rng.normal(0, 0.01, n))
    return pd.DataFrame({"date": pd.date_range("2000-01-01", periods=n, freq="MS"), "y": y})


def test_the_untrained_network_forecasts_its_seasonal_anchor():
    from lstmkit.evaluation.baselines import seasonal_naive
    from lstmkit.tasks.networks import ForecastNet

    y = np.random.default_rng(0).normal(size=(60, 1))
    one_season = ForecastNet(1, 1, 1, ForecasterConfig(horizon=15, lookback=12), anchor_season=12).eval()
    x = torch.tensor(y[None, 42:54], dtype=torch.float32)  # rows 42..53: forecast from origin 54
    expected = seasonal_naive(y, np.array([54]), 15, 12)[0, :, 0]
    np.testing.assert_allclose(one_season(x)[0, :, 0, 0].detach().numpy(), expected, rtol=1e-5, atol=1e-5)

    # two seasons in the window: the last season's mean plus the profile averaged over both seasons
    two_seasons = ForecastNet(1, 1, 1, ForecasterConfig(horizon=15, lookback=24), anchor_season=12).eval()
    x = torch.tensor(y[None, 30:54], dtype=torch.float32)
    first, second = y[30:42, 0], y[42:54, 0]
    profile = ((first - first.mean()) + (second - second.mean())) / 2
    expected = [second.mean() + profile[h % 12] for h in range(15)]
    np.testing.assert_allclose(two_seasons(x)[0, :, 0, 0].detach().numpy(), expected, rtol=1e-5, atol=1e-5)

    last = ForecastNet(1, 1, 1, ForecasterConfig(horizon=15, lookback=24), anchor_season=1).eval()
    np.testing.assert_allclose(last(x)[0, :, 0, 0].detach().numpy(), np.full(15, y[53, 0]), rtol=1e-5)


def test_seasonality_test_tells_a_season_from_a_trend_and_from_noise():
    from lstmkit.tasks.forecast import is_seasonal

    rng = np.random.default_rng(1)
    t = np.arange(120)
    assert is_seasonal(np.sin(2 * np.pi * t / 12) + 0.01 * t + rng.normal(0, 0.2, 120), 12)
    assert not is_seasonal(np.cumsum(rng.normal(size=120)), 12)  # a random walk
    assert not is_seasonal(0.5 * t + rng.normal(0, 1, 120), 12)  # a trend alone
    assert not is_seasonal(np.sin(2 * np.pi * t[:20] / 12), 12)  # fewer than two seasons: no verdict


def test_positive_growing_series_is_modelled_in_logs_and_forecast_positive():
    frame = _monthly_frame()
    model = Forecaster(horizon=12, epochs=3, verbose=False, test_fraction=0.0).fit(frame)
    assert model.log_targets and model.anchor_season == 12 and model.lookback >= 12
    assert (model.predict()["y"] > 0).all()
    shifted = frame.assign(y=frame["y"] - 150)  # negative values: the default keeps the original scale
    assert not Forecaster(horizon=12, epochs=1, verbose=False, test_fraction=0.0).fit(shifted).log_targets
    with pytest.raises(UserError, match="transform='log' needs positive target values"):
        Forecaster(horizon=12, epochs=1, verbose=False, transform="log").fit(shifted)


def test_an_ensemble_forecasts_the_median_of_members_reading_shorter_lookbacks(tmp_path):
    model = Forecaster(horizon=3, lookback=24, ensemble=3, anchor="last", epochs=2, verbose=False, test_fraction=0.0, combine="none").fit(
        "sine"
    )
    assert model.model.lookbacks == [24, 16, 8]
    x = model.model_inputs(model.series.values[-24:])[None]
    with torch.no_grad():
        members = torch.stack([m(x[:, -k:]) for m, k in zip(model.model.members, model.model.lookbacks)], dim=-1)
    median = members.median(dim=-1).values[0, :, 0, 0].numpy() * model.scaler.scale[0] + model.scaler.shift[0]
    np.testing.assert_allclose(model.predict().iloc[:, 0].to_numpy(), median, rtol=1e-5)
    model.save(tmp_path / "m")
    np.testing.assert_allclose(Forecaster.load(tmp_path / "m").predict().to_numpy(), model.predict().to_numpy(), rtol=1e-6)


def test_short_series_validates_on_one_horizon_and_val_fraction_zero_validates_on_nothing():
    frame = _monthly_frame(72)
    model = Forecaster(horizon=12, verbose=False, test_fraction=0.0, epochs=2).fit(frame)
    assert model.history.best_val_loss is not None  # 10% of 72 rows is 7 < 12: the validation part grew to 12 rows
    none = Forecaster(horizon=12, verbose=False, test_fraction=0.0, val_fraction=0.0, epochs=2).fit(frame)
    assert none.history.best_val_loss is None and len(none.history.epochs) == 2
