"""Metrics of every task: forecast errors, classification and entity scores, anomaly precision/recall.

Symbol key for the forecast metrics: n origins, H horizon, K target columns. They take arrays of the
same shape, e.g. (n, H, K), and average over every entry. Values that are
undefined for the data (MAPE with a zero actual or actuals of both signs, MASE with a constant training series) are None,
so that JSON output never holds NaN.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

import numpy as np

from lstmkit.data.tagging import Sentences, entities
from lstmkit.errors import UserError


def mae(y: np.ndarray, p: np.ndarray) -> float:
    return float(np.mean(np.abs(y - p)))


def rmse(y: np.ndarray, p: np.ndarray) -> float:
    # squared in units of the largest error: errors of 1e-300 (or 1e200) would square to 0 (or inf)
    errors = np.abs(np.asarray(y, dtype=np.float64) - p)
    unit = float(np.max(errors, initial=0.0))
    return unit * float(np.sqrt(np.mean((errors / unit) ** 2))) if unit > 0 else 0.0


def mape(y: np.ndarray, p: np.ndarray) -> float | None:
    """Mean absolute percentage error, in percent; None when an actual is zero or a target's actuals have
    both signs (a series crossing zero, where the ratios near the crossing run into the billions)."""
    columns = np.reshape(y, (-1, np.shape(y)[-1])) if np.ndim(y) > 1 else np.reshape(y, (-1, 1))
    if np.any(y == 0) or np.any((columns > 0).any(axis=0) & (columns < 0).any(axis=0)):
        return None
    return float(100 * np.mean(np.abs((y - p) / y)))


def smape(y: np.ndarray, p: np.ndarray) -> float:
    """Symmetric MAPE in percent (0..200): 200 |y - p| / (|y| + |p|), with 0/0 counted as 0."""
    denominator = np.abs(y) + np.abs(p)
    ratio = np.divide(np.abs(y - p), denominator, out=np.zeros_like(denominator, dtype=float), where=denominator > 0)
    return float(200 * np.mean(ratio))


def mase_scale(train: np.ndarray, season: int) -> float | None:
    """The in-sample MAE of the seasonal-naive forecast (naive when season <= 1) on the training rows."""
    m = season if season > 1 and len(train) > season else 1
    if len(train) <= m:
        return None
    scale = float(np.mean(np.abs(train[m:] - train[:-m])))
    return scale if scale > 0 else None


def forecast_metrics(y: np.ndarray, p: np.ndarray, scale: float | None) -> dict[str, Any]:
    """MAE, RMSE, MAPE, sMAPE and MASE (MAE over ``scale``, from :func:`mase_scale`)."""
    error = mae(y, p)
    return {
        "mae": error,
        "rmse": rmse(y, p),
        "mape": mape(y, p),
        "smape": smape(y, p),
        "mase": None if scale is None else error / scale,
    }


def entity_scores(true: Sentences, predicted: Sentences) -> dict:
    """Entity-level precision, recall and F1 (exact type and span), micro-averaged, with per-type scores.

    An entity counts as found only when a predicted entity has the same type, start and end; scores with no
    entity to count are 0 (as seqeval with zero_division=0).
    """
    if len(true) != len(predicted) or any(len(t) != len(p) for t, p in zip(true, predicted)):
        raise UserError("true and predicted tags must have the same sentences and lengths")
    gold: Counter[str] = Counter()
    found: Counter[str] = Counter()
    correct: Counter[str] = Counter()
    for t, p in zip(true, predicted):
        gold_set, found_set = set(entities(t)), set(entities(p))
        gold.update(e[0] for e in gold_set)
        found.update(e[0] for e in found_set)
        correct.update(e[0] for e in gold_set & found_set)

    def prf(c: int, f: int, g: int) -> dict:
        precision = c / f if f else 0.0
        recall = c / g if g else 0.0
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        return {"precision": precision, "recall": recall, "f1": f1, "support": g}

    per_type = {kind: prf(correct[kind], found[kind], gold[kind]) for kind in sorted(set(gold) | set(found))}
    overall = prf(sum(correct.values()), sum(found.values()), sum(gold.values()))
    return {**overall, "per_type": per_type}


def classification_scores(true: list, predicted: list, classes: list) -> dict:
    """Accuracy, macro-averaged precision / recall / F1, per-class scores and the confusion matrix."""
    from sklearn.metrics import accuracy_score, confusion_matrix, precision_recall_fscore_support

    p, r, f, support = precision_recall_fscore_support(true, predicted, labels=classes, zero_division=0)
    return {
        "accuracy": float(accuracy_score(true, predicted)),
        "precision": float(p.mean()),
        "recall": float(r.mean()),
        "f1": float(f.mean()),
        "per_class": {
            str(c): {"precision": float(p[i]), "recall": float(r[i]), "f1": float(f[i]), "support": int(support[i])}
            for i, c in enumerate(classes)
        },
        "confusion": confusion_matrix(true, predicted, labels=classes).tolist(),
    }


def precision_recall(flagged: np.ndarray, truth: np.ndarray, tolerance: int = 0) -> dict:
    """Point-wise precision and recall; a flag within ``tolerance`` rows of a true anomaly counts as a hit."""
    flagged, truth = np.asarray(flagged, bool), np.asarray(truth, bool)
    if tolerance:
        kernel = np.ones(2 * tolerance + 1)
        near_truth = np.convolve(truth, kernel, mode="same") > 0
        near_flag = np.convolve(flagged, kernel, mode="same") > 0
    else:
        near_truth, near_flag = truth, flagged
    true_hits = int((flagged & near_truth).sum())
    found = int((truth & near_flag).sum())
    return {
        "precision": true_hits / int(flagged.sum()) if flagged.any() else None,
        "recall": found / int(truth.sum()) if truth.any() else None,
        "flagged": int(flagged.sum()),
        "true_anomalies": int(truth.sum()),
    }
