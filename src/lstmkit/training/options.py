"""``TrainingOptions``: the one set of training settings every task shares.

Each task config nests one (``ForecasterConfig.training``, ``TextGenConfig.training``, ...) with that
task's defaults; the Trainer takes it whole, and the CLI generates its training flags (``--epochs``,
``--patience``, ``--device``, ``--precision``, ``--resume``, ...) from these fields, so that the names,
help and checks are the same in every task.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, fields
from typing import TYPE_CHECKING

from lstmkit.errors import UserError

if TYPE_CHECKING:  # torch is imported where devices are resolved, so that --help stays fast
    import torch

DEVICES = ("auto", "cpu", "cuda", "mps")
PRECISIONS = ("32", "bf16", "16-mixed")
SCHEDULES = ("none", "cosine", "plateau", "auto")
TRACKERS = ("tensorboard", "mlflow")  # --log (lstmkit.training.tracking)


def _option(default, help: str):
    """A field whose help text the CLI shows for its flag (``--name``)."""
    return field(default=default, metadata={"help": help})


@dataclass
class TrainingOptions:
    epochs: int | None = _option(
        None, "Most passes over the training data; early stopping usually ends sooner; none: chosen from the data size."
    )
    steps: int | None = _option(None, "Most optimiser steps in all; none: no limit besides the epochs.")
    max_minutes: float | None = _option(
        None, "Stop training cleanly after this many minutes (checked after every batch), keeping the best weights."
    )
    batch_size: int = _option(64, "Samples per optimiser step (text generation: parallel streams).")
    lr: float = _option(1e-3, "Adam learning rate.")
    weight_decay: float = _option(0.0, "Decoupled (AdamW) weight decay; 0 is plain Adam.")
    schedule: str = _option(
        "plateau",
        "Learning-rate schedule: none, cosine (to zero at the last epoch), plateau (halve at the 4th epoch in a row without improvement) "
        "or auto (cosine when no validation part is held out, plateau when one is).",
    )
    patience: int | None = _option(10, "Epochs without validation improvement before stopping.")
    min_improvement: float = _option(
        0.0,
        "Relative decrease of the validation loss that resets patience (0.05 = 5%). "
        "The kept weights are always those of the lowest validation loss.",
    )
    clip_grad_norm: float | None = _option(1.0, "Rescale gradients whose global L2 norm exceeds this.")
    seed: int = _option(0, "Seeds initialisation, shuffling and dropout: the same seed gives the same model on CPU.")
    device: str = _option("auto", "auto (CUDA, then MPS, when present), cpu, cuda, cuda:N or mps.")
    precision: str = _option("32", "32, bf16 (autocast) or 16-mixed (float16 autocast with loss scaling; CUDA only).")
    threads: int | None = _option(
        None, "CPU threads for torch; none: the CPUs this process may use (its CPU affinity and cgroup CPU quota)."
    )
    checkpoint_every: float = _option(
        60.0, "Seconds between training checkpoints in the run directory (one is also written after every epoch)."
    )
    checkpoint_dir: str | None = _option(None, "Where checkpoint.safetensors goes; None: no checkpoints.")
    resume: bool = _option(False, "Continue the unfinished run in the run directory from its checkpoint.")
    log: str | None = _option(
        None, "tensorboard or mlflow: log the config, losses per epoch, final metrics and the report into the run directory."
    )
    verbose: bool = _option(True, "Progress on stderr.")

    def check(self) -> None:
        for name in ("epochs", "steps", "batch_size", "patience", "threads"):
            value = getattr(self, name)
            if value is not None and (not isinstance(value, int) or value < 1):
                raise UserError(f"{name} must be a whole number of at least 1, got {value!r}")
        for name, value in (("lr", self.lr), ("max_minutes", self.max_minutes), ("clip_grad_norm", self.clip_grad_norm)):
            if value is not None and not (isinstance(value, (int, float)) and math.isfinite(value) and value > 0):
                raise UserError(f"{name} must be a positive number, got {value!r}")
        if not (math.isfinite(self.weight_decay) and self.weight_decay >= 0):
            raise UserError(f"weight_decay must be 0 or more, got {self.weight_decay!r}")
        if not (math.isfinite(self.min_improvement) and 0 <= self.min_improvement < 1):
            raise UserError(f"min_improvement must be in [0, 1) (a relative decrease), got {self.min_improvement!r}")
        if self.log is not None and self.log not in TRACKERS:
            raise UserError(f"log must be one of {', '.join(TRACKERS)} (or none), got {self.log!r}")
        if self.log is not None and self.checkpoint_dir is None:
            raise UserError("log= writes into the run directory: set checkpoint_dir= too (the command line uses --out)")
        if not (math.isfinite(self.checkpoint_every) and self.checkpoint_every > 0):
            raise UserError(f"checkpoint_every must be a positive number of seconds, got {self.checkpoint_every!r}")
        if self.schedule not in SCHEDULES:
            raise UserError(f"schedule must be one of {', '.join(SCHEDULES)}, got {self.schedule!r}")
        if self.precision not in PRECISIONS:
            raise UserError(f"precision must be one of {', '.join(PRECISIONS)}, got {self.precision!r}")
        if self.device.split(":")[0] not in DEVICES:
            raise UserError(f"device must be one of {', '.join(DEVICES)} (or cuda:N), got {self.device!r}")
        if self.resume and self.checkpoint_dir is None:
            raise UserError("resume=True needs checkpoint_dir, the run directory whose checkpoint to continue")


# Fields that may differ between a run and its resumption: they change when and where training runs,
# not what it computes.
NOT_FINGERPRINTED = ("max_minutes", "checkpoint_every", "checkpoint_dir", "resume", "verbose", "device", "threads")


def training_field_names() -> set[str]:
    return {f.name for f in fields(TrainingOptions)}


def resolve_device(name: str) -> torch.device:
    """``auto`` is CUDA when present, then Apple's MPS, else the CPU; an absent device is a UserError."""
    import torch

    if name == "auto":
        if torch.cuda.is_available():
            return torch.device("cuda")
        mps = getattr(torch.backends, "mps", None)
        return torch.device("mps" if mps is not None and mps.is_available() else "cpu")
    try:
        device = torch.device(name)
    except RuntimeError:
        raise UserError(f"device={name!r} is not a device name; use auto, cpu, cuda, cuda:N or mps") from None
    if device.type == "cuda" and not torch.cuda.is_available():
        raise UserError(f"device={name!r} was asked for but this machine has no CUDA GPU; use device='cpu' or 'auto'")
    if device.type == "cuda" and device.index is not None and device.index >= torch.cuda.device_count():
        raise UserError(
            f"device={name!r}: this machine has {torch.cuda.device_count()} CUDA GPU(s), numbered from 0; "
            "use another index or device='cuda'"
        )
    if device.type == "mps" and not (getattr(torch.backends, "mps", None) and torch.backends.mps.is_available()):
        raise UserError(f"device={name!r} was asked for but MPS is not available here; use device='cpu' or 'auto'")
    return device


def autocast_dtype(precision: str, device: torch.device) -> torch.dtype | None:
    """The autocast dtype for a precision on a device; None runs in float32."""
    import torch

    if precision == "32":
        return None
    if precision == "16-mixed":
        if device.type != "cuda":
            raise UserError(f"precision='16-mixed' needs a CUDA device, training runs on {device.type}; use 'bf16' or '32'")
        return torch.float16
    return torch.bfloat16


CGROUP_CPU_MAX = "/sys/fs/cgroup/cpu.max"  # cgroup v2: "QUOTA PERIOD" in microseconds, or "max PERIOD"


def available_cpus() -> int:
    """The CPUs this process may use: its affinity mask, capped by a cgroup v2 CPU quota (containers,
    CI runners), at least 1. torch's own default counts the machine's cores, which oversubscribes a
    process that is allowed fewer."""
    import os

    try:
        count = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):  # not Linux
        count = os.cpu_count() or 1
    try:
        with open(CGROUP_CPU_MAX) as f:
            quota, period = f.read().split()[:2]
        if quota != "max":
            count = min(count, max(1, int(int(quota) / int(period))))
    except (OSError, ValueError):
        pass
    return max(1, count)


def use_threads(threads: int | None) -> int:
    """Set torch's intra-op threads to ``threads`` (None: ``available_cpus()``); returns the number set."""
    import torch

    wanted = threads or available_cpus()
    if torch.get_num_threads() != wanted:
        torch.set_num_threads(wanted)
    return wanted
