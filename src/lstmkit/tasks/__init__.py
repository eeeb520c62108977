"""One estimator per task: forecasting, anomaly detection, text generation, classification, tagging."""

from __future__ import annotations

from dataclasses import fields, replace

from lstmkit.errors import UserError


def configure(cls, config, overrides: dict, owner: str):
    """An estimator's config: ``config`` (default ``cls()``) with keyword overrides, copied and checked."""
    unknown = sorted(set(overrides) - {f.name for f in fields(cls)})
    if unknown:
        raise UserError(f"unknown {owner} option(s) {unknown}; the options are the fields of {cls.__name__}")
    config = replace(config or cls(), **overrides)
    config.check()
    return config


def check_sizes(config, names: tuple[str, ...]) -> None:
    """The checks every model config shares: the named sizes (None allowed) at least 1, dropout in [0, 1)."""
    for name in names:
        value = getattr(config, name)
        if value is not None and value < 1:
            raise UserError(f"{name} must be at least 1, got {value}")
    if not 0 <= config.dropout < 1:
        raise UserError(f"dropout must be in [0, 1), got {config.dropout}")


def trim_padding(batch: tuple):
    """A batch (inputs, lengths, ...) cut to its own longest sequence: Trainer batches are slices of
    tensors padded to the longest sequence of all the data, so most of their padding is wasted work."""
    steps = int(batch[1].max())
    return tuple(t[:, :steps] if t.dim() > 1 else t for t in batch)


def config_from_dict(cls, saved: dict):
    """A config from a saved config.json section, ignoring the keys that are not fields (derived values)."""
    known = {f.name for f in fields(cls)}
    return cls(**{k: v for k, v in saved.items() if k in known})
