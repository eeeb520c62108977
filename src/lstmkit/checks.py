"""Every config field checked against its annotation before any work: one rule for the command line,
the Python API and saved model directories."""

from __future__ import annotations

import dataclasses
import math
import numbers
import types
import typing
from typing import Any

from lstmkit.errors import UserError


def checked_fields(config) -> dict[str, Any]:
    """The values of ``config`` (a dataclass) that need normalising, after checking every field's type:
    a whole number where an int is declared, a finite number where a float is, a list where a list is (a
    lone string where a list of strings is declared is taken as a list of one). Nested dataclasses are
    checked in place. Raises UserError naming the field, what it takes and what it got."""
    hints = typing.get_type_hints(type(config))
    fixes = {}
    for field in dataclasses.fields(config):
        value = getattr(config, field.name)
        if dataclasses.is_dataclass(value) and not isinstance(value, type):
            fixed = checked_fields(value)
            if fixed:
                fixes[field.name] = dataclasses.replace(value, **fixed)
            continue
        normal = _checked(field.name, value, hints[field.name])
        if normal is not value:
            fixes[field.name] = normal
    return fixes


def _checked(name: str, value, annotation):
    allowed = typing.get_args(annotation) if isinstance(annotation, types.UnionType) else (annotation,)
    if value is None:
        if type(None) in allowed:
            return value
        raise UserError(f"{name} must be {_describe(allowed)}, got None")
    for kind in (a for a in allowed if a is not type(None)):
        normal = _as(value, kind)
        if normal is not _REFUSED:
            return normal
    if str in [typing.get_args(a)[0] for a in allowed if typing.get_origin(a) is list] and isinstance(value, str):
        return [value]
    raise UserError(f"{name} must be {_describe(allowed)}, got {_shown(value)} ({type(value).__name__})")


_REFUSED = object()


def _as(value, kind):
    """``value`` as the declared ``kind``, or _REFUSED."""
    if kind is bool:
        return value if isinstance(value, bool) else _REFUSED
    if kind is int:
        return int(value) if isinstance(value, numbers.Integral) and not isinstance(value, bool) else _REFUSED
    if kind is float:
        return float(value) if _is_number(value) and math.isfinite(value) else _REFUSED
    if kind is str:
        return value if isinstance(value, str) else _REFUSED
    if kind in (dict, list):
        return value if isinstance(value, kind) else _REFUSED
    if typing.get_origin(kind) is list:
        if not isinstance(value, (list, tuple)):
            return _REFUSED
        (item,) = typing.get_args(kind)
        items = [_as(v, item) for v in value]
        if any(v is _REFUSED for v in items):
            return _REFUSED
        # a list that needed no change is kept as the same object (scikit-learn's clone checks identity)
        return value if isinstance(value, list) and all(a is b for a, b in zip(items, value)) else items
    return value  # a type this layer does not know is left to the config's own check


def _is_number(value) -> bool:
    return isinstance(value, numbers.Real) and not isinstance(value, bool)


_WORDS = {
    bool: "true or false",
    int: "a whole number",
    float: "a finite number",
    str: "a string",
    type(None): "None",
    dict: "an object",
    list: "a list",
}
_PLURALS = {bool: "true/false values", int: "whole numbers", float: "finite numbers", str: "strings"}


def _describe(allowed) -> str:
    return " or ".join(
        f"a list of {_PLURALS.get(typing.get_args(a)[0], 'values')}" if typing.get_origin(a) is list else _WORDS.get(a, str(a))
        for a in allowed
    )


def saved(section, name: str, annotation, valid: typing.Callable[[Any], bool] | None = None, rule: str = ""):
    """``section[name]`` from a saved model file, checked by the rules of config fields (``annotation``) and,
    when given, ``valid`` (``rule`` says what it demands). A missing or wrong value is a UserError naming
    the field; ``Estimator.load`` turns it into the ArtifactError of a damaged model directory."""
    if not isinstance(section, dict) or name not in section:
        raise UserError(f"{name} is missing")
    value = _checked(name, section[name], annotation)
    if valid is not None and not valid(value):
        raise UserError(f"{name} must be {rule}, got {_shown(value)}")
    return value


def _shown(value) -> str:
    """``repr(value)``, cut to one short line."""
    text = repr(value).replace("\n", " ")
    return text if len(text) <= 60 else text[:57] + "..."
