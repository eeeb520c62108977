"""Best-weight keeping, budgets, interruption, and checkpoints that resume to the same weights."""

import time

import pytest
import torch
from torch import nn

from lstmkit.errors import UserError
from lstmkit.io.artifacts import CHECKPOINT
from lstmkit.training import Callback, Trainer, TrainingOptions
from lstmkit.training.checkpoint import load_checkpoint


def mse(model, batch):
    return nn.functional.mse_loss(model(batch[0]), batch[1])


def data(n=256, seed=0):
    gen = torch.Generator().manual_seed(seed)
    x = torch.randn(n, 4, generator=gen)
    return x, x @ torch.tensor([[1.0], [-2.0], [0.5], [3.0]]) + 0.1 * torch.randn(n, 1, generator=gen)


def net():
    torch.manual_seed(5)  # dropout and shuffling make resumption depend on every RNG state
    return nn.Sequential(nn.Linear(4, 16), nn.Tanh(), nn.Dropout(0.3), nn.Linear(16, 1))


def options(tmp_path=None, **kwargs):
    base = dict(
        epochs=6,
        batch_size=16,
        lr=1e-2,
        verbose=False,
        device="cpu",
        patience=None,
        checkpoint_dir=None if tmp_path is None else str(tmp_path),
    )
    return TrainingOptions(**{**base, **kwargs})


class Crash(Callback):
    """Dies like a killed process after a given number of optimiser steps."""

    def __init__(self, after: int) -> None:
        self.after, self.steps = after, 0

    def on_batch_end(self, trainer, batch, n_batches):
        self.steps += 1
        if self.steps == self.after:
            raise SystemExit("killed")


def weights(model):
    return {k: v.clone() for k, v in model.state_dict().items()}


@pytest.mark.parametrize("crash_after", [7, 15, 16, 40])  # 15 batches an epoch: mid-epoch, last batch, first of the next, later
def test_a_crashed_run_resumes_to_the_same_weights_as_an_uninterrupted_one(tmp_path, crash_after):
    reference = net()
    Trainer(options(tmp_path / "a", checkpoint_every=1e-9)).fit(reference, mse, data())

    crashed = net()
    with pytest.raises(SystemExit):
        Trainer(options(tmp_path / "b", checkpoint_every=1e-9), [Crash(crash_after)]).fit(crashed, mse, data())
    assert (tmp_path / "b" / CHECKPOINT).is_file()
    resumed = net()
    history = Trainer(options(tmp_path / "b", checkpoint_every=1e-9, resume=True)).fit(resumed, mse, data())
    assert history.resumed and len(history.epochs) == 6
    a, b = weights(reference), weights(resumed)
    assert all(torch.equal(a[k], b[k]) for k in a)


def test_resuming_with_other_data_or_options_is_refused(tmp_path):
    with pytest.raises(SystemExit):
        Trainer(options(tmp_path, checkpoint_every=1e-9), [Crash(5)]).fit(net(), mse, data())
    with pytest.raises(UserError, match="the data or options differ"):
        Trainer(options(tmp_path, resume=True)).fit(net(), mse, data(seed=1))
    with pytest.raises(UserError, match="the data or options differ"):
        Trainer(options(tmp_path, resume=True, lr=0.5)).fit(net(), mse, data())
    # a different budget or checkpoint interval is not a different run
    Trainer(options(tmp_path, resume=True, max_minutes=5.0, checkpoint_every=30.0)).fit(net(), mse, data())


def test_resume_without_a_checkpoint_says_so(tmp_path):
    with pytest.raises(UserError, match="has no checkpoint to continue"):
        Trainer(options(tmp_path, resume=True)).fit(net(), mse, data())


def test_checkpoint_holds_a_position_and_no_pickle(tmp_path):
    with pytest.raises(SystemExit):
        Trainer(options(tmp_path, checkpoint_every=1e-9), [Crash(20)]).fit(net(), mse, data())
    tensors, state = load_checkpoint(tmp_path / CHECKPOINT)
    # 15 batches an epoch; the crash comes in step 20, before its checkpoint: the last one follows step 19
    assert state["position"]["epoch"] == 2 and state["position"]["batch"] == 4
    assert "order" in tensors and "rng/torch" in tensors and any(k.startswith("optimizer/") for k in tensors)


class InterruptAt(Callback):
    def __init__(self, step: int) -> None:
        self.step, self.seen = step, 0

    def on_batch_end(self, trainer, batch, n_batches):
        self.seen += 1
        if self.seen == self.step:
            trainer.interrupted = True  # what the first Ctrl-C does


def test_ctrl_c_stops_after_the_batch_keeps_the_best_weights_and_can_resume(tmp_path):
    reference = net()
    Trainer(options(tmp_path / "a")).fit(reference, mse, data())
    model = net()
    history = Trainer(options(tmp_path / "b"), [InterruptAt(20)]).fit(model, mse, data())
    assert history.interrupted and history.stopped_because.startswith("interrupted")
    assert history.steps == 20 and history.best_epoch == 1  # epoch 2 was cut short and never validated
    resumed = net()
    Trainer(options(tmp_path / "b", resume=True)).fit(resumed, mse, data())
    a, b = weights(reference), weights(resumed)
    assert all(torch.equal(a[k], b[k]) for k in a)


def test_ctrl_c_on_an_epochs_last_batch_resumes_to_train_the_rest(tmp_path):
    # 15 batches an epoch: the interrupt lands on the last one, so epoch 1 is validated and checkpointed as
    # ended; that checkpoint must not read as the end of the run
    reference = net()
    Trainer(options(tmp_path / "a")).fit(reference, mse, data())
    first = Trainer(options(tmp_path / "b"), [InterruptAt(15)]).fit(net(), mse, data())
    assert first.interrupted and len(first.epochs) == 1
    resumed = net()
    history = Trainer(options(tmp_path / "b", resume=True)).fit(resumed, mse, data())
    assert len(history.epochs) == 6 and not history.interrupted
    a, b = weights(reference), weights(resumed)
    assert all(torch.equal(a[k], b[k]) for k in a)


def test_kept_weights_are_the_lowest_validation_loss_even_below_the_improvement_threshold():
    # a model whose validation loss keeps falling by less than the 50% that would count for patience
    x = torch.zeros(64, 1)
    model = nn.Linear(1, 1)
    with torch.no_grad():
        model.weight.zero_()
        model.bias.fill_(0.0)
    history = Trainer(options(epochs=8, lr=0.01, batch_size=64, patience=3, min_improvement=0.5, schedule="none", clip_grad_norm=None)).fit(
        model, mse, (x, torch.ones(64, 1)), (x[:8], torch.ones(8, 1))
    )
    losses = [r["val_loss"] for r in history.epochs]
    assert history.stopped_because == "no validation improvement for 3 epochs" and len(losses) == 4
    assert history.best_epoch == 4 and history.best_val_loss == min(losses)  # the last epoch, though below the threshold
    assert mse(model, (x[:8], torch.ones(8, 1))).item() == pytest.approx(min(losses), rel=1e-6)


def test_step_budget():
    history = Trainer(options(epochs=100, steps=30)).fit(net(), mse, data())
    assert history.steps == 30 and history.stopped_because == "reached 30 optimiser steps"


def test_time_budget_is_checked_between_batches():
    def slow(model, batch):
        time.sleep(0.02)
        return mse(model, batch)

    # one epoch holds 256 batches of one sample (over 5 s); the 0.01-minute budget must cut it short
    start = time.monotonic()
    history = Trainer(options(epochs=1, batch_size=1, max_minutes=0.01), val_fraction=0.0).fit(net(), slow, data())
    assert time.monotonic() - start < 2.0
    assert history.steps < 100 and "budget" in history.stopped_because


def test_bf16_autocast_trains_on_cpu():
    history = Trainer(options(epochs=2, precision="bf16")).fit(net(), mse, data())
    assert all(torch.isfinite(torch.tensor(r["train_loss"])) for r in history.epochs)


@pytest.mark.cuda
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")
@pytest.mark.parametrize("precision", ["32", "bf16", "16-mixed"])
def test_trains_on_cuda(precision):
    model = net()
    history = Trainer(options(epochs=3, device="cuda", precision=precision)).fit(model, mse, data())
    assert history.device.startswith("cuda") and next(model.parameters()).is_cuda
    assert history.epochs[-1]["train_loss"] < history.epochs[0]["train_loss"]


def test_a_run_that_died_after_training_resumes_without_training_more(tmp_path):
    # the process died after fit() (while evaluating or saving): its last checkpoint says training had ended
    model = net()
    first = Trainer(options(tmp_path, epochs=40, patience=2, min_improvement=0.5)).fit(model, mse, data())
    assert (tmp_path / CHECKPOINT).is_file() and first.stopped_because.startswith("no validation improvement")
    resumed = net()
    again = Trainer(options(tmp_path, epochs=40, patience=2, min_improvement=0.5, resume=True)).fit(resumed, mse, data())
    assert again.stopped_because == first.stopped_because and len(again.epochs) == len(first.epochs)
    a, b = weights(model), weights(resumed)
    assert all(torch.equal(a[k], b[k]) for k in a)


def test_text_generation_resumes_mid_epoch_with_its_carried_state(tmp_path):
    from lstmkit.tasks.textgen import TextGenerator

    text = "the cat sat on the mat. the dog sat on the log. " * 80
    settings = dict(
        hidden_size=24,
        embedding_dim=8,
        num_layers=1,
        seq_len=10,
        batch_size=4,
        epochs=3,
        lr=1e-2,
        verbose=False,
        device="cpu",
        checkpoint_every=1e-9,
    )
    reference = TextGenerator(**settings, checkpoint_dir=str(tmp_path / "a")).fit(text)
    blocks_per_epoch = reference.history.steps // 3
    with pytest.raises(SystemExit):  # killed in the middle of the second epoch, the streams' state mid-way
        TextGenerator(**settings, checkpoint_dir=str(tmp_path / "b")).fit(text, callbacks=[Crash(blocks_per_epoch + 5)])
    resumed = TextGenerator(**settings, checkpoint_dir=str(tmp_path / "b"), resume=True).fit(text)
    a, b = weights(reference.model), weights(resumed.model)
    assert all(torch.equal(a[k], b[k]) for k in a)
