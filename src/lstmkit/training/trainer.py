"""One generic training loop: it knows tensors, a model and a loss function, nothing about tasks.

A task hands the Trainer in-memory tensors whose first dimension indexes samples, and a function
``loss_fn(model, batch) -> scalar`` where ``batch`` is the tuple of those tensors at a mini-batch's
indices. Batches are drawn by indexing whole tensors with a permutation: no per-sample Python work.
The data is moved to the device once.

The kept weights are those of the lowest validation loss ever seen; ``min_improvement`` only decides
what resets patience. With ``checkpoint_dir`` set, the loop writes an atomic checkpoint every
``checkpoint_every`` seconds and after every epoch (weights, optimiser, schedule, every RNG state, the
position in the epoch's sample order, the best weights, the history); ``resume=True`` continues from it
and, on CPU, ends with the same weights as an uninterrupted run. Ctrl-C stops after the current batch,
writes a checkpoint and returns the best weights with ``history.interrupted`` set.
"""

from __future__ import annotations

import contextlib
import math
import os
import signal
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import torch
from torch import Tensor, nn

from lstmkit.errors import TrainingDiverged, UserError
from lstmkit.interrupts import on_interrupt
from lstmkit.training.checkpoint import (
    CHECKPOINT,
    fingerprint,
    join_optimizer_state,
    load_checkpoint,
    save_checkpoint,
    split_optimizer_state,
)
from lstmkit.training.optimizer import AdamW
from lstmkit.training.options import NOT_FINGERPRINTED, TrainingOptions, autocast_dtype, resolve_device, use_threads

LossFn = Callable[[nn.Module, tuple[Tensor, ...]], Tensor]
INTERRUPTED = "interrupted (Ctrl-C or SIGTERM); resume to continue"


@dataclass
class History:
    """What happened during fit: one record per epoch, and where the kept weights came from."""

    epochs: list[dict] = field(default_factory=list)  # epoch, train_loss, val_loss, lr, seconds
    best_epoch: int | None = None  # the epoch whose weights the model holds after fit
    best_val_loss: float | None = None
    stopped_because: str = "completed all epochs"
    seconds: float = 0.0  # training time, summed over resumed sessions
    steps: int = 0  # optimiser steps taken
    interrupted: bool = False  # Ctrl-C ended training early: resume to continue
    resumed: bool = False  # this fit continued from a checkpoint
    device: str = "cpu"
    processes: int = 1  # torchrun: how many processes shared each batch
    samples: int = 0  # samples this process trained on (its share of every batch)
    tracking: dict | None = None  # --log: where this fit was logged (lstmkit.training.tracking)

    def to_dict(self) -> dict:
        return asdict(self)


class Callback:
    """Extras hook in here. Set ``trainer.should_stop = True`` to end training after the current epoch.

    ``trainer.model``, ``trainer.optimizer`` and ``trainer.history`` are available from ``on_fit_start``.
    A callback with state that training depends on returns it from ``state_dict`` (tensors only), so
    that checkpoints carry it.
    """

    def on_fit_start(self, trainer: Trainer) -> None: ...

    def on_batch_end(self, trainer: Trainer, batch: int, n_batches: int) -> None: ...

    def on_epoch_end(self, trainer: Trainer, record: dict) -> None:
        """After the epoch's validation; ``record`` is the epoch's line of the history."""

    def on_fit_end(self, trainer: Trainer) -> None: ...

    def state_dict(self) -> dict[str, Tensor]:
        return {}

    def load_state_dict(self, state: dict[str, Tensor]) -> None: ...


class Trainer:
    """Fits a model with Adam, mini-batches, validation, early stopping, checkpoints and optional extras.

    Args:
        options: the task's TrainingOptions (budget, batch size, lr, device, precision, checkpoints ...).
        callbacks: extras called from the loop.
        val_fraction: without a validation set, this share of samples is held out.
        val_from_end: hold out the last samples (chronological) rather than a random draw.
        shuffle: reshuffle training samples every epoch (False: in order, e.g. carried-state text).
        bucket_by: the index of the tensor holding each sample's length (padded sequences): each epoch's
            batches are then drawn from buckets of similar lengths (see ``bucketed_order``), and validation
            reads the samples sorted by length, so that batches cut to their longest sequence carry little padding.
        describe: what else defines the run (the task's config): part of the checkpoint fingerprint.
        epoch_batches: at most this many batches per epoch, drawn from a fresh shuffle of all the samples
            (None: every sample once). Keeps validation checks and patience on a steady rhythm when
            there are far more samples than steps to spend on them (many series).

    Examples:
        >>> model = nn.Linear(3, 1)
        >>> x, y = torch.randn(256, 3), torch.randn(256, 1)
        >>> mse = lambda m, batch: nn.functional.mse_loss(m(batch[0]), batch[1])
        >>> history = Trainer(TrainingOptions(epochs=3, verbose=False)).fit(model, mse, (x, y))
        >>> len(history.epochs)
        3
    """

    def __init__(
        self,
        options: TrainingOptions | None = None,
        callbacks: Sequence[Callback] = (),
        *,
        val_fraction: float = 0.1,
        val_from_end: bool = True,
        shuffle: bool = True,
        bucket_by: int | None = None,
        progress: bool | None = None,
        describe: dict | None = None,
        epoch_batches: int | None = None,
    ) -> None:
        self.options = options or TrainingOptions()
        self.callbacks = list(callbacks)
        self.val_fraction, self.val_from_end, self.shuffle, self.bucket_by = val_fraction, val_from_end, shuffle, bucket_by
        self.progress, self.describe = progress, describe or {}
        self.epoch_batches = epoch_batches
        self.should_stop = False
        self.interrupted = False
        self.history = History()

    # ---------------------------------------------------------------------------------------- fit
    def fit(self, model: nn.Module, loss_fn: LossFn, train: Sequence[Tensor], val: Sequence[Tensor] | None = None) -> History:
        """Train ``model`` in place; afterwards it holds the weights of the lowest validation loss.

        Args:
            model: any ``nn.Module``; it is moved to the options' device and left there.
            loss_fn: ``loss_fn(model, batch)`` returns the mean loss over the batch.
            train: tensors with the same first dimension N (inputs, targets, ...).
            val: the same for validation; None holds out ``val_fraction`` of ``train``.
        """
        fit_started = time.monotonic()  # the budget covers the set-up too (the optimiser's first import takes seconds)
        opt = self.options
        opt.check()
        if not 0 <= self.val_fraction < 1:
            raise UserError(f"val_fraction must be in [0, 1), got {self.val_fraction}")
        device = resolve_device(opt.device)
        rank, world = distributed(device)
        if world > 1 and device.type == "cuda":
            device = torch.device("cuda", int(os.environ.get("LOCAL_RANK", "0")))
        dtype = autocast_dtype(opt.precision, device)
        use_threads(opt.threads)
        torch.manual_seed(opt.seed)
        generator = torch.Generator().manual_seed(opt.seed)
        train, val = self._split(_check_tensors(train, "train"), val, generator)
        epochs = opt.epochs or (10**9 if opt.steps or opt.max_minutes else 100)
        checkpoint = Path(opt.checkpoint_dir) / CHECKPOINT if opt.checkpoint_dir else None
        run_id = (
            ""
            if checkpoint is None
            else fingerprint(
                [*train, *(val or ())],
                {
                    "options": {k: v for k, v in asdict(opt).items() if k not in NOT_FINGERPRINTED},
                    "epochs": epochs,
                    "model": {k: list(v.shape) for k, v in model.state_dict().items()},
                    "task": self.describe,
                    "val_fraction": self.val_fraction,
                    "shuffle": self.shuffle,
                    "bucket_by": self.bucket_by,
                    "epoch_batches": self.epoch_batches,
                },
            )
        )
        if val is not None and self.bucket_by is not None:  # the loss is a mean over samples: their order is free
            by_length = torch.argsort(val[self.bucket_by], stable=True)
            val = tuple(t[by_length] for t in val)
        train = tuple(t.to(device) for t in train)
        val = tuple(t.to(device) for t in val) if val is not None else None
        was_training = model.training
        model.to(device)
        self.model = model
        # under torchrun every process holds the same data and draws the same batches; each trains on its
        # share of a batch and DistributedDataParallel averages the gradients, so the global batch is batch_size
        trained = nn.parallel.DistributedDataParallel(model) if world > 1 else model
        self.optimizer = optimizer = AdamW(model.parameters(), lr=opt.lr, weight_decay=opt.weight_decay, foreach=True)
        schedule = _resolved_schedule(opt.schedule, val is not None)
        scheduler = _make_schedule(schedule, optimizer, epochs)
        scaler = torch.amp.GradScaler(device.type, enabled=dtype == torch.float16)
        n = train[0].shape[0]
        n_batches = math.ceil(n / opt.batch_size)
        if self.epoch_batches:
            n_batches = min(n_batches, self.epoch_batches)

        self.history = history = History(device=str(device), processes=world)
        self.should_stop = self.interrupted = False
        callbacks = self.callbacks + ([_Progress(self.progress, epochs if opt.epochs else None)] if opt.verbose else [])
        if opt.log and rank == 0 and opt.checkpoint_dir:  # one process logs, as one writes checkpoints
            from lstmkit.training.tracking import Tracker

            callbacks.append(Tracker(opt.log, opt.checkpoint_dir, {"task": self.describe, "training": asdict(opt)}))
        best_state: dict[str, Tensor] | None = None
        patience_ref, since_best = math.inf, 0
        first_epoch, first_batch, order = 1, 0, None
        loss_sum, seen = torch.zeros((), device=device), 0
        if opt.resume:
            assert checkpoint is not None  # options.check() ensures it
            pos, order, loss_sum, best_state = self._restore_checkpoint(
                checkpoint, run_id, model, optimizer, scheduler, scaler, generator, device
            )
            first_epoch, first_batch, seen = pos["epoch"], pos["batch"], pos["seen"]
            patience_ref, since_best = pos["patience_ref"], pos["since_best"]
            loss_sum, order = loss_sum.to(device), None if order is None else order.to(device)
            history = self.history
            if pos.get("stopped"):  # the run had finished training (it died while evaluating or saving): nothing to train
                first_epoch, history.stopped_because = epochs + 1, pos["stopped"]
        history.resumed = opt.resume
        start = fit_started - history.seconds
        deadline = start + opt.max_minutes * 60 if opt.max_minutes else math.inf

        def save(epoch: int, batch: int, order: Tensor | None, loss_sum: Tensor, seen: int, stopped: str | None = None) -> None:
            if checkpoint is None or rank != 0:  # one writer: the processes hold the same state
                return
            history.seconds = time.monotonic() - start
            self._write_checkpoint(
                checkpoint,
                run_id,
                model,
                optimizer,
                scheduler,
                scaler,
                generator,
                {"epoch": epoch, "batch": batch, "seen": seen, "patience_ref": patience_ref, "since_best": since_best, "stopped": stopped},
                order,
                loss_sum,
                best_state,
                device,
            )

        for cb in callbacks:
            cb.on_fit_start(self)
        last_save = time.monotonic()
        n_val = 0 if val is None else val[0].shape[0]
        amp = lambda: torch.autocast(device.type, dtype=dtype or torch.float32, enabled=dtype is not None)
        val_seconds: float | None = None  # how long the last validation took: the budget keeps room for it
        budget_spent = False
        with _catch_interrupt(self):
            for epoch in range(first_epoch, epochs + 1):
                epoch_start = time.monotonic()
                # --- train: one pass over shuffled mini-batches (or the rest of one, after a resume)
                model.train()
                if order is None:
                    if not self.shuffle:
                        order = torch.arange(n)
                    elif self.bucket_by is not None:
                        order = bucketed_order(train[self.bucket_by].cpu(), opt.batch_size, generator)
                    else:
                        order = torch.randperm(n, generator=generator)
                    order = order.to(device)
                    loss_sum, seen = torch.zeros((), device=device), 0
                trained_here = 0
                for b in range(first_batch, n_batches):
                    index = order[b * opt.batch_size : (b + 1) * opt.batch_size]
                    weight = 1.0
                    if world > 1:
                        # a share's mean weighted by its size, so that the averaged gradient is the whole batch's
                        # mean's; an empty share (a last batch smaller than the processes) still joins the
                        # gradient exchange, with weight 0
                        share = index.tensor_split(world)[rank]
                        weight = len(share) * world / len(index)
                        index = share if len(share) else index[:1]
                    with amp():
                        loss = loss_fn(trained, tuple(t[index] for t in train))
                    optimizer.zero_grad(set_to_none=True)
                    scaler.scale(loss * weight if world > 1 else loss).backward()
                    if opt.clip_grad_norm is not None:
                        scaler.unscale_(optimizer)
                        nn.utils.clip_grad_norm_(model.parameters(), opt.clip_grad_norm)
                    scaler.step(optimizer)
                    scaler.update()
                    history.steps += 1
                    counted = len(index) if weight else 0
                    history.samples += counted
                    loss_sum += loss.detach().float() * counted
                    seen += counted
                    trained_here += len(index)
                    for cb in callbacks:
                        cb.on_batch_end(self, b + 1, n_batches)
                    now = time.monotonic()
                    # before the first validation is timed, count half a training step's time per validation sample
                    # (a forward pass alone costs a third to a half of one)
                    reserve = val_seconds if val_seconds is not None else (now - epoch_start) / trained_here * n_val / 2
                    budget_spent = now + reserve > deadline
                    if world > 1:  # every process stops at the same batch, or the gradient exchange would hang
                        budget_spent, self.interrupted = _agreed(device, budget_spent, self.interrupted)
                    if budget_spent or self.interrupted or (opt.steps and history.steps >= opt.steps):
                        break
                    if now - last_save > opt.checkpoint_every and b + 1 < n_batches:
                        save(epoch, b + 1, order, loss_sum, seen)
                        last_save = time.monotonic()
                first_batch = 0
                train_loss = float(loss_sum) / max(seen, 1)
                if world > 1:  # the processes' shares differ: the schedule and the history read the whole batches' loss
                    train_loss = _mean(device, train_loss)
                if not math.isfinite(train_loss):
                    _load(model, best_state)
                    raise TrainingDiverged(
                        f"the training loss became {train_loss} in epoch {epoch}; lower the learning rate "
                        f"(lr={opt.lr:g}), set clip_grad_norm=, or check the inputs for NaN/inf and unscaled values"
                    )
                if self.interrupted and b + 1 < n_batches:
                    # Ctrl-C mid-epoch: checkpoint the position; the partial epoch is neither validated nor recorded
                    save(epoch, b + 1, order, loss_sum, seen)
                    history.stopped_because = INTERRUPTED
                    break

                # --- validate; the best weights are the lowest validation loss ever seen
                val_start = time.monotonic()
                with amp():
                    val_loss = _evaluate(model, loss_fn, val, opt.batch_size) if val is not None else None
                val_seconds = time.monotonic() - val_start
                if val_loss is not None and not math.isfinite(val_loss):
                    _load(model, best_state)
                    raise TrainingDiverged(
                        f"the validation loss became {val_loss} in epoch {epoch}; check the validation data for NaN/inf "
                        f"and extreme values, or lower the learning rate (lr={opt.lr:g})"
                    )
                record = {
                    "epoch": epoch,
                    "train_loss": train_loss,
                    "val_loss": val_loss,
                    "lr": optimizer.param_groups[0]["lr"],
                    "seconds": time.monotonic() - epoch_start,
                }
                history.epochs.append(record)
                if val_loss is not None:
                    if history.best_val_loss is None or val_loss < history.best_val_loss:
                        history.best_val_loss, history.best_epoch = val_loss, epoch
                        best_state = {k: v.detach().clone() for k, v in model.state_dict().items()}
                    if val_loss < patience_ref * (1 - opt.min_improvement):
                        patience_ref, since_best = val_loss, 0
                    else:
                        since_best += 1

                # --- schedule, callbacks, stopping rules, checkpoint
                if scheduler is not None:
                    monitored = val_loss if val_loss is not None else train_loss
                    scheduler.step(monitored) if schedule == "plateau" else scheduler.step()
                for cb in callbacks:
                    cb.on_epoch_end(self, record)
                order = None
                stop = self._stop_reason(val is not None, since_best, deadline, epoch == epochs, val_seconds, budget_spent)
                if world > 1:  # the budget is read off each process's clock: rank 0's decision holds for all
                    stop = _broadcast(device, stop)
                # an interruption is not the end of the run: its checkpoint must let --resume train on
                save(epoch + 1, 0, None, loss_sum, seen, None if self.interrupted else stop)
                last_save = time.monotonic()
                if stop:
                    history.stopped_because = stop
                    break

        if val is None:  # nothing held out: the final weights are kept
            history.best_epoch = len(history.epochs) or None
        _load(model, best_state)
        model.train(was_training)
        history.seconds = time.monotonic() - start
        history.interrupted = self.interrupted
        for cb in callbacks:
            cb.on_fit_end(self)
        return history

    def _stop_reason(
        self, validated: bool, since_best: int, deadline: float, last_epoch: bool, val_seconds: float | None, budget_spent: bool
    ) -> str | None:
        opt = self.options
        if self.interrupted:
            return INTERRUPTED
        if self.should_stop:
            return "a callback asked to stop"
        if opt.steps and self.history.steps >= opt.steps:
            return f"reached {opt.steps} optimiser steps"
        if validated and opt.patience is not None and since_best >= opt.patience:
            return f"no validation improvement for {opt.patience} epochs"
        if budget_spent or time.monotonic() + (val_seconds or 0.0) > deadline:
            return f"the {opt.max_minutes:g}-minute budget was spent"
        if last_epoch:
            return "completed all epochs"
        return None

    # -------------------------------------------------------------------------------- checkpoints
    def _write_checkpoint(
        self,
        path: Path,
        run_id: str,
        model,
        optimizer,
        scheduler,
        scaler,
        generator,
        position: dict,
        order: Tensor | None,
        loss_sum: Tensor,
        best_state,
        device: torch.device,
    ) -> None:
        optimizer_tensors, optimizer_json = split_optimizer_state(optimizer.state_dict())
        tensors: dict[str, Tensor] = {
            **{f"model/{k}": v for k, v in model.state_dict().items()},
            **optimizer_tensors,
            **{f"best/{k}": v for k, v in (best_state or {}).items()},
            "rng/torch": torch.get_rng_state(),
            "rng/generator": generator.get_state(),
            "loss_sum": loss_sum,
        }
        if device.type == "cuda":  # only the training device's generator: dropout draws there
            tensors["rng/cuda"] = torch.cuda.get_rng_state(device)
        if order is not None:
            tensors["order"] = order
        for i, cb in enumerate(self.callbacks):
            tensors.update({f"callback/{i}/{k}": v for k, v in cb.state_dict().items()})
        state = {
            "fingerprint": run_id,
            "position": position,
            "optimizer": optimizer_json,
            "scheduler": scheduler.state_dict() if scheduler is not None else None,
            "scaler": scaler.state_dict() if scaler.is_enabled() else None,
            "history": self.history.to_dict(),
        }
        save_checkpoint(path, tensors, state)

    def _restore_checkpoint(self, path: Path, run_id: str, model, optimizer, scheduler, scaler, generator, device):
        if not path.is_file():
            raise UserError(f"resume: {str(path.parent)!r} has no checkpoint to continue; start the run without --resume")
        tensors, state = load_checkpoint(path)
        if state.get("fingerprint") != run_id:
            raise UserError(
                f"resume: the data or options differ from those the checkpoint in {str(path.parent)!r} was "
                "written with; resume with the same data and options, or start a new run in another directory"
            )
        part = lambda prefix: {k[len(prefix) :]: v for k, v in tensors.items() if k.startswith(prefix)}
        model.load_state_dict(part("model/"))
        optimizer.load_state_dict(join_optimizer_state(tensors, state["optimizer"]))
        if scheduler is not None and state["scheduler"] is not None:
            scheduler.load_state_dict(state["scheduler"])
        if state["scaler"] is not None:
            scaler.load_state_dict(state["scaler"])
        torch.set_rng_state(tensors["rng/torch"])
        generator.set_state(tensors["rng/generator"])
        if device.type == "cuda" and "rng/cuda" in tensors:
            torch.cuda.set_rng_state(tensors["rng/cuda"], device)
        for i, cb in enumerate(self.callbacks):
            cb.load_state_dict(part(f"callback/{i}/"))
        saved = state["history"]
        self.history = History(**{**saved, "device": self.history.device, "processes": self.history.processes})
        return state["position"], tensors.get("order"), tensors["loss_sum"], part("best/") or None

    # -------------------------------------------------------------------------------------- data
    def _split(self, train: tuple[Tensor, ...], val, generator: torch.Generator):
        if val is not None:
            return train, _check_tensors(val, "val")
        n = train[0].shape[0]
        n_val = int(round(n * self.val_fraction))
        if n_val == 0:
            return train, None
        if n - n_val < 1:
            raise UserError(f"only {n} samples: too few to hold out val_fraction={self.val_fraction}; give more data")
        order = torch.arange(n) if self.val_from_end else torch.randperm(n, generator=generator)
        fit_idx, val_idx = order[: n - n_val], order[n - n_val :]
        return tuple(t[fit_idx] for t in train), tuple(t[val_idx] for t in train)


def _load(model: nn.Module, state: dict[str, Tensor] | None) -> None:
    if state is not None:
        model.load_state_dict(state)


@contextlib.contextmanager
def _catch_interrupt(trainer: Trainer) -> Iterator[None]:
    """The first Ctrl-C (or SIGTERM) asks the loop to stop after the current batch; a second one interrupts at
    once. One caught before training began (by the command line's handler) stops it after its first batch."""

    def first(signum: int) -> None:
        trainer.interrupted = True
        name = "Ctrl-C" if signum == signal.SIGINT else signal.Signals(signum).name
        print(f"\ninterrupt ({name}): stopping after this batch (press Ctrl-C again to abort at once)", file=sys.stderr, flush=True)

    with on_interrupt(first) as handler:
        trainer.interrupted = trainer.interrupted or handler.requested
        yield


BUCKET_BATCHES = 50  # batches per length bucket


def bucketed_order(lengths: Tensor, batch_size: int, generator: torch.Generator) -> Tensor:
    """A training order whose consecutive batches of ``batch_size`` hold samples of similar lengths: the
    samples in random order, cut into buckets of BUCKET_BATCHES batches, each bucket sorted by length and
    cut into batches, the full batches in random order and a partial one last (batches are consecutive
    slices of the order). Every sample once; seeded by ``generator``; equal lengths: a plain shuffle."""
    n = len(lengths)
    shuffled = torch.randperm(n, generator=generator)
    if lengths.min() == lengths.max():  # nothing to sort: the plain shuffle, same draws as without buckets
        return shuffled
    bucket = batch_size * BUCKET_BATCHES
    parts = [chunk[torch.argsort(lengths[chunk], stable=True)] for chunk in shuffled.split(bucket)]
    order = torch.cat(parts)
    full = n // batch_size * batch_size
    batches = order[:full].view(-1, batch_size)[torch.randperm(full // batch_size, generator=generator)]
    return torch.cat([batches.reshape(-1), order[full:]])


def distributed(device: torch.device) -> tuple[int, int]:
    """(rank, world size): (0, 1) for one process; under torchrun (WORLD_SIZE > 1) the process group is
    started on first use, gloo on the CPU and nccl on CUDA."""
    world = int(os.environ.get("WORLD_SIZE", "1"))
    if world <= 1:
        return 0, 1
    import torch.distributed as dist

    if not dist.is_initialized():
        dist.init_process_group("nccl" if device.type == "cuda" else "gloo")
    return dist.get_rank(), dist.get_world_size()


def _agreed(device: torch.device, *flags: bool) -> tuple[bool, ...]:
    """Each flag true in every process when it is true in any. (Tensors on ``device``: nccl takes no CPU tensors.)"""
    import torch.distributed as dist

    values = torch.tensor([int(f) for f in flags], device=device)
    dist.all_reduce(values, op=dist.ReduceOp.MAX)
    return tuple(bool(v) for v in values.tolist())


def _mean(device: torch.device, value: float) -> float:
    """The mean of ``value`` over the processes."""
    import torch.distributed as dist

    total = torch.tensor([value], dtype=torch.float64, device=device)
    dist.all_reduce(total)
    return float(total) / dist.get_world_size()


def _broadcast(device: torch.device, text: str | None) -> str | None:
    """Rank 0's text in every process (as UTF-8 bytes in tensors: no pickling)."""
    import torch.distributed as dist

    data = torch.tensor(list(text.encode()) if text is not None else [], dtype=torch.int32, device=device)
    size = torch.tensor([len(data) if text is not None else -1], device=device)
    dist.broadcast(size, src=0)
    if int(size) < 0:
        return None
    data = data if len(data) == int(size) else torch.empty(int(size), dtype=torch.int32, device=device)
    dist.broadcast(data, src=0)
    return bytes(data.tolist()).decode()


@torch.no_grad()
def _evaluate(model: nn.Module, loss_fn: LossFn, tensors: tuple[Tensor, ...], batch_size: int) -> float:
    model.eval()
    n = tensors[0].shape[0]
    total = torch.zeros((), device=tensors[0].device)
    for start in range(0, n, batch_size):
        batch = tuple(t[start : start + batch_size] for t in tensors)
        total += loss_fn(model, batch).float() * batch[0].shape[0]
    return float(total) / n


def _check_tensors(tensors: Sequence[Tensor], name: str) -> tuple[Tensor, ...]:
    tensors = tuple(tensors)
    if not tensors or not all(isinstance(t, Tensor) for t in tensors):
        raise UserError(f"{name} must be a non-empty tuple of tensors (inputs, targets, ...), got {type(tensors).__name__}")
    sizes = {t.shape[0] for t in tensors}
    if len(sizes) != 1 or 0 in sizes:
        raise UserError(f"{name} tensors must share a non-zero first dimension (samples), got sizes {sorted(sizes)}")
    return tensors


def _resolved_schedule(name: str, validated: bool) -> str:
    # without a validation part nothing stops training early: the whole budget runs, and a cosine decay to
    # zero ends it settled, where plateau halvings read the noisy training loss (make eval's UCR sets,
    # 3 seeds: mean 0.896 vs 0.886, ArrowHead 0.810 vs 0.749; tasks/classify.py)
    if name == "auto":
        return "plateau" if validated else "cosine"
    return name


def _make_schedule(name: str, optimizer: torch.optim.Optimizer, epochs: int):
    if name == "cosine":
        return torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=epochs)
    if name == "plateau":
        return torch.optim.lr_scheduler.ReduceLROnPlateau(optimizer, factor=0.5, patience=3)
    return None


class _Progress(Callback):
    """A progress bar on a terminal; one quiet line per epoch otherwise (logs, CI, pipes). Both on stderr."""

    def __init__(self, progress: bool | None, epochs: int | None) -> None:
        self.show_bar = progress if progress is not None else sys.stderr.isatty()
        self.epochs = epochs
        self.bar: Any = None

    def on_fit_start(self, trainer: Trainer) -> None:
        if trainer.history.resumed:
            done = len(trainer.history.epochs)
            print(
                f"resuming after epoch {done} ({trainer.history.steps} steps, {trainer.history.seconds:.1f}s)", file=sys.stderr, flush=True
            )
        if self.show_bar:
            from rich.console import Console
            from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

            self.bar = Progress(
                TextColumn("{task.description}"),
                BarColumn(),
                MofNCompleteColumn(),
                TimeElapsedColumn(),
                console=Console(stderr=True),
                transient=True,
            )
            self.bar.start()
            self.task = self.bar.add_task(f"epoch {len(trainer.history.epochs) + 1}", total=None)

    def on_batch_end(self, trainer: Trainer, batch: int, n_batches: int) -> None:
        if self.bar is not None:
            self.bar.update(self.task, completed=batch, total=n_batches)

    def on_epoch_end(self, trainer: Trainer, record: dict) -> None:
        line = _format_record(record, self.epochs)
        if self.bar is not None:
            self.bar.console.print(line)
            self.bar.update(self.task, description=f"epoch {record['epoch'] + 1}", completed=0)
        else:
            print(line, file=sys.stderr, flush=True)

    def on_fit_end(self, trainer: Trainer) -> None:
        if self.bar is not None:
            self.bar.stop()
        h = trainer.history
        kept = f"kept epoch {h.best_epoch}" + (f" (val_loss {h.best_val_loss:.4g})" if h.best_val_loss is not None else "")
        print(f"stopped: {h.stopped_because}; {kept}; {h.seconds:.1f}s", file=sys.stderr, flush=True)


def _format_record(record: dict, epochs: int | None) -> str:
    val = f"  val_loss {record['val_loss']:.4g}" if record["val_loss"] is not None else ""
    total = "" if epochs is None else f"/{epochs}"
    return f"epoch {record['epoch']:>3}{total}  train_loss {record['train_loss']:.4g}{val}  lr {record['lr']:.2g}  {record['seconds']:.1f}s"
