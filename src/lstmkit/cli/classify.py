"""``lstmkit classify train | predict | evaluate``."""

from __future__ import annotations

import sys
from pathlib import Path

import typer

from lstmkit.cli.common import (
    JSON_OPTION,
    OUT_OPTION,
    OVERWRITE_OPTION,
    emit,
    finish,
    prepare_out,
    task_config,
    train_run,
    training_flags,
    write_csv,
)
from lstmkit.errors import UserError
from lstmkit.tasks.defaults import classify_training

app = typer.Typer(
    help="Sequence classification (sentiment, ...): LSTM/GRU with attention, next to a bag-of-words baseline.", no_args_is_help=True
)
LABELLED_DATA = typer.Option(..., "--data", help="sentiment_en, sentiment_zh, or a CSV/TSV/Parquet file with text and label columns.")
TEXT_COLUMN = typer.Option("text", "--text-column", help="The column holding the texts.")
LABEL_COLUMN = typer.Option("label", "--label-column", help="The column holding the labels.")
MODEL = typer.Option(..., "--model", help="Run directory written by `lstmkit classify train`.")


def classify_table(result: dict, title: str) -> str:
    lines = [title, f"{'method':<12}{'accuracy':>9}{'precision':>10}{'recall':>8}{'f1':>8}   (macro averages)"]
    for name, m in result["metrics"].items():
        lines.append(f"{name:<12}{m['accuracy']:>9.4f}{m['precision']:>10.4f}{m['recall']:>8.4f}{m['f1']:>8.4f}")
    classes = [str(c) for c in result["classes"]]
    width = max(8, *map(len, classes)) + 2
    lines.append("confusion matrix of the model (rows: true, columns: predicted)")
    lines.append(" " * width + "".join(f"{c:>{width}}" for c in classes))
    for c, row in zip(classes, result["confusion"]):
        lines.append(f"{c:>{width}}" + "".join(f"{v:>{width}}" for v in row))
    return "\n".join(lines)


@app.command("train")
@training_flags(classify_training)
def train(
    data: str = LABELLED_DATA,
    out: Path = OUT_OPTION,
    text_column: str = TEXT_COLUMN,
    label_column: str = LABEL_COLUMN,
    level: str = typer.Option("auto", help="char, word, or auto (characters for Chinese, words for English)."),
    pooling: str = typer.Option("attention", help="attention, last, mean or max."),
    cell: str = typer.Option("lstm", help="lstm or gru."),
    conv_channels: int = typer.Option(0, "--conv-channels", help="> 0 adds a Conv1d front-end (CNN+LSTM)."),
    unidirectional: bool = typer.Option(False, "--unidirectional", help="One direction instead of a BiLSTM."),
    hidden_size: int = typer.Option(None, "--hidden-size", help="Units per direction (default 128)."),
    layers: int = typer.Option(None, "--layers", help="Stacked recurrent layers (default 1)."),
    embedding_dim: int = typer.Option(None, "--embedding-dim", help="Token embedding size (default 128)."),
    dropout: float = typer.Option(None, help="Dropout on the embeddings, the pooled vector and between layers (default 0.5)."),
    max_len: int = typer.Option(None, "--max-len", help="Tokens (or numeric steps) read per sequence; longer ones are cut (default 256)."),
    overwrite: bool = OVERWRITE_OPTION,
    as_json: bool = JSON_OPTION,
    training=None,
    search=None,
) -> None:
    """Train a classifier on the train part of a fixed stratified 80/10/10 split; report the test part next to bow_logreg.

    Example: lstmkit classify train --data sentiment_zh --out runs/sentiment_zh
    """
    from lstmkit.tasks.classify import ClassifierConfig, SequenceClassifier, labelled_splits

    config = task_config(
        ClassifierConfig,
        training,
        level=level,
        pooling=pooling,
        cell=cell,
        conv_channels=conv_channels,
        bidirectional=not unidirectional,
        hidden_size=hidden_size,
        num_layers=layers,
        embedding_dim=embedding_dim,
        dropout=dropout,
        max_len=max_len,
    )
    prepare_out(out, training, overwrite)
    parts, provenance = labelled_splits(data, text_column, label_column)
    clf = SequenceClassifier(config)
    clf.provenance = provenance

    def measure() -> dict:
        result = clf.evaluate(parts["test"][0], parts["test"][1], baseline_data=(*parts["train"], *parts["dev"]))
        return {"split": {k: len(v[1]) for k, v in parts.items()}, **result}

    report = result = train_run(out, clf, parts["train"], parts["dev"], measure, search=search)

    def show() -> None:
        print(classify_table(result, f"{data}, test part: {result['samples']} texts"))
        print(f"trained {report['epochs']} epochs in {report['seconds']:.0f}s (kept epoch {report['best_epoch']}); run directory: {out}")
        print(f"report: {report['report']}")

    finish(report, as_json, show)


@app.command("predict")
def predict(
    model: Path = MODEL,
    text: list[str] = typer.Option(None, "--text", help="A text to classify; repeat for more."),
    data: str = typer.Option(None, "--data", help="A CSV/TSV/Parquet file (its --text-column) or a .txt file, one text per line."),
    text_column: str = TEXT_COLUMN,
    output: Path = typer.Option(None, "--output", help="Also write the predictions as CSV (text, label, probability)."),
    as_json: bool = JSON_OPTION,
) -> None:
    """Label texts; with attention pooling, show the tokens the model weighted most.

    Example: lstmkit classify predict --model runs/sentiment_zh --text "质量很好，物流也快" --text "太差了，退货"
    """
    import pandas as pd

    from lstmkit.data.text import texts_from
    from lstmkit.tasks.classify import SequenceClassifier

    clf = SequenceClassifier.load(model)
    texts = list(text or []) + (texts_from(data, text_column) if data else [])
    if not texts:
        raise UserError('nothing to classify; give --text "..." (repeatable) or --data FILE')
    rows = clf.explain(texts)
    if output is not None:
        write_csv(output, pd.DataFrame([{k: r[k] for k in ("text", "label", "probability")} for r in rows]), index=False)
    if as_json:
        emit({"predictions": rows}, True)
        return
    for r in rows:
        focus = "   attention: " + " ".join(f"{tok}({w:.2f})" for tok, w in r["attention"]) if "attention" in r else ""
        print(f"{r['label']}  {r['probability']:.3f}  {r['text'][:80]}{focus}")


@app.command("evaluate")
def evaluate(
    model: Path = MODEL,
    data: str = typer.Option(None, "--data", help="Labelled data; default (or the training data again): its test part."),
    text_column: str = TEXT_COLUMN,
    label_column: str = LABEL_COLUMN,
    as_json: bool = JSON_OPTION,
) -> None:
    """Accuracy, macro precision/recall/F1 and the confusion matrix, next to bow_logreg fitted on the training part.

    Example: lstmkit classify evaluate --model runs/sentiment_zh
    """
    from lstmkit.data.text import labelled_texts
    from lstmkit.tasks.classify import SequenceClassifier, recorded_training_data, source_name

    clf = SequenceClassifier.load(model)
    source = clf.provenance.get("source")
    training, problem = recorded_training_data(clf)
    if problem:  # the model is still scored on other data, without the baseline
        print(f"note: {problem}; no bow_logreg baseline", file=sys.stderr)
    if data is None or source_name(data) == source:
        if training is None:
            raise UserError(f"{problem}, so its test part is unknown; give --data with other labelled texts")
        evaluated, what = training["test"], f"{source}, test part"
    else:
        evaluated, what = labelled_texts(data, text_column, label_column), data
    baseline = (*training["train"], *training["dev"]) if training else None
    result = clf.evaluate(evaluated[0], evaluated[1], baseline_data=baseline)
    if as_json:
        emit(result, True)
        return
    print(classify_table(result, f"{what}: {result['samples']} texts"))
