"""The generic training loop and the training options every task shares."""

from lstmkit.training.options import TrainingOptions
from lstmkit.training.trainer import Callback, History, Trainer

__all__ = ["Callback", "History", "Trainer", "TrainingOptions"]
