"""Tutorial example 3: binary classification of random (1000, 10, 50) sequences with LSTM(64).

The tutorial fits Keras's LSTM(64) + Dense(1, sigmoid) for 10 epochs on random inputs with random labels
and reads the training accuracy. There is nothing to learn here: labels are coin flips, so any accuracy
above 50% on the training data is memorisation. lstmkit holds out a test part and shows it: the model's
held-out accuracy sits at chance, next to the majority-class rate. The same data with a learnable rule
(label = whether feature 0's mean over the 10 steps is above 0.5) shows what a real signal looks like.

Run: .venv/bin/python examples/classify_random.py
"""

import numpy as np

from lstmkit.tasks.classify import SequenceClassifier

rng = np.random.default_rng(0)
data = rng.random((1000, 10, 50))  # 1000 samples, 10 time steps, 50 features, as in the tutorial
coin_flips = rng.integers(0, 2, size=1000)
rule = (data[:, :, 0].mean(1) > 0.5).astype(int)

for name, labels in (("random labels (the tutorial)", coin_flips), ("labels from a rule in feature 0", rule)):
    train, test = slice(0, 800), slice(800, 1000)
    clf = SequenceClassifier(
        hidden_size=64,
        bidirectional=False,
        pooling="last",
        architecture="lstm",
        epochs=10,
        batch_size=32,
        patience=10,
        dropout=0.0,
        verbose=False,
    )
    clf.fit((data[train], labels[train]))  # 10% of the 800 held out for validation
    train_acc = clf.evaluate(data[train], labels[train])["metrics"]["model"]["accuracy"]
    test_acc = clf.evaluate(data[test], labels[test])["metrics"]["model"]["accuracy"]
    majority = max(np.mean(labels[test]), 1 - np.mean(labels[test]))
    print(f"{name}: training accuracy {train_acc:.3f}, held-out accuracy {test_acc:.3f} (majority class {majority:.3f})")
