"""Sequence tagging: padding invariance, constrained decoding, learning entities, persistence, errors."""

import random

import pytest
import torch

from lstmkit.data.tagging import entities, mark_entities, to_bio, to_bioes
from lstmkit.errors import UserError
from lstmkit.nn.crf import allowed_transitions
from lstmkit.tasks.networks import TaggerModel
from lstmkit.tasks.tag import SequenceTagger, TaggerConfig, _cut

NAMES = ["John", "Mary", "Ahmed", "Li", "Olga", "Pedro", "Ines", "Kofi"]
CITIES = ["Paris", "Rome", "Lagos", "Lima", "Oslo", "Cairo", "Delhi", "Quito"]
TEMPLATES = [("{p} lives in {c}", None), ("{p} flew to {c} today", None), ("in {c} , {p} met {q}", None)]


def sentences(names, cities, n, seed):
    rng = random.Random(seed)
    tokens, tags = [], []
    for _ in range(n):
        template = rng.choice(TEMPLATES)[0]
        p, q = rng.sample(names, 2)
        c = rng.choice(cities)
        words, labels = [], []
        for word in template.split():
            if word in ("{p}", "{q}"):
                words += [p if word == "{p}" else q, "Smith"] if rng.random() < 0.5 else [p if word == "{p}" else q]
                labels += ["B-PER", "I-PER"][: len(words) - len(labels)]
            elif word == "{c}":
                words.append(c), labels.append("B-LOC")
            else:
                words.append(word), labels.append("O")
        tokens.append(words), tags.append(labels)
    return tokens, tags


@pytest.mark.parametrize("chars", [False, True])
def test_padding_does_not_change_emissions(chars):
    torch.manual_seed(0)
    labels = ["O", "B-PER", "I-PER"]
    model = TaggerModel(20, 10 if chars else 0, labels, TaggerConfig(hidden_size=6, embedding_dim=5, char_channels=4)).eval()
    ids = torch.randint(1, 21, (3, 7))
    lengths = torch.tensor([7, 3, 5])
    char_ids = torch.randint(0, 11, (3, 7, 4)) if chars else None
    emissions = model(ids, lengths, char_ids)
    for b, n in enumerate(lengths.tolist()):
        alone = model(ids[b : b + 1, :n], torch.tensor([n]), char_ids[b : b + 1, :n] if chars else None)
        assert torch.allclose(emissions[b, :n], alone[0], atol=1e-5)


def test_constrained_decoding_never_breaks_the_scheme():
    torch.manual_seed(1)
    for labels in (
        ["O", "B-PER", "I-PER", "B-LOC", "I-LOC"],
        ["O", "B-PER", "I-PER", "E-PER", "S-PER", "B-LOC", "I-LOC", "E-LOC", "S-LOC"],
    ):
        model = TaggerModel(30, 0, labels, TaggerConfig(hidden_size=4, embedding_dim=4)).eval()
        with torch.no_grad():
            model.emit.bias.normal_(0, 5)  # strong random preferences, scheme-blind
        trans, start, end = allowed_transitions(labels)
        paths = model.decode(torch.randint(1, 31, (50, 9)), torch.full((50,), 9))
        for path in paths.tolist():
            assert start[path[0]] and end[path[-1]] and all(trans[a, b] for a, b in zip(path, path[1:]))


@pytest.fixture(scope="module")
def trained():
    tokens, tags = sentences(NAMES[:6], CITIES[:6], 300, seed=0)
    tagger = SequenceTagger(hidden_size=24, embedding_dim=16, char_channels=16, epochs=12, lr=1e-2, verbose=False)
    return tagger.fit((tokens, tags), sentences(NAMES[:6], CITIES[:6], 40, seed=1))


def test_learns_entities_including_unseen_names(trained):
    assert trained.use_chars and trained.level == "word"
    test_tokens, test_tags = sentences(NAMES, CITIES, 100, seed=2)  # includes 2 names and 2 cities never seen
    result = trained.evaluate(test_tokens, test_tags)
    assert result["metrics"]["model"]["f1"] > 0.9
    assert set(result["per_type"]) == {"PER", "LOC"}


def test_round_trip_softmax_and_errors(trained, tmp_path):
    trained.save(tmp_path / "run")
    loaded = SequenceTagger.load(tmp_path / "run")
    tokens, _ = sentences(NAMES, CITIES, 20, seed=3)
    assert loaded.predict(tokens) == trained.predict(tokens)
    with pytest.raises(UserError, match=r"entity type\(s\) \['ORG'\] that the model was not trained on"):
        loaded.evaluate([["Acme", "Corp"]], [["B-ORG", "I-ORG"]])
    with pytest.raises(UserError, match="sentence 1 is empty"):
        loaded.predict([["a"], []])
    with pytest.raises(UserError, match="sentence 0 has 2 tokens but 1 tags"):
        SequenceTagger(verbose=False).fit(([["a", "b"]], [["O"]]))
    with pytest.raises(UserError, match=r"tag\(s\) \['B-', 'X-Y'\] that are neither O nor B-, I-, E- or S- and a type"):
        SequenceTagger(verbose=False).fit(([["a", "b", "c"]], [["X-Y", "O", "B-"]]))
    soft = SequenceTagger(decoder="softmax", hidden_size=16, embedding_dim=8, epochs=8, lr=1e-2, verbose=False)
    soft.fit(sentences(NAMES[:6], CITIES[:6], 200, seed=0))
    assert soft.model.crf is None
    assert soft.evaluate(*sentences(NAMES[:6], CITIES[:6], 50, seed=4))["metrics"]["model"]["f1"] > 0.8


def test_character_level_chinese():
    tokens = [list("江泽民在北京"), list("李鹏到上海"), list("朱镕基离开北京"), list("江泽民到上海")] * 20
    tags = [
        ["B-PER", "I-PER", "I-PER", "O", "B-LOC", "I-LOC"],
        ["B-PER", "I-PER", "O", "B-LOC", "I-LOC"],
        ["B-PER", "I-PER", "I-PER", "O", "O", "B-LOC", "I-LOC"],
        ["B-PER", "I-PER", "I-PER", "O", "B-LOC", "I-LOC"],
    ] * 20
    tagger = SequenceTagger(hidden_size=16, embedding_dim=16, epochs=15, lr=1e-2, verbose=False).fit((tokens, tags))
    assert tagger.level == "char" and not tagger.use_chars
    text_tokens = tagger.tokenize("李鹏 在北京")
    assert text_tokens == list("李鹏在北京")
    assert mark_entities(text_tokens, tagger.predict([text_tokens])[0], "") == "[李鹏]PER在[北京]LOC"


def test_long_sentences_are_cut_between_entities():
    tokens = [[str(i) for i in range(10)]]
    tags = [["O", "B-PER", "I-PER", "I-PER", "O", "B-LOC", "I-LOC", "O", "O", "O"]]
    cut_tokens, cut_tags = _cut(tokens, tags, 3, to_bio)
    assert sum(cut_tokens, []) == tokens[0] and sum(cut_tags, []) == tags[0]
    assert all(len(t) <= 3 for t in cut_tokens)
    assert sorted(e[0] for t in cut_tags for e in entities(t)) == ["LOC", "PER"]
    # an entity longer than a piece is cut, and each piece is well formed in the scheme
    _, long_tags = _cut([list("abcdef")], [["B-X", "I-X", "I-X", "I-X", "I-X", "O"]], 3, to_bioes)
    assert long_tags == [["B-X", "I-X", "E-X"], ["B-X", "E-X", "O"]]
    assert (
        mark_entities(["John", "Smith", "lives", "in", "Rome"], ["B-PER", "I-PER", "O", "O", "B-LOC"])
        == "[John Smith]PER lives in [Rome]LOC"
    )


def test_labels_cover_every_tag_of_a_type_seen_only_in_one_token_entities():
    tagger = SequenceTagger(hidden_size=8, embedding_dim=8, epochs=1, verbose=False)
    tagger.fit(([["in", "Rome"], ["to", "Oslo"]] * 10, [["O", "B-LOC"]] * 20), ([["New", "York"]], [["B-LOC", "I-LOC"]]))
    assert tagger.labels == ["O", "B-LOC", "I-LOC"]


def test_training_is_sized_by_the_data_and_validates_on_whole_held_out_sentences():
    sentences = [[f"w{i}", "lives", "in", f"c{i}"] for i in range(60)]
    tags = [["B-PER", "O", "O", "B-LOC"]] * 60
    tagger = SequenceTagger(hidden_size=8, embedding_dim=8, verbose=False)
    (ids, *_), (val_ids, *_) = tagger._prepare((sentences, tags), None)
    assert len(val_ids) == 6  # val_fraction 0.1 of the sentences, none of them in training
    held_out = {tuple(row[:4].tolist()) for row in val_ids}
    assert not held_out & {tuple(row[:4].tolist()) for row in ids}
    # 54 sentences repeat 12 times so that an epoch is 21 steps; about 1,000 steps make 48 epochs
    assert len(ids) == 54 * 12 and tagger.epochs == 48
    given = SequenceTagger(hidden_size=8, embedding_dim=8, epochs=5, verbose=False)
    given._prepare((sentences, tags), None)
    assert given.epochs == 5  # epochs, when given, win
    few = SequenceTagger(hidden_size=8, embedding_dim=8, verbose=False)
    assert few._prepare((sentences[:4], tags[:4]), None)[1] is None  # a handful: no sentence to spare for validation
