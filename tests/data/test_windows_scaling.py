"""Windows and scalers: properties over random shapes, and sklearn as the reference."""

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.preprocessing import MinMaxScaler, StandardScaler

from lstmkit.data.scaling import Scaler
from lstmkit.data.windows import sliding_windows
from lstmkit.errors import UserError


@settings(max_examples=60, deadline=None)
@given(n=st.integers(2, 60), c=st.integers(1, 3), lookback=st.integers(1, 20), horizon=st.integers(1, 10))
def test_windows_are_every_input_target_pair(n, c, lookback, horizon):
    values = torch.arange(n * c, dtype=torch.float32).reshape(n, c)
    if lookback + horizon > n:
        with pytest.raises(ValueError, match="fewer than lookback"):
            sliding_windows(values, lookback, horizon)
        return
    x, y = sliding_windows(values, lookback, horizon)
    assert x.shape == (n - lookback - horizon + 1, lookback, c) and y.shape == (len(x), horizon, c)
    for j in (0, len(x) // 2, len(x) - 1):
        assert torch.equal(x[j], values[j : j + lookback])
        assert torch.equal(y[j], values[j + lookback : j + lookback + horizon])
    assert x.untyped_storage().data_ptr() == values.untyped_storage().data_ptr()  # a view, not a copy


@settings(max_examples=40, deadline=None)
@given(data=st.lists(st.floats(-1e6, 1e6, allow_nan=False), min_size=2, max_size=50), kind=st.sampled_from(["standard", "minmax"]))
def test_scaler_matches_sklearn_and_inverts(data, kind):
    values = np.array(data)[:, None]
    ours = Scaler.fit(values, kind)
    reference = (StandardScaler() if kind == "standard" else MinMaxScaler()).fit(values)
    np.testing.assert_allclose(ours.transform(values), reference.transform(values), rtol=1e-7, atol=1e-7)
    np.testing.assert_allclose(ours.inverse_transform(ours.transform(values)), values, rtol=1e-9, atol=1e-6)
    again = Scaler.from_dict(ours.to_dict(), columns=1)
    np.testing.assert_array_equal(again.transform(values), ours.transform(values))


def test_constant_column_does_not_divide_by_zero():
    s = Scaler.fit(np.full((5, 1), 3.0), "standard")
    assert s.transform(np.array([[3.0], [4.0]])).tolist() == [[0.0], [1.0]]


def test_unknown_scaler_is_a_user_error():
    with pytest.raises(UserError, match="scaler must be one of standard, minmax, none"):
        Scaler.fit(np.zeros((3, 1)), "robust")
