"""The trainer's AdamW: the same updates as torch's, and no torch._dynamo import on the way."""

import subprocess
import sys

import pytest
import torch

from lstmkit.training.optimizer import AdamW


@pytest.mark.parametrize("schedule", ["plateau", "cosine"])
def test_updates_and_state_are_bit_identical_to_torch_adamw(schedule):
    def train(optimizer_class):
        torch.manual_seed(0)
        model = torch.nn.Sequential(torch.nn.Linear(4, 8), torch.nn.Tanh(), torch.nn.Linear(8, 1))
        optimizer = optimizer_class(model.parameters(), lr=3e-3, weight_decay=0.01, foreach=True)
        if schedule == "plateau":
            scheduler = torch.optim.lr_scheduler.ReduceLROnPlateau(optimizer, factor=0.5, patience=1)
        else:
            scheduler = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=7)
        x, y = torch.randn(64, 4), torch.randn(64, 1)
        for step in range(30):
            optimizer.zero_grad()
            loss = ((model(x) - y) ** 2).mean()
            loss.backward()
            optimizer.step()
            scheduler.step(loss.item() + step % 3) if schedule == "plateau" else scheduler.step()
        return model, optimizer

    ours, ours_optimizer = train(AdamW)
    theirs, their_optimizer = train(torch.optim.AdamW)
    for a, b in zip(ours.parameters(), theirs.parameters()):
        assert torch.equal(a, b)
    assert ours_optimizer.param_groups[0]["lr"] == their_optimizer.param_groups[0]["lr"] < 3e-3
    state = ours_optimizer.state_dict()
    their_state = their_optimizer.state_dict()
    assert all(torch.equal(state["state"][0][k], their_state["state"][0][k]) for k in ("exp_avg", "exp_avg_sq", "step"))
    their_optimizer.load_state_dict(state)  # the two read each other's checkpoints
    ours_optimizer.load_state_dict(their_state)


def test_a_training_run_does_not_import_dynamo():
    script = (
        "import sys, numpy as np\n"
        "from lstmkit.tasks.forecast import Forecaster\n"
        "Forecaster(lookback=8, horizon=2, epochs=2, hidden_size=8, verbose=False).fit(np.sin(np.arange(120) / 5))\n"
        "print(sorted(m for m in sys.modules if m.startswith('torch._dynamo'))[:3])\n"
    )
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "[]", result.stdout
