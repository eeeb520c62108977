"""The sine article's 10-step forecasting loop, run as written, with a stand-in for the Keras model.

The stand-in returns the window's last value in Keras' output shape (1, 1); the model does not matter:
the loop fails on its array shapes at the second step.

Run: .venv/bin/python examples/article_sine_loop.py
"""

import numpy as np

X = np.sin(np.linspace(0, 20 * np.pi, 1000))[np.arange(980)[:, None] + np.arange(20)][..., None]  # (980, 20, 1)


class StandIn:
    def predict(self, window):
        return window[:, -1, :]  # (1, 1), as Keras returns for one sample


model = StandIn()
try:
    # --8<-- [start:loop]
    last_sequence = X[-1]
    predictions = []
    for _ in range(10):
        next_pred = model.predict(last_sequence.reshape(1, 20, 1))
        predictions.append(next_pred[0, 0])
        last_sequence = np.append(last_sequence[1:], next_pred).reshape(1, 20, 1)
    # --8<-- [end:loop]
except ValueError as error:
    print(f"step {len(predictions)} of 10: ValueError: {error}")
    print(f"after step 1, last_sequence has shape {last_sequence.shape}; last_sequence[1:] has shape {last_sequence[1:].shape}")
