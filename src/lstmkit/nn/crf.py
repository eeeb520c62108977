"""Linear-chain conditional random field: log-likelihood by the forward algorithm, decoding by Viterbi.

Symbol key: B sequences (batch), T steps, K tags.

A tag sequence y_1..y_L of a sentence with emission scores e (from the BiLSTM) scores

    s(y) = start[y_1] + sum_t e_t[y_t] + sum_{t>1} transitions[y_{t-1}, y_t] + end[y_L]

and p(y) = exp(s(y)) / Z with log Z = logsumexp over all K^L sequences, computed in O(L K^2) by the
forward recursion alpha_t[j] = logsumexp_i(alpha_{t-1}[i] + transitions[i, j]) + e_t[j]. Viterbi runs
the same recursion with max in place of logsumexp and follows back-pointers. Both are vectorised over
the batch and the K x K transitions; only the time loop is Python.

Padded batches carry a mask (B, T): True on a sequence's tokens, which must come first (left-aligned).
Transition constraints (e.g. BIO: I-PER only after B-PER or I-PER) are -inf scores added to the learned
ones, so forbidden paths have probability zero in training and are never decoded.
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

from lstmkit.errors import UserError


class CRF(nn.Module):
    """A linear-chain CRF over K tags.

    Args:
        num_tags: K.
        allowed: optional ``(transitions (K, K), start (K,), end (K,))`` boolean tensors; False entries are
            forbidden (see ``lstmkit.nn.crf.allowed_transitions`` for BIO/BIOES).

    Inputs: emissions (B, T, K) float, tags (B, T) long, mask (B, T) bool (None: all True).

    Examples:
        >>> crf = CRF(3)
        >>> emissions = torch.randn(2, 4, 3)
        >>> mask = torch.tensor([[True, True, True, True], [True, True, False, False]])
        >>> crf.decode(emissions, mask)[0][1, 2:].tolist()  # padding is -1
        [-1, -1]
        >>> bool((crf.nll(emissions, torch.zeros(2, 4, dtype=torch.long), mask) > 0).all())
        True
    """

    def __init__(self, num_tags: int, allowed: tuple[Tensor, Tensor, Tensor] | None = None) -> None:
        super().__init__()
        if num_tags < 1:
            raise UserError(f"num_tags must be at least 1, got {num_tags}")
        self.num_tags = num_tags
        self.transitions = nn.Parameter(torch.empty(num_tags, num_tags).uniform_(-0.1, 0.1))  # [from, to]
        self.start_transitions = nn.Parameter(torch.empty(num_tags).uniform_(-0.1, 0.1))
        self.end_transitions = nn.Parameter(torch.empty(num_tags).uniform_(-0.1, 0.1))
        ok = allowed or (
            torch.ones(num_tags, num_tags, dtype=torch.bool),
            torch.ones(num_tags, dtype=torch.bool),
            torch.ones(num_tags, dtype=torch.bool),
        )
        shapes = [(num_tags, num_tags), (num_tags,), (num_tags,)]
        if [tuple(a.shape) for a in ok] != shapes:
            raise UserError(f"allowed must be boolean tensors of shapes {shapes}, got {[tuple(a.shape) for a in ok]}")
        # penalties are buffers, not parameters: saved with the model, never trained
        for name, a in zip(("transition_penalty", "start_penalty", "end_penalty"), ok):
            self.register_buffer(name, torch.zeros(a.shape).masked_fill(~a.bool(), float("-inf")))

    transition_penalty: Tensor
    start_penalty: Tensor
    end_penalty: Tensor

    def _scores(self) -> tuple[Tensor, Tensor, Tensor]:
        return (
            self.transitions + self.transition_penalty,
            self.start_transitions + self.start_penalty,
            self.end_transitions + self.end_penalty,
        )

    def _check(self, emissions: Tensor, mask: Tensor | None) -> Tensor:
        if emissions.dim() != 3 or emissions.shape[2] != self.num_tags:
            raise UserError(f"emissions must be (B, T, {self.num_tags}), got {tuple(emissions.shape)}")
        if mask is None:
            return torch.ones(emissions.shape[:2], dtype=torch.bool, device=emissions.device)
        mask = mask.bool()
        if mask.shape != emissions.shape[:2]:
            raise UserError(f"mask must be (B, T) = {tuple(emissions.shape[:2])}, got {tuple(mask.shape)}")
        if emissions.shape[1] == 0 or not mask[:, 0].all():
            raise UserError("every sequence needs at least one token (mask[:, 0] all True); drop empty sentences")
        if (mask[:, 1:] & ~mask[:, :-1]).any():
            raise UserError("mask must be left-aligned: each sequence's True entries first, then padding")
        return mask

    def score(self, emissions: Tensor, tags: Tensor, mask: Tensor | None = None) -> Tensor:
        """s(y) of the given tag sequences: (B,)."""
        mask = self._check(emissions, mask)
        transitions, start, end = self._scores()
        emitted = emissions.gather(2, tags.unsqueeze(2)).squeeze(2)  # (B, T)
        moved = transitions[tags[:, :-1], tags[:, 1:]]  # (B, T-1)
        zero = emissions.new_zeros(())
        last = tags.gather(1, mask.sum(1, keepdim=True) - 1).squeeze(1)  # each sequence's final tag
        # torch.where, not multiplication by the mask: a forbidden (-inf) score on padding must not give nan
        return start[tags[:, 0]] + torch.where(mask, emitted, zero).sum(1) + torch.where(mask[:, 1:], moved, zero).sum(1) + end[last]

    def log_partition(self, emissions: Tensor, mask: Tensor | None = None) -> Tensor:
        """log Z by the forward algorithm: (B,)."""
        mask = self._check(emissions, mask)
        transitions, start, end = self._scores()
        alpha = start + emissions[:, 0]  # (B, K)
        for t in range(1, emissions.shape[1]):
            step = torch.logsumexp(alpha.unsqueeze(2) + transitions, dim=1) + emissions[:, t]  # (B, K)
            alpha = torch.where(mask[:, t : t + 1], step, alpha)  # finished sequences keep their alpha
        return torch.logsumexp(alpha + end, dim=1)

    def nll(self, emissions: Tensor, tags: Tensor, mask: Tensor | None = None) -> Tensor:
        """Negative log-likelihood -log p(tags) of each sequence: (B,)."""
        return self.log_partition(emissions, mask) - self.score(emissions, tags, mask)

    def forward(self, emissions: Tensor, tags: Tensor, mask: Tensor | None = None) -> Tensor:
        """The mean negative log-likelihood per token, a training loss."""
        mask = self._check(emissions, mask)
        return self.nll(emissions, tags, mask).sum() / mask.sum()

    @torch.no_grad()
    def decode(self, emissions: Tensor, mask: Tensor | None = None) -> tuple[Tensor, Tensor]:
        """Viterbi: the highest-scoring tag sequences (B, T), -1 on padding, and their scores (B,)."""
        mask = self._check(emissions, mask)
        transitions, start, end = self._scores()
        B, T, _ = emissions.shape
        best = start + emissions[:, 0]  # (B, K): best score of a path ending in each tag
        pointers = []
        for t in range(1, T):
            candidates = best.unsqueeze(2) + transitions  # (B, K_from, K_to)
            top, pointer = candidates.max(dim=1)
            best = torch.where(mask[:, t : t + 1], top + emissions[:, t], best)
            pointers.append(pointer)
        scores, final = (best + end).max(dim=1)
        last = mask.sum(1) - 1  # (B,) index of each sequence's final token
        path = torch.full((B, T), -1, dtype=torch.long, device=emissions.device)
        current = final
        for t in range(T - 1, -1, -1):
            current = torch.where(last == t, final, current)  # a sequence's backtrace starts at its end
            path[:, t] = torch.where(t <= last, current, path[:, t])
            if t > 0:
                previous = pointers[t - 1].gather(1, current.unsqueeze(1)).squeeze(1)
                current = torch.where(t <= last, previous, current)
        return path, scores


def allowed_transitions(labels: list[str]) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Which tag may follow which, start or end a sentence, under BIO or BIOES (chosen by the labels' prefixes).

    BIO: I-X only after B-X or I-X. BIOES: I-X and E-X only after B-X or I-X; after B-X or I-X only
    I-X or E-X; sentences end on O, E or S.
    """
    parts = [(label.partition("-")[0], label.partition("-")[2]) for label in labels]
    bioes = any(prefix in ("E", "S") for prefix, _ in parts)
    K = len(labels)
    trans = torch.ones(K, K, dtype=torch.bool)
    start = torch.ones(K, dtype=torch.bool)
    end = torch.ones(K, dtype=torch.bool)
    for j, (p_to, t_to) in enumerate(parts):
        if p_to in ("I", "E"):
            start[j] = False
        if bioes and p_to in ("B", "I"):
            end[j] = False
        for i, (p_from, t_from) in enumerate(parts):
            inside_from = p_from in ("B", "I")
            continues = p_to in ("I", "E")
            if continues and not (inside_from and t_from == t_to):
                trans[i, j] = False
            if bioes and inside_from and not (continues and t_from == t_to):
                trans[i, j] = False
    return trans, start, end
