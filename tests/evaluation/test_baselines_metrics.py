"""Baselines on hand-made series, and metrics against scikit-learn."""

import numpy as np
import pytest
from sklearn.metrics import mean_absolute_error, mean_absolute_percentage_error, mean_squared_error

from lstmkit.evaluation.baselines import drift, naive, seasonal_naive
from lstmkit.evaluation.metrics import forecast_metrics, mase_scale, smape

Y = np.array([1.0, 2.0, 3.0, 10.0, 20.0, 30.0, 100.0])[:, None]


def test_naive_repeats_the_last_observation():
    assert naive(Y, np.array([3, 5]), 2)[:, :, 0].tolist() == [[3.0, 3.0], [20.0, 20.0]]


def test_seasonal_naive_repeats_one_season_back():
    # season 3, origin 6: steps read rows 3, 4, 5 and then 3 again for a 4th step
    assert seasonal_naive(Y, np.array([6]), 4, 3)[0, :, 0].tolist() == [10.0, 20.0, 30.0, 10.0]
    with pytest.raises(ValueError, match="needs 3 rows"):
        seasonal_naive(Y, np.array([2]), 1, 3)


def test_drift_extends_the_line_from_the_first_observation():
    # origin 3: last value 3 at row 2, first value 1 at row 0: slope 1 per row
    assert drift(Y, np.array([3]), 3)[0, :, 0].tolist() == [4.0, 5.0, 6.0]


def test_metrics_match_sklearn():
    rng = np.random.default_rng(0)
    y, p = rng.uniform(1, 5, (20, 3, 1)), rng.uniform(1, 5, (20, 3, 1))
    m = forecast_metrics(y, p, scale=2.0)
    assert m["mae"] == pytest.approx(mean_absolute_error(y.ravel(), p.ravel()))
    assert m["rmse"] == pytest.approx(np.sqrt(mean_squared_error(y.ravel(), p.ravel())))
    assert m["mape"] == pytest.approx(100 * mean_absolute_percentage_error(y.ravel(), p.ravel()))
    assert m["mase"] == pytest.approx(m["mae"] / 2.0)


def test_undefined_metrics_are_none_not_nan():
    y, p = np.array([0.0, 1.0]), np.array([0.0, 2.0])
    assert forecast_metrics(y, p, None)["mape"] is None
    # a series crossing zero: one target of both signs makes MAPE undefined, targets of one sign each do not
    crossing = np.array([[[-1.0, 2.0]], [[1e-9, 3.0]]])
    assert forecast_metrics(crossing, crossing + 0.1, None)["mape"] is None
    assert forecast_metrics(-np.abs(crossing), -np.abs(crossing) + 0.1, None)["mape"] is not None
    assert forecast_metrics(np.array([[[-1.0, 2.0]], [[-2.0, 3.0]]]), np.zeros((2, 1, 2)), None)["mape"] == pytest.approx(100)
    assert smape(y, p) == pytest.approx(200 * (0 + 1 / 3) / 2)  # 0/0 counts as 0
    assert mase_scale(np.ones(10), 1) is None
    assert mase_scale(np.arange(10.0), 1) == 1.0
    assert mase_scale(np.arange(10.0), 3) == 3.0


def _monthly(n=96, seed=0):
    rng = np.random.default_rng(seed)
    t = np.arange(n)
    return (100 + 0.5 * t + 10 * np.sin(2 * np.pi * t / 12) + rng.normal(0, 1, n))[:, None]


@pytest.mark.parametrize("method", ["ets", "arima"])
def test_statistical_baselines_are_statsforecasts_models_fitted_before_the_origin(method):
    from statsforecast.models import AutoARIMA, AutoETS

    from lstmkit.evaluation.baselines import statistical

    y = _monthly()
    ours = statistical(y, np.array([72]), 12, 12, method)[0, :, 0]
    unit = np.abs(y[:72, 0]).max()  # fitted in units of the rows' largest magnitude
    model = {"ets": AutoETS, "arima": AutoARIMA}[method](season_length=12).fit(y[:72, 0] / unit)
    np.testing.assert_allclose(ours, unit * model.predict(12)["mean"])
    unscaled = {"ets": AutoETS, "arima": AutoARIMA}[method](season_length=12).fit(y[:72, 0]).predict(12)["mean"]
    np.testing.assert_allclose(ours, unscaled, rtol=1e-4)  # the models are scale-equivariant, up to their optimisers
    for scale in (1e-300, 1e300):  # where the optimisers fail on the raw values ("No suitable ARIMA model found")
        np.testing.assert_allclose(statistical(y * scale, np.array([72]), 12, 12, method)[0, :, 0], ours * scale, rtol=1e-6)
    # later origins reuse the parameters on the longer history: a seasonal trend is followed, not repeated
    later = statistical(y, np.array([72, 84]), 12, 12, method)
    assert later.shape == (2, 12, 1)
    truth = y[84:96, 0]
    assert np.mean(np.abs(later[1, :, 0] - truth)) < np.mean(np.abs(seasonal_naive(y, np.array([84]), 12, 12)[0, :, 0] - truth))


@pytest.mark.parametrize("method", ["ets", "arima"])
def test_a_season_too_long_for_the_models_is_taken_out_by_mstl_first(method):
    from statsforecast.models import MSTL, AutoARIMA, AutoETS

    from lstmkit.evaluation.baselines import MAX_SEASON, statistical

    season = 48  # half-hourly data's day, over MAX_SEASON
    assert season > MAX_SEASON
    t = np.arange(7 * season)
    y = (50 + 20 * np.sin(2 * np.pi * t / season) + np.random.default_rng(1).normal(0, 1, len(t)))[:, None]
    origin = 6 * season
    ours = statistical(y, np.array([origin]), season, season, method)[0, :, 0]
    unit = np.abs(y[:origin, 0]).max()
    trend = AutoETS(model="ZZN") if method == "ets" else AutoARIMA()
    reference = unit * MSTL(season_length=season, trend_forecaster=trend).fit(y[:origin, 0] / unit).predict(season)["mean"]
    np.testing.assert_allclose(ours, reference)
    truth = y[origin:, 0]
    assert np.mean(np.abs(ours - truth)) < 2.0  # the daily swing of +-20 is forecast, not averaged away
    # fewer than two seasons of rows: no decomposition, the models without a season
    short = statistical(y[: season + 40], np.array([season + 30]), 6, season, method)[0, :, 0]
    unit = np.abs(y[: season + 30, 0]).max()
    plain = {"ets": AutoETS, "arima": AutoARIMA}[method](season_length=1).fit(y[: season + 30, 0] / unit)
    np.testing.assert_allclose(short, unit * plain.predict(6)["mean"])


def test_all_baselines_add_ets_and_arima_only_with_enough_history():
    from lstmkit.evaluation.baselines import all_baselines

    y = _monthly(40)
    assert set(all_baselines(y, np.array([30]), 3, 12)) == {"naive", "drift", "seasonal_naive", "ets", "arima"}
    assert set(all_baselines(y, np.array([20]), 3, 12)) == {"naive", "drift", "seasonal_naive"}  # fewer than 2 seasons
    assert set(all_baselines(y, np.array([30]), 3, 12, statistical_models=False)) == {"naive", "drift", "seasonal_naive"}


def test_rmse_keeps_the_units_of_errors_at_extreme_scales():
    from lstmkit.evaluation.metrics import rmse

    y, p = np.array([1.0, 2.0, 3.0]), np.array([1.5, 2.0, 2.0])
    for scale in (1e-300, 1e300):
        assert rmse(y * scale, p * scale) == pytest.approx(rmse(y, p) * scale, rel=1e-12)
    assert rmse(y, y) == 0.0
