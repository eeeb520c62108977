"""The quality suite's own baselines, checked against brute force (benchmarks/ is not a package)."""

import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).parent.parent / "benchmarks"))
from eval_classify import dtw_distances, make_kernels, rocket_features
from eval_data import read_ts


def _dtw_brute(a: np.ndarray, b: np.ndarray, window: int = 10**9) -> float:
    d = np.full((len(a) + 1, len(b) + 1), np.inf)
    d[0, 0] = 0
    for i in range(1, len(a) + 1):
        for j in range(max(1, i - window), min(len(b), i + window) + 1):
            d[i, j] = ((a[i - 1] - b[j - 1]) ** 2).sum() + min(d[i - 1, j - 1], d[i - 1, j], d[i, j - 1])
    return d[-1, -1]


def test_dtw_matches_the_textbook_recursion_on_unequal_multivariate_sequences():
    rng = np.random.default_rng(0)
    queries = [rng.normal(size=(n, 2)) for n in (5, 9, 7)]
    references = [rng.normal(size=(n, 2)) for n in (8, 4, 6, 9)]
    got = dtw_distances(queries, references, chunk=2)  # several chunks
    expected = np.array([[_dtw_brute(q, r) for r in references] for q in queries])
    np.testing.assert_allclose(got, expected, rtol=1e-10)
    assert dtw_distances(queries[:1], queries[:1])[0, 0] == 0
    banded = dtw_distances(queries, references, window=4)
    np.testing.assert_allclose(banded, [[_dtw_brute(q, r, 4) for r in references] for q in queries], rtol=1e-10)
    assert np.all(banded >= got - 1e-9)


def test_rocket_gives_two_features_per_kernel():
    rng = np.random.default_rng(1)
    kernels = make_kernels(50, channels=3, length=40)
    features = rocket_features([rng.normal(size=(40, 3)) for _ in range(4)], kernels)
    assert features.shape == (4, 100) and np.isfinite(features).all()


def test_ts_reader_reads_dimensions_labels_and_unequal_lengths(tmp_path):
    path = tmp_path / "x.ts"
    path.write_text("# comment\n@problemName x\n@classLabel true a b\n@data\n1,2,3:4,5,6:a\n7,8:9,10:b\n")
    sequences, labels = read_ts(path)
    assert labels == ["a", "b"]
    np.testing.assert_array_equal(sequences[0], [[1, 4], [2, 5], [3, 6]])
    assert sequences[1].shape == (2, 2)
