"""Anomaly detection on series with injected anomalies."""

import numpy as np
import pandas as pd
import pytest

from lstmkit.errors import UserError
from lstmkit.evaluation.metrics import precision_recall
from lstmkit.tasks.anomaly import AnomalyDetector


def injected(seed, n=1600, count=16, low=0.5, high=1.0):
    rng = np.random.default_rng(seed)
    t = np.arange(n)
    y = np.sin(2 * np.pi * t / 50) + 0.3 * np.sin(2 * np.pi * t / 230) + rng.normal(0, 0.05, n)
    truth = np.zeros(n, bool)
    where = rng.choice(np.arange(n // 2 + 50, n), count, replace=False)
    truth[where] = True
    y[where] += rng.choice([-1, 1], count) * rng.uniform(low, high, count)
    return pd.DataFrame({"y": y}), truth


@pytest.mark.parametrize("seed", [0, 1])
def test_finds_injected_spikes_with_high_precision_and_recall(seed):
    frame, truth = injected(seed)
    result = AnomalyDetector(epochs=40, verbose=False, seed=seed).fit(frame).detect()
    scores = precision_recall(result["anomaly"].to_numpy(), truth)
    assert scores["precision"] >= 0.9 and scores["recall"] >= 0.9, scores


def test_points_right_after_a_spike_are_not_flagged():
    frame, truth = injected(3, count=1)
    result = AnomalyDetector(epochs=40, verbose=False).fit(frame).detect()
    spike = int(np.flatnonzero(truth)[0])
    assert result["anomaly"].iloc[spike] and not result["anomaly"].iloc[spike + 1 : spike + 5].any()


def test_precision_recall_by_hand():
    flagged = np.array([0, 1, 1, 0, 0, 1], bool)
    truth = np.array([0, 1, 0, 0, 1, 0], bool)
    assert precision_recall(flagged, truth) == {"precision": 1 / 3, "recall": 0.5, "flagged": 3, "true_anomalies": 2}
    assert precision_recall(flagged, truth, tolerance=1)["precision"] == 1.0


def test_repairs_read_only_the_past():
    frame, truth = injected(3, count=1)
    detector = AnomalyDetector(epochs=20, verbose=False).fit(frame)
    spike = int(np.flatnonzero(truth)[0])
    expected = []
    for shift in (0.0, 0.3):
        moved = frame.copy()
        moved.loc[spike + 1, "y"] += shift
        expected.append(detector.detect(moved)["expected"].iloc[spike + 1])
    assert expected[0] == expected[1]  # the forecast for t+1 never reads y[t+1]


def test_saved_detector_flags_the_same_points(tmp_path):
    frame, truth = injected(3, count=1)
    detector = AnomalyDetector(epochs=20, verbose=False).fit(frame)
    detector.save(tmp_path / "run")
    loaded = AnomalyDetector.load(tmp_path / "run")
    pd.testing.assert_frame_equal(loaded.predict(frame), detector.predict(frame))
    assert loaded.evaluate(frame, truth.astype(int))["metrics"]["model"] == precision_recall(
        detector.predict(frame)["anomaly"].to_numpy(), truth
    )
    with pytest.raises(UserError, match="needs the data to scan"):
        loaded.predict()


def test_too_few_training_rows():
    with pytest.raises(UserError, match="fewer than 50; give more data"):
        AnomalyDetector().fit(pd.DataFrame({"y": np.arange(60.0)}))


def test_bad_settings():
    with pytest.raises(UserError, match="train_fraction must be between 0 and 1"):
        AnomalyDetector(train_fraction=1.0)
    with pytest.raises(UserError, match="not fitted yet"):
        AnomalyDetector().detect()


def test_new_data_is_read_with_the_detectors_fill_rule(tmp_path):
    frame, _ = injected(3, count=1)
    detector = AnomalyDetector(epochs=2, verbose=False, fill="ffill").fit(frame)
    gappy = frame.copy()
    gappy.loc[700, "y"] = np.nan
    detector.save(tmp_path / "run")
    for model in (detector, AnomalyDetector.load(tmp_path / "run")):
        assert len(model.predict(gappy)) == len(frame)
