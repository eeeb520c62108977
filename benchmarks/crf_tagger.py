"""CRF throughput and BiLSTM-CRF tagger training time, lstmkit vs straightforward per-sentence code, one run.

Part 1, the CRF alone: negative log-likelihood with its backward pass, and Viterbi decoding, for a batch
of sentences with People's Daily's length distribution (median 34 characters) and 7 BIO tags
(PER/LOC/ORG). The comparison is the textbook implementation that handles one sentence at a time:
a Python loop over the sentences and, inside, over time steps, vectorised over tags only. Both must
agree (log Z to 1e-4, identical Viterbi paths) before their speeds are compared.

Part 2, the tagger: one training epoch on the first N People's Daily training sentences (character
BiLSTM-CRF, embedding 100, 128 units per direction), three ways: lstmkit's SequenceTagger (batches of
32, vectorised CRF), the same with a softmax decoder (what the CRF costs), and the same model trained
one sentence at a time with the per-sentence CRF (the way the PyTorch BiLSTM-CRF tutorial does it).
Reported: seconds per epoch (lstmkit's include building its tensors and a validation pass over 5% of
the sentences), characters per second, and the entity F1 each reached on 1,000 dev sentences.

Run: make bench-crf   (or: python benchmarks/crf_tagger.py --sentences 2000)
"""

from __future__ import annotations

import argparse
import statistics
import time

import numpy as np
import torch
from torch import nn

from lstmkit.data.tagging import entity_scores, peoples_daily_ner, to_bio
from lstmkit.nn.crf import CRF
from lstmkit.tasks.tag import SequenceTagger, TaggerModel


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
    from lstmkit.data.tagging import allowed_transitions

    crf = CRF(len(labels), allowed_transitions(labels))
    print(f"CRF, K={len(labels)} BIO tags, People's Daily dev sentence lengths; medians of {repeats}")
    print(f"{'batch':>6}{'max T':>7}  {'NLL+grad ours':>14}{'per-sentence':>14}{'ratio':>8}  "
          f"{'Viterbi ours':>13}{'per-sentence':>14}{'ratio':>8}")
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
        print(f"{batch:>6}{T:>7}  {rate(nll_ours):>14}{rate(nll_loop):>14}{nll_loop / nll_ours:>7.1f}x  "
              f"{rate(vit_ours):>13}{rate(vit_loop):>14}{vit_loop / vit_ours:>7.1f}x")
    print("(sentences per second; both sides agree on log Z and on every Viterbi path)")


# ---------------------------------------------------------------------------------------- tagger part
def per_sentence_epoch(tagger: SequenceTagger, chars, tags) -> float:
    """One epoch of the same model trained one sentence at a time, per-sentence CRF loss; returns seconds."""
    model: TaggerModel = tagger.model
    optimizer = torch.optim.Adam(model.parameters(), lr=tagger.config.lr)
    index = {label: i for i, label in enumerate(tagger.labels)}
    start = time.perf_counter()
    model.train()
    for i in np.random.default_rng(0).permutation(len(chars)):
        ids = torch.tensor([[tagger.vocab.index.get(c, 0) + 1 for c in chars[i]]])
        gold = torch.tensor([[index[t] for t in to_bio(tags[i])]])
        emissions = model(ids, torch.tensor([ids.shape[1]]))
        loss = loop_nll(model.crf, emissions, gold, [ids.shape[1]]) / ids.shape[1]
        optimizer.zero_grad()
        loss.backward()
        nn.utils.clip_grad_norm_(model.parameters(), 5.0)
        optimizer.step()
    return time.perf_counter() - start


def tagger_part(n: int) -> None:
    data = peoples_daily_ner()
    chars, tags = data["train"][0][:n], data["train"][1][:n]
    dev = data["dev"][0][:1000], data["dev"][1][:1000]
    total = sum(map(len, chars))
    print(f"\nTagger, one epoch on the first {n} People's Daily training sentences ({total:,} characters); "
          f"entity F1 on {len(dev[0])} dev sentences after it")
    print(f"{'method':<38}{'s/epoch':>9}{'chars/s':>10}{'dev F1':>8}")
    rows = []
    for name, decoder in (("lstmkit BiLSTM-CRF, batch 32", "crf"), ("lstmkit BiLSTM-softmax, batch 32", "softmax")):
        tagger = SequenceTagger(decoder=decoder, epochs=1, val_fraction=0.05, verbose=False, seed=0)
        start = time.perf_counter()
        tagger.fit(chars, tags)
        seconds = time.perf_counter() - start
        rows.append((name, seconds, entity_scores(dev[1], tagger.predict(dev[0]))["f1"]))
    # the same vocabulary and labels as lstmkit's; the budget stops its own training after one batch
    full = SequenceTagger(epochs=1, verbose=False, seed=0, max_minutes=1e-9).fit(chars, tags)
    torch.manual_seed(0)
    full.model = TaggerModel(len(full.vocab), 0, full.labels, full.config)
    seconds = per_sentence_epoch(full, chars, tags)
    rows.append(("same model, one sentence at a time", seconds, entity_scores(dev[1], full.predict(dev[0]))["f1"]))
    for name, seconds, f1 in rows:
        print(f"{name:<38}{seconds:>9.1f}{total / seconds:>10,.0f}{f1:>8.3f}")
    print(f"per-sentence / lstmkit CRF time: {rows[2][1] / rows[0][1]:.1f}x; CRF / softmax time: {rows[0][1] / rows[1][1]:.2f}x")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--sentences", type=int, default=2000, help="training sentences for the tagger part")
    args = parser.parse_args()
    crf_part(args.repeats)
    tagger_part(args.sentences)


if __name__ == "__main__":
    main()
