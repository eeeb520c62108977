"""Building blocks: LSTM/GRU cells and layers written from their equations, dispatching to torch's fused kernels."""

from lstmkit.nn.cells import GRUCell, LSTMCell
from lstmkit.nn.recurrent import GRU, LSTM, Dispatch

__all__ = ["GRU", "GRUCell", "LSTM", "LSTMCell", "Dispatch"]
