"""CoNLL files, tag schemes and entity scores (seqeval as the oracle), People's Daily NER."""

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from seqeval.metrics import classification_report, f1_score, precision_score, recall_score
from seqeval.metrics.sequence_labeling import get_entities

from lstmkit.data.tagging import entities, peoples_daily_ner, read_conll, to_bio, to_bioes, write_conll
from lstmkit.errors import UserError
from lstmkit.evaluation.metrics import entity_scores
from lstmkit.nn.crf import allowed_transitions

any_tags = st.lists(st.sampled_from(["O", "B-PER", "I-PER", "E-PER", "S-PER", "B-LOC", "I-LOC", "E-LOC", "S-LOC"]), min_size=1, max_size=12)
bio_tags = st.lists(st.sampled_from(["O", "B-PER", "I-PER", "B-LOC", "I-LOC"]), min_size=1, max_size=12)


@settings(max_examples=300, deadline=None)
@given(any_tags)
def test_entities_are_read_as_seqeval_reads_them(tags):
    assert entities(tags) == [(k, s, e + 1) for k, s, e in get_entities(tags)]


@settings(max_examples=100, deadline=None, suppress_health_check=list(HealthCheck))
@given(st.lists(st.tuples(bio_tags, bio_tags), min_size=1, max_size=6))
@pytest.mark.filterwarnings("ignore::RuntimeWarning")  # seqeval averages empty classes
def test_entity_scores_equal_seqeval(pairs):
    true = [t for t, _ in pairs]
    pred = [p[: len(t)] + ["O"] * (len(t) - len(p)) for t, p in pairs]
    ours = entity_scores(true, pred)
    assert ours["precision"] == pytest.approx(precision_score(true, pred, zero_division=0))
    assert ours["recall"] == pytest.approx(recall_score(true, pred, zero_division=0))
    assert ours["f1"] == pytest.approx(f1_score(true, pred, zero_division=0))
    report = classification_report(true, pred, output_dict=True, zero_division=0)
    for kind, scores in ours["per_type"].items():
        if kind in report:
            assert scores["f1"] == pytest.approx(report[kind]["f1-score"])
            assert scores["support"] == report[kind]["support"]


@settings(max_examples=200, deadline=None)
@given(any_tags)
def test_scheme_conversions_keep_the_entities(tags):
    assert entities(to_bioes(tags)) == entities(tags)
    assert entities(to_bio(tags)) == entities(tags)
    assert to_bio(to_bioes(to_bio(tags))) == to_bio(tags)


@settings(max_examples=200, deadline=None)
@given(any_tags)
def test_converted_tags_obey_the_transition_constraints(tags):
    bio = ["O", "B-PER", "I-PER", "B-LOC", "I-LOC"]
    for scheme_tags, labels in ((to_bio(tags), bio), (to_bioes(tags), bio + ["E-PER", "S-PER", "E-LOC", "S-LOC"])):
        trans, start, end = allowed_transitions(labels)
        ids = [labels.index(t) for t in scheme_tags]
        assert start[ids[0]] and end[ids[-1]]
        assert all(trans[a, b] for a, b in zip(ids, ids[1:]))
    assert not allowed_transitions(bio + ["E-PER", "S-PER", "E-LOC", "S-LOC"])[2][2]  # BIOES cannot end inside


def test_bio_constraints():
    labels = ["O", "B-PER", "I-PER", "B-LOC", "I-LOC"]
    trans, start, end = allowed_transitions(labels)
    assert not start[2] and start[1] and end.all()
    assert trans[1, 2] and trans[2, 2] and not trans[0, 2] and not trans[3, 2] and trans[2, 3]


def test_conll_round_trip_and_errors(tmp_path):
    path = tmp_path / "a.conll"
    path.write_text("-DOCSTART- -X- O\n\nEU NNP B-ORG\nrejects VBZ O\n\n\nPeter NNP B-PER\n")
    tokens, tags = read_conll(path)
    assert tokens == [["EU", "rejects"], ["Peter"]] and tags == [["B-ORG", "O"], ["B-PER"]]
    write_conll(tmp_path / "b.conll", tokens, tags, tags)
    assert read_conll(tmp_path / "b.conll") == (tokens, tags)
    assert (tmp_path / "b.conll").read_text().startswith("EU B-ORG B-ORG\nrejects O O\n\nPeter")

    (tmp_path / "tokens.conll").write_text("EU\nrejects\n\nPeter\n")
    assert read_conll(tmp_path / "tokens.conll", tag_column=None) == ([["EU", "rejects"], ["Peter"]], [[], []])
    path.write_text("EU B-ORG\nrejects\n")
    with pytest.raises(UserError, match=r"a.conll:2: expected 2 columns like the first line, got 1"):
        read_conll(path)
    path.write_text("EU B-ORG\n\nrejects X-PER\n")
    with pytest.raises(UserError, match=r"a.conll:3: tag 'X-PER' is not O or B-/I-/E-/S-TYPE"):
        read_conll(path)
    path.write_text("\n\n")
    with pytest.raises(UserError, match="holds no tagged tokens"):
        read_conll(path)
    with pytest.raises(UserError, match="is not a file"):
        read_conll(tmp_path / "missing.conll")


def test_peoples_daily_ner_split():
    data = peoples_daily_ner()
    chars, tags = data["train"]
    assert "".join(chars[1]) == "中共中央总书记、国家主席江泽民"
    assert entities(tags[1]) == [("ORG", 0, 4), ("PER", 12, 15)]  # 江/nr 泽民/nr is one person
    sizes = {k: len(v[0]) for k, v in data.items()}
    assert sizes["train"] > 7 * sizes["test"] and 0.9 < sizes["dev"] / sizes["test"] < 1.1
    seen = {"".join(c) for c in chars}
    assert not any("".join(c) in seen for part in ("dev", "test") for c in data[part][0])
    people = {"".join(c[a:b]) for c, t in zip(chars, tags) for kind, a, b in entities(t) if kind == "PER"}
    assert {"江泽民", "李鹏", "乔石"} <= people and "江泽民李鹏" not in "".join(people)  # one entity per person
    assert all(len(c) == len(t) and c for c, t in zip(*data["test"]))
