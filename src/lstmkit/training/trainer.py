"""One generic training loop: it knows tensors, a model and a loss function, nothing about tasks.

A task hands the Trainer in-memory tensors whose first dimension indexes samples, and a function
``loss_fn(model, batch) -> scalar`` where ``batch`` is the tuple of those tensors at a mini-batch's
indices. Batches are drawn by indexing whole tensors with a permutation: no per-sample Python work.
"""

from __future__ import annotations

import math
import sys
import time
from dataclasses import asdict, dataclass, field
from typing import Callable, Sequence

import torch
from torch import Tensor, nn

from lstmkit.errors import TrainingDiverged, UserError

LossFn = Callable[[nn.Module, tuple[Tensor, ...]], Tensor]


@dataclass
class TrainerConfig:
    epochs: int = 100  # most passes over the training data; early stopping usually ends sooner
    batch_size: int = 64  # samples per optimiser step
    lr: float = 1e-3  # Adam's learning rate
    weight_decay: float = 0.0  # AdamW-style decoupled weight decay; 0 gives plain Adam
    val_fraction: float = 0.1  # without a validation set, this share of samples is held out
    val_from_end: bool = True  # hold out the last samples (chronological) rather than a random draw
    patience: int | None = 10  # epochs without validation improvement before stopping; None: never
    min_delta: float = 0.0  # smallest decrease of the validation loss that counts as improvement
    rel_tol: float = 0.0  # ... and the smallest relative decrease (0.01: at least 1% below the best)
    clip_grad_norm: float | None = None  # rescale gradients whose global L2 norm exceeds this
    schedule: str | None = None  # learning-rate schedule: None, "cosine" or "plateau"
    max_minutes: float | None = None  # wall-clock budget; training stops cleanly when it is spent
    shuffle: bool = True  # reshuffle training samples every epoch
    seed: int = 0  # seeds shuffling, dropout and anything else random during fit
    device: str = "cpu"  # where the model and batches live: "cpu", "cuda", "cuda:1", or "auto"
    progress: bool | None = None  # a progress bar; None: on a terminal only, per-epoch lines otherwise
    verbose: bool = True  # False: print nothing at all


@dataclass
class History:
    """What happened during fit: one record per epoch, and where the kept weights came from."""

    epochs: list[dict] = field(default_factory=list)  # epoch, train_loss, val_loss, lr, seconds
    best_epoch: int | None = None  # the epoch whose weights the model holds after fit
    best_val_loss: float | None = None
    stopped_because: str = "completed all epochs"
    seconds: float = 0.0

    def to_dict(self) -> dict:
        return asdict(self)


class Callback:
    """Extras hook in here; set ``trainer.should_stop = True`` to end training after this epoch."""

    def on_fit_start(self, trainer: "Trainer") -> None: ...

    def on_batch_end(self, trainer: "Trainer", batch: int, n_batches: int) -> None: ...

    def on_epoch_end(self, trainer: "Trainer", record: dict) -> None: ...

    def on_fit_end(self, trainer: "Trainer") -> None: ...


def resolve_device(name: str) -> torch.device:
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    device = torch.device(name)
    if device.type == "cuda" and not torch.cuda.is_available():
        raise UserError(f"device={name!r} was asked for but this machine has no CUDA GPU; use device='cpu' or 'auto'")
    return device


class Trainer:
    """Fits a model with Adam, mini-batches, validation, early stopping and optional extras.

    Example:
        >>> model = nn.Linear(3, 1)
        >>> x, y = torch.randn(256, 3), torch.randn(256, 1)
        >>> mse = lambda m, batch: nn.functional.mse_loss(m(batch[0]), batch[1])
        >>> history = Trainer(TrainerConfig(epochs=3, verbose=False)).fit(model, mse, (x, y))
        >>> len(history.epochs)
        3
    """

    def __init__(self, config: TrainerConfig | None = None, callbacks: Sequence[Callback] = ()) -> None:
        self.config = config or TrainerConfig()
        self.callbacks = list(callbacks)
        self.should_stop = False
        self.history = History()

    def fit(
        self,
        model: nn.Module,
        loss_fn: LossFn,
        train: Sequence[Tensor],
        val: Sequence[Tensor] | None = None,
    ) -> History:
        """Train ``model`` in place; afterwards it holds the weights of the best validation epoch.

        Args:
            model: any ``nn.Module``; it is moved to ``config.device``.
            loss_fn: ``loss_fn(model, batch)`` returns the mean loss over the batch.
            train: tensors with the same first dimension N (inputs, targets, ...).
            val: the same for validation; None takes ``config.val_fraction`` out of ``train``.
        """
        cfg = self.config
        self._check_config()
        device = resolve_device(cfg.device)
        torch.manual_seed(cfg.seed)
        generator = torch.Generator().manual_seed(cfg.seed)
        train, val = self._split(_check_tensors(train, "train"), val, generator)
        train = tuple(t.to(device) for t in train)
        val = tuple(t.to(device) for t in val) if val is not None else None
        was_training = model.training
        model.to(device)
        optimizer = torch.optim.AdamW(model.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay, foreach=True)
        scheduler = _make_schedule(cfg.schedule, optimizer, cfg.epochs)
        n = train[0].shape[0]
        n_batches = math.ceil(n / cfg.batch_size)

        self.history = history = History()
        self.should_stop = False
        callbacks = self.callbacks + ([_Progress(cfg)] if cfg.verbose else [])
        best_state: dict[str, Tensor] | None = None
        since_best = 0
        start = time.monotonic()
        deadline = start + cfg.max_minutes * 60 if cfg.max_minutes else math.inf
        for cb in callbacks:
            cb.on_fit_start(self)

        for epoch in range(1, cfg.epochs + 1):
            epoch_start = time.monotonic()
            # --- train: one pass over shuffled mini-batches
            model.train()
            order = torch.randperm(n, generator=generator) if cfg.shuffle else torch.arange(n)
            order = order.to(device)
            loss_sum = torch.zeros((), device=device)
            seen = 0
            for b in range(n_batches):
                index = order[b * cfg.batch_size : (b + 1) * cfg.batch_size]
                loss = loss_fn(model, tuple(t[index] for t in train))
                optimizer.zero_grad(set_to_none=True)
                loss.backward()
                if cfg.clip_grad_norm is not None:
                    nn.utils.clip_grad_norm_(model.parameters(), cfg.clip_grad_norm)
                optimizer.step()
                loss_sum += loss.detach() * len(index)
                seen += len(index)
                for cb in callbacks:
                    cb.on_batch_end(self, b + 1, n_batches)
                if time.monotonic() > deadline:
                    break
            train_loss = float(loss_sum) / seen
            if not math.isfinite(train_loss):
                self._restore(model, best_state)
                raise TrainingDiverged(
                    f"the training loss became {train_loss} in epoch {epoch}; lower the learning rate "
                    f"(lr={cfg.lr:g}), set clip_grad_norm, or check the inputs for NaN/inf and unscaled values"
                )

            # --- validate and keep the best weights
            val_loss = _evaluate(model, loss_fn, val, cfg.batch_size) if val is not None else None
            if val_loss is not None and not math.isfinite(val_loss):
                self._restore(model, best_state)
                raise TrainingDiverged(
                    f"the validation loss became {val_loss} in epoch {epoch}; check the validation data for NaN/inf "
                    f"and extreme values, or lower the learning rate (lr={cfg.lr:g})"
                )
            lr = optimizer.param_groups[0]["lr"]
            record = {"epoch": epoch, "train_loss": train_loss, "val_loss": val_loss, "lr": lr,
                      "seconds": time.monotonic() - epoch_start}
            history.epochs.append(record)
            monitored = val_loss if val_loss is not None else train_loss
            if val_loss is not None:
                if history.best_val_loss is None or val_loss < history.best_val_loss * (1 - cfg.rel_tol) - cfg.min_delta:
                    history.best_val_loss, history.best_epoch = val_loss, epoch
                    best_state = {k: v.detach().clone() for k, v in model.state_dict().items()}
                    since_best = 0
                else:
                    since_best += 1

            # --- schedule, callbacks, stopping rules
            if scheduler is not None:
                scheduler.step(monitored) if cfg.schedule == "plateau" else scheduler.step()
            for cb in callbacks:
                cb.on_epoch_end(self, record)
            if self.should_stop:
                history.stopped_because = "a callback asked to stop"
                break
            if val is not None and cfg.patience is not None and since_best >= cfg.patience:
                history.stopped_because = f"no validation improvement for {cfg.patience} epochs"
                break
            if time.monotonic() > deadline:
                history.stopped_because = f"the {cfg.max_minutes:g}-minute budget was spent"
                break

        if val is None:  # nothing held out: the final weights are kept
            history.best_epoch = len(history.epochs)
        self._restore(model, best_state)
        model.train(was_training)
        history.seconds = time.monotonic() - start
        for cb in callbacks:
            cb.on_fit_end(self)
        return history

    def _check_config(self) -> None:
        cfg = self.config
        if cfg.epochs < 1 or cfg.batch_size < 1:
            raise UserError(f"epochs and batch_size must be at least 1, got epochs={cfg.epochs}, batch_size={cfg.batch_size}")
        if not 0 <= cfg.val_fraction < 1:
            raise UserError(f"val_fraction must be in [0, 1), got {cfg.val_fraction}")
        if cfg.lr <= 0:
            raise UserError(f"lr must be positive, got {cfg.lr}")
        if cfg.patience is not None and cfg.patience < 1:
            raise UserError(f"patience must be at least 1 epoch (or None to never stop early), got {cfg.patience}")
        if cfg.max_minutes is not None and not cfg.max_minutes > 0:
            raise UserError(f"max_minutes must be positive (or None for no budget), got {cfg.max_minutes}")
        if cfg.schedule not in (None, "cosine", "plateau"):
            raise UserError(f"schedule must be None, 'cosine' or 'plateau', got {cfg.schedule!r}")

    def _split(self, train: tuple[Tensor, ...], val, generator: torch.Generator):
        if val is not None:
            return train, _check_tensors(val, "val")
        n = train[0].shape[0]
        n_val = int(round(n * self.config.val_fraction))
        if n_val == 0:
            return train, None
        if n - n_val < 1:
            raise UserError(f"only {n} samples: too few to hold out val_fraction={self.config.val_fraction}; give more data")
        if self.config.val_from_end:
            order = torch.arange(n)
        else:
            order = torch.randperm(n, generator=generator)
        fit_idx, val_idx = order[: n - n_val], order[n - n_val :]
        return tuple(t[fit_idx] for t in train), tuple(t[val_idx] for t in train)

    @staticmethod
    def _restore(model: nn.Module, state: dict[str, Tensor] | None) -> None:
        if state is not None:
            model.load_state_dict(state)


@torch.no_grad()
def _evaluate(model: nn.Module, loss_fn: LossFn, tensors: tuple[Tensor, ...], batch_size: int) -> float:
    model.eval()
    n = tensors[0].shape[0]
    total = torch.zeros((), device=tensors[0].device)
    for start in range(0, n, batch_size):
        batch = tuple(t[start : start + batch_size] for t in tensors)
        total += loss_fn(model, batch) * batch[0].shape[0]
    return float(total) / n


def _check_tensors(tensors: Sequence[Tensor], name: str) -> tuple[Tensor, ...]:
    tensors = tuple(tensors)
    if not tensors or not all(isinstance(t, Tensor) for t in tensors):
        raise UserError(f"{name} must be a non-empty tuple of tensors (inputs, targets, ...), got {type(tensors).__name__}")
    sizes = {t.shape[0] for t in tensors}
    if len(sizes) != 1 or 0 in sizes:
        raise UserError(f"{name} tensors must share a non-zero first dimension (samples), got sizes {sorted(sizes)}")
    return tensors


def _make_schedule(name: str | None, optimizer: torch.optim.Optimizer, epochs: int):
    if name == "cosine":
        return torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=epochs)
    if name == "plateau":
        return torch.optim.lr_scheduler.ReduceLROnPlateau(optimizer, factor=0.5, patience=3)
    return None


class _Progress(Callback):
    """A progress bar on a terminal; one quiet line per epoch otherwise (logs, CI, pipes). Both on stderr."""

    def __init__(self, config: TrainerConfig) -> None:
        self.config = config
        self.bar = None

    def on_fit_start(self, trainer: Trainer) -> None:
        show_bar = self.config.progress if self.config.progress is not None else sys.stderr.isatty()
        if show_bar:
            from rich.console import Console
            from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

            self.bar = Progress(
                TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                console=Console(stderr=True), transient=True,
            )
            self.bar.start()
            self.task = self.bar.add_task("epoch 1", total=None)

    def on_batch_end(self, trainer: Trainer, batch: int, n_batches: int) -> None:
        if self.bar is not None:
            self.bar.update(self.task, completed=batch, total=n_batches)

    def on_epoch_end(self, trainer: Trainer, record: dict) -> None:
        line = _format_record(record, self.config.epochs)
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


def _format_record(record: dict, epochs: int) -> str:
    val = f"  val_loss {record['val_loss']:.4g}" if record["val_loss"] is not None else ""
    return (f"epoch {record['epoch']:>3}/{epochs}  train_loss {record['train_loss']:.4g}{val}"
            f"  lr {record['lr']:.2g}  {record['seconds']:.1f}s")
