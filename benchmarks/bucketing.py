"""Length-bucketed batches and the unpacked encoder against what came before them (plain shuffled
batches, torch's packed variable-length LSTM): the Chinese sentiment classifier (defaults,
`sentiment_zh`, texts of 1-256 characters) trained for the same number of epochs each way, in one
run. Reported: padding share (padded steps the encoder reads / real steps, over one epoch's batches),
seconds per training epoch, and test accuracy reached.

Run: make bench-bucketing   (or: python benchmarks/bucketing.py --epochs 1 --repeats 1)
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from pathlib import Path

import torch

from lstmkit.data.text import labelled_texts
from lstmkit.tasks.classify import SequenceClassifier, three_way_split
from lstmkit.training.trainer import bucketed_order

RESULTS = Path(__file__).parent / "results"


def plain(self) -> dict:
    """The classifier's Trainer keywords without length buckets (the shuffle used before them)."""
    return {k: v for k, v in SequenceClassifier._trainer_keywords(self).items() if k != "bucket_by"}


def packed_build(self):
    """The classifier's network with its encoder's outputs computed the packed way (as before)."""
    model = SequenceClassifier._build(self)
    encoder = model.encoder
    encoder.outputs = lambda x, lengths: encoder(x, lengths=lengths)[0]
    return model


class Before(SequenceClassifier):
    _trainer_keywords = plain
    _build = packed_build


class BucketedPacked(SequenceClassifier):
    _build = packed_build


ARMS = {"shuffled, packed (before)": Before, "bucketed, packed": BucketedPacked, "bucketed, unpacked (now)": SequenceClassifier}


def padding_share(lengths: torch.Tensor, order: torch.Tensor, batch_size: int) -> float:
    return sum(int(lengths[b].max()) * len(b) for b in order.split(batch_size)) / int(lengths.sum())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--repeats", type=int, default=1)
    args = parser.parse_args()
    parts = three_way_split(*labelled_texts("sentiment_zh"), seed=0)
    rows: dict[str, list] = {name: [] for name in ARMS}
    for _ in range(args.repeats):
        for name, cls in ARMS.items():
            started = time.perf_counter()
            model = cls(epochs=args.epochs, verbose=False).fit(parts["train"], parts["dev"])
            seconds = time.perf_counter() - started
            history = model.history
            assert history is not None
            epoch_seconds = statistics.median(e["seconds"] for e in history.epochs)
            accuracy = model.evaluate(*parts["test"])["metrics"]["model"]["accuracy"]
            rows[name].append({"epoch_seconds": epoch_seconds, "fit_seconds": seconds, "accuracy": accuracy})
            print(f"{name:26s} {epoch_seconds:7.1f} s/epoch  accuracy {accuracy:.4f}", flush=True)
    # padding over one epoch of the training texts, as the encoder reads them (tokens, cut at max_len)
    lengths = model._inputs(parts["train"][0])[1]
    batch = model.batch_size
    generator = torch.Generator().manual_seed(0)
    shuffled = padding_share(lengths, torch.randperm(len(lengths), generator=generator), batch)
    bucketed = padding_share(lengths, bucketed_order(lengths, batch, generator), batch)
    summary = {
        name: {
            "padding_share": shuffled if cls is Before else bucketed,
            "epoch_seconds": statistics.median(r["epoch_seconds"] for r in rows[name]),
            "accuracy": statistics.median(r["accuracy"] for r in rows[name]),
        }
        for name, cls in ARMS.items()
    }
    print(json.dumps(summary, indent=1))
    before = summary["shuffled, packed (before)"]["epoch_seconds"]
    for name, row in summary.items():
        print(f"{name:26s} {before / row['epoch_seconds']:.2f}x the epochs of before; steps read per real step {row['padding_share']:.2f}")
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "bucketing.json").write_text(json.dumps({"epochs": args.epochs, "summary": summary, "runs": rows}, indent=1) + "\n")


if __name__ == "__main__":
    main()
