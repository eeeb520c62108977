"""One estimator per task: forecasting, anomaly detection, text generation."""

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


def config_from_dict(cls, saved: dict):
    """A config from a saved config.json section, ignoring the keys that are not fields (derived values)."""
    known = {f.name for f in fields(cls)}
    return cls(**{k: v for k, v in saved.items() if k in known})
