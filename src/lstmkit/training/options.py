"""``TrainingOptions``: the one set of training settings every task shares.

Each task config nests one (``ForecasterConfig.training``, ``TextGenConfig.training``, ...) with that
task's defaults; the Trainer takes it whole, and the CLI generates its training flags (``--epochs``,
``--patience``, ``--device``, ``--precision``, ``--resume``, ...) from these fields, so that the names,
help and checks are the same in every task.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, fields

import torch

from lstmkit.errors import UserError

DEVICES = ("auto", "cpu", "cuda", "mps")
PRECISIONS = ("32", "bf16", "16-mixed")
SCHEDULES = ("none", "cosine", "plateau")


@dataclass
class TrainingOptions:
    epochs: int | None = None  # most passes over the training data; None: the task chooses from the data size
    steps: int | None = None  # most optimiser steps in all; None: no limit besides epochs
    max_minutes: float | None = None  # wall-clock budget, checked after every batch; the best weights are kept
    batch_size: int = 64  # samples per optimiser step
    lr: float = 1e-3  # Adam's learning rate
    weight_decay: float = 0.0  # decoupled (AdamW) weight decay; 0 is plain Adam
    schedule: str = "plateau"  # learning-rate schedule: none, cosine or plateau (halve after 3 flat epochs)
    patience: int | None = 10  # epochs without improvement before stopping; None: never stop early
    min_improvement: float = 0.0  # relative decrease of the validation loss that resets patience (0.05 = 5%)
    clip_grad_norm: float | None = 1.0  # rescale gradients whose global L2 norm exceeds this; None: never
    seed: int = 0  # seeds initialisation, shuffling and dropout: the same seed gives the same model on CPU
    device: str = "auto"  # auto (CUDA, then MPS, when present), cpu, cuda, cuda:N or mps
    precision: str = "32"  # 32, bf16 (autocast) or 16-mixed (float16 autocast with loss scaling; CUDA only)
    checkpoint_every: float = 60.0  # seconds between checkpoints (also written after every epoch)
    checkpoint_dir: str | None = None  # where checkpoint.safetensors goes; None: no checkpoints
    resume: bool = False  # continue from the checkpoint in checkpoint_dir
    verbose: bool = True  # progress on stderr

    def check(self) -> None:
        for name in ("epochs", "steps", "batch_size", "patience"):
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
NOT_FINGERPRINTED = ("max_minutes", "checkpoint_every", "checkpoint_dir", "resume", "verbose", "device")


def training_field_names() -> set[str]:
    return {f.name for f in fields(TrainingOptions)}


def resolve_device(name: str) -> torch.device:
    """``auto`` is CUDA when present, then Apple's MPS, else the CPU; an absent device is a UserError."""
    if name == "auto":
        if torch.cuda.is_available():
            return torch.device("cuda")
        mps = getattr(torch.backends, "mps", None)
        return torch.device("mps" if mps is not None and mps.is_available() else "cpu")
    device = torch.device(name)
    if device.type == "cuda" and not torch.cuda.is_available():
        raise UserError(f"device={name!r} was asked for but this machine has no CUDA GPU; use device='cpu' or 'auto'")
    if device.type == "mps" and not (getattr(torch.backends, "mps", None) and torch.backends.mps.is_available()):
        raise UserError(f"device={name!r} was asked for but MPS is not available here; use device='cpu' or 'auto'")
    return device


def autocast_dtype(precision: str, device: torch.device) -> torch.dtype | None:
    """The autocast dtype for a precision on a device; None runs in float32."""
    if precision == "32":
        return None
    if precision == "16-mixed":
        if device.type != "cuda":
            raise UserError(f"precision='16-mixed' needs a CUDA device, training runs on {device.type}; use 'bf16' or '32'")
        return torch.float16
    return torch.bfloat16
