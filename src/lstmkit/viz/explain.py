"""``lstmkit explain``: what a trained model does with one input, as figures and a summary.

* text generation: the gates and cell state over the text, and the text coloured by the cells that
  follow its structure best (inside quotes or brackets, position in the line, word boundaries: the
  cells whose tanh(c_t) correlates most with each pattern), or by the cells asked for;
* classification of texts: each text coloured by the attention weights (with attention pooling), the
  gates when the LSTM reads the embeddings directly;
* tagging: the predicted entities highlighted, the CRF's transition scores, the gates of both directions;
* forecasting and anomaly detection: the gates over the last window the model reads.

Every view is a matplotlib Figure written as a PNG into ``out``; the summary says what is where.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import numpy as np
import torch

from lstmkit.errors import UserError
from lstmkit.viz.plots import cjk_font, plot_gates, plot_tokens, plot_transitions

MOST_TEXTS = 20  # views per command: one figure per text past this is more than anyone reads


def explain(estimator, out: str | Path, texts: list[str] | None = None, cells: list[int] | None = None, data=None) -> dict[str, Any]:
    """Write ``estimator``'s views of ``texts`` (text models) or of ``data``'s last window (forecasters)
    into the folder ``out`` and return a summary (JSON-ready)."""
    estimator._need_model()
    out = Path(out)
    if out.exists() and not out.is_dir():
        raise UserError(f"--out {str(out)!r} is a file; give a folder for the figures")
    texts = list(texts or [])
    if len(texts) > MOST_TEXTS:
        raise UserError(f"explain draws one view per text: give at most {MOST_TEXTS} texts, got {len(texts)}")
    kind = estimator.kind
    if kind in ("textgen", "classifier", "tagger"):
        if data is not None:
            raise UserError(f"this {kind} model explains texts: give --text (repeatable), not --data")
        if not texts:
            raise UserError("explain needs something to read: give --text (repeatable)")
    elif texts:
        raise UserError(f"this {kind} model reads series: give --data (default: the data it was trained on), not --text")
    if cells and kind != "textgen":
        raise UserError("--cell chooses text-generation cells to colour the text by; this model is a " + kind)
    explainer = {"textgen": _textgen, "classifier": _classifier, "tagger": _tagger}.get(kind, _forecaster)
    with torch.no_grad():
        summary = {"model": kind, **explainer(estimator, out, texts=texts, cells=cells or [], data=data)}
    if any(any("\u2e80" <= ch for ch in text) for text in texts) and cjk_font() is None:
        summary["font"] = "no Chinese font is installed: the figures draw its characters as boxes (install fonts-noto-cjk)"
    return summary


def run_views(estimator, out: Path, report: dict) -> dict[str, str]:
    """The views a finished run keeps in its directory for report.html: a forecaster's gates over its
    last window, a text model's gates and structure cells on its own sample, a tagger's CRF transitions
    (a classifier's views need texts to read: lstmkit explain draws them). Returns name -> file."""
    kind, files = estimator.kind, {}
    with torch.no_grad():
        try:
            if kind == "textgen" and report.get("sample"):
                sample = str(report["sample"])[:160]
                view = _textgen(estimator, out, [sample], [], None)["views"][0]
                files = {"gates": view["files"]["gates"], **{f"cell {c['cell']}: {c['tracks']}": c["file"] for c in view["cells"]}}
            elif kind == "tagger" and estimator.model.crf is not None:
                files = _transitions(estimator, out)
            elif kind in ("forecaster", "anomaly"):
                files = _forecaster(estimator, out, [], [], None)["files"]
        except UserError:  # a GRU has no recorded gates; a sample of unknown tokens has none to show
            return {}
        except (RuntimeError, ValueError, OSError) as e:  # the views are extras: they must not cost a finished run its report
            print(f"warning: the run's views were not drawn ({type(e).__name__}: {e})", file=sys.stderr)
            return {}
    return files


def _transitions(tagger, out: Path) -> dict[str, str]:
    path = out / "transitions.png"
    _folder(out)
    plot_transitions(tagger.model.crf._scores()[0].cpu().numpy(), tagger.labels, path)
    return {"transitions": str(path)}


def _folder(out: Path) -> None:
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise UserError(f"--out {str(out)!r} cannot be made ({e.strerror or e}); choose another folder") from None


# ------------------------------------------------------------------------------------- text generation
def structure(text: str) -> dict[str, np.ndarray]:
    """Per character, the patterns a cell may track: inside quotes, inside brackets, the position in the
    line (characters since the last line break), inside a word."""
    quote = bracket = 0
    column = 0
    inside_quotes, inside_brackets, position, in_word = [], [], [], []
    for ch in text:
        if ch in '"“”':
            quote ^= 1
        bracket += ch in "([{（【"
        bracket = max(0, bracket - (ch in ")]}）】"))
        column = 0 if ch == "\n" else column + 1
        inside_quotes.append(quote)
        inside_brackets.append(min(bracket, 1))
        position.append(column)
        in_word.append(ch.isalnum())
    patterns = {
        "inside quotes": inside_quotes,
        "inside brackets": inside_brackets,
        "position in the line": position,
        "inside a word": in_word,
    }
    return {name: np.asarray(values, dtype=float) for name, values in patterns.items()}


def _textgen(model, out: Path, texts: list[str], cells: list[int], data) -> dict:
    network = model.model.eval()
    width = model.network.hidden_size
    bad = [c for c in cells if not 0 <= c < width]
    if bad:
        raise UserError(f"--cell {bad[0]} is not a cell of this model: it has {width} per layer (0..{width - 1})")
    encoded = [model.vocab.encode(text) for text in texts]
    for n, (text, (ids, _)) in enumerate(zip(texts, encoded)):
        if len(ids) == 0 or bool((ids == 0).all()):
            raise UserError(f"text {n + 1} ({text[:40]!r}) has no token the model knows; give text in the language it was trained on")
    _folder(out)
    views = []
    for n, (text, (ids, unknown)) in enumerate(zip(texts, encoded)):
        tokens = [model.vocab.tokens[i] if i else t for i, t in zip(ids.tolist(), _tokens(model, text))]
        gates = network.lstm.gates(network.embedding(torch.as_tensor(ids)[None].to(model.device)))
        files = {"gates": out / f"gates_{n + 1}.png"}
        plot_gates(gates, files["gates"], labels=tokens)
        memory = gates["cell"][-1, 0, 0].tanh().numpy()  # (T, H): the top layer's tanh(c_t), what h_t reads
        chosen: list[tuple[int, str, float | None]] = [(c, "asked for", None) for c in cells]
        if not cells and model.vocab.level == "char":
            chosen = _structure_cells(text, memory)
        if not chosen:  # words, or no pattern varies in this text: the cells that vary most
            chosen = [(int(c), "varies most", None) for c in np.argsort(-memory.std(0))[:3]]
        found = []
        for cell, why, r in chosen:
            named = why.replace(" ", "_") if r is not None else f"cell_{cell}"  # a pattern's file keeps its name from run to run
            path = out / f"text_{n + 1}_{named}.png"
            title = f"cell {cell} (top layer, tanh c_t): {why}" + (f", r = {r:+.2f}" if r is not None else "")
            plot_tokens(tokens, memory[:, cell], path, title=title)
            found.append({"cell": cell, "tracks": why, "r": None if r is None else round(r, 3), "file": str(path)})
        views.append({"text": text, "unknown_tokens": unknown, "files": {k: str(v) for k, v in files.items()}, "cells": found})
    return {"views": views}


def _tokens(model, text: str) -> list[str]:
    from lstmkit.data.text import tokenize

    return tokenize(text, model.vocab.level, model.vocab.language, model.vocab.lower)


def _structure_cells(text: str, memory: np.ndarray) -> list[tuple[int, str, float | None]]:
    """For each pattern that varies in ``text``, the cell whose activation correlates most with it."""
    found: list[tuple[int, str, float | None]] = []
    centred = memory - memory.mean(0)
    spread = np.sqrt((centred**2).sum(0))
    for name, pattern in structure(text).items():
        if len(pattern) != len(memory) or pattern.std() == 0:
            continue
        p = pattern - pattern.mean()
        r = (p @ centred) / (np.sqrt(p @ p) * np.where(spread > 0, spread, np.inf))
        best = int(np.abs(r).argmax())
        found.append((best, name, float(r[best])))
    return found


# ---------------------------------------------------------------------------------------- classifier
def _classifier(model, out: Path, texts: list[str], cells: list[int], data) -> dict:
    if not model.text:
        raise UserError(
            "explain reads texts; this classifier was trained on numeric sequences (use predict_proba(X, attention=True) in Python)"
        )
    network = model.model.eval()
    probs, attention = model.probabilities_and_attention(texts)
    _folder(out)
    readable = network.conv is None and model.stride == 1 and hasattr(network.encoder, "gates")
    views = []
    for n, (text, p, att) in enumerate(zip(texts, probs, attention)):
        view: dict[str, Any] = model.explanation(text, p, att) | {"files": {}}
        if att is not None:
            tokens, weights = att
            path = out / f"attention_{n + 1}.png"
            title = f"attention: {view['label']} ({view['probability']:.2f})"
            plot_tokens(tokens, weights, path, title=title, cmap="Reds", limits=(0, float(weights.max())))
            view["files"]["attention"] = str(path)
        if readable:
            ids, lengths = model._inputs([text])
            gates = network.encoder.gates(network.embedding(ids.to(model.device)), lengths)
            path = out / f"gates_{n + 1}.png"
            plot_gates(gates, path, labels=model.tokens(text)[: int(lengths[0])])
            view["files"]["gates"] = str(path)
        views.append(view)
    note = None if readable else "no gate view: the LSTM reads convolved or averaged steps (or is a GRU)"
    return {"views": views, **({"note": note} if note else {})}


# -------------------------------------------------------------------------------------------- tagger
def _tagger(model, out: Path, texts: list[str], cells: list[int], data) -> dict:
    from lstmkit.data.tagging import entities

    _, sentences = model.read_inputs(texts)
    predicted = model.predict(sentences)
    network = model.model.eval()
    types = sorted({label.partition("-")[2] for label in model.labels} - {""})
    files = _transitions(model, out) if network.crf is not None else {}
    _folder(out)
    views = []
    for n, (text, tokens, tags) in enumerate(zip(texts, sentences, predicted)):
        found = entities(tags)
        kinds = np.full(len(tokens), -1)
        for kind, start, end in found:
            kinds[start:end] = types.index(kind)
        path = out / f"entities_{n + 1}.png"
        plot_tokens(tokens, kinds, path, title="predicted entities", names=types)
        batch = tuple(t.to(model.device) for t in model._tensors([tokens]))
        inputs = network.embedding(batch[0])
        if model.use_chars:
            inputs = torch.cat([inputs, network.chars(batch[2])], dim=2)
        gates_path = out / f"gates_{n + 1}.png"
        plot_gates(network.lstm.gates(inputs, batch[1]), gates_path, labels=tokens)
        entity_list = [{"type": kind, "text": ("" if model.level == "char" else " ").join(tokens[start:end])} for kind, start, end in found]
        views.append({"text": text, "entities": entity_list, "files": {"entities": str(path), "gates": str(gates_path)}})
    return {"files": files, "views": views}


# ---------------------------------------------------------------------------------------- forecaster
def _forecaster(model, out: Path, texts: list[str], cells: list[int], data) -> dict:
    if model.kind == "panel_forecaster":
        raise UserError("explain shows one series' window; a panel model's gates are not drawn yet (train a Forecaster on one series)")
    forecaster = getattr(model, "forecaster", model)  # an anomaly detector forecasts with its own
    series = forecaster.series if data is None else forecaster.read(data)
    if series is None or len(series) < forecaster.lookback:
        raise UserError(f"explain reads the last lookback = {forecaster.lookback} rows; give --data with at least that many")
    network = forecaster.model.eval()
    member = network.members[0] if hasattr(network, "members") else network
    if not hasattr(member.encoder, "gates"):
        raise UserError("the gate view needs an LSTM; this model's cell is a GRU (its gates are not recorded)")
    window = forecaster.model_inputs(series.values[-forecaster.lookback :])[None]
    if hasattr(network, "lookbacks"):
        window = window[:, -network.lookbacks[0] :]
    gates = member.encoder.gates(member.encoder_inputs(window.to(forecaster.device)))
    _folder(out)
    path = out / "gates.png"
    labels = [str(t)[:10] for t in series.time[-window.shape[1] :]] if series.time is not None else None
    plot_gates(gates, path, labels=labels)
    return {"files": {"gates": str(path)}, "steps": int(window.shape[1])}
