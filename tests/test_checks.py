"""One validation layer for every config field, from the Python API, the CLI and saved model directories."""

import dataclasses
import json
import math
import typing

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lstmkit.checks import checked_fields
from lstmkit.errors import ArtifactError, UserError
from lstmkit.io import artifacts
from lstmkit.tasks.anomaly import AnomalyConfig
from lstmkit.tasks.classify import ClassifierConfig
from lstmkit.tasks.forecast import Forecaster, ForecasterConfig
from lstmkit.tasks.tag import TaggerConfig
from lstmkit.tasks.textgen import TextGenConfig
from lstmkit.training import TrainingOptions

CONFIGS = [ForecasterConfig, ClassifierConfig, TextGenConfig, TaggerConfig, AnomalyConfig, TrainingOptions]
FIELDS = [(cls, f.name) for cls in CONFIGS for f in dataclasses.fields(cls) if f.name != "training"]
WRONG = st.one_of(
    st.text(max_size=5),
    st.just(float("nan")),
    st.just(float("inf")),
    st.just(2.5),
    st.booleans(),
    st.dictionaries(st.text(), st.integers()),
)


def accepts(annotation, value) -> bool:
    """What the declared type admits (the reference the layer is checked against, written independently)."""
    options = typing.get_args(annotation) if isinstance(annotation, typing.types.UnionType) else (annotation,)
    for kind in options:
        if kind is type(None) and value is None:
            return True
        if kind is bool and isinstance(value, bool):
            return True
        if kind is int and isinstance(value, int) and not isinstance(value, bool):
            return True
        if kind is float and isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value):
            return True
        if kind is str and isinstance(value, str):
            return True
        if typing.get_origin(kind) is list and isinstance(value, str) and typing.get_args(kind)[0] is str:
            return True  # a lone string where a list of strings goes: a list of one
    return False


@settings(max_examples=300, deadline=None)
@given(st.sampled_from(FIELDS), WRONG)
def test_every_field_refuses_values_of_the_wrong_type_naming_the_field(field, value):
    cls, name = field
    config = dataclasses.replace(cls(), **{name: value})
    if accepts(typing.get_type_hints(cls)[name], value):
        checked_fields(config)
    else:
        with pytest.raises(UserError, match=rf"^{name} must be .*, got ") as error:
            checked_fields(config)
        assert "\n" not in str(error.value)


def test_values_are_normalised_to_their_declared_types():
    f = Forecaster(targets="temp_max", horizon=np.int64(3), lr=1, quantiles=(0.1, 0.9), epochs=2)
    assert f.config.targets == ["temp_max"] and type(f.config.horizon) is int
    assert type(f.config.training.lr) is float and f.config.quantiles == [0.1, 0.9]
    for bad, message in [
        (dict(horizon="5"), "horizon must be a whole number, got '5'"),
        (dict(quantiles=0.9), r"quantiles must be a list of finite numbers or None, got 0.9"),
        (dict(lr=float("nan")), "lr must be a finite number, got nan"),
        (dict(verbose="yes"), "verbose must be true or false"),
    ]:
        with pytest.raises(UserError, match=message):
            Forecaster(**bad)


def test_a_hand_edited_config_json_is_an_artifact_error(tmp_path):
    model = Forecaster(lookback=8, epochs=1, ensemble=1, hidden_size=4, verbose=False, test_fraction=0.0).fit("sine")
    model.save(tmp_path / "m")
    path = tmp_path / "m" / "config.json"
    saved = json.loads(path.read_text())
    edited = saved | {"config": saved["config"] | {"lookback": 9}}
    path.write_text(json.dumps(edited))  # a plausible edit: caught by the settings hash
    with pytest.raises(ArtifactError, match="config.json in .* was edited: its settings no longer match"):
        Forecaster.load(tmp_path / "m")
    for key, value in [("horizon", "five"), ("quantiles", 0.5)]:  # the hash recomputed: the types are still checked
        edited = saved | {"config": saved["config"] | {key: value}}
        edited["settings_sha256"] = artifacts._settings_sha256({k: edited[k] for k in ("kind", "config", "training")})
        path.write_text(json.dumps(edited))
        with pytest.raises(ArtifactError, match=rf"config.json does not hold valid settings \({key} must be"):
            Forecaster.load(tmp_path / "m")
