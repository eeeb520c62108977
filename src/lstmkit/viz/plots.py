"""Plots drawn on matplotlib Figures (no pyplot global state): each function returns its Figure (a
notebook shows it) and, given a path, also writes it as a PNG, atomically."""

from __future__ import annotations

import functools
import io
import warnings
from pathlib import Path

import numpy as np
from matplotlib.figure import Figure

from lstmkit.io.artifacts import atomic_write_bytes

ZOOM = 150  # a forecast plot's detail: the last rows it shows before the forecast

# fonts with Chinese characters, in order of preference; matplotlib's own DejaVu fonts have none
CJK_FONTS = ("Noto Sans CJK SC", "Noto Sans Mono CJK SC", "Source Han Sans SC", "WenQuanYi Zen Hei", "WenQuanYi Micro Hei", "SimHei")


@functools.cache
def cjk_font() -> str | None:
    """An installed font that draws Chinese characters, or None (they are drawn as empty boxes)."""
    from matplotlib import font_manager

    installed = {font.name for font in font_manager.fontManager.ttflist}
    return next((name for name in CJK_FONTS if name in installed), None)


def _finish(fig: Figure, path: str | Path | None) -> Figure:
    if path is not None:
        buffer = io.BytesIO()
        with warnings.catch_warnings():
            # one warning per missing glyph and font; explain() says once when no Chinese font is installed
            warnings.filterwarnings("ignore", message="Glyph .* missing from font")
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
    zoom: int = ZOOM,
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
    detail.set_title(f"last {min(zoom, len(actual))} rows" + (" and the forecast" if future is not None else ""))
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


def plot_tokens(
    tokens: list[str],
    values,
    path: str | Path | None = None,
    title: str = "",
    cmap: str = "RdBu_r",
    limits: tuple[float, float] | None = None,
    names: list[str] | None = None,
    width: int = 60,
) -> Figure:
    """A text with each token's background coloured by its value: a cell's activation (diverging colours,
    centred on 0 unless ``limits`` say otherwise), an attention weight, or with ``names`` a category
    (values index ``names``; -1 leaves a token uncoloured). Lines wrap at about ``width`` characters;
    multi-character tokens are separated by spaces."""
    from matplotlib import colormaps
    from matplotlib.colors import Normalize
    from matplotlib.patches import Patch

    values = np.asarray(values, dtype=float)
    if len(tokens) != len(values):
        raise ValueError(f"one value per token: {len(tokens)} tokens, {len(values)} values")
    joined = all(len(t) == 1 for t in tokens)  # characters are shown as the text they are
    lines: list[list[int]] = [[]]
    used = 0
    for i, token in enumerate(tokens):
        size = len(token) + (0 if joined else 1)
        if token == "\n" or (used + size > width and lines[-1]):
            lines.append([])
            used = 0
        if token != "\n" or not joined:
            lines[-1].append(i)
            used += size
    colours = colormaps[cmap if names is None else "tab10"]
    if names is None:
        bound = float(np.abs(values).max()) or 1.0
        norm = Normalize(*(limits or (-bound, bound)))
    family = ["DejaVu Sans Mono", cjk_font()] if cjk_font() else "monospace"
    fig = Figure(figsize=(0.1 * width + 1, 0.32 * len(lines) + 1.0))
    ax = fig.subplots()
    ax.set_xlim(0, width + 2)
    ax.set_ylim(len(lines), -0.6)
    ax.axis("off")
    for row, indices in enumerate(lines):
        x = 0.0
        for i in indices:
            shown = tokens[i].replace("\n", "\\n") if not joined else tokens[i]
            size = len(shown) + (0 if joined else 1)
            if names is None:
                colour = colours(norm(values[i]))
            else:
                colour = colours(int(values[i]) % 10) if values[i] >= 0 else (1, 1, 1, 0)
            box = {"facecolor": colour, "edgecolor": "none", "pad": 1.2}
            ax.text(x, row, shown, family=family, fontsize=10, va="center", ha="left", bbox=box)
            x += size
    if names is None:
        from matplotlib.cm import ScalarMappable

        fig.colorbar(ScalarMappable(norm=norm, cmap=colours), ax=ax, orientation="horizontal", fraction=0.05, pad=0.02)
    else:
        present = sorted({int(v) for v in values if v >= 0})
        ax.legend(handles=[Patch(facecolor=colours(k % 10), label=names[k]) for k in present], loc="upper right", fontsize=8, frameon=False)
    if title:
        ax.set_title(title, fontsize=10, loc="left")
    return _finish(fig, path)


def plot_transitions(scores, labels: list[str], path: str | Path | None = None) -> Figure:
    """A CRF's transition scores (from label, to label) as a heatmap; forbidden transitions (-inf) grey."""
    scores = np.asarray(scores, dtype=float)
    shown = np.ma.masked_invalid(np.where(np.isinf(scores), np.nan, scores))
    size = 1.5 + 0.45 * len(labels)
    fig = Figure(figsize=(size + 1.5, size))
    ax = fig.subplots()
    bound = float(np.abs(shown).max()) or 1.0
    image = ax.imshow(shown, cmap="RdBu_r", vmin=-bound, vmax=bound)
    ax.set_facecolor("0.8")
    ax.set_xticks(range(len(labels)), labels, rotation=90)
    ax.set_yticks(range(len(labels)), labels)
    ax.set_xlabel("to")
    ax.set_ylabel("from")
    ax.set_title("CRF transition scores (grey: forbidden by the scheme)", fontsize=10)
    fig.colorbar(image, ax=ax)
    return _finish(fig, path)
