"""``lstmkit explain``: a trained model's gates, attention, entities and CRF transitions as figures."""

from __future__ import annotations

from pathlib import Path

import typer

from lstmkit.cli.common import JSON_OPTION, emit, load_estimator


def explain(
    model: Path = typer.Option(..., "--model", help="A model or run directory written by a train command or save()."),
    out: Path = typer.Option(..., "--out", help="Folder for the figures (PNG), created if needed."),
    text: list[str] = typer.Option([], "--text", help="A text to explain (text generation, classification, tagging); repeatable."),
    data: str = typer.Option(
        None, "--data", help="Forecasting, anomaly detection: the series whose last window is shown (default: the training data's)."
    ),
    cell: list[int] = typer.Option(
        [],
        "--cell",
        help="Text generation: colour the text by this cell of the top layer (repeatable; "
        "default: the cells that track quotes, brackets, line position and words best).",
    ),
    as_json: bool = JSON_OPTION,
) -> None:
    """Show what a trained model does with an input: LSTM gates and cell states, the text coloured by a
    cell, attention over tokens, predicted entities and CRF transitions.

    Example: lstmkit explain --model runs/hamlet --text "To be, or not to be" --out runs/hamlet/explain
    """
    from lstmkit.viz.explain import explain as draw

    summary = draw(load_estimator(model), out, texts=text, cells=cell, data=data)
    if as_json:
        emit(summary, as_json)
        return
    for name, path in summary.get("files", {}).items():
        print(f"{name}: {path}")
    for view in summary.get("views", []):
        print(f"{view['text']!r}")
        if "label" in view:
            print(f"  label {view['label']} (probability {view['probability']:.2f})")
        if "attention" in view:
            print("  most attended: " + ", ".join(f"{token} {weight:.2f}" for token, weight in view["attention"]))
        if "entities" in view:
            print("  predicted: " + (", ".join(f"{e['text']} ({e['type']})" for e in view["entities"]) or "none"))
        for name, path in view["files"].items():
            print(f"  {name}: {path}")
        for found in view.get("cells", []):
            r = f", r = {found['r']:+.2f}" if found["r"] is not None else ""
            print(f"  cell {found['cell']} ({found['tracks']}{r}): {found['file']}")
    for key in ("note", "font"):
        if key in summary:
            print(f"note: {summary[key]}")
