"""Sequence labelling (named entities, chunks): embeddings (+ character features) + BiLSTM + CRF or softmax.

Symbol key: B sentences, T tokens, W characters per word, E embedding size, H hidden size per
direction, K tags.

Sentences are token lists with one tag each (``read_conll``; Chinese text is tagged per character).
The model learns tags in ``scheme`` (BIO or BIOES, converted from whatever scheme the data uses), and
with ``decoder="crf"`` the CRF forbids transitions the scheme does not allow (I-LOC after O, ...), in
training and decoding. Scores are entity-level (exact type and span), overall and per type.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field, replace

import numpy as np
import torch
from torch import Tensor
from torch.nn.utils.rnn import pad_sequence

from lstmkit.checks import saved
from lstmkit.data.tagging import Sentences, entities, to_bio, to_bioes
from lstmkit.data.text import UNK, Vocab, detect_language, pad_ids, tokenize
from lstmkit.errors import UserError
from lstmkit.evaluation.metrics import entity_scores
from lstmkit.io.export import ExportGraph, TaggerGraph
from lstmkit.tasks.base import Estimator, check_sizes, sized_training, trim_padding, unpack_pair
from lstmkit.tasks.defaults import tag_training
from lstmkit.tasks.networks import TaggerModel
from lstmkit.training import TrainingOptions

KIND = "tagger"
TRAINING_STEPS = 1000  # epochs=None: about this many optimiser steps, in 20..300 epochs (tasks/base.py sized_training)
MAX_WORD_CHARS = 20  # character features read at most this many characters of a word


@dataclass
class TaggerConfig:
    decoder: str = "crf"  # "crf" (a transition-aware sequence decision) or "softmax" (each token alone)
    scheme: str = "BIO"  # the tags the model learns and predicts: "BIO" or "BIOES"
    constrain: bool = True  # CRF: forbid transitions the scheme does not allow
    char_features: bool | None = None  # a character CNN per word; None: on when tokens are words, off for characters
    lower: bool = False  # look words up lower-cased (the character features still see the case)
    min_freq: int = 1  # tokens seen fewer times in training become <unk>
    embedding_dim: int = 100
    char_dim: int = 30
    char_channels: int = 50
    hidden_size: int = 128  # per direction
    num_layers: int = 1
    dropout: float = 0.3  # on the embeddings and on the BiLSTM outputs
    max_len: int = 200  # training sentences longer than this are cut (between entities) into pieces
    val_fraction: float = 0.1  # without a dev set, this share of the training sentences (random) is held out
    training: TrainingOptions = field(default_factory=tag_training)

    def check(self) -> None:
        if self.decoder not in ("crf", "softmax"):
            raise UserError(f"decoder must be 'crf' or 'softmax', got {self.decoder!r}")
        if self.scheme not in ("BIO", "BIOES"):
            raise UserError(f"scheme must be 'BIO' or 'BIOES', got {self.scheme!r}")
        check_sizes(self, ("embedding_dim", "hidden_size", "num_layers", "max_len", "min_freq", "char_dim", "char_channels"))
        if not 0 < self.val_fraction < 1:
            raise UserError(f"val_fraction must be in (0, 1), got {self.val_fraction}")


class SequenceTagger(Estimator):
    """Fit a BiLSTM-CRF tagger on tagged sentences, tag new ones, score entities.

    Examples:
        >>> sents = [["John", "lives", "in", "Paris"], ["Mary", "left", "Rome"]] * 30
        >>> tags = [["B-PER", "O", "O", "B-LOC"], ["B-PER", "O", "B-LOC"]] * 30
        >>> t = SequenceTagger(hidden_size=16, embedding_dim=16, epochs=15, verbose=False).fit((sents, tags))
        >>> t.predict([["Mary", "lives", "in", "Rome"]])
        [['B-PER', 'O', 'O', 'B-LOC']]
    """

    kind = KIND
    config_class = TaggerConfig
    config: TaggerConfig
    model: TaggerModel | None

    # ------------------------------------------------------------------------------------ fit
    def _prepare(self, train, validation):
        """``train`` and ``validation`` (the dev set): (sentences, tags) pairs of token and tag lists.
        Without ``validation`` a random ``val_fraction`` of the training sentences drives early stopping."""
        cfg = self.config
        tokens, tags = unpack_pair(train, "train", "(sentences, tags)")
        _check_pairs(tokens, tags, "training")
        tags = [self._convert(t) for t in tags]
        types = sorted({e[0] for sentence in tags for e in entities(sentence)})
        prefixes = "BIES" if cfg.scheme == "BIOES" else "BI"
        # every tag of every type, seen or not: a type seen only in one-token entities can still get I-
        self.labels = ["O"] + [f"{p}-{kind}" for kind in types for p in prefixes]
        self.level = "char" if np.mean([len(tok) for s in tokens for tok in s]) <= 1.5 else "word"
        self.language = detect_language("".join(tok for s in tokens[:2000] for tok in s))
        self.use_chars = cfg.char_features if cfg.char_features is not None else self.level == "word"
        words = Counter(self._key(tok) for s in tokens for tok in s)
        self.vocab = Vocab("word", "en", [UNK] + sorted((w for w, c in words.items() if c >= cfg.min_freq), key=lambda w: (-words[w], w)))
        chars = Counter(ch for s in tokens for tok in s for ch in tok)
        self.char_vocab = [UNK] + sorted(chars, key=lambda c: (-chars[c], c)) if self.use_chars else []
        if validation is not None:
            dev_tokens, dev_tags = unpack_pair(validation, "validation", "(sentences, tags)")
            _check_pairs(dev_tokens, dev_tags, "dev")
            self.check_labels(dev_tags, "the dev set")
            dev_tags = [self._convert(t) for t in dev_tags]
        else:  # whole sentences held out before the training ones are cut and repeated; none from a handful
            held_out = min(round(cfg.val_fraction * len(tokens)), len(tokens) - 1)
            order = torch.randperm(len(tokens), generator=torch.Generator().manual_seed(cfg.training.seed)).tolist()
            dev_tokens, dev_tags = [tokens[i] for i in order[:held_out]], [tags[i] for i in order[:held_out]]
            tokens, tags = [tokens[i] for i in order[held_out:]], [tags[i] for i in order[held_out:]]
        tokens, tags = _cut(tokens, tags, cfg.max_len, self._convert)
        train_tensors, self.epochs = sized_training(
            self._tensors(tokens, tags), cfg.training.batch_size, TRAINING_STEPS, cfg.training.epochs
        )
        return train_tensors, (self._tensors(dev_tokens, dev_tags) if dev_tokens else None)

    def _training_options(self) -> TrainingOptions:
        return replace(self.config.training, epochs=self.epochs)

    def _trainer_keywords(self) -> dict:
        return {"val_fraction": 0.0, "bucket_by": 1}  # validation is held out in _prepare; tensors: ids, lengths, ...

    def search_space(self, trial, train) -> dict:
        """Width, depth, dropout and learning rate."""
        return {
            "hidden_size": trial.suggest_categorical("hidden_size", [64, 128, 256]),
            "num_layers": trial.suggest_int("num_layers", 1, 2),
            "dropout": trial.suggest_float("dropout", 0.0, 0.6),
            "lr": trial.suggest_float("lr", 5e-4, 5e-3, log=True),
        }

    def _build(self) -> TaggerModel:
        return TaggerModel(len(self.vocab), len(self.char_vocab), self.labels, self.config)

    def _loss(self, model: TaggerModel, batch: tuple[Tensor, ...]) -> Tensor:  # type: ignore[override]
        return model.loss(*trim_padding(batch))

    def _convert(self, tags: list[str]) -> list[str]:
        return to_bioes(tags) if self.config.scheme == "BIOES" else to_bio(tags)

    def _key(self, token: str) -> str:
        return token.lower() if self.config.lower else token

    def _tensors(self, tokens: Sentences, tags: Sentences | None = None) -> tuple[Tensor, ...]:
        """(ids (N, T), lengths (N,) [, tags (N, T)] [, chars (N, T, W)]), padded to the longest sentence."""
        ids, lengths = pad_ids([[self.vocab.index.get(self._key(t), 0) for t in s] for s in tokens])
        out = [ids, lengths]
        if tags is not None:
            index = {label: i for i, label in enumerate(self.labels)}
            out.append(pad_sequence([torch.tensor([index[t] for t in s]) for s in tags], batch_first=True))
        if self.use_chars:
            char_index = {c: i for i, c in enumerate(self.char_vocab)}
            width = min(MAX_WORD_CHARS, max(len(t) for s in tokens for t in s))
            chars = torch.zeros(*ids.shape, width, dtype=torch.long)  # (N, T, W)
            for row, sentence in enumerate(tokens):
                for col, token in enumerate(sentence):
                    codes = [char_index.get(c, 0) + 1 for c in token[:width]]
                    chars[row, col, : len(codes)] = torch.tensor(codes)
            out.append(chars)
        return tuple(out)

    def check_labels(self, tags: Sentences, where: str) -> None:
        """Refuse tags the model cannot predict: the label sets of training and of ``where`` must agree."""
        known = {t.partition("-")[2] for t in self.labels} - {""}
        given = {e[0] for s in tags for e in entities(s)}
        if given - known:
            raise UserError(
                f"{where} has entity type(s) {sorted(given - known)} that the model was not trained on "
                f"(it knows {sorted(known)}); retrain with them or map them to known types"
            )

    def read_inputs(self, texts: Sequence[str] = (), data: str | None = None) -> tuple[list[str], Sentences]:
        """Sentences to tag, as the model's tokens, and the line each came from: raw ``texts``, then ``data``
        (a .txt file, one sentence per line, or a CoNLL file whose first column is read)."""
        from pathlib import Path

        from lstmkit.data.tagging import read_conll
        from lstmkit.data.text import read_text

        lines = list(texts)
        sentences = [self.tokenize(t) for t in lines]
        if data:
            if Path(data).suffix.lower() == ".txt":
                file_lines = [line for line in read_text(data).splitlines() if line.strip()]
                lines += file_lines
                sentences += [self.tokenize(t) for t in file_lines]
            else:
                file_sentences = read_conll(data, tag_column=None)[0]
                lines += [" ".join(s) for s in file_sentences]
                sentences += file_sentences
        if not sentences:
            raise UserError("nothing to tag; give texts (--text, repeatable) or data= a file")
        for i, s in enumerate(sentences):
            if not s:
                raise UserError(f"sentence {i + 1} ({lines[i]!r}) has no tokens; drop empty sentences")
        return lines, sentences

    # -------------------------------------------------------------------------------- predict
    def predict(self, tokens: Sentences, batch_size: int = 256) -> Sentences:
        """Tags for each sentence (in the model's scheme)."""
        model: TaggerModel = self._need_model()  # type: ignore[assignment]
        model.eval()
        for i, sentence in enumerate(tokens):
            if not sentence:
                raise UserError(f"sentence {i} is empty; drop empty sentences before tagging")
        order = sorted(range(len(tokens)), key=lambda i: len(tokens[i]))  # similar lengths share a batch: less padding
        out: list = [None] * len(tokens)
        for start in range(0, len(order), batch_size):
            chunk = order[start : start + batch_size]
            batch = self._tensors([tokens[i] for i in chunk])
            batch = tuple(t.to(self.device) for t in batch)
            ids, lengths = batch[0], batch[1]
            paths = model.decode(ids, lengths, batch[2] if self.use_chars else None).cpu()
            for row, i in enumerate(chunk):
                out[i] = [self.labels[k] for k in paths[row, : len(tokens[i])].tolist()]
        return out

    def tokenize(self, text: str) -> list[str]:
        """Raw text as the model's tokens: characters for a character model, words otherwise (Chinese
        words by jieba, as segmented training data would have them)."""
        if self.level == "char":
            return [c for c in text if not c.isspace()]
        return tokenize(text, "word", self.language)

    # ------------------------------------------------------------------------------- evaluate
    def evaluate(self, tokens: Sentences, tags: Sentences) -> dict:
        """Entity-level precision/recall/F1 (overall and per type) and token accuracy on tagged sentences."""
        _check_pairs(tokens, tags, "evaluation")
        self.check_labels(tags, "the evaluation data")
        predicted = self.predict(tokens)
        scores = entity_scores(tags, predicted)
        correct = sum(a == b for t, p in zip(tags, predicted) for a, b in zip(self._convert(t), p))
        total = sum(map(len, tags))
        per_type = scores.pop("per_type")
        return {
            "metrics": {"model": {**scores, "accuracy": correct / total}},
            "per_type": per_type,
            "sentences": len(tokens),
            "tokens": total,
        }

    # ------------------------------------------------------------------------------ save/load
    def _export_graph(self) -> ExportGraph:
        model: TaggerModel = self._need_model()  # type: ignore[assignment]
        inputs: dict[str, Tensor] = {"ids": torch.tensor([[2, 3, 4], [5, 1, 0]]), "lengths": torch.tensor([3, 2])}
        dynamic = {"ids": {0: "batch", 1: "time"}, "lengths": {0: "batch"}}
        meaning = {
            "ids": "vocabulary index + 1 of each token (preprocessing.tokens; index 0 <unk>, so id 1), 0 after the end",
            "lengths": "each sentence's length in tokens, >= 1",
            "labels": self.labels,
        }
        if self.use_chars:
            inputs["chars"] = torch.tensor([[[2, 3, 0], [4, 0, 0], [5, 6, 7]], [[2, 0, 0], [3, 4, 0], [0, 0, 0]]])
            dynamic["chars"] = {0: "batch", 1: "time", 2: "characters"}
            meaning["chars"] = f"each token's characters as index + 1 in preprocessing.chars (0 padding), at most {MAX_WORD_CHARS}"
        if model.crf is not None:
            forbidden = lambda t: [None if math.isinf(v) else round(v, 6) for v in t.tolist()]
            transitions, start, end = model.crf._scores()
            meaning["crf"] = {  # best path: argmax of start[y1] + sum emissions + sum transitions[from][to] + end[yL]
                "transitions": [forbidden(row) for row in transitions],
                "start": forbidden(start),
                "end": forbidden(end),
                "null": "a forbidden transition (score -infinity)",
            }
        return ExportGraph(
            TaggerGraph(model),
            inputs,
            dynamic,
            {"emissions": f"(batch, time, {len(self.labels)}) scores per label; argmax, or Viterbi with crf"},
            meaning,
        )

    def _preprocessing(self) -> dict:
        return {
            "tokens": self.vocab.tokens,
            "chars": self.char_vocab,
            "labels": self.labels,
            "use_chars": self.use_chars,
            "level": self.level,
            "language": self.language,
        }

    def _restore(self, config: dict, p: dict) -> None:
        self.vocab = Vocab.from_dict({"level": "word", "language": "en", "tokens": saved(p, "tokens", list)})
        self.use_chars = saved(p, "use_chars", bool)
        self.char_vocab = saved(
            p, "chars", list[str], lambda v: (v[:1] == [UNK]) == self.use_chars and len(set(v)) == len(v), "distinct characters"
        )
        self.labels = saved(
            p,
            "labels",
            list[str],
            lambda v: "O" in v and len(set(v)) == len(v) and all(map(_is_entity_tag, v)),
            "distinct BIO/BIOES tags including O",
        )
        self.level = saved(p, "level", str, lambda v: v in ("char", "word"), "'char' or 'word'")
        self.language = saved(p, "language", str, lambda v: v in ("en", "zh"), "'en' or 'zh'")


def _check_pairs(tokens: Sentences, tags: Sentences, what: str) -> None:
    if len(tokens) != len(tags):
        raise UserError(f"the {what} data has {len(tokens)} sentences but {len(tags)} tag sequences")
    if not tokens:
        raise UserError(f"the {what} data has no sentences")
    for i, (s, t) in enumerate(zip(tokens, tags)):
        if not s:
            raise UserError(f"{what} sentence {i} is empty; drop empty sentences")
        if len(s) != len(t):
            raise UserError(f"{what} sentence {i} has {len(s)} tokens but {len(t)} tags")
    malformed = sorted({tag for sentence in tags for tag in sentence if not _is_entity_tag(tag)})
    if malformed:
        raise UserError(
            f"the {what} data has tag(s) {malformed[:5]} that are neither O nor B-, I-, E- or S- and a type "
            "(BIO/BIOES, e.g. B-PER); convert them to one of those schemes"
        )


def _is_entity_tag(tag) -> bool:
    prefix, dash, kind = tag.partition("-") if isinstance(tag, str) else ("", "", "")
    return tag == "O" or (prefix in ("B", "I", "E", "S") and bool(dash) and bool(kind))


def _cut(tokens: Sentences, tags: Sentences, max_len: int, convert) -> tuple[Sentences, Sentences]:
    """Sentences longer than max_len as pieces of at most max_len tokens, cut before an entity or at O
    where possible; an entity longer than a piece is cut too, and ``convert`` (to_bio / to_bioes) makes
    each piece's tags well formed again (its continuation starts with B-)."""
    out_tokens, out_tags = [], []
    for s, t in zip(tokens, tags):
        if len(s) <= max_len:
            out_tokens.append(s)
            out_tags.append(t)
            continue
        start = 0
        while start < len(s):
            cut = min(start + max_len, len(s))
            while start + 1 < cut < len(s) and t[cut][0] in "IE":  # do not split an entity if avoidable
                cut -= 1
            if cut < len(s) and t[cut][0] in "IE":
                cut = start + max_len
            out_tokens.append(s[start:cut])
            out_tags.append(convert(t[start:cut]))
            start = cut
    return out_tokens, out_tags
