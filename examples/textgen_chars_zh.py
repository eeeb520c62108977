"""Character-level Chinese: a language model on the first 30,000 characters of People's Daily.

Characters need no segmenter, and a Chinese character carries far more information than an English
letter: the vocabulary has over a thousand characters, so bits per character are much higher than in
English. The test part (the last 10%) is scored against add-one unigram and Kneser-Ney 5-gram models,
then three decoders continue one prompt.

Run: .venv/bin/python examples/textgen_chars_zh.py     (about 30 seconds on 2 CPU cores)
"""

from lstmkit.data.text import read_text
from lstmkit.tasks.textgen import TextGenerator

text = read_text("peoples_daily")[:30_000]
model = TextGenerator(level="char", max_minutes=0.3, seed=0, verbose=False).fit(text)
scores = model.evaluate()["metrics"]
print(f"vocabulary {len(model.vocab)} characters; {len(model.history.epochs)} epochs")
print("test bits per character: " + ", ".join(f"{name} {scores[name]['bpc']:.2f}" for name in ("model", "unigram", "ngram")))
print("sample:", model.generate("中国", length=40, method="sample", temperature=0.7, seed=0))
print("greedy:", model.generate("中国", length=40, method="greedy"))
print("beam 4:", model.generate("中国", length=40, method="beam", beam=4))
