"""The baselines every model is measured against: forecasts (naive, seasonal naive, drift, and the
statistical models users would otherwise pick: AutoETS and AutoARIMA from statsforecast) and the
bag-of-words text classifier. Forecast symbol key: N rows, K targets, n origins, H horizon.

An origin t is the index of the first forecast row: the methods may read rows < t, never t or later.
"""

from __future__ import annotations

import hashlib
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from lstmkit.tasks.classify import SequenceClassifier


def naive(y: np.ndarray, origins: np.ndarray, horizon: int) -> np.ndarray:
    """Every step repeats the last observed value. y (N, K) -> (n, H, K)."""
    return np.repeat(y[origins - 1][:, None], horizon, axis=1)


def seasonal_naive(y: np.ndarray, origins: np.ndarray, horizon: int, season: int) -> np.ndarray:
    """Step h repeats the value one season before it: y[t + h - m * (h // m + 1)]."""
    if season <= 1:
        return naive(y, origins, horizon)
    steps = np.arange(horizon)
    index = origins[:, None] + steps - season * (steps // season + 1)  # (n, H)
    if index.min() < 0:
        raise ValueError(f"seasonal_naive needs {season} rows before every origin")
    return y[index]


def drift(y: np.ndarray, origins: np.ndarray, horizon: int) -> np.ndarray:
    """The line through the first and the last observed value, extended: y[t-1] + (h+1) * slope."""
    last = y[origins - 1]  # (n, K)
    slope = (last - y[0]) / np.maximum(origins - 1, 1)[:, None]
    return last[:, None] + (np.arange(1, horizon + 1)[None, :, None] * slope[:, None])


# AutoARIMA's order search grows steeply with the season and the length (on this project's 2-core
# machine: 0.3 s for 144 monthly rows, 104 s for 3,000 hourly rows with season 24, 367 s for 312 weekly
# rows with season 52). So the statistical baselines fit on the latest STATISTICAL_ROWS rows (more than
# six seasons of MAX_SEASON), and a season over MAX_SEASON is taken out first by statsforecast's MSTL
# (an STL decomposition; the models forecast the seasonally adjusted rows, the season is added back),
# as statsforecast advises for long seasons. Measured on make eval's two such series (three folds,
# MASE): half-hourly solar (season 48) ARIMA 2.136 without the season, 0.743 with MSTL; weekly CO2
# (season 52) 1.736 and 0.223. A season the rows hold fewer than two of is left out.
STATISTICAL_ROWS = 300
MAX_SEASON = 24


_FITTED: dict[tuple, np.ndarray] = {}  # the latest statistical() results: a fit is a pure function of its inputs
_FITTED_KEEP = 8


def statistical(y: np.ndarray, origins: np.ndarray, horizon: int, season: int, method: str) -> np.ndarray:
    """AutoETS ("ets") or AutoARIMA ("arima") from statsforecast (after MSTL for a season over
    MAX_SEASON), fitted once per target on the rows before the first origin, then applied with those
    parameters to the rows before every later origin (statsforecast's ``forward``), as a user
    refitting nightly would. y (N, K) -> (n, H, K).

    The latest results are kept by the content of their inputs: a forecaster combined with ARIMA and
    evaluated beside the ARIMA baseline (evaluate, plot, predict, make eval) fits each ARIMA once."""
    origins = np.asarray(origins)
    start = max(0, int(origins[0]) - STATISTICAL_ROWS)
    used = np.ascontiguousarray(y[start : int(origins[-1])], dtype=np.float64)  # the only rows the fits read
    key = (hashlib.sha256(used.tobytes()).hexdigest(), used.shape, tuple((origins - start).tolist()), horizon, season, method)
    if key not in _FITTED:
        if len(_FITTED) >= _FITTED_KEEP:
            del _FITTED[next(iter(_FITTED))]
        _FITTED[key] = _fit_statistical(y, origins, horizon, season, method)
    return _FITTED[key].copy()


def _fit_statistical(y: np.ndarray, origins: np.ndarray, horizon: int, season: int, method: str) -> np.ndarray:
    import warnings

    from statsforecast.models import AutoARIMA, AutoCES, AutoETS, AutoTheta

    rows, first = STATISTICAL_ROWS, int(origins[0])
    low = max(0, first - rows)  # the fitting rows: [low, first)
    adjusted = MAX_SEASON < season and 2 * season <= min(first, rows)  # the season taken out by MSTL first
    if adjusted:  # no seasonal part of their own
        template = {"ets": AutoETS(model="ZZN"), "arima": AutoARIMA(), "theta": AutoTheta(), "ces": AutoCES(model="N")}[method]
    else:
        models = {"ets": AutoETS, "arima": AutoARIMA, "theta": AutoTheta, "ces": AutoCES}
        template = models[method](season_length=season if 1 < season <= MAX_SEASON else 1)
    out = np.empty((len(origins), horizon, y.shape[1]))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # convergence chatter of the order search
        for k in range(y.shape[1]):
            # fitted in units of the rows' largest magnitude: both models are scale-equivariant, and their
            # optimisers fail ("No suitable ARIMA model found") on values such as 1e-300 or 1e300
            unit = float(np.max(np.abs(y[low : origins[-1], k]), initial=0.0)) or 1.0
            fitting = y[low:first, k] / unit
            component, seasonal = 0.0, lambda lo, hi: 0.0
            if adjusted:  # as MSTL fits: the model on the rows less their seasonal component
                from statsforecast.mstl import mstl

                component = mstl(x=fitting, period=season)["seasonal"].to_numpy()
                seasonal = _by_phase(component[-season:], first)
            model = template.new().fit(fitting - component)
            for i, origin in enumerate(origins):
                lo = max(0, origin - rows)
                if origin == first:
                    forecast = model.predict(horizon)["mean"]
                else:  # later origins: the fitted parameters and the fitted season on the newer rows
                    forecast = model.forward(y[lo:origin, k] / unit - seasonal(lo, origin), horizon)["mean"]
                out[i, :, k] = unit * (forecast + seasonal(origin, origin + horizon))
    return out


def _by_phase(last_season: np.ndarray, end_row: int):
    """The seasonal component's last season (the rows before ``end_row``) as a function of row ranges
    [lo, hi): each row gets the value of its phase, which is how MSTL forecasts the season. Fitted once,
    so that later origins reuse it as they reuse the model's parameters (MSTL's ``forward`` decomposes
    again at every origin: about 30 ms each here, 11.5 s for 191 origins of ETS and ARIMA against
    1.2 s this way)."""
    season = len(last_season)
    profile = np.empty(season)
    profile[np.arange(end_row - season, end_row) % season] = last_season
    return lambda lo, hi: profile[np.arange(lo, hi) % season]


def statistical_fits(first_origin: int, season: int) -> bool:
    """Whether ETS and ARIMA have enough rows before the first origin: a few more than two seasons."""
    return first_origin >= max(2 * season, 8)


def all_baselines(y: np.ndarray, origins: np.ndarray, horizon: int, season: int, statistical_models: bool = True) -> dict[str, np.ndarray]:
    """Every baseline's forecasts from the same origins; ETS and ARIMA need a few rows more than a season."""
    forecasts = {"naive": naive(y, origins, horizon), "drift": drift(y, origins, horizon)}
    if season > 1:
        forecasts["seasonal_naive"] = seasonal_naive(y, origins, horizon, season)
    if statistical_models and statistical_fits(origins[0], season):
        for method in ("ets", "arima"):
            forecasts[method] = statistical(y, origins, horizon, season, method)
    return forecasts


def bow_logreg(classifier: SequenceClassifier, train_X, train_y, dev_X=None, dev_y=None):
    """The baseline: tf-idf of token unigrams and bigrams (the classifier's own tokens) + logistic
    regression, with C picked on the dev texts from 0.1..100 when they are given (else C = 1)."""
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline

    def fitted(c: float):
        vectorizer = TfidfVectorizer(
            tokenizer=classifier.tokens, lowercase=False, token_pattern=None, ngram_range=(1, 2), min_df=1, sublinear_tf=True
        )
        return make_pipeline(vectorizer, LogisticRegression(C=c, max_iter=2000)).fit(train_X, train_y)

    if dev_X is None:
        return fitted(1.0)
    candidates = [fitted(c) for c in (0.1, 1.0, 10.0, 100.0)]
    return max(candidates, key=lambda m: (m.predict(dev_X) == np.asarray(dev_y)).mean())
