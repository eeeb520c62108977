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
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Callable

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor, nn

from lstmkit.data.text import Vocab, read_text
from lstmkit.errors import UserError
from lstmkit.tasks import check_sizes, config_from_dict, configure
from lstmkit.io.artifacts import load_model, load_state_dict_checked, save_model
from lstmkit.nn import LSTM
from lstmkit.tasks.ngram import KneserNey, unigram_nats
from lstmkit.training import Callback, History, Trainer, TrainerConfig

KIND = "textgen"
METHODS = ("sample", "greedy", "beam")


@dataclass
class TextGenConfig:
    level: str = "char"  # "char" or "word"
    language: str = "auto"  # "en", "zh" or "auto" (by the share of CJK characters)
    lower: bool = False  # word level: lower-case English
    min_freq: int = 1  # tokens seen fewer times become <unk>
    max_vocab: int | None = None  # keep at most this many tokens (by frequency), <unk> included
    mode: str = "tbptt"  # "tbptt": carried state over a continuous corpus; "window": the tutorials' fixed windows
    seq_len: int = 100  # T: tokens per block (tbptt) or per window
    batch_size: int = 32  # B: parallel streams (tbptt) or windows per batch
    embedding_dim: int = 128
    hidden_size: int = 512
    num_layers: int = 2
    dropout: float = 0.2  # on embeddings, between layers and before the head
    tie_weights: bool = False  # share the embedding and output matrices (needs embedding_dim == hidden_size)
    val_fraction: float = 0.1  # the part before the test part: early stopping and the learning-rate schedule
    test_fraction: float = 0.1  # the end of the text, scored by evaluate() and used for nothing else
    ngram_order: int | None = None  # the Kneser-Ney baseline's order; None: 5 for characters, 3 for words
    epochs: int = 50
    lr: float = 2e-3
    patience: int = 5
    max_minutes: float | None = None
    seed: int = 0
    verbose: bool = True

    def check(self) -> None:
        if self.mode not in ("tbptt", "window"):
            raise UserError(f"mode must be 'tbptt' or 'window', got {self.mode!r}")
        check_sizes(self, ("seq_len", "batch_size", "embedding_dim", "hidden_size", "num_layers", "epochs", "ngram_order"))
        if self.tie_weights and self.embedding_dim != self.hidden_size:
            raise UserError(f"tie_weights needs embedding_dim == hidden_size, got {self.embedding_dim} and {self.hidden_size}")
        if not (0 < self.val_fraction < 0.5 and 0 < self.test_fraction < 0.5):
            raise UserError(f"val_fraction and test_fraction must be in (0, 0.5), got {self.val_fraction} and {self.test_fraction}")


class LanguageModel(nn.Module):
    """Embedding + stacked LSTM + linear head. Inputs: ids (B, T). Outputs: logits (B, T, V) and the state."""

    def __init__(self, vocab_size: int, config: TextGenConfig) -> None:
        super().__init__()
        self.embedding = nn.Embedding(vocab_size, config.embedding_dim)
        self.drop = nn.Dropout(config.dropout)
        self.lstm = LSTM(config.embedding_dim, config.hidden_size, num_layers=config.num_layers,
                         dropout=config.dropout if config.num_layers > 1 else 0.0)
        self.head = nn.Linear(config.hidden_size, vocab_size)
        if config.tie_weights:  # Press & Wolf (2017): one matrix for reading and writing tokens
            self.head.weight = self.embedding.weight

    def forward(self, ids: Tensor, state=None):
        out, state = self.lstm(self.drop(self.embedding(ids)), state)
        return self.head(self.drop(out)), state


class _CarriedState(Callback):
    """Truncated BPTT with the generic Trainer: blocks arrive in order, the state lives here between them."""

    def __init__(self) -> None:
        self.state = {True: None, False: None}  # keyed by model.training: training and validation streams

    def loss(self, model: nn.Module, batch: tuple[Tensor, Tensor]) -> Tensor:
        x, y = batch[0][0], batch[1][0]  # one block per Trainer batch: (B, T)
        logits, state = model(x, self.state[model.training])
        self.state[model.training] = tuple(s.detach() for s in state)  # keep the values, cut the graph
        return F.cross_entropy(logits.reshape(-1, logits.shape[-1]), y.reshape(-1))

    def on_epoch_end(self, trainer, record) -> None:
        self.state = {True: None, False: None}  # every epoch reads the streams from their start


def _blocks(ids: np.ndarray, streams: int, seq_len: int) -> tuple[Tensor, Tensor]:
    """ids (N,) -> inputs and next-token targets (n, B, T): B contiguous streams, cut into blocks in order."""
    per_stream = (len(ids) - 1) // streams
    n = per_stream // seq_len
    if n < 1:
        raise UserError(f"{len(ids)} tokens are too few for {streams} streams of seq_len {seq_len}; "
                        "lower --seq-len or --batch-size, or give more text")
    data = torch.as_tensor(ids[: streams * per_stream + 1])
    x = data[:-1].view(streams, per_stream)[:, : n * seq_len]
    y = data[1:].view(streams, per_stream)[:, : n * seq_len]
    return (x.view(streams, n, seq_len).transpose(0, 1).contiguous(),
            y.view(streams, n, seq_len).transpose(0, 1).contiguous())  # (n, B, T)


class TextGenerator:
    """Fit a language model on a text, sample from it, evaluate it against n-gram baselines.

    Example:
        >>> g = TextGenerator(TextGenConfig(hidden_size=32, embedding_dim=16, num_layers=1, seq_len=20,
        ...                                 batch_size=4, epochs=2, verbose=False))
        >>> _ = g.fit("to be or not to be, that is the question. " * 40)
        >>> len(g.generate("to be", length=30, seed=0)) == len("to be") + 30
        True
    """

    def __init__(self, config: TextGenConfig | None = None, **overrides) -> None:
        self.config = configure(TextGenConfig, config, overrides, "TextGenerator")
        self.model: LanguageModel | None = None

    def fit(self, text: str, source: str | None = None) -> "TextGenerator":
        """Train on ``text`` (``read_text`` loads corpora and files); ``source`` names it, so that a loaded
        model can find its held-out split again."""
        cfg = self.config
        self.source = source
        test_start = _boundary(text, int(len(text) * (1 - cfg.test_fraction)))
        self.splits = (_boundary(text, int(len(text) * (1 - cfg.test_fraction - cfg.val_fraction))), test_start)
        self._set_parts(text)
        self.vocab = Vocab.build(self.train_text, cfg.level, cfg.language, cfg.min_freq, cfg.max_vocab, cfg.lower)
        train_ids, _ = self.vocab.encode(self.train_text)
        val_ids, _ = self.vocab.encode(self.val_text)
        if len(train_ids) <= cfg.seq_len:
            raise UserError(f"the training text has {len(train_ids)} tokens, not more than seq_len={cfg.seq_len}; "
                            "lower --seq-len or give more text")
        torch.manual_seed(cfg.seed)
        self.model = LanguageModel(len(self.vocab), cfg)
        if cfg.mode == "tbptt":
            carried = _CarriedState()
            train = _blocks(train_ids, cfg.batch_size, cfg.seq_len)
            val = _blocks(val_ids, max(1, min(cfg.batch_size, len(val_ids) // (cfg.seq_len + 1))), cfg.seq_len)
            trainer_batch, shuffle, loss, callbacks = 1, False, carried.loss, [carried]
        else:
            train, val = self._windows(train_ids), self._windows(val_ids)
            trainer_batch, shuffle, callbacks = cfg.batch_size, True, []

            def loss(model, batch):
                logits, _ = model(batch[0])
                return F.cross_entropy(logits[:, -1], batch[1])

        trainer = Trainer(TrainerConfig(epochs=cfg.epochs, batch_size=trainer_batch, lr=cfg.lr, patience=cfg.patience,
                                        clip_grad_norm=1.0, schedule="plateau", max_minutes=cfg.max_minutes,
                                        shuffle=shuffle, seed=cfg.seed, verbose=cfg.verbose), callbacks)
        self.history: History = trainer.fit(self.model, loss, train, val)
        return self

    def _set_parts(self, text: str) -> None:
        val_start, test_start = self.splits
        self.train_text, self.val_text, self.test_text = text[:val_start], text[val_start:test_start], text[test_start:]

    def _windows(self, ids: np.ndarray) -> tuple[Tensor, Tensor]:
        """The tutorials' samples: seq_len tokens in, the next token out; strided views, no loop."""
        t = torch.as_tensor(ids)
        if len(t) <= self.config.seq_len:
            raise UserError(f"{len(t)} tokens are too few for windows of seq_len={self.config.seq_len}")
        windows = t.unfold(0, self.config.seq_len + 1, 1)  # (n, T+1)
        return windows[:, :-1], windows[:, -1]

    def _need_model(self) -> LanguageModel:
        if self.model is None:
            raise UserError("this TextGenerator is not fitted yet; call fit(text) first or TextGenerator.load(run_dir)")
        return self.model

    # --------------------------------------------------------------------------------- evaluate
    @torch.no_grad()
    def model_nats(self, ids: np.ndarray, context: np.ndarray | None = None) -> float:
        """Total negative log-likelihood (nats) of the tokens of ``ids`` read as one stream.

        With ``context`` (the tokens just before ``ids``) every token of ``ids`` is scored, the first
        after the model has read up to seq_len context tokens; without it the first token is not scored.
        """
        model = self._need_model()
        model.eval()
        if context is not None and len(context):
            stream = np.concatenate([context[-(self.config.seq_len + 1) :], ids])
            first_scored = len(stream) - len(ids) - 1  # index in the targets
        else:
            stream, first_scored = ids, 0
        inputs, targets = torch.as_tensor(stream[:-1]), torch.as_tensor(stream[1:])
        total, state = 0.0, None
        for start in range(0, len(targets), self.config.seq_len):
            block = slice(start, start + self.config.seq_len)
            logits, state = model(inputs[block][None], state)
            losses = F.cross_entropy(logits[0], targets[block], reduction="none")
            total += losses[max(0, first_scored - start) :].sum().item()
        return total

    def evaluate(self, text: str | None = None) -> dict:
        """Cross-entropy (nats per token), perplexity and bits per character on held-out text, for the model,
        the add-one unigram and the Kneser-Ney n-gram fitted on the training tokens."""
        self._need_model()
        if text is None and self.test_text is None:
            raise UserError(f"the training text ({self.source!r}) cannot be read again here: pass the text to evaluate on")
        held_out = self.test_text if text is None else text
        ids, unknown = self.vocab.encode(held_out)
        if len(ids) < 2:
            raise UserError("the evaluation text has fewer than 2 tokens")
        if self.train_text is None:
            raise UserError(f"the training text ({self.source!r}) cannot be read again: the n-gram baselines need it")
        train_ids, _ = self.vocab.encode(self.train_text)
        # the test part continues the validation text: the model may read it as context (it is the past)
        context = self.vocab.encode(self.train_text + self.val_text)[0] if text is None else None
        scored = len(ids) if context is not None else len(ids) - 1
        scored_chars = len(held_out) if context is not None else max(1, len(held_out) - len(self.vocab.decode(ids[:1])))
        order = self.config.ngram_order or (5 if self.vocab.level == "char" else 3)  # the stronger order on Hamlet
        ngram = KneserNey(order, len(self.vocab)).fit(train_ids)
        nats = {
            "model": self.model_nats(ids, context),
            "unigram": unigram_nats(train_ids, ids if context is not None else ids[1:], len(self.vocab)),
            "ngram": ngram.nats(ids if context is not None else ids[1:], context if context is not None else ids[:1]),
        }
        metrics = {
            name: {"cross_entropy": n / scored, "perplexity": math.exp(n / scored), "bpc": n / math.log(2) / scored_chars}
            for name, n in nats.items()
        }
        return {"metrics": metrics, "tokens": scored, "characters": scored_chars, "unknown_tokens": len(unknown),
                "level": self.vocab.level, "language": self.vocab.language, "vocab_size": len(self.vocab),
                "ngram_order": order}

    # --------------------------------------------------------------------------------- generate
    @torch.no_grad()
    def generate(self, prompt: str = "", length: int = 200, method: str = "sample", temperature: float = 1.0,
                 top_k: int | None = None, top_p: float | None = None, beam: int = 4, seed: int | None = None,
                 on_text: Callable[[str], None] | None = None, on_unknown: Callable[[list[str]], None] | None = None) -> str:
        """Continue ``prompt`` by ``length`` tokens and return prompt + continuation.

        method: "sample" (with temperature, top_k, top_p), "greedy" or "beam" (``beam`` hypotheses).
        on_text receives each new piece as it is produced (streaming); on_unknown the prompt's unknown tokens.
        """
        model = self._need_model()
        model.eval()
        if method not in METHODS:
            raise UserError(f"method must be one of {', '.join(METHODS)}, got {method!r}")
        if temperature <= 0 or (top_k is not None and top_k < 1) or (top_p is not None and not 0 < top_p <= 1):
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
        generator = torch.Generator().manual_seed(seed if seed is not None else self.config.seed)
        logits, state = model(torch.as_tensor(ids)[None])
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
                token = int(torch.multinomial(_filtered_probs(scores / temperature, top_k, top_p), 1, generator=generator))
            new.append(token)
            if on_text is not None:  # stream exactly what the final text will hold
                text = self._continuation(prompt, new)
                on_text(text[len(shown) :])
                shown = text
            logits, state = model(torch.tensor([[token]]), state)
        return prompt + self._continuation(prompt, new)

    def _continuation(self, prompt: str, tokens: list[int]) -> str:
        """The generated tokens as text to append to the prompt (English words get a separating space)."""
        text = self.vocab.decode(tokens)
        if (self.vocab.level == "word" and self.vocab.language == "en" and prompt and not prompt[-1].isspace()
                and text and text[0] not in ".,;:!?')]"):
            text = " " + text
        return text

    def _beam(self, logits: Tensor, state, length: int, width: int) -> list[int]:
        """Beam search on summed log-probabilities; hypotheses are batched through the LSTM together."""
        logp = F.log_softmax(logits, -1)
        scores, first = logp.topk(min(width, len(logp)))
        sequences = [[int(t)] for t in first]
        state = tuple(s.expand(-1, len(sequences), -1).contiguous() for s in state)
        for _ in range(length - 1):
            logits, state = self.model(torch.tensor([[s[-1]] for s in sequences]), state)
            total = scores[:, None] + F.log_softmax(_no_unk(logits[:, -1]), -1)  # (beams, V)
            scores, flat = total.flatten().topk(min(width, total.numel()))
            origin, token = flat // total.shape[1], flat % total.shape[1]
            sequences = [sequences[int(o)] + [int(t)] for o, t in zip(origin, token)]
            state = tuple(s[:, origin] for s in state)
        return sequences[0]

    # ------------------------------------------------------------------------------- save/load
    def save(self, directory) -> Path:
        model = self._need_model()
        preprocessing = {"vocab": self.vocab.to_dict(), "source": self.source, "splits": list(self.splits)}
        return save_model(directory, kind=KIND, config=asdict(self.config), state_dict=model.state_dict(),
                          preprocessing=preprocessing)

    @classmethod
    def load(cls, directory) -> "TextGenerator":
        art = load_model(directory, kind=KIND)
        self = cls(config_from_dict(TextGenConfig, art.config))
        self.vocab = Vocab.from_dict(art.preprocessing["vocab"])
        self.source, self.splits = art.preprocessing["source"], tuple(art.preprocessing["splits"])
        self.train_text = self.val_text = self.test_text = None
        if self.source is not None:
            try:
                self._set_parts(read_text(self.source))
            except UserError:  # the file moved: sampling still works, evaluation needs the text again
                pass
        self.model = LanguageModel(len(self.vocab), self.config)
        load_state_dict_checked(self.model, art.state_dict)
        return self


def _no_unk(logits: Tensor) -> Tensor:
    """Generation never writes <unk> (id 0)."""
    logits = logits.clone()
    logits[..., 0] = float("-inf")
    return logits


def _boundary(text: str, position: int) -> int:
    """The first whitespace at or after ``position`` (the end if none), so that no word is cut in two."""
    match = re.compile(r"\s").search(text, position)
    return match.start() if match else len(text)


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
