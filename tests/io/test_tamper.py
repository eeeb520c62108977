"""Model directories whose preprocessing.json or derived settings were edited *and* re-hashed (the integrity
record cannot tell): loading gives one ArtifactError line or a model whose outputs are still well formed,
never a traceback and never NaN."""

import copy
import hashlib
import json
import math
import shutil

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lstmkit.errors import UserError
from lstmkit.io import artifacts
from lstmkit.tasks.anomaly import AnomalyDetector
from lstmkit.tasks.classify import SequenceClassifier
from lstmkit.tasks.forecast import Forecaster
from lstmkit.tasks.tag import SequenceTagger
from lstmkit.tasks.textgen import TextGenerator

RAMP = pd.DataFrame({"y": np.sin(np.arange(300) / 5.0) + np.arange(300) / 100})
SAMPLES = [np.random.default_rng(i).normal(size=(6, 2)) for i in range(40)]
LABELS = ["a" if i % 2 else "b" for i in range(40)]
TOKENS = [["Ann", "lives", "in", "Paris"], ["Bob", "went", "to", "Rome"]] * 10
TAGS = [["B-PER", "O", "O", "B-LOC"]] * 20
TEXT = "the cat sat on the mat. the dog sat on the log. " * 20
FAST = dict(epochs=1, verbose=False, hidden_size=8)


def _use(kind, model):
    """What a user does with a loaded model; its outputs must be well formed."""
    if kind == "forecaster":
        values = model.predict().to_numpy(dtype=float)
    elif kind == "anomaly":
        values = model.predict(RAMP)["expected"].to_numpy(dtype=float)[model.forecaster.lookback :]  # none before a full window
    elif kind == "classifier":
        values = model.predict_proba(SAMPLES[:3])
    elif kind == "tagger":
        tags = model.predict(TOKENS[:2])
        assert all(len(t) == len(s) and all(isinstance(x, str) for x in t) for s, t in zip(TOKENS, tags))
        return
    else:
        text = model.generate("the ", length=20, seed=0)
        assert isinstance(text, str)
        values = np.asarray([model.evaluate(TEXT)["metrics"]["model"]["bpc"]])
    assert np.isfinite(values).all(), values


BUILDERS = {
    "forecaster": lambda: Forecaster(lookback=12, horizon=3, combine="none", ensemble=1, **FAST).fit(RAMP),
    "anomaly": lambda: AnomalyDetector(**FAST).fit(RAMP),
    "classifier": lambda: SequenceClassifier(**FAST).fit((SAMPLES, LABELS)),
    "tagger": lambda: SequenceTagger(**FAST, embedding_dim=4, char_channels=4).fit((TOKENS, TAGS)),
    "textgen": lambda: TextGenerator(**FAST, embedding_dim=4, num_layers=1, seq_len=10, batch_size=2).fit(TEXT),
}
CLASSES = {
    "forecaster": Forecaster,
    "anomaly": AnomalyDetector,
    "classifier": SequenceClassifier,
    "tagger": SequenceTagger,
    "textgen": TextGenerator,
}


@pytest.fixture(scope="module")
def saved(tmp_path_factory):
    """Each task's model directory as (config.json, preprocessing.json) dicts."""
    out = {}
    for kind, build in BUILDERS.items():
        directory = build().save(tmp_path_factory.mktemp(kind))
        out[kind] = (
            json.loads((directory / artifacts.CONFIG).read_text()),
            json.loads((directory / artifacts.PREPROCESSING).read_text()),
            directory,
        )
    return out


@pytest.mark.parametrize("kind", list(BUILDERS))
def test_each_untouched_model_loads_and_is_used_without_error(saved, kind):
    # what the property below accepts (a one-line refusal) must not be what every model gives
    _use(kind, CLASSES[kind].load(saved[kind][2]))


def leaves(obj, path=()):
    """Every place in a JSON document (dict keys and list items, lists cut to their first 3 items)."""
    yield path
    if isinstance(obj, dict):
        for k, v in obj.items():
            yield from leaves(v, (*path, k))
    elif isinstance(obj, list):
        for i, v in enumerate(obj[:3]):
            yield from leaves(v, (*path, i))


def replaced(obj, path, value):
    obj = copy.deepcopy(obj)
    if not path:
        return value
    parent = obj
    for key in path[:-1]:
        parent = parent[key]
    if value is DELETE:
        del parent[path[-1]]
    else:
        parent[path[-1]] = value
    return obj


DELETE = object()
BAD = st.sampled_from([DELETE, None, "x", "", -1, 0, 1e308, -1e308, math.nan, math.inf, 2.5, True, [], {}, [1, 2], {"a": 1}, 10**9])


def rehashed(directory, config, preprocessing):
    """Write the edited files with a recomputed integrity record, as someone covering an edit would."""
    data = json.dumps(preprocessing).encode()
    (directory / artifacts.PREPROCESSING).write_bytes(data)
    config = dict(config)
    config["files"] = {**config["files"], artifacts.PREPROCESSING: {"sha256": hashlib.sha256(data).hexdigest(), "bytes": len(data)}}
    config["settings_sha256"] = artifacts._settings_sha256({k: config.get(k) for k in ("kind", "config", "training")})
    (directory / artifacts.CONFIG).write_text(json.dumps(config))


def _places(saved):
    return [(kind, "preprocessing", p) for kind, (_, pre, _) in saved.items() for p in leaves(pre) if p] + [
        (kind, "config", ("config", k, *p))
        for kind, (cfg, _, _) in saved.items()
        for k, v in cfg["config"].items()
        if k != "training"
        for p in leaves(v)  # nested settings too (the language model's sizes)
    ]


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data(), value=BAD)
def test_a_rehashed_edit_is_refused_in_one_line_or_still_gives_well_formed_output(saved, tmp_path, data, value):
    kind, part, path = data.draw(st.sampled_from(_places(saved)))
    config, pre, _ = saved[kind]
    directory = tmp_path / "edited"
    shutil.copytree(saved[kind][2], directory, dirs_exist_ok=True)
    if part == "preprocessing":
        rehashed(directory, config, replaced(pre, path, value))
    else:
        rehashed(directory, replaced(config, path, value), pre)
    try:
        _use(kind, CLASSES[kind].load(directory))
    except UserError as e:  # ArtifactError on loading; at use, e.g. a target renamed to a column the data lacks
        assert "\n" not in str(e) and len(str(e)) < 400
