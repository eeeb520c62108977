"""The generic training loop."""

from lstmkit.training.trainer import Callback, History, Trainer, TrainerConfig

__all__ = ["Callback", "History", "Trainer", "TrainerConfig"]
