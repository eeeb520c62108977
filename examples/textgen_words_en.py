"""Tutorial example (word level, English): predict the next word from the previous 5, then continue
"LSTM networks are" by 10 words.

The tutorial one-hot encodes the targets and, in its generate function, pads the prompt to 4 tokens
for a model built for 5; here the targets stay integer ids (cross-entropy) and generation feeds any
prompt length. Its paragraph is tiny, so the model memorises it; the held-out scores are printed to
show that, next to the baselines.

Run: .venv/bin/python examples/textgen_words_en.py
"""

from lstmkit.tasks.textgen import TextGenerator

data = """
Long short-term memory (LSTM) is an artificial recurrent neural network (RNN) architecture
used in the field of deep learning. Unlike standard feedforward neural networks, LSTM has feedback connections.
It can not only process single data points (such as images), but also entire sequences of data (such as speech or video).
"""

model = TextGenerator(
    level="word",
    lower=True,
    mode="window",
    seq_len=5,
    embedding_dim=50,
    hidden_size=100,
    num_layers=1,
    dropout=0.0,
    batch_size=8,
    epochs=100,
    patience=100,
    lr=1e-2,
    val_fraction=0.1,
    test_fraction=0.15,
    verbose=False,
).fit(data)
print("vocabulary:", len(model.vocab), "words")
print(model.generate("lstm networks are", length=10, method="greedy"))
scores = model.evaluate()["metrics"]
print(
    "test perplexity: model {:.1f}, unigram {:.1f}, 3-gram {:.1f} (a 60-word text: expect little)".format(
        scores["model"]["perplexity"], scores["unigram"]["perplexity"], scores["ngram"]["perplexity"]
    )
)
