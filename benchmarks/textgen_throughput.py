"""Training throughput of a character LSTM language model: lstmkit vs the same model by hand, one run.

Both sides train the same model (Embedding 128, LSTM 2 x 512, dropout 0.2, Linear) on Hamlet's first
80% of characters by truncated BPTT: 32 streams, blocks of 100 characters, state carried and detached,
Adam lr 2e-3, gradient clipping at 1, and a pass over the next 10% (validation) after each epoch. The
hand-written side is that loop in plain PyTorch (torch.nn.LSTM); lstmkit's is TextGenerator.fit.
Reported: training characters per second (wall time of the epochs, validation included) and the
validation cross-entropy each reached, interleaved over --repeats, medians.

Run: make bench-textgen   (or: python benchmarks/textgen_throughput.py --epochs 1 --repeats 2)
"""

from __future__ import annotations

import argparse
import statistics
import time

import torch
import torch.nn.functional as F
from torch import nn

from lstmkit.data.text import Vocab, read_text
from lstmkit.tasks.textgen import TextGenerator, _blocks, _boundary

STREAMS, SEQ, HIDDEN, EMB = 32, 100, 512, 128


def hand_written(text: str, epochs: int, seed: int) -> tuple[float, float, int]:
    start = time.perf_counter()
    torch.manual_seed(seed)
    val_start, test_start = _boundary(text, int(len(text) * 0.8)), _boundary(text, int(len(text) * 0.9))  # as lstmkit
    vocab = Vocab.build(text[:val_start], "char")
    train_x, train_y = _blocks(vocab.encode(text[:val_start])[0], STREAMS, SEQ)
    val_x, val_y = _blocks(vocab.encode(text[val_start:test_start])[0], STREAMS, SEQ)

    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.emb = nn.Embedding(len(vocab), EMB)
            self.lstm = nn.LSTM(EMB, HIDDEN, num_layers=2, dropout=0.2, batch_first=True)
            self.drop = nn.Dropout(0.2)
            self.head = nn.Linear(HIDDEN, len(vocab))

        def forward(self, x, state=None):
            out, state = self.lstm(self.drop(self.emb(x)), state)
            return self.head(self.drop(out)), state

    model = Net()
    optimizer = torch.optim.Adam(model.parameters(), lr=2e-3)
    for _ in range(epochs):
        model.train()
        state = None
        for x, y in zip(train_x, train_y):
            logits, state = model(x, state)
            state = tuple(s.detach() for s in state)
            loss = F.cross_entropy(logits.reshape(-1, logits.shape[-1]), y.reshape(-1))
            optimizer.zero_grad()
            loss.backward()
            nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            optimizer.step()
        model.eval()
        with torch.no_grad():
            state, total = None, 0.0
            for x, y in zip(val_x, val_y):
                logits, state = model(x, state)
                total += F.cross_entropy(logits.reshape(-1, logits.shape[-1]), y.reshape(-1)).item()
    return time.perf_counter() - start, total / len(val_x), train_x.numel() * epochs


def with_lstmkit(text: str, epochs: int, seed: int) -> tuple[float, float, int]:
    start = time.perf_counter()
    model = TextGenerator(
        epochs=epochs,
        patience=epochs,
        seed=seed,
        verbose=False,
        seq_len=SEQ,
        batch_size=STREAMS,
        hidden_size=HIDDEN,
        embedding_dim=EMB,
        num_layers=2,
        dropout=0.2,
        device="cpu",
    ).fit(text)
    seconds = time.perf_counter() - start
    train_x, _ = _blocks(model.vocab.encode(model.train_text)[0], STREAMS, SEQ)
    return seconds, model.history.epochs[-1]["val_loss"], train_x.numel() * epochs


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--repeats", type=int, default=2)
    args = parser.parse_args()
    text = read_text("hamlet")
    rows = []
    for seed in range(args.repeats):
        hand = hand_written(text, args.epochs, seed)
        ours = with_lstmkit(text, args.epochs, seed)
        rows.append((hand[2] / hand[0], hand[1], ours[2] / ours[0], ours[1]))
        print(
            f"seed {seed}: hand-written {rows[-1][0]:.0f} chars/s (val CE {hand[1]:.3f}) | "
            f"lstmkit {rows[-1][2]:.0f} chars/s (val CE {ours[1]:.3f})",
            flush=True,
        )
    hand_rate, hand_ce, our_rate, our_ce = (statistics.median(r[i] for r in rows) for i in range(4))
    print(f"\n| side | training chars/s | validation CE (nats/char) after {args.epochs} epochs |\n|---|---:|---:|")
    print(f"| hand-written PyTorch | {hand_rate:.0f} | {hand_ce:.3f} |")
    print(f"| lstmkit TextGenerator | {our_rate:.0f} | {our_ce:.3f} |")
    print(
        f"\nthroughput ratio lstmkit / hand-written: {our_rate / hand_rate:.2f} (medians of {args.repeats}, "
        f"{torch.get_num_threads()} threads)"
    )


if __name__ == "__main__":
    main()
