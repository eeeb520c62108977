"""Convolutional front-ends: a Conv1d stack before an LSTM (CNN+LSTM), and character features for words.

Symbol key: B sequences, T steps, F input features, C channels, W characters per word.
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

from lstmkit.errors import UserError


def padding_mask(lengths: Tensor, steps: int) -> Tensor:
    """(B, T) True on real steps, False on padding."""
    return torch.arange(steps, device=lengths.device)[None] < lengths[:, None]


class ConvFrontEnd(nn.Module):
    """Conv1d + ReLU layers over time, length-preserving ('same' padding, odd kernel).

    Padded steps are zeroed before every convolution, so a sequence's outputs are the same in any batch
    as alone: the kernel sees zeros past its end either way.

    Inputs: x (B, T, F), lengths (B,) or None. Outputs: (B, T, C).
    """

    def __init__(self, in_features: int, channels: int, kernel_size: int = 3, layers: int = 1, dropout: float = 0.0) -> None:
        super().__init__()
        if kernel_size < 1 or kernel_size % 2 == 0:
            raise UserError(f"conv kernel_size must be odd (it keeps the sequence length), got {kernel_size}")
        self.convs = nn.ModuleList(
            nn.Conv1d(in_features if i == 0 else channels, channels, kernel_size, padding=kernel_size // 2) for i in range(layers)
        )
        self.drop = nn.Dropout(dropout)

    def forward(self, x: Tensor, lengths: Tensor | None = None) -> Tensor:
        mask = padding_mask(lengths.to(x.device), x.shape[1]).unsqueeze(2) if lengths is not None else None
        for conv in self.convs:
            if mask is not None:
                x = x * mask
            x = self.drop(torch.relu(conv(x.transpose(1, 2)).transpose(1, 2)))
        return x * mask if mask is not None else x


class CharCNN(nn.Module):
    """Character features of each word (Ma & Hovy, 2016): embed characters, convolve, max over the word.

    Inputs: chars (B, T, W) ids with 0 as padding. Outputs: (B, T, C).
    """

    def __init__(self, num_chars: int, char_dim: int = 30, channels: int = 50, kernel_size: int = 3) -> None:
        super().__init__()
        self.embedding = nn.Embedding(num_chars, char_dim, padding_idx=0)
        self.conv = nn.Conv1d(char_dim, channels, kernel_size, padding=kernel_size // 2)

    def forward(self, chars: Tensor) -> Tensor:
        B, T, W = chars.shape
        x = self.embedding(chars.reshape(B * T, W)).transpose(1, 2)  # (B*T, char_dim, W)
        h = self.conv(x).masked_fill(chars.reshape(B * T, 1, W) == 0, float("-inf"))
        h = h.max(dim=2).values  # (B*T, C)
        return h.masked_fill(torch.isinf(h), 0.0).view(B, T, -1)  # words with no characters (padding) get 0


class FullyConvolutional(nn.Module):
    """The FCN branch of LSTM-FCN (Wang et al. 2017; Karim et al. 2017): three Conv1d + BatchNorm + ReLU
    blocks ('same' length; kernels 7, 5, 3, odd so that 'same' padding needs no copy, where the paper's
    first is 8) and a global average over each sequence's real steps.

    Padded steps are zeroed before every convolution and left out of the average (BatchNorm's batch
    statistics still count them: a padded batch normalises slightly differently from an unpadded one).

    Inputs: x (B, T, F), lengths (B,). Outputs: (B, C) with C = channels[-1].
    """

    def __init__(self, in_features: int, channels: tuple[int, ...] = (128, 256, 128), kernels: tuple[int, ...] = (7, 5, 3)) -> None:
        super().__init__()
        sizes = (in_features, *channels)
        self.blocks = nn.ModuleList(
            nn.Sequential(nn.Conv1d(sizes[i], sizes[i + 1], k, padding="same"), nn.BatchNorm1d(sizes[i + 1]), nn.ReLU())
            for i, k in enumerate(kernels)
        )
        self.out_features = channels[-1]

    def forward(self, x: Tensor, lengths: Tensor) -> Tensor:
        mask = padding_mask(lengths.to(x.device), x.shape[1]).unsqueeze(1).to(x.dtype)  # (B, 1, T)
        h = x.transpose(1, 2)  # (B, F, T)
        for block in self.blocks:
            h = block(h * mask)
        return (h * mask).sum(2) / mask.sum(2)
