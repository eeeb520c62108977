"""``lstmkit textgen train | sample | evaluate``."""

from __future__ import annotations

import sys
from pathlib import Path

import typer

from lstmkit.cli.common import JSON_OPTION, OUT_OPTION, OVERWRITE_OPTION, emit, finish, prepare_out, task_config, train_run, training_flags
from lstmkit.tasks.defaults import textgen_training

app = typer.Typer(help="Character- and word-level LSTM language models: train, sample, evaluate.", no_args_is_help=True)
TEXT_DATA = typer.Option(..., "--data", help="A bundled corpus (hamlet, peoples_daily) or a UTF-8 text file.")
MODEL = typer.Option(..., "--model", help="Run directory written by `lstmkit textgen train`.")


def lm_table(result: dict, title: str) -> str:
    lines = [title, f"{'method':<10}{'cross-entropy':>15}{'perplexity':>12}{'bits/char':>11}"]
    names = {"model": "model", "unigram": "unigram", "ngram": f"{result['ngram_order']}-gram KN"}
    for name, m in result["metrics"].items():
        lines.append(f"{names[name]:<10}{m['cross_entropy']:>15.4f}{m['perplexity']:>12.2f}{m['bpc']:>11.4f}")
    if result["unknown_tokens"]:
        lines.append(f"{result['unknown_tokens']} distinct tokens of the evaluated text are not in the vocabulary (scored as <unk>)")
    return "\n".join(lines)


def _title(result: dict, what: str) -> str:
    return (
        f"{what}: {result['tokens']} {result['level']}-level tokens ({result['language']}), "
        f"{result['characters']} characters, vocabulary {result['vocab_size']}; cross-entropy in nats per token"
    )


@app.command("train")
@training_flags(textgen_training)
def train(
    data: str = TEXT_DATA,
    out: Path = OUT_OPTION,
    level: str = typer.Option("char", help="char or word."),
    language: str = typer.Option("auto", help="en, zh or auto; word-level zh uses jieba."),
    mode: str = typer.Option("tbptt", help="tbptt (carried state over the whole text) or window (the tutorials')."),
    seq_len: int = typer.Option(None, "--seq-len", help="Tokens per block or window (default 100)."),
    hidden_size: int = typer.Option(None, "--hidden-size", help="LSTM units (default: 256 under 100K training tokens, else 512)."),
    layers: int = typer.Option(None, "--layers", help="Stacked LSTM layers (default: 1 for a vocabulary over 256 tokens, else 2)."),
    embedding_dim: int = typer.Option(None, "--embedding-dim", help="Token embedding size (default: the hidden size when tied, else 128)."),
    dropout: float = typer.Option(
        None, help="Dropout on embeddings, between layers and before the head (default: 0.5 under 100K training tokens, else 0.2)."
    ),
    tie_weights: bool = typer.Option(
        None,
        "--tie-weights/--no-tie-weights",
        help="Share embedding and output weights (default: tied under 100K training tokens or with a vocabulary over 256).",
    ),
    min_freq: int = typer.Option(None, "--min-freq", help="Rarer tokens become <unk>."),
    max_vocab: int = typer.Option(None, "--max-vocab"),
    overwrite: bool = OVERWRITE_OPTION,
    as_json: bool = JSON_OPTION,
    training=None,
    search=None,
) -> None:
    """Train a language model, print held-out cross-entropy, perplexity and bits/char next to n-gram baselines.

    Example: lstmkit textgen train --data hamlet --max-minutes 10 --out runs/hamlet
    """
    from lstmkit.data.tables import source_name
    from lstmkit.data.text import CORPORA, read_text
    from lstmkit.tasks.textgen import TextGenConfig, TextGenerator

    config = task_config(
        TextGenConfig,
        training,
        level=level,
        language=language,
        mode=mode,
        seq_len=seq_len,
        hidden_size=hidden_size,
        num_layers=layers,
        embedding_dim=embedding_dim,
        dropout=dropout,
        tie_weights=tie_weights,
        min_freq=min_freq,
        max_vocab=max_vocab,
    )
    prepare_out(out, training, overwrite)
    text = read_text(data)
    model = TextGenerator(config)
    model.source = source_name(data, CORPORA)

    def measure() -> dict:
        sample = model.generate(length=200, seed=config.training.seed, temperature=0.8)
        return {**model.evaluate(), "sample": sample}

    report = result = train_run(out, model, text, measure=measure, search=search)
    sample = report["sample"]

    def show() -> None:
        print(lm_table(result, _title(result, f"{data}, test part (the last {config.test_fraction:.0%})")))
        print(f"trained {report['epochs']} epochs in {report['seconds']:.0f}s; run directory: {out}")
        print(f"report: {report['report']}")
        print("sample (temperature 0.8):\n" + sample)

    finish(report, as_json, show)


@app.command("sample")
def sample(
    model: Path = MODEL,
    prompt: str = typer.Option("", help="Text to continue."),
    length: int = typer.Option(300, help="Tokens to generate."),
    method: str = typer.Option("sample", help="sample, greedy or beam."),
    temperature: float = typer.Option(1.0),
    top_k: int = typer.Option(None, "--top-k"),
    top_p: float = typer.Option(None, "--top-p", help="Nucleus sampling: the smallest set of tokens with this mass."),
    beam: int = typer.Option(4, help="Hypotheses kept by beam search."),
    seed: int = typer.Option(0, help="Same seed, same text."),
    as_json: bool = JSON_OPTION,
) -> None:
    """Continue a prompt; the text streams to the terminal as it is produced.

    Example: lstmkit textgen sample --model runs/hamlet --prompt "HAMLET" --top-p 0.9
    """
    from lstmkit.tasks.textgen import TextGenerator, stream_to

    generator = TextGenerator.load(model)

    def warn(unknown: list[str]) -> None:
        print(
            f"note: the prompt has {len(unknown)} token(s) not in the vocabulary, read as <unk>: "
            + ", ".join(repr(t) for t in unknown[:10]),
            file=sys.stderr,
        )

    if as_json:
        text = generator.generate(prompt, length, method, temperature, top_k, top_p, beam, seed, on_unknown=warn)
        emit({"text": text}, True)
        return
    print(prompt, end="", flush=True)
    generator.generate(prompt, length, method, temperature, top_k, top_p, beam, seed, on_text=stream_to(sys.stdout), on_unknown=warn)
    print()


@app.command("evaluate")
def evaluate(
    model: Path = MODEL,
    data: str = typer.Option(None, "--data", help="Text to score. Default (or the training corpus again): its held-out test part."),
    as_json: bool = JSON_OPTION,
) -> None:
    """Cross-entropy, perplexity and bits/char of the model and the n-gram baselines.

    Example: lstmkit textgen evaluate --model runs/hamlet
    """
    from lstmkit.tasks.textgen import TextGenerator, evaluate_on

    generator = TextGenerator.load(model)
    result, what = evaluate_on(generator, data)
    if as_json:
        emit(result, True)
        return
    print(lm_table(result, _title(result, what)))
