"""Plots drawn on matplotlib Figures (no pyplot global state): each function returns its Figure (a
notebook shows it) and, given a path, also writes it as a PNG, atomically."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
from matplotlib.figure import Figure

from lstmkit.io.artifacts import atomic_write_bytes


def _finish(fig: Figure, path: str | Path | None) -> Figure:
    if path is not None:
        buffer = io.BytesIO()
        fig.savefig(buffer, format="png", dpi=110, bbox_inches="tight")
        atomic_write_bytes(path, buffer.getvalue())
    return fig


def plot_loss(path: str | Path | None, epochs: list[dict], best_epoch: int | None = None) -> Figure:
    """Training and validation loss per epoch (log scale), with the kept epoch marked."""
    fig = Figure(figsize=(7, 3.5))
    ax = fig.subplots()
    x = [r["epoch"] for r in epochs]
    ax.plot(x, [r["train_loss"] for r in epochs], label="train")
    if any(r["val_loss"] is not None for r in epochs):
        ax.plot(x, [r["val_loss"] for r in epochs], label="validation")
    if best_epoch is not None:
        ax.axvline(best_epoch, color="grey", linestyle=":", label=f"kept (epoch {best_epoch})")
    ax.set_yscale("log")
    ax.set_xlabel("epoch")
    ax.set_ylabel("loss (scaled units)")
    ax.legend()
    ax.grid(alpha=0.3)
    return _finish(fig, path)


def plot_forecast(
    path: str | Path | None,
    title: str,
    time,
    actual: np.ndarray,
    test_time=None,
    test_forecast: np.ndarray | None = None,
    future_time=None,
    future: np.ndarray | None = None,
    future_low: np.ndarray | None = None,
    future_high: np.ndarray | None = None,
    interval_label: str = "",
    zoom: int = 150,
) -> Figure:
    """Two panels: the whole history with the test rows shaded, and a zoom on the last ``zoom`` rows
    with the model's 1-step forecasts and the forecast past the end (with its interval).

    actual (N,), test_forecast (n,), future / future_low / future_high (H,).
    """
    fig = Figure(figsize=(10, 7))
    overview, detail = fig.subplots(2, 1, gridspec_kw={"height_ratios": [1, 1.4]})
    overview.plot(time, actual, color="black", linewidth=0.8, label="actual")
    if test_time is not None and len(test_time):
        overview.axvspan(test_time[0], test_time[-1], color="tab:orange", alpha=0.12, label="test rows")
    overview.set_title(title)
    overview.legend(loc="upper left")
    tail = slice(max(0, len(actual) - zoom), None)
    detail.plot(time[tail], actual[tail], color="black", linewidth=1, marker=".", markersize=3, label="actual")
    if test_forecast is not None:
        shown = test_time >= time[tail][0]
        detail.plot(test_time[shown], test_forecast[shown], color="tab:orange", linewidth=1, label="model, 1 step ahead (test)")
    if future is not None:
        detail.plot(future_time, future, color="tab:blue", marker="o", markersize=3, label="forecast")
        if future_low is not None:
            detail.fill_between(future_time, future_low, future_high, color="tab:blue", alpha=0.25, label=interval_label)
    detail.set_title(f"last {min(zoom, len(actual))} rows and the forecast")
    detail.legend(loc="upper left")
    for ax in (overview, detail):
        ax.grid(alpha=0.3)
        ax.tick_params(axis="x", labelrotation=20)  # autofmt_xdate would hide the upper panel's dates
    fig.tight_layout()
    return _finish(fig, path)


def plot_anomalies(
    path: str | Path | None, title: str, time, values: np.ndarray, expected: np.ndarray, flagged: np.ndarray, train_end=None
) -> Figure:
    """The series, its 1-step forecasts, and the flagged points in red."""
    fig = Figure(figsize=(10, 4))
    ax = fig.subplots()
    ax.plot(time, values, color="black", linewidth=0.8, label="actual")
    ax.plot(time, expected, color="tab:blue", linewidth=0.8, alpha=0.8, label="1-step forecast")
    ax.scatter(np.asarray(time)[flagged], values[flagged], color="red", zorder=3, s=18, label=f"anomaly ({int(flagged.sum())})")
    if train_end is not None:
        ax.axvline(train_end, color="grey", linestyle=":", label="end of training rows")
    ax.set_title(title)
    ax.legend(loc="upper left")
    ax.grid(alpha=0.3)
    fig.autofmt_xdate()
    return _finish(fig, path)


def plot_gates(gates: dict, path: str | Path | None = None, sequence: int = 0, layer: int = -1, direction: int = 0, labels=None) -> Figure:
    """Heatmaps of one sequence's input, forget and output gates and cell state (units x steps) from
    ``lstmkit.nn.LSTM.gates``: gates in [0, 1] share one colour scale, the cell state its own, centred on 0.
    ``labels``: one tick label per step (the characters of a text, say)."""
    names = ("input", "forget", "output", "cell")
    directions = gates["input"].shape[1]
    if direction not in range(directions):
        raise ValueError(f"direction must be 0{' or 1' if directions == 2 else ''} for this LSTM, got {direction}")
    panels = [gates[name][layer, direction, sequence].detach().cpu().float().numpy().T for name in names]  # (H, T) each
    if labels is not None:  # a padded sequence: show its own steps only
        panels = [panel[:, : len(labels)] for panel in panels]
    steps = panels[0].shape[1]
    fig = Figure(figsize=(min(16, 3 + 0.25 * steps), 9))
    axes = fig.subplots(4, 1, sharex=True)
    bound = float(np.abs(panels[3]).max()) or 1.0
    for ax, name, values in zip(axes, names, panels):
        scale = {"vmin": -bound, "vmax": bound, "cmap": "RdBu_r"} if name == "cell" else {"vmin": 0.0, "vmax": 1.0, "cmap": "viridis"}
        image = ax.imshow(values, aspect="auto", interpolation="nearest", **scale)
        ax.set_ylabel(f"{name}\nunit")
        fig.colorbar(image, ax=ax, pad=0.01)
    if labels is not None:
        axes[-1].set_xticks(range(steps), [str(label) for label in labels][:steps])
    axes[-1].set_xlabel("step")
    shown = layer % gates["input"].shape[0]  # -1: the top layer, named by its index
    axes[0].set_title(f"LSTM gates and cell state: layer {shown}, {('forward', 'backward')[direction]} direction, sequence {sequence}")
    return _finish(fig, path)
