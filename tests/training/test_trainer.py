"""The generic Trainer on small regression problems."""

import math
import os

import pytest
import torch
from torch import nn

from lstmkit.errors import TrainingDiverged, UserError
from lstmkit.nn import LSTM
from lstmkit.training import Callback, Trainer, TrainingOptions
from lstmkit.training.trainer import bucketed_order


def mse(model, batch):
    return nn.functional.mse_loss(model(batch[0]), batch[1])


def linear_data(n=512, seed=0):
    gen = torch.Generator().manual_seed(seed)
    x = torch.randn(n, 4, generator=gen)
    y = x @ torch.tensor([[1.0], [-2.0], [0.5], [3.0]]) + 0.1
    return x, y


TRAINER_KEYWORDS = ("val_fraction", "val_from_end", "shuffle", "progress", "callbacks")


def make(**kwargs) -> Trainer:
    """A quiet Trainer with the old loop's plain defaults (no schedule, no clipping) unless asked."""
    extra = {k: kwargs.pop(k) for k in TRAINER_KEYWORDS if k in kwargs}
    options = TrainingOptions(**{"verbose": False, "schedule": "none", "clip_grad_norm": None, "device": "cpu", **kwargs})
    return Trainer(options, **extra)


def test_learns_a_linear_map():
    torch.manual_seed(0)
    model = nn.Linear(4, 1)
    history = make(epochs=200, lr=0.05, patience=None).fit(model, mse, linear_data())
    assert history.epochs[-1]["val_loss"] < 1e-4
    assert history.epochs[0]["train_loss"] > 100 * history.epochs[-1]["train_loss"]


class Seq2One(nn.Module):
    def __init__(self):
        super().__init__()
        self.lstm = LSTM(1, 16)
        self.head = nn.Linear(16, 1)

    def forward(self, x):
        return self.head(self.lstm(x)[0][:, -1])


def test_trains_an_lstm_on_a_sine_and_beats_the_naive_forecast():
    t = torch.arange(0, 400, dtype=torch.float32) * 0.1
    series = torch.sin(t)
    windows = series.unfold(0, 21, 1)  # (N, 21) strided view
    x, y = windows[:, :20, None], windows[:, 20:]
    torch.manual_seed(0)
    model = Seq2One()
    history = make(epochs=60, lr=1e-2, batch_size=32).fit(model, mse, (x, y))
    naive = nn.functional.mse_loss(x[:, -1], y).item()  # tomorrow = today
    assert history.best_val_loss < naive / 10


def test_same_seed_gives_bit_identical_weights():
    def run():
        torch.manual_seed(3)
        model = nn.Sequential(nn.Linear(4, 8), nn.Dropout(0.2), nn.Linear(8, 1))
        make(epochs=5, seed=11).fit(model, mse, linear_data())
        return model.state_dict()

    a, b = run(), run()
    assert all(torch.equal(a[k], b[k]) for k in a)


def test_different_seeds_shuffle_differently():
    weights = []
    for seed in (1, 2):
        torch.manual_seed(3)
        model = nn.Linear(4, 1)
        make(epochs=2, seed=seed, batch_size=16).fit(model, mse, linear_data())
        weights.append(model.weight.detach().clone())
    assert not torch.equal(*weights)


class Memorise(nn.Module):
    """Training data and validation data disagree, so validation loss rises after the first epochs."""

    def __init__(self):
        super().__init__()
        self.bias = nn.Parameter(torch.zeros(1))

    def forward(self, x):
        return self.bias.expand(x.shape[0], 1)


def test_early_stopping_restores_the_best_weights():
    x = torch.zeros(64, 1)
    train = (x, torch.full((64, 1), 5.0))
    val = (x[:8], torch.full((8, 1), 0.5))
    model = Memorise()
    history = make(epochs=100, lr=0.1, patience=3).fit(model, mse, train, val)
    assert history.stopped_because.startswith("no validation improvement")
    best = min(history.epochs, key=lambda r: r["val_loss"])
    assert history.best_epoch == best["epoch"] < len(history.epochs)
    final_val = mse(model, val).item()
    assert final_val == pytest.approx(best["val_loss"], rel=1e-6)
    assert len(history.epochs) == history.best_epoch + 3


def test_validation_fraction_is_taken_from_the_end():
    seen = []

    def loss(model, batch):
        if not model.training:
            seen.append(batch[0].flatten())
        return mse(model, batch)

    x = torch.arange(100.0)[:, None]
    make(epochs=1, val_fraction=0.2).fit(nn.Linear(1, 1), loss, (x, x))
    assert torch.equal(torch.cat(seen), torch.arange(80.0, 100.0))


def test_nan_loss_raises_a_clear_error():
    x, y = linear_data()
    y[3] = math.nan
    with pytest.raises(TrainingDiverged, match=r"became nan in epoch 1; lower the learning rate"):
        make(epochs=3).fit(nn.Linear(4, 1), mse, (x, y))


def test_nan_validation_loss_raises_instead_of_becoming_the_best():
    x, y = linear_data()
    val = (x[:16], y[:16].clone())
    val[1][0] = math.nan
    with pytest.raises(TrainingDiverged, match="validation loss became nan in epoch 1"):
        make(epochs=3).fit(nn.Linear(4, 1), mse, (x, y), val)


def test_fit_leaves_the_model_in_the_mode_it_found():
    model = nn.Linear(4, 1)
    make(epochs=1).fit(model, mse, linear_data())
    assert model.training
    model.eval()
    make(epochs=1).fit(model, mse, linear_data())
    assert not model.training


def test_gradient_clipping_bounds_the_update():
    x, y = linear_data()
    y = y * 1e6
    model = nn.Linear(4, 1, bias=False)
    before = model.weight.detach().clone()
    # plain SGD would explode; Adam's step is lr-bounded anyway, so check the clip via a hook
    norms = []

    class Watch(Callback):
        def on_batch_end(self, trainer, batch, n_batches):
            norms.append(torch.linalg.vector_norm(model.weight.grad).item())

    make(epochs=1, clip_grad_norm=1.0, val_fraction=0.0, callbacks=[Watch()]).fit(model, mse, (x, y))
    assert max(norms) <= 1.0 + 1e-5
    assert not torch.equal(before, model.weight)


@pytest.mark.parametrize("schedule", ["cosine", "plateau"])
def test_learning_rate_schedule_changes_lr(schedule):
    model = Memorise()
    x = torch.zeros(32, 1)
    history = make(epochs=12, lr=0.1, schedule=schedule, patience=None).fit(
        model, mse, (x, torch.full((32, 1), 5.0)), (x[:4], torch.full((4, 1), 0.5))
    )
    lrs = [r["lr"] for r in history.epochs]
    assert lrs[0] == pytest.approx(0.1) and lrs[-1] < 0.1


def test_auto_schedule_is_cosine_without_validation_and_plateau_with_it():
    x, y = torch.zeros(32, 1), torch.full((32, 1), 5.0)
    unvalidated = make(epochs=4, lr=0.1, schedule="auto", val_fraction=0.0).fit(Memorise(), mse, (x, y))
    cosine = [0.1 * (1 + math.cos(math.pi * e / 4)) / 2 for e in range(1, 4)]
    assert [r["lr"] for r in unvalidated.epochs][1:] == pytest.approx(cosine)
    # with validation: plateau, which holds the lr while the validation loss falls, then halves it
    validated = make(epochs=12, lr=0.1, schedule="auto", patience=None).fit(Memorise(), mse, (x, y), (x[:4], torch.full((4, 1), 0.5)))
    lrs = [r["lr"] for r in validated.epochs]
    assert lrs[:4] == [0.1] * 4 and min(lrs) == pytest.approx(0.05)


def test_callback_can_stop_training_and_sees_each_epoch():
    records = []

    class StopAtThree(Callback):
        def on_epoch_end(self, trainer, record):
            records.append(record)
            if record["epoch"] == 3:
                trainer.should_stop = True

    history = make(epochs=50, callbacks=[StopAtThree()]).fit(nn.Linear(4, 1), mse, linear_data())
    assert [r["epoch"] for r in records] == [1, 2, 3]
    assert history.stopped_because == "a callback asked to stop"
    assert set(records[0]) == {"epoch", "train_loss", "val_loss", "lr", "seconds"}


def test_time_budget_stops_cleanly():
    history = make(epochs=10_000, max_minutes=1e-3, patience=None).fit(nn.Linear(4, 1), mse, linear_data())
    assert "budget" in history.stopped_because
    assert len(history.epochs) < 10_000


def test_quiet_lines_when_not_a_terminal(capsys):
    Trainer(TrainingOptions(epochs=2), progress=False).fit(nn.Linear(4, 1), mse, linear_data())
    err = capsys.readouterr().err.splitlines()
    assert err[0].startswith("epoch   1/2  train_loss") and "val_loss" in err[0]
    assert err[-1].startswith("stopped: completed all epochs; kept epoch")


@pytest.mark.parametrize(
    "kwargs,train,match",
    [
        ({"epochs": 0}, None, "epochs must be a whole number of at least 1"),
        ({"val_fraction": 1.0}, None, r"val_fraction must be in \[0, 1\)"),
        ({"schedule": "step"}, None, "schedule must be one of none, cosine, plateau"),
        ({"patience": 0}, None, "patience must be a whole number of at least 1"),
        ({"max_minutes": 0}, None, "max_minutes must be a positive number"),
        ({"lr": float("nan")}, None, "lr must be a positive number, got nan"),
        ({"precision": "8"}, None, "precision must be one of 32, bf16, 16-mixed"),
        ({"precision": "16-mixed"}, None, "precision='16-mixed' needs a CUDA device"),
        ({"device": "tpu"}, None, "device must be one of auto, cpu, cuda, mps"),
        ({"resume": True}, None, "resume=True needs checkpoint_dir"),
        ({}, (torch.zeros(3, 1), torch.zeros(4, 1)), "share a non-zero first dimension"),
    ],
)
def test_bad_configuration_is_a_user_error(kwargs, train, match):
    with pytest.raises(UserError, match=match):
        make(**kwargs).fit(nn.Linear(1, 1), mse, train or (torch.zeros(8, 1), torch.zeros(8, 1)))


def test_threads_follow_the_cpus_the_process_may_use(tmp_path, monkeypatch):
    from lstmkit.training import options

    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: {0, 1, 2, 3})
    quota = tmp_path / "cpu.max"
    monkeypatch.setattr(options, "CGROUP_CPU_MAX", str(quota))
    assert options.available_cpus() == 4  # no cgroup file: the affinity mask
    quota.write_text("max 100000\n")
    assert options.available_cpus() == 4
    quota.write_text("150000 100000\n")  # 1.5 CPUs of quota
    assert options.available_cpus() == 1
    quota.write_text("300000 100000\n")
    assert options.available_cpus() == 3
    before = torch.get_num_threads()
    try:
        assert options.use_threads(1) == 1 and torch.get_num_threads() == 1
    finally:
        torch.set_num_threads(before)
    with pytest.raises(UserError, match="threads must be a whole number of at least 1"):
        TrainingOptions(threads=0).check()


def test_bucketed_order_is_a_seeded_permutation_of_similar_length_batches():
    lengths = torch.randint(1, 257, (1000,), generator=torch.Generator().manual_seed(0))
    order = bucketed_order(lengths, 16, torch.Generator().manual_seed(1))
    assert sorted(order.tolist()) == list(range(1000))
    assert torch.equal(order, bucketed_order(lengths, 16, torch.Generator().manual_seed(1)))
    assert not torch.equal(order, bucketed_order(lengths, 16, torch.Generator().manual_seed(2)))
    padded = lambda o: sum(int(lengths[b].max()) * len(b) for b in o.split(16)) / int(lengths.sum())  # steps read / real steps
    assert padded(order) < 1.2 < 1.5 < padded(torch.randperm(1000, generator=torch.Generator().manual_seed(1)))
    tail = order[(1000 // 16) * 16 :]  # the partial batch is last, and whole
    assert len(tail) == 1000 % 16
    same = torch.full((100,), 7)  # equal lengths: exactly the plain shuffle
    plain = torch.randperm(100, generator=torch.Generator().manual_seed(3))
    assert torch.equal(bucketed_order(same, 16, torch.Generator().manual_seed(3)), plain)


def test_bucketed_training_sees_every_sample_once_an_epoch_and_sorts_validation():
    seen, val_lengths = [], []

    def loss(model, batch):
        (seen if model.training else val_lengths).append(batch[1].tolist())
        return nn.functional.mse_loss(model(batch[0]), batch[2])

    x = torch.randn(100, 4)
    lengths = torch.randint(1, 50, (100,))
    trainer = Trainer(TrainingOptions(epochs=1, batch_size=8, verbose=False), bucket_by=1)
    trainer.fit(nn.Linear(4, 1), loss, (x, lengths, torch.randn(100, 1)), (x[:20], lengths[:20], torch.randn(20, 1)))
    assert sorted(v for b in seen for v in b) == sorted(lengths.tolist())
    flat = [v for b in val_lengths for v in b]
    assert flat == sorted(lengths[:20].tolist())


def test_epoch_batches_caps_an_epoch_at_that_many_batches_of_a_fresh_shuffle():
    seen = []

    def recording(model, batch):
        seen.append(batch[0][:, 0].clone())
        return mse(model, batch)

    x, y = linear_data(256)
    trainer = Trainer(TrainingOptions(epochs=2, batch_size=16, verbose=False), val_fraction=0.0, epoch_batches=3)
    history = trainer.fit(nn.Linear(4, 1), recording, (x, y))
    assert history.steps == 6 and len(history.epochs) == 2 and history.samples == 6 * 16
    first, second = torch.cat(seen[:3]), torch.cat(seen[3:])
    assert len(set(first.tolist())) == 48 and not torch.equal(first, second)  # distinct samples, a new draw each epoch


def test_validation_builds_no_graph():
    modes = []

    def recording(model, batch):
        modes.append((model.training, torch.is_grad_enabled()))
        return mse(model, batch)

    x, y = linear_data(64)
    Trainer(TrainingOptions(epochs=1, batch_size=64, verbose=False), val_fraction=0.25).fit(nn.Linear(4, 1), recording, (x, y))
    assert modes == [(True, True), (False, False)]  # one training batch, then validation without autograd
