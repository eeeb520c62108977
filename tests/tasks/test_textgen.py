"""Language models: TBPTT layout, baselines, decoding, persistence."""

import itertools
import math

import numpy as np
import pytest
import torch

from lstmkit.errors import UserError
from lstmkit.evaluation.ngram import KneserNey, unigram_nats
from lstmkit.tasks.textgen import (
    EPOCH_BLOCKS,
    MIN_STREAMS,
    SMALL_CORPUS,
    TextGenConfig,
    TextGenerator,
    TextNetwork,
    _blocks,
    _filtered_probs,
    evaluation_streams,
    stream_count,
    text_network,
)

TEXT = "the cat sat on the mat. the dog sat on the log. " * 60


def tiny(**kwargs):
    base = dict(hidden_size=48, embedding_dim=16, num_layers=1, seq_len=25, batch_size=4, epochs=8, lr=1e-2, dropout=0.0, verbose=False)
    return TextGenerator(**{**base, **kwargs}).config


@pytest.fixture(scope="module")
def trained():
    return TextGenerator(tiny()).fit(TEXT)


def test_blocks_are_contiguous_streams_in_order():
    ids = np.arange(101)
    x, y = _blocks(ids, streams=2, seq_len=10)
    assert x.shape == (5, 2, 10)
    assert x[0, 0].tolist() == list(range(10)) and x[1, 0].tolist() == list(range(10, 20))  # block k+1 continues block k
    assert x[0, 1, 0].item() == 50  # the second stream starts half-way
    assert torch.equal(y, x + 1)


def test_learns_the_text_far_better_than_the_unigram(trained):
    result = trained.evaluate()
    m = result["metrics"]
    assert m["model"]["bpc"] < 0.5 * m["unigram"]["bpc"]
    assert set(m["model"]) == {"cross_entropy", "perplexity", "bpc"}
    assert m["model"]["perplexity"] == pytest.approx(math.exp(m["model"]["cross_entropy"]))


def test_state_is_carried_between_blocks_and_reset_each_epoch():
    g = TextGenerator(tiny(epochs=2))
    seen = []
    from lstmkit.tasks import textgen

    original = textgen._CarriedState.loss

    def spy(self, model, batch):
        seen.append((model.training, self.state[model.training] is None))
        return original(self, model, batch)

    textgen._CarriedState.loss = spy
    try:
        g.fit(TEXT)
    finally:
        textgen._CarriedState.loss = original
    train_flags = [fresh for training, fresh in seen if training]
    blocks = len(train_flags) // 2
    assert train_flags[0] and not any(train_flags[1:blocks]) and train_flags[blocks]  # fresh only at epoch starts


def test_window_mode_trains_the_tutorials_way():
    g = TextGenerator(tiny(mode="window", seq_len=10, epochs=2, batch_size=64)).fit(TEXT)
    assert g.evaluate()["metrics"]["model"]["bpc"] < g.evaluate()["metrics"]["unigram"]["bpc"]


def test_kneser_ney_is_a_distribution():
    rng = np.random.default_rng(0)
    ids = rng.integers(0, 6, 500)
    lm = KneserNey(3, 7).fit(ids)  # token 6 never occurs
    for history in [(1, 2), (5, 5), (6, 6), ()]:
        assert sum(lm.prob(history, w) for w in range(7)) == pytest.approx(1.0)
    assert lm.prob((1, 2), 6) > 0


def test_kneser_ney_beats_unigram_on_structured_text(trained):
    ids, _ = trained.vocab.encode(TEXT)
    lm = KneserNey(3, len(trained.vocab)).fit(ids[:2000])
    assert lm.nats(ids[2000:], ids[:2000]) < unigram_nats(ids[:2000], ids[2000:], len(trained.vocab))


def test_greedy_is_deterministic_and_sampling_follows_the_seed(trained):
    assert trained.generate("the ", 40, method="greedy") == trained.generate("the ", 40, method="greedy")
    a = trained.generate("the ", 40, seed=1)
    assert a == trained.generate("the ", 40, seed=1) and a.startswith("the ")


def test_streaming_pieces_add_up_to_the_text(trained):
    pieces = []
    text = trained.generate("the ", 30, seed=2, on_text=pieces.append)
    assert len(pieces) == 30 and "the " + "".join(pieces) == text


def test_parallel_evaluation_streams_are_independent_reads_of_their_parts(trained):
    ids, count = trained.vocab.encode(TEXT * 2)[0], 3
    # without warm-up each stream is a fresh read of its part (the last one shorter), as one stream reads it
    share = -(-(len(ids) - 1) // count)  # without context the first token is not scored
    parts = [ids[b * share : (b + 1) * share + 1] for b in range(count)]
    expected = sum(trained.model_nats(part, streams=1) for part in parts)
    assert trained.model_nats(ids, streams=count, warmup=0) == pytest.approx(expected, rel=1e-6)
    # with context every token is scored, the first stream's after the context
    context, share = ids[:100], -(-len(ids) // count)
    parts = [ids[max(0, b * share - 1) : (b + 1) * share] for b in range(count)]
    expected = trained.model_nats(parts[0], context, streams=1) + sum(trained.model_nats(part, streams=1) for part in parts[1:])
    assert trained.model_nats(ids, context, streams=count, warmup=0) == pytest.approx(expected, rel=1e-6)


def test_parallel_evaluation_after_a_warm_up_scores_what_one_stream_scores(trained):
    ids = trained.vocab.encode(TEXT * 5)[0]
    assert evaluation_streams(len(ids)) > 1 and evaluation_streams(1000) == 1
    one = trained.model_nats(ids, streams=1)
    assert trained.model_nats(ids) == pytest.approx(one, rel=1e-6)
    assert trained.model_nats(ids, streams=7) == pytest.approx(one, rel=1e-6)
    assert abs(trained.model_nats(ids, streams=7, warmup=0) - one) > 1e-3 * one  # what the warm-up is for


def test_top_k_and_top_p_keep_the_right_tokens():
    logits = torch.log(torch.tensor([0.5, 0.3, 0.15, 0.05]))
    assert (_filtered_probs(logits, 2, None) > 0).tolist() == [True, True, False, False]
    assert (_filtered_probs(logits, None, 0.8) > 0).tolist() == [True, True, False, False]
    assert (_filtered_probs(logits, None, 0.81) > 0).tolist() == [True, True, True, False]
    assert _filtered_probs(logits, None, 0.8).sum().item() == pytest.approx(1.0)


def test_beam_search_finds_the_most_likely_continuation(trained):
    """On 3 tokens, a beam as wide as the vocabulary is exhaustive: compare with brute force."""
    length = 3
    ids, _ = trained.vocab.encode("the c")
    model = trained.model.eval()

    def score(seq):
        with torch.no_grad():
            logits, _ = model(torch.as_tensor(np.concatenate([ids, seq]))[None])
        logp = torch.log_softmax(logits[0], -1)
        return sum(logp[len(ids) - 1 + i, t].item() for i, t in enumerate(seq))

    best = max(itertools.product(range(1, len(trained.vocab)), repeat=length), key=score)  # <unk> is never written
    found = trained.generate("the c", length, method="beam", beam=len(trained.vocab) ** 2)
    assert found == "the c" + trained.vocab.decode(best)


def test_unknown_prompt_tokens_are_reported(trained):
    told = []
    trained.generate("the zebra", 5, on_unknown=told.append)
    assert told == [["b", "r", "z"]]  # the training text has none of these letters


def test_an_unknown_first_character_counts_as_one_character_in_bits_per_character(trained):
    result = trained.evaluate("zto be")  # no context: "z" (unknown, <unk>) is read, not scored
    assert result["characters"] == 5 and result["tokens"] == 5


def test_save_load_round_trip(tmp_path, trained):
    trained.save(tmp_path / "lm")
    loaded = TextGenerator.load(tmp_path / "lm")
    assert loaded.generate("the ", 30, seed=3) == trained.generate("the ", 30, seed=3)
    with pytest.raises(UserError, match="a loaded model keeps no corpus"):
        loaded.evaluate()
    scored = loaded.evaluate(TEXT[:500], training_text=trained.train_text)
    assert scored["metrics"] == trained.evaluate(TEXT[:500])["metrics"]


def test_a_loaded_model_needs_only_its_directory_and_evaluates_on_its_corpus_when_given(tmp_path):
    (tmp_path / "t.txt").write_text(TEXT, encoding="utf-8")
    from lstmkit.data.text import read_text
    from lstmkit.tasks.textgen import evaluate_on

    g = TextGenerator(tiny(epochs=1))
    g.source = str(tmp_path / "t.txt")
    g.fit(read_text(g.source)).save(tmp_path / "lm")
    assert evaluate_on(TextGenerator.load(tmp_path / "lm"), str(tmp_path / "t.txt"))[0] == g.evaluate()  # its held-out part
    with pytest.raises(UserError, match=r"trained on the file '.*t.txt'; give data= that file \(checked against the SHA-256"):
        evaluate_on(TextGenerator.load(tmp_path / "lm"), None)  # a path named in the model directory is never opened
    (tmp_path / "t.txt").unlink()  # the corpus is gone: loading and sampling still work
    loaded = TextGenerator.load(tmp_path / "lm")
    assert loaded.generate("the", length=5, seed=1) == g.generate("the", length=5, seed=1)
    with pytest.raises(UserError, match="a loaded model keeps no corpus"):
        loaded.evaluate()
    only_model = loaded.evaluate(TEXT[:300])
    assert set(only_model["metrics"]) == {"model"}


def test_tied_weights_share_one_matrix():
    g = TextGenerator(tiny(tie_weights=True, embedding_dim=48, epochs=1)).fit(TEXT)
    assert g.model.head.weight is g.model.embedding.weight


def test_network_is_sized_by_the_corpus_and_the_config_wins():
    small, large = TextGenConfig(), TextGenConfig()
    chinese = text_network(small, SMALL_CORPUS - 1, vocab_size=3000)
    assert chinese == TextNetwork(hidden_size=256, num_layers=1, dropout=0.5, embedding_size=256, tie_weights=True)
    assert text_network(small, SMALL_CORPUS - 1, vocab_size=80).num_layers == 2  # an alphabet: two layers
    assert text_network(large, SMALL_CORPUS, vocab_size=3000) == TextNetwork(512, 1, 0.2, 512, True)
    assert text_network(large, SMALL_CORPUS, vocab_size=80) == TextNetwork(512, 2, 0.2, 128, False)  # as on Hamlet
    given = TextGenConfig(hidden_size=64, num_layers=3, dropout=0.0, embedding_dim=32)
    assert text_network(given, 10, 3000) == TextNetwork(64, 3, 0.0, 32, False)  # an embedding size of its own: not tied
    assert text_network(TextGenConfig(tie_weights=False), 10, 3000).embedding_size == 128
    with pytest.raises(UserError, match="tie_weights needs embedding_size == hidden_size"):
        text_network(TextGenConfig(tie_weights=True, embedding_dim=64), 10, 3000)  # hidden_size from the rule: 256


def test_small_corpora_get_fewer_streams_so_that_an_epoch_has_enough_steps():
    assert stream_count(1_000_000, 100, 32) == 32
    assert stream_count(25_000, 100, 32) == MIN_STREAMS  # 32 streams would give 7 blocks an epoch
    assert stream_count(60_000, 100, 32) == 60_000 // (EPOCH_BLOCKS * 100)
    assert stream_count(60_000, 100, 4) == 4  # batch_size is the most
    assert stream_count(301, 100, 32) == 3  # a text shorter than MIN_STREAMS blocks
    g = TextGenerator(tiny(batch_size=32, hidden_size=None, embedding_dim=None, num_layers=None, epochs=1)).fit(TEXT)
    assert g.network.tie_weights and g.model.head.weight is g.model.embedding.weight
    x = g._prepare(TEXT, None)[0][0]
    assert x.shape[1] == stream_count(len(g.vocab.encode(g.train_text)[0]), 25, 32)


@pytest.mark.parametrize(
    "kwargs,message",
    [
        ({"mode": "stateful"}, "mode must be 'tbptt' or 'window'"),
        ({"tie_weights": True, "embedding_dim": 8}, "tie_weights needs embedding_dim == hidden_size"),
        ({"seq_len": 0}, "seq_len must be at least 1"),
        ({"dropout": 1.5}, r"dropout must be in \[0, 1\)"),
    ],
)
def test_bad_configuration(kwargs, message):
    with pytest.raises(UserError, match=message):
        TextGenerator(tiny(**kwargs))


def test_sequence_longer_than_the_corpus():
    with pytest.raises(UserError, match="lower seq_len="):
        TextGenerator(tiny(seq_len=500)).fit("a short text " * 10)


def test_word_level_continuation_is_spaced_and_streams_exactly_the_returned_text():
    text = "to be, or not to be: that is the question. whether (in the mind) to suffer. " * 30
    g = TextGenerator(tiny(level="word", language="en", seq_len=10, epochs=3)).fit(text)
    pieces = []
    out = g.generate("to be", 25, seed=0, on_text=pieces.append)
    assert out.startswith("to be ") or out[5] in ".,;:!?')]"
    assert "to be" + "".join(pieces) == out
    assert g.generate("to be", 0) == "to be"
    assert "<unk>" not in g.generate("to be", 40, seed=1, temperature=2.0)
    with pytest.raises(UserError, match="need length >= 0 and beam >= 1"):
        g.generate("to be", 5, method="beam", beam=0)
    for temperature in (float("nan"), float("inf"), 0.0):
        with pytest.raises(UserError, match="need temperature > 0"):
            g.generate("to be", 5, temperature=temperature)


def test_parts_split_at_whitespace_and_the_test_part_is_not_used_for_selection():
    g = TextGenerator(tiny(level="word", epochs=1)).fit(TEXT)
    val_start, test_start = g.splits
    assert TEXT[val_start].isspace() and TEXT[test_start].isspace()
    assert g.train_text + g.val_text + g.test_text == TEXT
    assert len(g.val_text) > 0 and len(g.test_text) > 0


def test_chinese_without_spaces_splits_at_sentence_ends_or_anywhere():
    from lstmkit.tasks.textgen import split_points

    text = "春眠不觉晓处处闻啼鸟。夜来风雨声花落知多少。" * 40
    val_start, test_start = split_points(text, 0.1, 0.1)
    assert 0 < val_start < test_start < len(text) and text[val_start - 1] == "。" and text[test_start - 1] == "。"
    unpunctuated = "床前明月光疑是地上霜举头望明月低头思故乡" * 40
    assert split_points(unpunctuated, 0.1, 0.1) == (640, 720)  # no break anywhere: cut at the fractions
    for level in ("char", "word"):
        g = TextGenerator(tiny(level=level, language="zh", seq_len=8, epochs=1)).fit(text)
        assert g.train_text + g.val_text + g.test_text == text and g.val_text and g.test_text


def test_kneser_ney_without_singletons_keeps_every_probability_positive():
    lm = KneserNey(3, 5).fit(np.array([1, 2, 3, 4] * 2 + [1, 2]))
    assert all(0.1 <= d <= 0.9 for d in lm.discount[1:])
    assert np.isfinite(lm.nats(np.array([1, 2, 4])))


def test_a_changed_corpus_is_scored_whole_never_as_its_held_out_part(tmp_path, capsys):
    from lstmkit.tasks.textgen import evaluate_on

    path = tmp_path / "t.txt"
    path.write_text(TEXT, encoding="utf-8")
    g = TextGenerator(tiny(epochs=1))
    g.source = str(path)
    g.fit(TEXT).save(tmp_path / "lm")
    path.write_text(TEXT.replace("cat", "cow"), encoding="utf-8")
    result, what = evaluate_on(TextGenerator.load(tmp_path / "lm"), str(path))
    assert what == str(path) and set(result["metrics"]) == {"model"}  # not its SHA-256: the whole text, no baselines
    assert "no n-gram baselines" in capsys.readouterr().err
    path.unlink()
    with pytest.raises(UserError, match="give data= that file"):
        evaluate_on(TextGenerator.load(tmp_path / "lm"), None)
