"""Corpora, text files and vocabularies."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lstmkit.data.text import UNK, Vocab, detect_language, labelled_texts, read_text, tokenize
from lstmkit.errors import UserError


def test_bundled_corpora_load_offline():
    hamlet = read_text("hamlet")
    assert len(hamlet) > 170_000 and "To be, or not to be" in hamlet
    daily = read_text("peoples_daily")
    assert daily.count("\n") == 19484 and "/nr" not in daily and "江泽民" in daily
    assert detect_language(daily) == "zh" and detect_language(hamlet) == "en"


def test_bad_files(tmp_path):
    (tmp_path / "empty.txt").write_text("  \n")
    with pytest.raises(UserError, match="is empty"):
        read_text(str(tmp_path / "empty.txt"))
    (tmp_path / "bin.txt").write_bytes(b"abc\x00\x01")
    with pytest.raises(UserError, match="looks binary"):
        read_text(str(tmp_path / "bin.txt"))
    (tmp_path / "gbk.txt").write_bytes("中文文本".encode("gbk"))
    with pytest.raises(UserError, match="is not UTF-8 .*iconv"):
        read_text(str(tmp_path / "gbk.txt"))
    with pytest.raises(UserError, match="neither a bundled corpus"):
        read_text(str(tmp_path / "missing.txt"))


def test_chinese_words_are_segmented_not_split_on_spaces():
    words = tokenize("长短期记忆网络是一种特殊的循环神经网络", "word", "zh")
    assert len(words) > 5 and "".join(words) == "长短期记忆网络是一种特殊的循环神经网络"


def test_english_word_tokens():
    assert tokenize("Who's there? Nay, 2 men.", "word", "en") == ["Who's", "there", "?", "Nay", ",", "2", "men", "."]


def test_a_vocabulary_that_would_be_all_unknown_is_refused():
    with pytest.raises(UserError, match=r"min_freq=100 leaves no token in the vocabulary \(the most frequent is seen 3 times\)"):
        Vocab.build("aaabbc", level="char", min_freq=100)


def test_the_label_column_must_differ_from_the_text_column(tmp_path):
    (tmp_path / "reviews.csv").write_text("text,label\ngood,pos\nbad,neg\n")
    with pytest.raises(UserError, match="the text and the label column are both 'text'"):
        labelled_texts(str(tmp_path / "reviews.csv"), "text", "text")


def test_vocab_min_freq_max_size_and_unknowns():
    v = Vocab.build("aaabbc", level="char", min_freq=2)
    assert v.tokens == [UNK, "a", "b"]
    ids, unknown = v.encode("abcd")
    assert ids.tolist() == [1, 2, 0, 0] and unknown == ["c", "d"]
    assert Vocab.build("aaabbc", level="char", max_size=2).tokens == [UNK, "a"]


@settings(max_examples=50, deadline=None)
@given(st.text(min_size=1, max_size=200))
def test_char_vocab_round_trips_any_unicode(text):
    v = Vocab.build(text, level="char")
    ids, unknown = v.encode(text)
    assert unknown == [] and v.decode(ids) == text
    again = Vocab.from_dict(v.to_dict())
    assert np.array_equal(again.encode(text)[0], ids)


def test_word_decode_joins_english_and_chinese():
    en = Vocab.build("to be , or not .", level="word", language="en")
    assert en.decode(en.encode("to be, or not.")[0]) == "to be, or not."
    zh = Vocab.build("我们 喜欢 学习", level="word", language="zh")
    assert zh.decode(zh.encode("我们喜欢学习")[0]) == "我们喜欢学习"


@pytest.mark.parametrize("columns", [("text", "text"), ("body", "label"), ("text", "stars")])
def test_a_bundled_corpus_refuses_column_names_instead_of_ignoring_them(columns):
    # checked before the corpus is read: no package file is opened
    with pytest.raises(UserError, match="are both 'text'|has the columns 'text' and 'label'"):
        labelled_texts("sentiment_en", *columns)
