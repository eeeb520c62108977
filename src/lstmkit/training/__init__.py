"""The generic training loop and the training options every task shares."""

from lstmkit.training.options import TrainingOptions

__all__ = ["Callback", "History", "Trainer", "TrainingOptions"]


def __getattr__(name: str):
    # the loop imports torch; the options alone do not (the CLI reads them to build its flags)
    if name in ("Callback", "History", "Trainer"):
        from lstmkit.training import trainer

        return getattr(trainer, name)
    raise AttributeError(f"module 'lstmkit.training' has no attribute {name!r}")
