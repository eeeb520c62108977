"""CRF throughput and BiLSTM-CRF tagger training time, lstmkit vs straightforward per-sentence code, one run.

Part 1, the CRF alone: negative log-likelihood with its backward pass, and Viterbi decoding, for a batch
of sentences with People's Daily's length distribution (median 34 characters) and 7 BIO tags
(PER/LOC/ORG). The comparison is the textbook implementation that handles one sentence at a time:
a Python loop over the sentences and, inside, over time steps, vectorised over tags only. Both must
agree (log Z to 1e-4, identical Viterbi paths) before their speeds are compared.

Part 2, the tagger, time to quality: training on the first N People's Daily training sentences
(character BiLSTM-CRF, embedding 100, 128 units per direction, Adam 2e-3), three ways: lstmkit's
training loop (the Trainer that SequenceTagger.fit runs: batches of 32, vectorised CRF), the same with
a softmax decoder (what the CRF costs), and the same model trained one sentence at a time with the
per-sentence CRF (the way the PyTorch BiLSTM-CRF tutorial does it). After every epoch the entity F1 on
1,000 dev sentences is measured with the clock paused. Reported: seconds per epoch, characters per
second, the best F1, and the training seconds each needed to reach --target F1.

Run: make bench-crf   (or: python benchmarks/crf_tagger.py --sentences 3000 --target 0.6)
"""

from __future__ import annotations

import argparse
import statistics
import time

import numpy as np
import torch
from torch import nn

from lstmkit.data.tagging import peoples_daily_ner, to_bio
from lstmkit.evaluation.metrics import entity_scores
from lstmkit.nn.crf import CRF
from lstmkit.tasks.base import trim_padding
from lstmkit.tasks.networks import TaggerModel
from lstmkit.tasks.tag import SequenceTagger, _cut
from lstmkit.training import Callback, Trainer, TrainingOptions


# ------------------------------------------------------------------------------ per-sentence reference
def loop_nll(crf: CRF, emissions: torch.Tensor, tags: torch.Tensor, lengths: list[int]) -> torch.Tensor:
    """Sum of -log p(tags) computed one sentence and one step at a time."""
    transitions, start, end = crf._scores()
    total = emissions.new_zeros(())
    for b, n in enumerate(lengths):
        e, y = emissions[b, :n], tags[b, :n]
        alpha = start + e[0]
        gold = start[y[0]] + e[0, y[0]]
        for t in range(1, n):
            alpha = torch.logsumexp(alpha[:, None] + transitions, 0) + e[t]
            gold = gold + transitions[y[t - 1], y[t]] + e[t, y[t]]
        total = total + torch.logsumexp(alpha + end, 0) - (gold + end[y[n - 1]])
    return total


@torch.no_grad()
def loop_viterbi(crf: CRF, emissions: torch.Tensor, lengths: list[int]) -> list[list[int]]:
    transitions, start, end = crf._scores()
    paths = []
    for b, n in enumerate(lengths):
        e = emissions[b, :n]
        score, pointers = start + e[0], []
        for t in range(1, n):
            best, pointer = (score[:, None] + transitions).max(0)
            score, _ = best + e[t], pointers.append(pointer)
        tag = int((score + end).argmax())
        path = [tag]
        for pointer in reversed(pointers):
            tag = int(pointer[tag])
            path.append(tag)
        paths.append(path[::-1])
    return paths


def timed(fn, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def crf_part(repeats: int) -> None:
    torch.manual_seed(0)
    chars, tags = peoples_daily_ner()["dev"]
    labels = ["O", "B-PER", "I-PER", "B-LOC", "I-LOC", "B-ORG", "I-ORG"]
    from lstmkit.nn.crf import allowed_transitions

    crf = CRF(len(labels), allowed_transitions(labels))
    print(f"CRF, K={len(labels)} BIO tags, People's Daily dev sentence lengths; medians of {repeats}")
    print(
        f"{'batch':>6}{'max T':>7}  {'NLL+grad ours':>14}{'per-sentence':>14}{'ratio':>8}  "
        f"{'Viterbi ours':>13}{'per-sentence':>14}{'ratio':>8}"
    )
    for batch in (32, 256):
        picked = [tags[i] for i in range(batch)]
        lengths = [len(t) for t in picked]
        T = max(lengths)
        emissions = torch.randn(batch, T, len(labels), requires_grad=True)
        index = {label: i for i, label in enumerate(labels)}
        gold = torch.zeros(batch, T, dtype=torch.long)
        for b, t in enumerate(picked):
            gold[b, : len(t)] = torch.tensor([index[x] for x in to_bio(t)])
        mask = torch.arange(T)[None] < torch.tensor(lengths)[:, None]
        ours_nll = crf.nll(emissions, gold, mask).sum()
        loop = loop_nll(crf, emissions, gold, lengths)
        assert torch.allclose(ours_nll, loop, rtol=1e-4), (ours_nll, loop)
        paths = crf.decode(emissions, mask)[0]
        assert [paths[b, :n].tolist() for b, n in enumerate(lengths)] == loop_viterbi(crf, emissions, lengths)
        nll_ours = timed(lambda: crf.nll(emissions, gold, mask).sum().backward(), repeats)
        nll_loop = timed(lambda: loop_nll(crf, emissions, gold, lengths).backward(), repeats)
        vit_ours = timed(lambda: crf.decode(emissions, mask), repeats)
        vit_loop = timed(lambda: loop_viterbi(crf, emissions, lengths), repeats)
        rate = lambda seconds: f"{batch / seconds:,.0f}/s"
        print(
            f"{batch:>6}{T:>7}  {rate(nll_ours):>14}{rate(nll_loop):>14}{nll_loop / nll_ours:>7.1f}x  "
            f"{rate(vit_ours):>13}{rate(vit_loop):>14}{vit_loop / vit_ours:>7.1f}x"
        )
    print("(sentences per second; both sides agree on log Z and on every Viterbi path)")


# ---------------------------------------------------------------------------------------- tagger part
class _DevF1(Callback):
    """After each epoch: the training seconds so far (evaluation excluded) and the dev entity F1."""

    def __init__(self, tagger: SequenceTagger, dev) -> None:
        self.tagger, self.dev, self.curve = tagger, dev, []

    def on_fit_start(self, trainer) -> None:
        self.seconds, self.mark = 0.0, time.perf_counter()

    def on_epoch_end(self, trainer, record) -> None:
        self.seconds += time.perf_counter() - self.mark
        self.curve.append((self.seconds, dev_f1(self.tagger, self.dev)))
        self.mark = time.perf_counter()


def dev_f1(tagger: SequenceTagger, dev) -> float:
    return entity_scores(dev[1], tagger.predict(dev[0]))["f1"]


def prepared(chars, tags, decoder: str) -> SequenceTagger:
    """A tagger with lstmkit's vocabulary, labels and a fresh model (a zero budget stops fit at once)."""
    tagger = SequenceTagger(decoder=decoder, epochs=1, verbose=False, seed=0, max_minutes=1e-9).fit((chars, tags))
    torch.manual_seed(0)
    tagger.model = TaggerModel(len(tagger.vocab), 0, tagger.labels, tagger.config)
    return tagger


def lstmkit_curve(chars, tags, dev, decoder: str, epochs: int) -> list[tuple[float, float]]:
    """lstmkit's training loop (the Trainer SequenceTagger.fit runs): batches of 32, vectorised CRF."""
    tagger = prepared(chars, tags, decoder)
    train = tagger._tensors(*_cut(chars, [to_bio(t) for t in tags], tagger.config.max_len, to_bio))
    probe = _DevF1(tagger, dev)
    trainer = Trainer(
        TrainingOptions(
            epochs=epochs,
            batch_size=32,
            lr=tagger.config.training.lr,
            clip_grad_norm=5.0,
            schedule="none",
            patience=None,
            seed=0,
            device="cpu",
            verbose=False,
        ),
        [probe],
        val_fraction=0.0,
    )
    # val_fraction 0: every sentence trains and no validation pass is timed, as on the per-sentence side
    trainer.fit(tagger.model, lambda model, batch: model.loss(*trim_padding(batch)), train)
    return probe.curve


def per_sentence_curve(chars, tags, dev, epochs: int) -> list[tuple[float, float]]:
    """The same model trained one sentence at a time with the per-sentence CRF loss."""
    tagger = prepared(chars, tags, "crf")
    model: TaggerModel = tagger.model
    optimizer = torch.optim.Adam(model.parameters(), lr=tagger.config.training.lr)
    index = {label: i for i, label in enumerate(tagger.labels)}
    curve, seconds = [], 0.0
    for epoch in range(epochs):
        start = time.perf_counter()
        model.train()
        for i in np.random.default_rng(epoch).permutation(len(chars)):
            ids = torch.tensor([[tagger.vocab.index.get(c, 0) + 1 for c in chars[i]]])
            gold = torch.tensor([[index[t] for t in to_bio(tags[i])]])
            emissions = model(ids, torch.tensor([ids.shape[1]]))
            loss = loop_nll(model.crf, emissions, gold, [ids.shape[1]]) / ids.shape[1]
            optimizer.zero_grad()
            loss.backward()
            nn.utils.clip_grad_norm_(model.parameters(), 5.0)
            optimizer.step()
        seconds += time.perf_counter() - start
        curve.append((seconds, dev_f1(tagger, dev)))
    return curve


def tagger_part(n: int, target: float) -> None:
    data = peoples_daily_ner()
    chars, tags = data["train"][0][:n], data["train"][1][:n]
    dev = data["dev"][0][:1000], data["dev"][1][:1000]
    total = sum(map(len, chars))
    print(
        f"\nTagger training on the first {n} People's Daily training sentences ({total:,} characters); "
        f"entity F1 on {len(dev[0])} dev sentences after every epoch (clock paused while scoring)"
    )
    curves = {
        "lstmkit BiLSTM-CRF, batch 32": lstmkit_curve(chars, tags, dev, "crf", 8),
        "lstmkit BiLSTM-softmax, batch 32": lstmkit_curve(chars, tags, dev, "softmax", 8),
        "same model, one sentence at a time": per_sentence_curve(chars, tags, dev, 3),
    }
    print(f"{'method':<36}{'s/epoch':>8}{'chars/s':>9}{'best F1':>9}{f'  s to F1 {target}':>14}   F1 after each epoch")
    reached = {}
    for name, curve in curves.items():
        per_epoch = curve[-1][0] / len(curve)
        reached[name] = next((s for s, f1 in curve if f1 >= target), None)
        when = f"{reached[name]:.1f}" if reached[name] is not None else "not reached"
        print(
            f"{name:<36}{per_epoch:>8.1f}{total / per_epoch:>9,.0f}{max(f for _, f in curve):>9.3f}{when:>14}   "
            + " ".join(f"{f:.2f}" for _, f in curve)
        )
    ours, theirs = reached["lstmkit BiLSTM-CRF, batch 32"], reached["same model, one sentence at a time"]
    if ours and theirs:
        print(f"time to F1 {target}: per-sentence / lstmkit = {theirs / ours:.1f}x")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--sentences", type=int, default=3000, help="training sentences for the tagger part")
    parser.add_argument("--target", type=float, default=0.6, help="the dev F1 whose time-to-reach is compared")
    args = parser.parse_args()
    crf_part(args.repeats)
    tagger_part(args.sentences, args.target)


if __name__ == "__main__":
    main()
