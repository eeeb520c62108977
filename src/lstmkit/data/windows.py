"""Sliding windows over a series, as strided views: no Python loop over samples.

Symbol key: N rows, C columns, L lookback, H horizon, n windows.
"""

from __future__ import annotations

import torch  # noqa: F401 - the doctest below uses it
from torch import Tensor


def sliding_windows(values: Tensor, lookback: int, horizon: int) -> tuple[Tensor, Tensor]:
    """Every (input, target) pair of a series.

    Inputs: values (N, C). Outputs: inputs (n, L, C) and targets (n, H, C), n = N - L - H + 1; window j
    reads rows j .. j+L-1 and forecasts rows j+L .. j+L+H-1. Both are views of ``values``.

    Examples:
        >>> x, y = sliding_windows(torch.arange(6.0)[:, None], lookback=3, horizon=2)
        >>> x[:, :, 0].tolist(), y[:, :, 0].tolist()
        ([[0.0, 1.0, 2.0], [1.0, 2.0, 3.0]], [[3.0, 4.0], [4.0, 5.0]])
    """
    if values.dim() != 2:
        raise ValueError(f"values must be (N, C), got shape {tuple(values.shape)}")
    if lookback + horizon > len(values):
        raise ValueError(f"{len(values)} rows are fewer than lookback + horizon = {lookback + horizon}")
    windows = values.unfold(0, lookback + horizon, 1).transpose(1, 2)  # (n, L+H, C)
    return windows[:, :lookback], windows[:, lookback:]
