"""Language-model baselines fitted on the same training tokens: add-one unigram, interpolated Kneser-Ney.

Token ids are those of the model's vocabulary, so the baselines and the LSTM score the same sequence.
Kneser-Ney follows Chen & Goodman (1998), interpolated, one absolute discount D per order
(D = n1 / (n1 + 2 n2) from the counts of counts, kept in [0.1, 0.9]); the lowest order is interpolated with the uniform
distribution over the vocabulary, so no token gets probability zero:

    P(w | h) = max(c(h w) - D, 0) / c(h)  +  D * N1+(h .) / c(h) * P(w | h')

where c are counts at the highest order and continuation counts N1+(. h w) below it.
"""

from __future__ import annotations

import math
from collections import Counter, defaultdict

import numpy as np


def unigram_nats(train: np.ndarray, test: np.ndarray, vocab_size: int) -> float:
    """Total negative log-likelihood (nats) of ``test`` under an add-one unigram model of ``train``."""
    counts = np.bincount(train, minlength=vocab_size).astype(float) + 1.0
    logp = np.log(counts / counts.sum())
    return float(-logp[test].sum())


class KneserNey:
    """Interpolated Kneser-Ney n-gram model over integer token ids.

    Examples:
        >>> lm = KneserNey(order=3, vocab_size=3).fit(np.array([1, 2, 1, 2, 1, 2]))
        >>> lm.prob((2, 1), 2) > lm.prob((2, 1), 1), lm.prob((1,), 2) > lm.prob((1,), 1)
        (True, True)
    """

    def __init__(self, order: int, vocab_size: int) -> None:
        self.order, self.vocab_size = order, vocab_size

    def fit(self, ids: np.ndarray) -> KneserNey:
        tokens = [int(t) for t in ids]
        n = self.order
        # counts[k][(h..., w)]: raw counts at the top order, continuation counts below it
        self.counts: list[Counter] = [Counter() for _ in range(n + 1)]
        for i in range(len(tokens) - n + 1):
            self.counts[n][tuple(tokens[i : i + n])] += 1
        for k in range(n - 1, 0, -1):
            for gram in self.counts[k + 1]:
                self.counts[k][gram[1:]] += 1  # one more distinct left extension
        # per order: the context totals and the number of distinct followers of each context
        self.context_total: list[dict] = [dict() for _ in range(n + 1)]
        self.followers: list[dict] = [dict() for _ in range(n + 1)]
        for k in range(1, n + 1):
            total: defaultdict[tuple, int] = defaultdict(int)
            follow: defaultdict[tuple, int] = defaultdict(int)
            for gram, c in self.counts[k].items():
                total[gram[:-1]] += c
                follow[gram[:-1]] += 1
            self.context_total[k], self.followers[k] = dict(total), dict(follow)
        self.discount = [0.0] + [self._discount(self.counts[k]) for k in range(1, n + 1)]
        return self

    @staticmethod
    def _discount(counts: Counter) -> float:
        n1 = sum(1 for c in counts.values() if c == 1)
        n2 = sum(1 for c in counts.values() if c == 2)
        # Chen & Goodman's estimate, kept in [0.1, 0.9]: tiny corpora give D = 1 (no count-2 n-grams),
        # which throws away every observed count, or D = 0 (no count-1 n-grams), which gives unseen tokens P = 0
        return min(max(n1 / (n1 + 2 * n2), 0.1), 0.9) if n1 + n2 else 0.5

    def prob(self, history: tuple, w: int) -> float:
        """P(w | the last order-1 tokens of history)."""
        history = tuple(history)[-(self.order - 1) :] if self.order > 1 else ()
        return self._prob(history, w, len(history) + 1)

    def _prob(self, history: tuple, w: int, k: int) -> float:
        if k == 0:
            return 1.0 / self.vocab_size
        lower = self._prob(history[1:], w, k - 1)
        total = self.context_total[k].get(history)
        if not total:
            return lower
        d = self.discount[k]
        count = self.counts[k].get(history + (w,), 0)
        return max(count - d, 0.0) / total + d * self.followers[k][history] / total * lower

    def nats(self, ids: np.ndarray, context: np.ndarray | None = None) -> float:
        """Total negative log-likelihood of ``ids``; ``context`` (e.g. the end of the training text) primes the first tokens."""
        tokens = [int(t) for t in context[-(self.order - 1) :]] if context is not None and self.order > 1 else []
        start = len(tokens)
        tokens += [int(t) for t in ids]
        total = 0.0
        for i in range(start, len(tokens)):
            total -= math.log(self.prob(tuple(tokens[max(0, i - self.order + 1) : i]), tokens[i]))
        return total
