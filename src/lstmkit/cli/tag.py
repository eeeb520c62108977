"""``lstmkit tag train | predict | evaluate``."""

from __future__ import annotations

from pathlib import Path

import typer

from lstmkit.cli.common import (
    JSON_OPTION,
    OUT_OPTION,
    OVERWRITE_OPTION,
    emit,
    finish,
    output_file,
    prepare_out,
    task_config,
    train_run,
    training_flags,
)
from lstmkit.tasks.defaults import tag_training

app = typer.Typer(help="Sequence labelling (named entities): BiLSTM-CRF, scored per entity.", no_args_is_help=True)
TAGGED_DATA = typer.Option(..., "--data", help="peoples_daily_ner, or a CoNLL file (token ... tag per line, blank line between sentences).")
MODEL = typer.Option(..., "--model", help="Run directory written by `lstmkit tag train`.")


def tag_table(result: dict, title: str) -> str:
    m = result["metrics"]["model"]
    lines = [title, f"{'entity':<10}{'precision':>10}{'recall':>8}{'f1':>8}{'support':>9}"]
    for kind, s in [*result["per_type"].items(), ("overall", m)]:
        support = s.get("support", sum(v["support"] for v in result["per_type"].values()))
        lines.append(f"{kind:<10}{s['precision']:>10.4f}{s['recall']:>8.4f}{s['f1']:>8.4f}{support:>9}")
    lines.append(f"token accuracy {m['accuracy']:.4f}")
    return "\n".join(lines)


@app.command("train")
@training_flags(tag_training)
def train(
    data: str = TAGGED_DATA,
    out: Path = OUT_OPTION,
    dev: str = typer.Option(None, "--dev", help="A CoNLL dev file (early stopping). Default: held out from --data."),
    test: str = typer.Option(None, "--test", help="A CoNLL test file (reported). Default: held out from --data."),
    decoder: str = typer.Option("crf", help="crf or softmax."),
    scheme: str = typer.Option("BIO", help="BIO or BIOES: the tags the model learns."),
    char_features: bool = typer.Option(
        None, "--char-features/--no-char-features", help="A character CNN per word (default: on for word tokens, off for characters)."
    ),
    hidden_size: int = typer.Option(None, "--hidden-size", help="Units per direction (default 128)."),
    layers: int = typer.Option(None, "--layers", help="Stacked BiLSTM layers (default 1)."),
    embedding_dim: int = typer.Option(None, "--embedding-dim", help="Token embedding size (default 100)."),
    dropout: float = typer.Option(None, help="Dropout on the embeddings and the BiLSTM outputs (default 0.3)."),
    overwrite: bool = OVERWRITE_OPTION,
    as_json: bool = JSON_OPTION,
    training=None,
    search=None,
) -> None:
    """Train a BiLSTM-CRF tagger; report entity-level precision/recall/F1 per type on the test part.

    Example: lstmkit tag train --data peoples_daily_ner --max-minutes 14 --out runs/ner
    """
    from lstmkit.data.tagging import tagged_splits
    from lstmkit.tasks.tag import SequenceTagger, TaggerConfig

    config = task_config(
        TaggerConfig,
        training,
        decoder=decoder,
        scheme=scheme,
        char_features=char_features,
        hidden_size=hidden_size,
        num_layers=layers,
        embedding_dim=embedding_dim,
        dropout=dropout,
    )
    prepare_out(out, training, overwrite)
    parts = tagged_splits(data, dev, test)
    tagger = SequenceTagger(config)

    def measure() -> dict:
        return {"split": {k: len(v[0]) for k, v in parts.items()}, **tagger.evaluate(*parts["test"])}

    report = result = train_run(out, tagger, parts["train"], parts["dev"], measure, search=search)

    def show() -> None:
        print(tag_table(result, f"{data}, test part: {result['sentences']} sentences, {result['tokens']} tokens"))
        print(f"trained {report['epochs']} epochs in {report['seconds']:.0f}s (kept epoch {report['best_epoch']}); run directory: {out}")
        print(f"report: {report['report']}")

    finish(report, as_json, show)


@app.command("predict")
def predict(
    model: Path = MODEL,
    text: list[str] = typer.Option(None, "--text", help="A sentence to tag; repeat for more."),
    data: str = typer.Option(None, "--data", help="A .txt file (one sentence per line) or a CoNLL file (tokens in its first column)."),
    output: Path = typer.Option(None, "--output", help="Also write token / tag lines (CoNLL) to this file."),
    as_json: bool = JSON_OPTION,
) -> None:
    """Tag sentences and show the entities marked in the text: [江泽民]PER在[北京]LOC.

    Example: lstmkit tag predict --model runs/ner --text "江泽民主席在北京会见了俄罗斯总统叶利钦"
    """
    from lstmkit.data.tagging import entities, mark_entities, write_conll
    from lstmkit.tasks.tag import SequenceTagger

    tagger = SequenceTagger.load(model)
    _, sentences = tagger.read_inputs(text or [], data)
    tags = tagger.predict(sentences)
    if output is not None:
        write_conll(output_file(output), sentences, tags)
    joiner = "" if tagger.level == "char" else " "
    rows = [
        {
            "tokens": s,
            "tags": t,
            "marked": mark_entities(s, t, joiner),
            "entities": [{"type": k, "text": joiner.join(s[a:b]), "start": a, "end": b} for k, a, b in entities(t)],
        }
        for s, t in zip(sentences, tags)
    ]
    if as_json:
        emit({"predictions": rows}, True)
        return
    for r in rows:
        print(r["marked"])


@app.command("evaluate")
def evaluate(
    model: Path = MODEL,
    data: str = typer.Option(..., "--data", help="peoples_daily_ner (its test part) or a CoNLL file (all of it)."),
    as_json: bool = JSON_OPTION,
) -> None:
    """Entity-level precision, recall and F1, overall and per type (seqeval's definitions).

    Example: lstmkit tag evaluate --model runs/ner --data peoples_daily_ner
    """
    from lstmkit.data.tagging import NER_CORPORA, peoples_daily_ner, read_conll
    from lstmkit.tasks.tag import SequenceTagger

    tagger = SequenceTagger.load(model)
    evaluated = peoples_daily_ner()["test"] if data in NER_CORPORA else read_conll(data)
    result = tagger.evaluate(*evaluated)
    if as_json:
        emit(result, True)
        return
    print(tag_table(result, f"{data}{', test part' if data in NER_CORPORA else ''}: {result['sentences']} sentences"))
