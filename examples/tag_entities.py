"""BiLSTM-CRF named entities on People's Daily from Python: train briefly, score per entity, tag a
sentence, save the model for the command line (`lstmkit tag predict --model runs/ner`).

Run: .venv/bin/python examples/tag_entities.py     (about a minute on 2 CPU cores)
"""

from lstmkit.data.tagging import mark_entities, peoples_daily_ner
from lstmkit.tasks.tag import SequenceTagger

data = peoples_daily_ner()  # {"train" | "dev" | "test": (sentences of characters, BIO tags)}
print("sentences:", {part: len(sentences) for part, (sentences, tags) in data.items()})
tagger = SequenceTagger(decoder="crf", scheme="BIO", max_minutes=0.5, seed=0, verbose=False).fit(data["train"], data["dev"])
result = tagger.evaluate(*data["test"])
scores = result["metrics"]["model"]
print(f"test entities: precision {scores['precision']:.3f}, recall {scores['recall']:.3f}, F1 {scores['f1']:.3f}")
for kind, per_type in result["per_type"].items():
    print(f"  {kind}: F1 {per_type['f1']:.3f} over {per_type['support']} entities")
tokens = tagger.tokenize("江泽民主席在北京会见了俄罗斯总统叶利钦")
print(mark_entities(tokens, tagger.predict([tokens])[0], ""))
tagger.save("runs/ner")
