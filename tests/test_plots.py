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
