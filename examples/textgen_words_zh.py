"""Tutorial example (word level, Chinese), done right.

The tutorial splits Chinese text on spaces: a Chinese sentence has none, so the whole text is one
"word" and there is nothing to learn (and it then feeds 2-D integers to an LSTM). lstmkit segments
Chinese with jieba, and trains a word-level LSTM language model on People's Daily (January 1998,
the first 3,000 sentences, words seen at least 3 times, carried state over the text), then
continues a prompt.

Run: .venv/bin/python examples/textgen_words_zh.py   (needs jieba: pip install jieba)
"""

from lstmkit.data.text import read_text, tokenize
from lstmkit.tasks.textgen import TextGenerator

sentence = "长短期记忆网络是一种特殊的循环神经网络"
print(f"split on spaces: {len(sentence.split())} 'word'; jieba: {tokenize(sentence, 'word', 'zh')}")

text = "\n".join(read_text("peoples_daily").splitlines()[:3000])
model = TextGenerator(
    level="word",
    language="zh",
    min_freq=3,
    seq_len=35,
    batch_size=32,
    embedding_dim=128,
    hidden_size=256,
    num_layers=1,
    epochs=4,
    verbose=False,
).fit(text)
scores = model.evaluate()["metrics"]
print(
    f"vocabulary {len(model.vocab)} words; test perplexity per word: model {scores['model']['perplexity']:.0f}, "
    f"unigram {scores['unigram']['perplexity']:.0f}, 3-gram KN {scores['ngram']['perplexity']:.0f}"
)
print(model.generate("中国", length=30, temperature=0.7, seed=0))
