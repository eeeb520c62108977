"""The LSTM cell three ways: the equations in NumPy, lstmkit.nn.LSTM, and what the gates do on real text.

1. The same weights in the NumPy reference (forward and backpropagation through time written out by
   hand) and in lstmkit.nn.LSTM give the same outputs and the same gradients, in float64.
2. A small character-level model reads Hamlet for 20 seconds; then its input, forget and output
   gates and its cell state are drawn for one line of the play.

Run: .venv/bin/python examples/lstm_gates.py     (about a minute on 2 CPU cores)
"""

# --8<-- [start:reference]
from pathlib import Path

import numpy as np
import torch

from lstmkit.data.text import read_text
from lstmkit.nn import LSTM
from lstmkit.reference.numpy_lstm import lstm_backward, lstm_forward, params_from_state_dict
from lstmkit.tasks.textgen import TextGenerator
from lstmkit.viz.plots import plot_gates

torch.manual_seed(0)
lstm = LSTM(input_size=3, hidden_size=5, num_layers=2).double()
x = torch.randn(4, 7, 3, dtype=torch.float64, requires_grad=True)  # (B, T, F)
out, (h_n, c_n) = lstm(x)
out.sum().backward()  # dL/dout = 1 everywhere

params = params_from_state_dict(lstm.state_dict())
y, (h_np, c_np), cache = lstm_forward(x.detach().numpy(), params)
grads, dx, _, _ = lstm_backward(np.ones_like(y), np.zeros_like(h_np), np.zeros_like(c_np), cache)

print(f"outputs:  max |numpy - torch| = {np.abs(y - out.detach().numpy()).max():.1e}")
print(f"dL/dx:    max |numpy - torch| = {np.abs(dx - x.grad.numpy()).max():.1e}")
torch_grad = lstm.weight_hh_l1.grad.numpy()
print(f"dL/dW_hh (layer 1): max |numpy - torch| = {np.abs(grads[1]['weight_hh'] - torch_grad).max():.1e}")
# --8<-- [end:reference]

# --8<-- [start:gates]
model = TextGenerator(hidden_size=64, num_layers=1, max_minutes=0.3, seed=0, verbose=False).fit(read_text("hamlet"))
line = "To be, or not to be, that is the question:"
ids = torch.from_numpy(model.vocab.encode(line)[0])[None]  # (1, T)
network = model.model.eval()
with torch.no_grad():
    gates = network.lstm.gates(network.embedding(ids))  # each (L, D, B, T, H)
print({name: tuple(value.shape) for name, value in gates.items()})
forget = gates["forget"][0, 0, 0]  # (T, H)
print(f"forget gate: mean {forget.mean():.2f}; share of values above 0.9: {(forget > 0.9).float().mean():.2f}")
Path("runs/examples").mkdir(parents=True, exist_ok=True)
plot_gates(gates, "runs/examples/hamlet_gates.png", labels=list(line))
print("plot: runs/examples/hamlet_gates.png")
# --8<-- [end:gates]
