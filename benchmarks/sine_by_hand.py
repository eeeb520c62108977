"""The tutorial's sine workload written by hand in plain PyTorch (tutorial 2's code, in PyTorch): the
comparison side of forecast_seeds.py. Run alone (``python benchmarks/sine_by_hand.py``) it is a whole
process that imports only numpy and torch, as a user's script would.
"""

from __future__ import annotations

import sys
import time

import numpy as np
import torch
from torch import nn
from torch.utils.data import DataLoader, TensorDataset

LOOK_BACK, TEST_FRACTION = 20, 0.2


def hand_written(data: np.ndarray, seed: int) -> tuple[float, float]:
    start = time.perf_counter()
    torch.manual_seed(seed)
    X, y = [], []
    for i in range(len(data) - LOOK_BACK):  # the tutorial's create_dataset
        X.append(data[i : i + LOOK_BACK])
        y.append(data[i + LOOK_BACK])
    X = torch.tensor(np.array(X), dtype=torch.float32).unsqueeze(-1)
    y = torch.tensor(np.array(y), dtype=torch.float32).unsqueeze(-1)
    test_start = len(data) - int(round(TEST_FRACTION * len(data)))
    n_train = test_start - LOOK_BACK  # windows whose target row is before the test rows

    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.lstm = nn.LSTM(1, 50, batch_first=True)
            self.dense = nn.Linear(50, 1)

        def forward(self, x):
            return self.dense(self.lstm(x)[0][:, -1])

    model = Net()
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    loader = DataLoader(TensorDataset(X[:n_train], y[:n_train]), batch_size=32, shuffle=True)
    for _ in range(100):
        for xb, yb in loader:
            optimizer.zero_grad()
            loss = nn.functional.mse_loss(model(xb), yb)
            loss.backward()
            optimizer.step()
    with torch.no_grad():
        mse = nn.functional.mse_loss(model(X[n_train:]), y[n_train:]).item()
    return time.perf_counter() - start, mse


if __name__ == "__main__":
    data = np.sin(np.linspace(0, 20 * np.pi, 1000))  # lstmkit.data.datasets.sine_wave(), without importing lstmkit
    seconds, mse = hand_written(data, int(sys.argv[1]) if len(sys.argv) > 1 else 0)
    print(f"test MSE {mse:.3e}")
