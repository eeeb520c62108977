"""Sequence classification: padding invariance of every pooling, learning, scores, persistence, errors."""

import numpy as np
import pandas as pd
import pytest
import torch

from lstmkit.data.text import labelled_texts
from lstmkit.errors import UserError
from lstmkit.evaluation.metrics import classification_scores
from lstmkit.tasks.classify import ClassifierConfig, SequenceClassifier, three_way_split
from lstmkit.tasks.networks import ClassifierModel


@pytest.mark.parametrize("pooling", ["attention", "last", "mean", "max"])
@pytest.mark.parametrize("cell,conv,fcn,stride", [("lstm", 0, False, 1), ("gru", 0, False, 1), ("lstm", 6, False, 1), ("lstm", 0, True, 3)])
def test_padded_batch_gives_each_sequence_its_own_result(pooling, cell, conv, fcn, stride):
    torch.manual_seed(0)
    config = ClassifierConfig(pooling=pooling, cell=cell, conv_channels=conv, hidden_size=5, num_layers=2, dropout=0.0, fcn_channels=4)
    model = ClassifierModel(None, 3, 4, config, fcn=fcn, stride=stride).eval()
    lengths = torch.tensor([6, 2, 4])
    x = torch.randn(3, 6, 3)
    x[1, 2:] = 7.0  # padding holds garbage on purpose
    x[2, 4:] = -7.0
    logits, weights = model(x, lengths)
    for b, n in enumerate(lengths.tolist()):
        alone, w_alone = model(x[b : b + 1, :n], torch.tensor([n]))
        assert torch.allclose(logits[b], alone[0], atol=1e-5)
        if pooling == "attention":
            n = -(-n // stride)  # the encoder's steps
            assert torch.allclose(weights[b, :n], w_alone[0], atol=1e-6)
            assert torch.all(weights[b, n:] == 0) and torch.isclose(weights[b].sum(), torch.tensor(1.0))


def test_last_pooling_reads_forward_end_and_backward_start():
    torch.manual_seed(1)
    model = ClassifierModel(None, 2, 2, ClassifierConfig(pooling="last", hidden_size=4, dropout=0.0)).eval()
    x, lengths = torch.randn(2, 5, 2), torch.tensor([5, 3])
    captured = {}
    model.head.register_forward_hook(lambda m, args, out: captured.setdefault("pooled", args[0]))
    model(x, lengths)
    outputs, _ = model.encoder(x, lengths=lengths)
    expected = torch.stack([torch.cat([outputs[b, n - 1, :4], outputs[b, 0, 4:]]) for b, n in enumerate([5, 3])])
    assert torch.allclose(captured["pooled"], expected, atol=1e-6)


def variable_length_task(n, seed):
    """Class = whether feature 0 sums to more than zero over the sequence; lengths 3..12."""
    rng = np.random.default_rng(seed)
    X = [rng.normal(size=(rng.integers(3, 13), 2)) for _ in range(n)]
    return X, ["up" if x[:, 0].sum() > 0 else "down" for x in X]


def test_learns_a_numeric_task_with_variable_lengths_and_round_trips(tmp_path):
    X, y = variable_length_task(600, 0)
    clf = SequenceClassifier(hidden_size=16, pooling="mean", architecture="lstm", epochs=40, lr=1e-2, patience=8, verbose=False).fit((X, y))
    X_test, y_test = variable_length_task(300, 1)
    result = clf.evaluate(X_test, y_test)
    assert result["metrics"]["model"]["accuracy"] > 0.9
    assert np.sum(result["confusion"]) == 300 and result["classes"] == ["down", "up"]
    clf.save(tmp_path / "run")
    loaded = SequenceClassifier.load(tmp_path / "run")
    assert np.allclose(loaded.predict_proba(X_test), clf.predict_proba(X_test), atol=1e-6)
    with pytest.raises(UserError, match="3 features, the model was trained on 2"):
        loaded.predict([np.zeros((4, 3))])
    with pytest.raises(UserError, match="trained on numeric sequences"):
        loaded.predict(["some text"])
    assert loaded.predict([]) == [] and loaded.predict_proba([]).shape == (0, 2)


def test_text_attention_and_baseline():
    texts = ["a truly great film", "great acting and a great story", "dull , slow and long", "a slow dull mess"] * 25
    labels = ["pos", "pos", "neg", "neg"] * 25
    clf = SequenceClassifier(hidden_size=16, embedding_dim=16, epochs=15, min_freq=1, verbose=False).fit((texts, labels))
    ((tokens, weights),) = clf.attention(["a great story"])
    assert tokens == ["a", "great", "story"] and weights.shape == (3,) and abs(weights.sum() - 1) < 1e-5
    result = clf.evaluate(["great story", "slow mess"], ["pos", "neg"], baseline_data=(texts, labels))
    assert result["metrics"]["model"]["accuracy"] == 1.0 and result["metrics"]["bow_logreg"]["accuracy"] == 1.0
    with pytest.raises(UserError, match=r"label\(s\) \['meh'\] that the training data does not have"):
        clf.evaluate(["great"], ["meh"])
    with pytest.raises(UserError, match="has no tokens"):
        clf.predict(["  "])
    with pytest.raises(UserError, match="pooling='attention'"):
        SequenceClassifier(pooling="max", hidden_size=8, epochs=1, min_freq=1, verbose=False).fit((texts, labels)).attention(texts[:1])


def test_scores_by_hand():
    scores = classification_scores(["a", "a", "b", "b", "c"], ["a", "b", "b", "b", "a"], ["a", "b", "c"])
    # a: p 1/2 r 1/2; b: p 2/3 r 1; c: p 0 r 0
    assert scores["accuracy"] == pytest.approx(3 / 5)
    assert scores["precision"] == pytest.approx((1 / 2 + 2 / 3 + 0) / 3)
    assert scores["recall"] == pytest.approx((1 / 2 + 1 + 0) / 3)
    assert scores["per_class"]["b"]["f1"] == pytest.approx(0.8)
    assert scores["confusion"] == [[1, 1, 0], [0, 2, 0], [1, 0, 0]]


def test_bad_input_is_refused():
    with pytest.raises(UserError, match="at least 2 classes"):
        SequenceClassifier(verbose=False).fit((["a b", "c d"], ["x", "x"]))
    with pytest.raises(UserError, match="got 2 inputs but 1 labels"):
        SequenceClassifier(verbose=False).fit((["a b", "c d"], ["x"]))
    with pytest.raises(UserError, match="pooling must be one of"):
        SequenceClassifier(pooling="sum")
    bad = [np.array([[np.nan]]), np.zeros((2, 1))]
    with pytest.raises(UserError, match="NaN or inf"):
        SequenceClassifier(verbose=False).fit((bad, [0, 1]), (bad, [0, 1]))
    with pytest.raises(UserError, match="architecture must be one of"):
        SequenceClassifier(architecture="fcn")
    with pytest.raises(UserError, match="normalize must be one of"):
        SequenceClassifier(normalize="global")


def test_a_small_training_set_trains_on_every_sample_and_says_so(capsys):
    X, y = ["a b", "b c", "c d", "d e", "e f"] * 4, ["x", "y", "y", "x", "y"] * 4
    clf = SequenceClassifier(hidden_size=8, embedding_dim=8, epochs=2).fit((X, y))
    assert clf.history.best_epoch == 2 and "too few to stop on" in clf.notes[0]
    assert "training on every sample for the whole budget" in capsys.readouterr().err
    rare = ["a"] * 400 + ["b"]  # 40 validation samples, but one class has a single sample
    clf = SequenceClassifier(hidden_size=8, embedding_dim=8, epochs=1, verbose=False).fit(([f"t {i}" for i in range(401)], rare))
    assert "cannot hold out val_fraction=0.1 with every class in both parts" in clf.notes[0]


def test_numeric_sequences_are_z_normalised_each_and_long_ones_averaged_for_the_lstm(tmp_path):
    rng = np.random.default_rng(4)
    t = np.linspace(0, 6, 200)
    X = [np.sin(t * (1 + (i % 2)))[:, None] + rng.normal(0, 0.1, (200, 1)) for i in range(40)]
    y = ["slow" if i % 2 == 0 else "fast" for i in range(40)]
    clf = SequenceClassifier(normalize="sequence", epochs=15, lr=3e-3, verbose=False).fit((X, y))
    assert clf.fcn and clf.normalize == "sequence" and clf.stride == 4 and clf.hidden_size == 32
    shifted = [100 + 5 * x for x in X[:6]]  # level and scale do not matter after per-sequence z-normalisation
    np.testing.assert_allclose(clf.predict_proba(shifted), clf.predict_proba(X[:6]), atol=1e-5)
    assert clf.predict(X) == y
    clf.save(tmp_path / "m")
    loaded = SequenceClassifier.load(tmp_path / "m")
    np.testing.assert_allclose(loaded.predict_proba(X), clf.predict_proba(X), atol=1e-6)


def test_sentiment_corpora_and_split(tmp_path):
    texts, labels = labelled_texts("sentiment_en")
    assert set(labels) == {"fresh", "rotten"} and len(texts) == len(set(texts)) > 12_000
    zh_texts, zh_labels = labelled_texts("sentiment_zh")
    assert set(zh_labels) == {"pos", "neg"} and len(zh_texts) == len(set(zh_texts)) > 15_000
    parts = three_way_split(texts, labels, seed=0)
    assert three_way_split(texts, labels, seed=0)["test"] == parts["test"]
    assert not set(parts["train"][0]) & set(parts["test"][0])
    share = np.mean([label == "fresh" for label in parts["test"][1]])
    assert abs(share - np.mean([label == "fresh" for label in labels])) < 0.01  # stratified
    (tmp_path / "d.csv").write_text("review,stars\ngood,5\nbad,1\ngood,1\n")
    assert labelled_texts(str(tmp_path / "d.csv"), "review", "stars") == (["bad"], ["1"])  # 'good' has two labels
    with pytest.raises(UserError, match=r"no column\(s\) \['text', 'label'\].*text_column="):
        labelled_texts(str(tmp_path / "d.csv"))


def test_three_classes():
    rng = np.random.default_rng(3)
    X = rng.normal(size=(450, 6, 3))
    y = [("a", "b", "c")[i] for i in X.mean(1).argmax(1)]  # the feature with the largest mean names the class
    clf = SequenceClassifier(hidden_size=16, pooling="mean", epochs=30, lr=1e-2, patience=6, verbose=False).fit((X[:350], y[:350]))
    result = clf.evaluate(X[350:], y[350:])
    assert result["classes"] == ["a", "b", "c"] and np.array(result["confusion"]).shape == (3, 3)
    assert result["metrics"]["model"]["accuracy"] > 0.8 and clf.predict_proba(X[:2]).shape == (2, 3)


def test_internal_validation_is_held_out_before_the_vocabulary_is_built():
    from lstmkit.tasks.classify import _stratified_holdout

    unique = [f"qx{chr(97 + i % 26)}{chr(97 + i // 26 % 26)}{chr(97 + i // 676)}" for i in range(300)]  # one word per text
    texts = [f"good film {unique[i]}" if i % 2 else f"bad film {unique[i]}" for i in range(300)]
    labels = ["pos" if i % 2 else "neg" for i in range(300)]  # 30 held out: enough to validate on
    _, _, (val_texts, _) = _stratified_holdout(texts, labels, 0.1, 0)  # the split fit() makes with seed 0
    clf = SequenceClassifier(hidden_size=8, embedding_dim=8, epochs=1, min_freq=1, verbose=False).fit((texts, labels))
    held_out_tokens = {t.split()[-1] for t in val_texts}
    assert held_out_tokens and not held_out_tokens & set(clf.vocab.tokens)
    assert {t.split()[-1] for t in texts} - held_out_tokens <= set(clf.vocab.tokens)


def test_scikit_learn_clone_cross_validation_and_grid_search():
    from sklearn.base import clone, is_classifier
    from sklearn.model_selection import GridSearchCV, cross_val_score

    X, y = variable_length_task(90, 2)
    clf = SequenceClassifier(hidden_size=8, architecture="lstm", pooling="mean", epochs=2, verbose=False)
    copy = clone(clf)
    assert copy is not clf and copy.get_params() == clf.get_params() and copy.model is None and is_classifier(clf)
    scores = cross_val_score(clf, X, y, cv=3)  # fit(X, y) as scikit-learn calls it
    assert scores.shape == (3,) and np.all((0 <= scores) & (scores <= 1))
    search = GridSearchCV(clf, {"hidden_size": [4, 8], "lr": [1e-3, 1e-2]}, cv=2).fit(X, y)
    assert search.best_estimator_.config.hidden_size == search.best_params_["hidden_size"]
    assert search.best_estimator_.config.training.lr == search.best_params_["lr"]
    from sklearn.exceptions import NotFittedError
    from sklearn.utils.validation import check_is_fitted

    with pytest.raises(NotFittedError):
        check_is_fitted(clf)
    assert not hasattr(clf, "classes_")
    fitted = clone(clf).fit(X, y)
    check_is_fitted(fitted)
    assert fitted.score(X, y) == np.mean(np.array(fitted.predict(X)) == np.array(y))
    assert list(fitted.classes_) == ["down", "up"]
    assert fitted.set_params(lr=0.01, num_layers=2) is fitted and fitted.config.training.lr == 0.01 and fitted.config.num_layers == 2
    assert fitted.model is None  # the weights belonged to the old options
    with pytest.raises(UserError, match=r"unknown SequenceClassifier option\(s\) \['colour'\]"):
        clf.set_params(colour="red")
    with pytest.raises(UserError, match="hidden_size"):
        clf.set_params(hidden_size=-1)


def test_second_fit_argument_is_labels_or_a_validation_pair():
    from lstmkit.tasks.classify import _are_labels

    X, y = variable_length_task(4, 0)
    assert _are_labels(y) and _are_labels(np.array(y)) and _are_labels(np.array([0, 1, 1]))
    assert not _are_labels((X, y)) and not _are_labels(None) and not _are_labels([]) and not _are_labels("label")
    assert not _are_labels(np.zeros((4, 5, 2))) and not _are_labels(pd.DataFrame({"label": y}))
    assert _are_labels(pd.Series(y))


def test_notebook_summary_names_the_changed_options():
    clf = SequenceClassifier(hidden_size=8, epochs=2, verbose=False)
    page = clf._repr_html_()
    assert "SequenceClassifier" in page and "not fitted" in page and "hidden_size" in page and "epochs" in page
    assert "pooling" not in page  # an option left at its default is not listed
    clf.fit(variable_length_task(60, 0))
    assert "fitted: " in clf._repr_html_() and "2 epochs" in clf._repr_html_()
