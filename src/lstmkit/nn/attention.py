"""Additive attention pooling over LSTM outputs (Bahdanau et al., 2015; Yang et al., 2016).

Symbol key: B sequences, T steps, H feature size of each step, A attention size.

    u_t = tanh(W h_t + b)        (A,)
    a_t = softmax_t(v . u_t)     over the sequence's own steps; padding gets weight exactly 0
    c   = sum_t a_t h_t          (H,)
"""

from __future__ import annotations

import torch
from torch import Tensor, nn


class AdditiveAttention(nn.Module):
    """Pools (B, T, H) into (B, H) with learned weights over the steps; returns the weights for inspection.

    Examples:
        >>> pool = AdditiveAttention(8)
        >>> context, weights = pool(torch.randn(2, 5, 8), torch.tensor([5, 3]))
        >>> context.shape, weights[1, 3:].tolist()
        (torch.Size([2, 8]), [0.0, 0.0])
    """

    def __init__(self, hidden_size: int, attention_size: int | None = None) -> None:
        super().__init__()
        self.project = nn.Linear(hidden_size, attention_size or hidden_size)
        self.score = nn.Linear(attention_size or hidden_size, 1, bias=False)

    def forward(self, outputs: Tensor, lengths: Tensor | None = None) -> tuple[Tensor, Tensor]:
        scores = self.score(torch.tanh(self.project(outputs))).squeeze(-1)  # (B, T)
        if lengths is not None:
            padding = torch.arange(outputs.shape[1], device=outputs.device)[None] >= lengths.to(outputs.device)[:, None]
            scores = scores.masked_fill(padding, float("-inf"))
        weights = torch.softmax(scores, dim=1)  # (B, T)
        return torch.bmm(weights.unsqueeze(1), outputs).squeeze(1), weights
