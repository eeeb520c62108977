"""Model directories: round trip, atomicity, and clear errors for broken directories."""

import json
import os

import pytest
import torch

from lstmkit.errors import ArtifactError
from lstmkit.io import artifacts
from lstmkit.io.artifacts import load_model, load_state_dict_checked, save_model
from lstmkit.nn import LSTM


def saved(tmp_path, **overrides):
    torch.manual_seed(0)
    model = LSTM(3, 5, num_layers=2, proj_size=2)
    args = dict(
        kind="forecaster",
        config={"hidden_size": 5, "layers": 2},
        state_dict=model.state_dict(),
        preprocessing={"scaler": {"min": [0.0], "scale": [2.0]}, "columns": ["收盘价"]},
    )
    args.update(overrides)
    return save_model(tmp_path / "run", **args), model


def test_round_trip_restores_weights_config_and_preprocessing(tmp_path):
    directory, model = saved(tmp_path)
    assert sorted(p.name for p in directory.iterdir()) == ["config.json", "model.safetensors", "preprocessing.json"]
    art = load_model(directory, kind="forecaster")
    assert art.config == {"hidden_size": 5, "layers": 2}
    assert art.preprocessing["columns"] == ["收盘价"]
    fresh = LSTM(3, 5, num_layers=2, proj_size=2)
    load_state_dict_checked(fresh, art.state_dict)
    for name, value in model.state_dict().items():
        assert torch.equal(fresh.state_dict()[name], value)
    header = json.loads((directory / "config.json").read_text())
    assert header["format_version"] == artifacts.FORMAT_VERSION


def test_tied_weights_can_be_saved(tmp_path):
    emb = torch.nn.Embedding(10, 4)
    head = torch.nn.Linear(4, 10)
    head.weight = emb.weight
    model = torch.nn.ModuleDict({"emb": emb, "head": head})
    directory, _ = saved(tmp_path, state_dict=model.state_dict())
    assert torch.equal(load_model(directory).state_dict["head.weight"], emb.weight)


def test_files_are_safetensors_and_json_only(tmp_path):
    directory, _ = saved(tmp_path)
    weights = (directory / "model.safetensors").read_bytes()
    header_size = int.from_bytes(weights[:8], "little")  # safetensors: u64 length, then a JSON header
    assert json.loads(weights[8 : 8 + header_size])["weight_ih_l0"]["dtype"] == "F32"
    json.loads((directory / "config.json").read_text())
    json.loads((directory / "preprocessing.json").read_text())


def test_saved_files_follow_the_umask(tmp_path):
    old = os.umask(0o022)
    try:
        directory, _ = saved(tmp_path)
    finally:
        os.umask(old)
    assert {oct(p.stat().st_mode & 0o777) for p in directory.iterdir()} == {oct(0o644)}


def test_a_config_that_cannot_be_saved_leaves_the_old_model_intact(tmp_path):
    directory, model = saved(tmp_path)
    with pytest.raises(TypeError):
        save_model(directory, kind="forecaster", config={"size": object()}, state_dict=model.state_dict())
    assert load_model(directory).config == {"hidden_size": 5, "layers": 2}


def test_edited_files_entry_is_an_artifact_error(tmp_path):
    directory, _ = saved(tmp_path)
    header = json.loads((directory / "config.json").read_text())
    header["files"]["model.safetensors"] = "oops"
    (directory / "config.json").write_text(json.dumps(header))
    with pytest.raises(ArtifactError, match="does not describe model.safetensors"):
        load_model(directory)


def test_missing_directory(tmp_path):
    with pytest.raises(ArtifactError, match="does not exist; pass a directory written by a train command"):
        load_model(tmp_path / "nope")


def test_directory_without_config(tmp_path):
    (tmp_path / "empty").mkdir()
    with pytest.raises(ArtifactError, match="has no config.json: it is not an lstmkit model directory"):
        load_model(tmp_path / "empty")


def test_truncated_weights(tmp_path):
    directory, _ = saved(tmp_path)
    data = (directory / "model.safetensors").read_bytes()
    (directory / "model.safetensors").write_bytes(data[: len(data) // 2])
    with pytest.raises(ArtifactError, match=r"model.safetensors .* does not match config.json .*truncated"):
        load_model(directory)


def test_weights_from_another_save(tmp_path):
    first, _ = saved(tmp_path)
    other = save_model(tmp_path / "other", kind="forecaster", config={}, state_dict={"w": torch.ones(2)})
    (first / "model.safetensors").write_bytes((other / "model.safetensors").read_bytes())
    with pytest.raises(ArtifactError, match="comes from another save"):
        load_model(first)


def test_missing_preprocessing(tmp_path):
    directory, _ = saved(tmp_path)
    (directory / "preprocessing.json").unlink()
    with pytest.raises(ArtifactError, match="is missing preprocessing.json"):
        load_model(directory)


def test_truncated_config(tmp_path):
    directory, _ = saved(tmp_path)
    text = (directory / "config.json").read_text()
    (directory / "config.json").write_text(text[:40])
    with pytest.raises(ArtifactError, match="config.json .* is not valid JSON"):
        load_model(directory)


@pytest.mark.parametrize("edit", [("config", {"hidden_size": 6, "layers": 2}), ("kind", "textgen"), ("training", {"epochs": 3})])
def test_an_edited_setting_in_config_json_is_caught_by_its_hash(tmp_path, edit):
    directory, _ = saved(tmp_path)
    header = json.loads((directory / "config.json").read_text())
    header[edit[0]] = edit[1]
    (directory / "config.json").write_text(json.dumps(header))
    with pytest.raises(ArtifactError, match="was edited: its settings no longer match the settings_sha256"):
        load_model(directory)


def test_a_format_1_directory_without_the_settings_hash_still_loads(tmp_path):
    directory, _ = saved(tmp_path)
    header = json.loads((directory / "config.json").read_text())
    del header["settings_sha256"]
    (directory / "config.json").write_text(json.dumps(header | {"format_version": 1}))
    assert load_model(directory).config == {"hidden_size": 5, "layers": 2}


def test_newer_format_asks_for_an_upgrade(tmp_path):
    directory, _ = saved(tmp_path)
    header = json.loads((directory / "config.json").read_text())
    header["format_version"] = artifacts.FORMAT_VERSION + 1
    (directory / "config.json").write_text(json.dumps(header))
    with pytest.raises(ArtifactError, match="upgrade lstmkit"):
        load_model(directory)


def test_wrong_kind(tmp_path):
    directory, _ = saved(tmp_path)
    with pytest.raises(ArtifactError, match="holds a 'forecaster' model, not a 'textgen' one"):
        load_model(directory, kind="textgen")


def test_weights_that_do_not_fit_the_model(tmp_path):
    directory, _ = saved(tmp_path)
    with pytest.raises(ArtifactError, match=r"do not fit .*unexpected: weight_hr_l0, weight_hr_l1; wrong shape"):
        load_state_dict_checked(LSTM(3, 5, num_layers=2), load_model(directory).state_dict)
    with pytest.raises(ArtifactError, match=r"missing: bias_hh_l2"):
        load_state_dict_checked(LSTM(3, 5, num_layers=3, proj_size=2), load_model(directory).state_dict)
    with pytest.raises(ArtifactError, match="wrong shape: bias_hh_l0"):
        load_state_dict_checked(LSTM(3, 6, num_layers=2, proj_size=2), load_model(directory).state_dict)


def test_a_crash_between_renames_is_detected_not_silently_used(tmp_path, monkeypatch):
    directory, model = saved(tmp_path)
    real_replace = os.replace
    calls = []

    def crash_on_second_rename(src, dst):
        calls.append(dst)
        if len(calls) == 2:
            raise KeyboardInterrupt("power cut")
        real_replace(src, dst)

    monkeypatch.setattr(artifacts.os, "replace", crash_on_second_rename)
    with pytest.raises(KeyboardInterrupt):
        save_model(
            directory,
            kind="forecaster",
            config={"hidden_size": 5, "layers": 2},
            state_dict={k: v + 1 for k, v in model.state_dict().items()},
            preprocessing={"changed": True},
        )
    monkeypatch.undo()
    assert not [p for p in directory.iterdir() if p.name.endswith(".tmp")]  # no debris
    # the new weights landed but config.json still describes the old save: detected, not silently used
    with pytest.raises(ArtifactError, match="model.safetensors .* does not match config.json"):
        load_model(directory)


def test_atomic_write_keeps_the_old_file_when_writing_fails(tmp_path, monkeypatch):
    path = tmp_path / "metrics.json"
    artifacts.atomic_write_json(path, {"mae": 1.0})
    monkeypatch.setattr(artifacts.os, "fsync", lambda fd: (_ for _ in ()).throw(OSError("disk full")))
    with pytest.raises(OSError):
        artifacts.atomic_write_json(path, {"mae": 2.0})
    assert json.loads(path.read_text()) == {"mae": 1.0}
    assert [p.name for p in tmp_path.iterdir()] == ["metrics.json"]


def test_a_mismatch_of_many_weights_is_named_in_one_short_line():
    from torch import nn

    from lstmkit.io.artifacts import check_state_dict

    wide = nn.Sequential(*[nn.Linear(4, 4) for _ in range(20)])
    with pytest.raises(ArtifactError) as caught:
        check_state_dict(wide, nn.Sequential(*[nn.Linear(4, 3) for _ in range(10)]).state_dict())
    message = str(caught.value)
    assert "missing: 10.bias, 10.weight and 18 more; wrong shape: 0.bias, 0.weight and 18 more" in message and len(message) < 250
