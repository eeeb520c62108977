"""Plots return their matplotlib Figure and write a PNG only when given a path."""

import numpy as np
import pytest
from matplotlib.figure import Figure

from lstmkit.tasks.forecast import Forecaster
from lstmkit.viz.plots import plot_anomalies, plot_loss

PNG = b"\x89PNG\r\n\x1a\n"


def test_plot_functions_return_figures_and_write_only_when_given_a_path(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # a file written anywhere relative would land here
    epochs = [{"epoch": 1, "train_loss": 1.0, "val_loss": 0.9}, {"epoch": 2, "train_loss": 0.5, "val_loss": 0.6}]
    figure = plot_loss(None, epochs, 1)
    assert isinstance(figure, Figure) and len(figure.axes) == 1 and not list(tmp_path.iterdir())
    assert len(figure.axes[0].lines) == 3  # train, validation, the kept epoch
    plot_loss(tmp_path / "loss.png", epochs, 1)
    assert (tmp_path / "loss.png").read_bytes()[:8] == PNG
    values = np.sin(np.arange(50) / 3)
    flagged = np.zeros(50, bool)
    flagged[[10, 40]] = True
    figure = plot_anomalies(None, "t", np.arange(50), values, values, flagged)
    assert figure.axes[0].collections[0].get_offsets().shape == (2, 2)  # the two flagged points


def test_a_fitted_forecaster_plots_in_a_notebook_and_to_a_file(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    model = Forecaster(lookback=8, horizon=3, epochs=2, hidden_size=8, verbose=False).fit(np.sin(np.arange(200) / 5))
    figure = model.plot()
    assert isinstance(figure, Figure) and len(figure.axes) == 2 and not list(tmp_path.iterdir())
    model.plot(tmp_path / "f.png", label="sine")
    assert (tmp_path / "f.png").read_bytes()[:8] == PNG


def test_gate_heatmaps_show_each_gate_of_the_chosen_sequence():
    import torch

    from lstmkit.nn import LSTM
    from lstmkit.viz.plots import plot_gates

    gates = LSTM(2, 5, bidirectional=True).gates(torch.randn(3, 7, 2))
    figure = plot_gates(gates, sequence=2, direction=1, labels="abcdefg")
    images = [ax.images[0] for ax in figure.axes if ax.images]
    assert len(images) == 4 and all(image.get_array().shape == (5, 7) for image in images)
    np.testing.assert_allclose(images[1].get_array(), gates["forget"][-1, 1, 2].detach().numpy().T, rtol=1e-6)
    assert [t.get_text() for t in figure.axes[3].get_xticklabels()] == list("abcdefg")
    shorter = plot_gates(gates, labels="abc")  # a padded sequence's own steps
    assert shorter.axes[0].images[0].get_array().shape == (5, 3)
    with pytest.raises(ValueError, match="direction must be 0 for this LSTM, got 1"):
        plot_gates(LSTM(2, 5).gates(torch.randn(1, 4, 2)), direction=1)


def test_tokens_are_coloured_by_their_values_or_categories_and_wrap():
    from lstmkit.viz.plots import plot_tokens, plot_transitions

    text = "to be, or not to be\nthat is the question"
    figure = plot_tokens(list(text), np.linspace(-1, 1, len(text)), title="cell 3")
    labels = [t for t in figure.axes[0].texts]
    assert len(labels) == len(text) - 1  # every character but the line break, which starts the second line
    assert {round(t.get_position()[1]) for t in labels} == {0, 1}
    first, last = labels[0].get_bbox_patch().get_facecolor(), labels[-1].get_bbox_patch().get_facecolor()
    assert first[2] > first[0] and last[0] > last[2]  # -1 blue, +1 red
    words = plot_tokens(["Ann", "lives", "in", "Paris"], [0, -1, -1, 1], names=["PER", "LOC"])
    assert words.axes[0].texts[1].get_bbox_patch().get_facecolor()[3] == 0  # outside entities: no colour
    assert [t.get_text() for t in words.axes[0].get_legend().get_texts()] == ["PER", "LOC"]
    with pytest.raises(ValueError, match="one value per token"):
        plot_tokens(["a", "b"], [1.0])
    scores = np.zeros((3, 3))
    scores[0, 2] = -np.inf
    image = plot_transitions(scores, ["O", "B-X", "I-X"]).axes[0].images[0]
    assert np.ma.is_masked(image.get_array()[0, 2]) and not np.ma.is_masked(image.get_array()[0, 1])


def test_structure_cells_find_a_planted_cell_for_each_pattern():
    from lstmkit.viz.explain import _structure_cells, structure

    text = 'say "hi (you)" now\nok'
    patterns = structure(text)
    assert patterns["inside quotes"].tolist() == [0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0]
    assert patterns["inside brackets"][8:13].tolist() == [1, 1, 1, 1, 0]
    assert patterns["position in the line"][-3:].tolist() == [0, 1, 2]
    rng = np.random.default_rng(0)
    memory = rng.normal(0, 0.3, (len(text), 8))
    memory[:, 5] = patterns["inside quotes"] * 0.8 - 0.4
    memory[:, 2] = -patterns["inside a word"]
    found = {name: (cell, r) for cell, name, r in _structure_cells(text, memory)}
    assert found["inside quotes"][0] == 5 and found["inside quotes"][1] > 0.99
    assert found["inside a word"][0] == 2 and found["inside a word"][1] < -0.99
