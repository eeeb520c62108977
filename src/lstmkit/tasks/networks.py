"""The networks of the tasks, apart from their estimators: each is a plain ``torch.nn.Module`` built from
its task's config and the sizes the estimator read off the data.

Symbol key: B batch, T steps, L lookback, C input columns, K targets / classes / tags, Q quantiles,
H horizon (forecast) or hidden size, V vocabulary, E embedding size, W characters per word.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from lstmkit.nn import GRU, LSTM
from lstmkit.nn.attention import AdditiveAttention
from lstmkit.nn.conv import CharCNN, ConvFrontEnd, FullyConvolutional, padding_mask
from lstmkit.nn.crf import CRF, allowed_transitions

if TYPE_CHECKING:  # the configs only describe the networks; importing them at run time would be circular
    from lstmkit.tasks.classify import ClassifierConfig
    from lstmkit.tasks.forecast import ForecasterConfig
    from lstmkit.tasks.tag import TaggerConfig
    from lstmkit.tasks.textgen import TextNetwork

MIN_SPREAD = 0.01  # floor of a forecast window's spread, in scaled units (training rows have spread 1)


class ForecastNet(nn.Module):
    """Recurrent encoder + head. Inputs: x (B, L, C), or with F > 0 known-ahead columns (the last F of C)
    (B, L + H, C): the lookback rows, then the H forecast steps, of which only those F columns are read.
    Outputs: (B, S, K, Q), S = H (1 for recursive)."""

    def __init__(
        self, n_inputs: int, n_targets: int, n_quantiles: int, config: ForecasterConfig, anchor_season: int = 1, n_future: int = 0
    ) -> None:
        super().__init__()
        self.n_targets, self.n_quantiles, self.n_future = n_targets, n_quantiles, n_future
        self.anchor_season = anchor_season
        self.relative, self.strategy = config.relative, config.strategy
        self.steps = 1 if config.strategy == "recursive" else config.horizon
        rnn = LSTM if config.cell == "lstm" else GRU
        directions = 2 if config.bidirectional else 1
        between = config.dropout if config.num_layers > 1 else 0.0  # torch's inter-layer dropout needs 2+ layers
        self.encoder = rnn(n_inputs, config.hidden_size, num_layers=config.num_layers, dropout=between, bidirectional=config.bidirectional)
        self.drop = nn.Dropout(config.dropout)
        width = n_targets * n_quantiles
        if config.strategy == "seq2seq":
            # The decoder reads one-hot step positions from the encoder's final state: non-autoregressive,
            # so training and inference see the same inputs (no exposure bias).
            # Known-ahead columns join each step's position.
            self.decoder = rnn(self.steps + n_future, config.hidden_size, num_layers=config.num_layers, dropout=between)
            self.head = nn.Linear(config.hidden_size, width)
        else:  # known-ahead columns of every forecast step join the encoder's final state
            self.head = nn.Linear(directions * config.hidden_size + self.steps * n_future, self.steps * width)
        if self.relative:
            # The untrained network forecasts its anchor exactly (the last value, or the value one season
            # before each step): training starts from the naive or seasonal-naive forecast and learns
            # corrections to it, which keeps short series from ending worse than those baselines.
            nn.init.zeros_(self.head.weight)
            nn.init.zeros_(self.head.bias)

    def encoder_inputs(self, x: Tensor) -> Tensor:
        """What the encoder reads of lookback rows x (B, L, C): normalised ones when relative (see forward)."""
        return self._normalised(x)[0] if self.relative else x

    def split_future(self, x: Tensor) -> tuple[Tensor, Tensor | None]:
        """Windows -> the lookback rows (B, L, C) and the known-ahead columns of the forecast steps (B, H, F)."""
        if not self.n_future:
            return x, None
        return x[:, : -self.steps], x[:, -self.steps :, -self.n_future :]

    def _normalised(self, x: Tensor) -> tuple[Tensor, Tensor, Tensor]:
        """Window normalisation: centre each window's targets on its last value and divide by its own
        spread, so level and volatility shifts (prices, CO2) stay in the range seen in training and
        interval widths follow the recent volatility. Returns the normalised windows, each step's anchor
        (the last value, or with a season m the seasonal anchor, see seasonal_anchor) and the spread."""
        lookback = x.shape[1]
        targets = x[..., : self.n_targets]
        last = targets[:, -1:]  # (B, 1, K)
        spread = targets.std(dim=1, keepdim=True).clamp_min(MIN_SPREAD) if lookback > 1 else torch.ones_like(last)
        m = self.anchor_season
        anchor = seasonal_anchor(targets, m, self.steps) if 1 < m <= lookback else last
        return torch.cat([(targets - last) / spread, x[..., self.n_targets :]], dim=2), anchor, spread

    def forward(self, x: Tensor) -> Tensor:
        batch = x.shape[0]
        x, future = self.split_future(x)
        if self.relative:  # outputs are corrections to each step's anchor, in units of the window's spread
            x, anchor, spread = self._normalised(x)
        _, state = self.encoder(x)
        if self.strategy == "seq2seq":
            if isinstance(state, tuple):
                state = tuple(_merge_directions(s, self.encoder) for s in state)
            else:
                state = _merge_directions(state, self.encoder)
            positions = torch.eye(self.steps, device=x.device, dtype=x.dtype).expand(batch, -1, -1)  # (B, H, H)
            if future is not None:
                positions = torch.cat([positions, future], dim=2)
            out = self.head(self.drop(self.decoder(positions, state)[0]))  # (B, H, K*Q)
        else:
            h = state[0] if isinstance(state, tuple) else state  # (layers*D, B, hidden)
            last = list(h[-2:] if self.encoder.bidirectional else h[-1:])
            if future is not None:
                last.append(future.flatten(1))
            out = self.head(self.drop(torch.cat(last, dim=1)))  # (B, S*K*Q)
        out = out.reshape(batch, self.steps, self.n_targets, self.n_quantiles)
        if self.relative:
            out = out * spread[..., None] + anchor[..., None]
        return out


def seasonal_anchor(targets: Tensor, season: int, steps: int) -> Tensor:
    """The seasonal forecast the network corrects: (B, L, K) -> (B, steps, K). The last full season's mean
    plus the seasonal profile averaged over the window's k = L // m full seasons (each season's values
    less that season's mean, seasons counted back from the window's end). With k = 1 this is the seasonal
    naive forecast; averaging k seasons divides the profile's noise variance by k, which measured better
    on noisy seasonal series (make eval: nottem 0.794 -> 0.663 MASE, elnino 1.060 -> 0.933)."""
    batch, lookback, width = targets.shape
    k = lookback // season
    seasons = targets[:, lookback - k * season :].reshape(batch, k, season, width)
    profile = (seasons - seasons.mean(dim=2, keepdim=True)).mean(dim=1)  # (B, m, K)
    phase = torch.arange(steps, device=targets.device) % season
    return seasons[:, -1].mean(dim=1, keepdim=True) + profile[:, phase]


class ForecastEnsemble(nn.Module):
    """N ForecastNets trained side by side on the same batches, each reading the last L_j steps of the
    window (L, then shorter lookbacks down to a season or L/N; with known-ahead columns, followed by the
    window's H forecast steps) from its own initialisation. Inputs: x
    (B, L, C). Outputs: (B, S, K, Q, N); the forecast is the median over the members (N-BEATS's recipe)."""

    def __init__(
        self,
        n_inputs: int,
        n_targets: int,
        n_quantiles: int,
        config: ForecasterConfig,
        anchor_season: int,
        lookback: int,
        n_future: int = 0,
    ) -> None:
        super().__init__()
        n = config.ensemble
        shortest = max(anchor_season, 2, lookback // n)
        self.lookbacks = [max(shortest, round(lookback * (n - j) / n)) for j in range(n)]
        self.ahead = config.horizon if n_future else 0  # rows after the lookback: the known-ahead forecast steps
        self.members = nn.ModuleList(ForecastNet(n_inputs, n_targets, n_quantiles, config, anchor_season, n_future) for _ in range(n))

    def forward(self, x: Tensor) -> Tensor:
        return torch.stack([member(x[:, -(steps + self.ahead) :]) for member, steps in zip(self.members, self.lookbacks)], dim=-1)


def members_median(out: Tensor) -> Tensor:
    """An ensemble's (B, S, K, Q, N) outputs as their lower median over the N members (torch.median's),
    taken by sorting so that every exporter has the operators; a single net's (B, S, K, Q) as they are."""
    if out.dim() == 4:
        return out
    return out.sort(dim=-1).values[..., (out.shape[-1] - 1) // 2]


def scaled_forecast(network: nn.Module, x: Tensor, horizon: int, recursive: bool) -> Tensor:
    """Scaled windows (B, L, C) -> the networks' median forecast (B, H, K, Q), quantiles sorted. The
    recursive strategy feeds each point forecast back as the newest row (it takes no covariates)."""
    if recursive:
        steps = []
        for _ in range(horizon):
            step = members_median(network(x))[:, 0, :, 0]  # (B, K)
            steps.append(step)
            x = torch.cat([x[:, 1:], step[:, None]], dim=1)
        out = torch.stack(steps, dim=1)[..., None]
    else:
        out = members_median(network(x))
    return out.sort(dim=-1).values  # sorting keeps quantiles from crossing


def _merge_directions(state: Tensor, encoder: nn.RNNBase) -> Tensor:
    """(layers*D, B, hidden) -> (layers, B, hidden): sum the two directions for a unidirectional decoder."""
    if not encoder.bidirectional:
        return state
    return state.view(encoder.num_layers, 2, *state.shape[1:]).sum(dim=1)


class LanguageModel(nn.Module):
    """Embedding + stacked LSTM + linear head. Inputs: ids (B, T). Outputs: logits (B, T, V) and the state."""

    def __init__(self, vocab_size: int, network: TextNetwork) -> None:
        super().__init__()
        self.embedding = nn.Embedding(vocab_size, network.embedding_size)
        self.drop = nn.Dropout(network.dropout)
        self.lstm = LSTM(
            network.embedding_size,
            network.hidden_size,
            num_layers=network.num_layers,
            dropout=network.dropout if network.num_layers > 1 else 0.0,
        )
        self.head = nn.Linear(network.hidden_size, vocab_size)
        if network.tie_weights:  # Press & Wolf (2017): one matrix for reading and writing tokens
            self.head.weight = self.embedding.weight

    def forward(self, ids: Tensor, state=None):
        out, state = self.lstm(self.drop(self.embedding(ids)), state)
        return self.head(self.drop(out)), state


def classifier_width(hidden_size: int | None, text: bool) -> int:
    """The classifier's units per direction: as configured, else 128 for text and 32 for numeric
    sequences (whose LSTM-FCN carries much of the signal in its convolutions; make eval)."""
    return hidden_size or (128 if text else 32)


class ClassifierModel(nn.Module):
    """Inputs: ids (B, T) long (0 = padding) or features (B, T, F); lengths (B,).
    Outputs: class scores (B, K) and attention weights (B, T) (None unless pooling="attention")."""

    def __init__(
        self, vocab_size: int | None, num_features: int, num_classes: int, config: ClassifierConfig, fcn: bool = False, stride: int = 1
    ) -> None:
        super().__init__()
        self.stride = stride  # the recurrent encoder reads averages of this many steps (LSTM-FCN on long sequences)
        self.embedding = nn.Embedding(vocab_size + 1, config.embedding_dim, padding_idx=0) if vocab_size else None
        width = config.embedding_dim if vocab_size else num_features
        self.conv = ConvFrontEnd(width, config.conv_channels, config.conv_kernel) if config.conv_channels else None
        width = config.conv_channels or width
        rnn = LSTM if config.cell == "lstm" else GRU
        hidden = classifier_width(config.hidden_size, text=bool(vocab_size))
        self.encoder = rnn(
            width,
            hidden,
            num_layers=config.num_layers,
            bidirectional=config.bidirectional,
            dropout=config.dropout if config.num_layers > 1 else 0.0,
        )
        out = hidden * (2 if config.bidirectional else 1)
        self.attention = AdditiveAttention(out) if config.pooling == "attention" else None
        self.pooling = config.pooling
        self.drop = nn.Dropout(config.dropout)
        # LSTM-FCN: a fully convolutional branch reads the same inputs; its pooled features join the encoder's
        c = config.fcn_channels
        self.fcn = FullyConvolutional(config.embedding_dim if vocab_size else num_features, (c, 2 * c, c)) if fcn else None
        self.head = nn.Linear(out + (self.fcn.out_features if self.fcn else 0), num_classes)

    def forward(self, x: Tensor, lengths: Tensor) -> tuple[Tensor, Tensor | None]:
        x = self.drop(self.embedding(x)) if self.embedding is not None else x
        convolved = self.fcn(x, lengths) if self.fcn is not None else None
        if self.conv is not None:
            x = self.conv(x, lengths)
        if self.stride > 1:
            x, lengths = _average_steps(x, lengths, self.stride)
        outputs = self.encoder.outputs(x, lengths)  # (B, T, D*H), computed unpacked: faster, and exportable
        weights = None
        if self.attention is not None:
            pooled, weights = self.attention(outputs, lengths)
        elif self.pooling == "last":  # the top layer's final state: forward at each last real step, backward at t=0
            last = outputs.gather(1, (lengths.to(x.device) - 1).view(-1, 1, 1).expand(-1, 1, outputs.shape[2]))[:, 0]
            hidden = self.encoder.hidden_size
            pooled = torch.cat([last[:, :hidden], outputs[:, 0, hidden:]], dim=1) if self.encoder.bidirectional else last
        else:
            mask = padding_mask(lengths.to(x.device), x.shape[1]).unsqueeze(2)
            if self.pooling == "mean":
                pooled = (outputs * mask).sum(1) / mask.sum(1)
            else:
                pooled = outputs.masked_fill(~mask, float("-inf")).max(1).values
        if convolved is not None:
            pooled = torch.cat([pooled, convolved], dim=1)
        return self.head(self.drop(pooled)), weights


def _average_steps(x: Tensor, lengths: Tensor, stride: int) -> tuple[Tensor, Tensor]:
    """(B, T, F) -> (B, ceil(T / stride), F): means of consecutive blocks of real steps (padding left out,
    so a sequence gives the same blocks alone as in a padded batch), and the new lengths."""
    mask = padding_mask(lengths.to(x.device), x.shape[1]).unsqueeze(1).to(x.dtype)  # (B, 1, T)
    total = F.avg_pool1d(x.transpose(1, 2) * mask, stride, stride, ceil_mode=True)
    count = F.avg_pool1d(mask, stride, stride, ceil_mode=True)
    return (total / count.clamp_min(1e-6)).transpose(1, 2), (lengths + stride - 1) // stride


class TaggerModel(nn.Module):
    """Token ids (B, T) [+ character ids (B, T, W)] -> emission scores (B, T, K); the CRF or softmax decides."""

    def __init__(self, vocab_size: int, num_chars: int, labels: list[str], config: TaggerConfig) -> None:
        super().__init__()
        self.embedding = nn.Embedding(vocab_size + 1, config.embedding_dim, padding_idx=0)  # id 0: padding
        self.chars = CharCNN(num_chars + 1, config.char_dim, config.char_channels) if num_chars else None
        features = config.embedding_dim + (config.char_channels if num_chars else 0)
        self.drop = nn.Dropout(config.dropout)
        self.lstm = LSTM(
            features,
            config.hidden_size,
            num_layers=config.num_layers,
            bidirectional=True,
            dropout=config.dropout if config.num_layers > 1 else 0.0,
        )
        self.emit = nn.Linear(2 * config.hidden_size, len(labels))
        allowed = allowed_transitions(labels) if config.constrain else None
        self.crf = CRF(len(labels), allowed) if config.decoder == "crf" else None

    def forward(self, ids: Tensor, lengths: Tensor, chars: Tensor | None = None) -> Tensor:
        x = self.embedding(ids)
        if self.chars is not None:
            x = torch.cat([x, self.chars(chars)], dim=2)
        out = self.lstm.outputs(self.drop(x), lengths)
        return self.emit(self.drop(out))

    def loss(self, ids: Tensor, lengths: Tensor, tags: Tensor, chars: Tensor | None = None) -> Tensor:
        """Mean negative log-likelihood per token (CRF) or mean token cross-entropy (softmax)."""
        emissions = self(ids, lengths, chars)
        mask = padding_mask(lengths.to(ids.device), ids.shape[1])
        if self.crf is not None:
            return self.crf(emissions, tags, mask)
        return F.cross_entropy(emissions[mask], tags[mask])

    @torch.no_grad()
    def decode(self, ids: Tensor, lengths: Tensor, chars: Tensor | None = None) -> Tensor:
        """Best tag ids (B, T), -1 on padding."""
        emissions = self(ids, lengths, chars)
        mask = padding_mask(lengths.to(ids.device), ids.shape[1])
        if self.crf is not None:
            return self.crf.decode(emissions, mask)[0]
        return emissions.argmax(2).masked_fill(~mask, -1)
