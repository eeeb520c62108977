"""Export: every task's network as ONNX (run by onnxruntime) and TorchScript, against the estimator's own
predictions, at batch sizes and sequence lengths the export never saw; the description beside the file is
enough to use it (the tagger's Viterbi search is run from it here)."""

import json

import numpy as np
import onnx
import onnxruntime
import pandas as pd
import pytest
import torch

from lstmkit.data.text import pad_ids
from lstmkit.errors import UserError
from lstmkit.tasks.classify import SequenceClassifier
from lstmkit.tasks.forecast import Forecaster
from lstmkit.tasks.tag import SequenceTagger
from lstmkit.tasks.textgen import TextGenerator

TOLERANCE = 1e-5  # fp32, on values of order one (forecasts: relative to the series' level)


def run(path, fmt: str, inputs: dict) -> list[np.ndarray]:
    """The exported file's outputs, by onnxruntime or torch.jit.load, from numpy inputs."""
    if fmt == "onnx":
        return onnxruntime.InferenceSession(str(path)).run(None, inputs)
    with torch.no_grad():
        out = torch.jit.load(str(path))(*(torch.as_tensor(v) for v in inputs.values()))
    return [o.numpy() for o in (out if isinstance(out, tuple) else (out,))]


def series(n: int = 150, columns: int = 1) -> pd.DataFrame:
    t = np.arange(n)
    return pd.DataFrame({f"c{j}": 10 + np.sin(2 * np.pi * t / 12 + j) + 0.03 * t for j in range(columns)})


@pytest.mark.parametrize("fmt", ["onnx", "torchscript"])
@pytest.mark.parametrize(
    "options",
    [
        {},  # the default ensemble of three LSTMs, median inside the graph
        {"cell": "gru", "num_layers": 2, "bidirectional": True, "ensemble": 1, "transform": "log", "quantiles": [0.1, 0.9]},
        {"strategy": "recursive", "ensemble": 1, "num_layers": 2},
        {"strategy": "seq2seq", "ensemble": 2, "bidirectional": True},
    ],
    ids=["ensemble", "gru-bidirectional-stacked-log-quantiles", "recursive", "seq2seq"],
)
def test_forecaster_exports_forecasts_in_the_datas_units(tmp_path, fmt, options):
    frame = series()
    model = Forecaster(horizon=4, season=12, epochs=2, verbose=False, **options).fit(frame)
    path = tmp_path / "model"
    description = model.export(path, fmt)
    windows = np.stack([frame.values[i : i + model.lookback] for i in range(0, 100, 9)]).astype(np.float32)  # batch 12, not 2
    expected = model.forecast_windows(model.model_inputs(windows.reshape(-1, 1)).reshape(windows.shape))
    (got,) = run(path, fmt, {"window": windows})
    assert got.shape == expected.shape == (12, 4, 1, len(model.levels))
    assert np.abs(got - expected).max() <= TOLERANCE * np.abs(expected).max()
    assert json.loads(path.with_name("model.json").read_text()) == description
    assert description["inputs"]["window"]["shape"] == ["batch", model.lookback, 1] and description["quantiles"] == model.levels


def numeric_sequences(n: int, seed: int):
    rng = np.random.default_rng(seed)
    lengths = rng.integers(5, 30, n)
    labels = rng.integers(0, 3, n)
    X = [np.cumsum(rng.normal(size=(k, 2)), 0) + label * np.sin(np.arange(k))[:, None] for k, label in zip(lengths, labels)]
    return X, [f"class{label}" for label in labels]


def padded(X) -> tuple[np.ndarray, np.ndarray]:
    out = np.full((len(X), max(map(len, X)), X[0].shape[1]), 99.0, dtype=np.float32)  # padding holds garbage on purpose
    for i, x in enumerate(X):
        out[i, : len(x)] = x
    return out, np.array([len(x) for x in X])


@pytest.mark.parametrize("fmt", ["onnx", "torchscript"])
@pytest.mark.parametrize(
    "options",
    [
        {"pooling": "attention", "normalize": "sequence"},
        {"pooling": "last", "bidirectional": True, "num_layers": 2, "architecture": "lstm"},
        {"pooling": "mean", "cell": "gru", "bidirectional": True, "normalize": "feature"},
    ],
    ids=["attention-sequence-normalised", "last-bidirectional-stacked", "gru-mean"],
)
def test_numeric_classifier_exports_probabilities_for_variable_lengths(tmp_path, fmt, options):
    X, y = numeric_sequences(60, seed=0)
    model = SequenceClassifier(hidden_size=8, epochs=2, verbose=False, **options).fit(X, y)
    path = tmp_path / "classifier.bin"
    model.export(path, fmt)
    test, _ = numeric_sequences(9, seed=1)
    features, lengths = padded(test)
    got = run(path, fmt, {"features": features, "lengths": lengths})
    assert np.abs(got[0] - model.predict_proba(test)).max() <= TOLERANCE
    if options["pooling"] == "attention":
        weights = model.attention(test)
        assert all(np.abs(got[1][i, : len(w)] - w).max() <= TOLERANCE for i, (_, w) in enumerate(weights))


@pytest.mark.parametrize("fmt", ["onnx", "torchscript"])
def test_text_classifier_exports_from_token_ids(tmp_path, fmt):
    texts = ["good fine great film", "bad awful film", "great good", "awful bad bad plot", "fine film good"] * 8
    labels = ["pos", "neg", "pos", "neg", "pos"] * 8
    model = SequenceClassifier(hidden_size=8, embedding_dim=8, epochs=2, verbose=False).fit(texts, labels)
    path = tmp_path / "text.onnx"
    description = model.export(path, fmt)
    queries = ["great plot", "bad film and an unknown word", "good"]
    vocab = description["preprocessing"]["vocab"]["tokens"]
    ids, lengths = pad_ids([[vocab.index(t) if t in vocab else 0 for t in q.split()] for q in queries])
    got = run(path, fmt, {"ids": ids.numpy(), "lengths": lengths.numpy()})
    assert np.abs(got[0] - model.predict_proba(queries)).max() <= TOLERANCE


def viterbi(emissions: np.ndarray, crf: dict) -> list[int]:
    """The best label path of one sentence's (T, K) emissions, from the description's CRF scores alone."""
    score = lambda values: np.array([[-np.inf if v is None else v for v in row] for row in values])
    transitions, start, end = score(crf["transitions"]), score([crf["start"]])[0], score([crf["end"]])[0]
    best, back = start + emissions[0], []
    for e in emissions[1:]:
        total = best[:, None] + transitions
        back.append(total.argmax(0))
        best = total.max(0) + e
    path = [int((best + end).argmax())]
    for pointers in reversed(back):
        path.append(int(pointers[path[-1]]))
    return path[::-1]


@pytest.mark.parametrize("fmt", ["onnx", "torchscript"])
def test_tagger_exports_emissions_and_its_crf_decodes_from_the_description(tmp_path, fmt):
    tokens = [["Anna", "lives", "in", "Paris"], ["Bob", "visited", "Rome", "today"], ["in", "Berlin"]] * 10
    tags = [["B-PER", "O", "O", "B-LOC"], ["B-PER", "O", "B-LOC", "O"], ["O", "B-LOC"]] * 10
    model = SequenceTagger(hidden_size=8, embedding_dim=8, char_channels=8, epochs=3, lr=1e-2, verbose=False).fit((tokens, tags))
    path = tmp_path / "tagger.onnx"
    description = model.export(path, fmt)
    sentences = [["Carla", "lives", "in", "Rome", "now"], ["Bob", "in", "Paris"]]
    ids, lengths, chars = model._tensors(sentences)
    (emissions,) = run(path, fmt, {"ids": ids.numpy(), "lengths": lengths.numpy(), "chars": chars.numpy()})
    with torch.no_grad():
        expected = model.model.eval()(ids, lengths, chars).numpy()
    assert np.abs(emissions - expected).max() <= TOLERANCE
    labels = description["labels"]
    decoded = [[labels[i] for i in viterbi(emissions[b, :n], description["crf"])] for b, n in enumerate(lengths.tolist())]
    assert decoded == model.predict(sentences)


@pytest.mark.parametrize("fmt", ["onnx", "torchscript"])
def test_language_model_streams_its_state_through_the_export(tmp_path, fmt):
    text = "the cat sat on the mat. the dog sat on the log. " * 20
    model = TextGenerator(
        hidden_size=16, embedding_dim=8, num_layers=2, seq_len=20, batch_size=4, epochs=1, dropout=0.0, verbose=False
    ).fit(text)
    path = tmp_path / "lm.onnx"
    model.export(path, fmt)
    ids = np.array([model.vocab.encode(text[:30])[0], model.vocab.encode(text[5:35])[0]])  # batch 2, 30 steps
    zeros = np.zeros((2, 2, 16), dtype=np.float32)
    first = run(path, fmt, {"ids": ids[:, :12], "h0": zeros, "c0": zeros})
    second = run(path, fmt, {"ids": ids[:, 12:], "h0": first[1], "c0": first[2]})
    with torch.no_grad():
        expected, _ = model.model.eval()(torch.as_tensor(ids))
    assert np.abs(np.concatenate([first[0], second[0]], axis=1) - expected.numpy()).max() <= TOLERANCE


def test_onnx_file_carries_its_description_and_bad_requests_are_refused(tmp_path):
    model = Forecaster(horizon=2, epochs=1, ensemble=1, verbose=False).fit(series(80))
    description = model.export(tmp_path / "f.onnx")
    saved = {p.key: p.value for p in onnx.load(str(tmp_path / "f.onnx")).metadata_props}
    assert json.loads(saved["lstmkit"]) == description and description["task"] == "forecaster"
    with pytest.raises(UserError, match="unknown export format 'tflite'"):
        model.export(tmp_path / "f.tflite", "tflite")
    with pytest.raises(UserError, match="does not exist"):
        model.export(tmp_path / "missing" / "f.onnx")
    with pytest.raises(UserError, match="not fitted"):
        Forecaster(horizon=2).export(tmp_path / "g.onnx")


def test_anomaly_detector_exports_its_forecaster_and_a_panel_is_refused(tmp_path):
    from lstmkit.tasks.anomaly import AnomalyDetector
    from lstmkit.tasks.panel import PanelForecaster

    frame = series(120)
    detector = AnomalyDetector(epochs=2, verbose=False).fit(frame)
    description = detector.export(tmp_path / "anomaly.onnx")
    inner = detector.forecaster
    windows = np.stack([frame.values[i : i + inner.lookback] for i in range(0, 60, 7)]).astype(np.float32)
    (got,) = run(tmp_path / "anomaly.onnx", "onnx", {"window": windows})
    expected = inner.forecast_windows(inner.model_inputs(windows.reshape(-1, 1)).reshape(windows.shape))
    assert np.abs(got - expected).max() <= TOLERANCE * np.abs(expected).max()
    assert description["task"] == "anomaly" and "residual_scale" in description["scoring"]
    panel = pd.DataFrame({"id": np.repeat(["a", "b"], 60), "y": np.concatenate([series(60)["c0"], 2 * series(60)["c0"]])})
    model = PanelForecaster(id_column="id", horizon=2, epochs=1, verbose=False).fit(panel)
    with pytest.raises(UserError, match="panel model"):
        model.export(tmp_path / "panel.onnx")
    assert not (tmp_path / "panel.onnx").exists()
