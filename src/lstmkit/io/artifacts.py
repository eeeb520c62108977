"""Model directories: ``config.json`` + ``model.safetensors`` + ``preprocessing.json``, written atomically.

Every file is written to a temporary file in the same directory and renamed over the target, so a
crash never leaves a half-written file. ``config.json`` is written last and records the SHA-256 of the
other two: a directory whose files come from different saves (a save interrupted between two renames,
a file copied in from elsewhere, a truncated download) is detected on load rather than silently used.
No pickle: tensors go through safetensors, everything else through JSON.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from safetensors import SafetensorError
from safetensors.torch import load as load_safetensors
from safetensors.torch import save as save_safetensors
from torch import Tensor, nn

from lstmkit.errors import ArtifactError

FORMAT_VERSION = 2  # 2: config.json carries settings_sha256, the hash of its own kind, config and training
CONFIG = "config.json"
WEIGHTS = "model.safetensors"
PREPROCESSING = "preprocessing.json"
METRICS = "metrics.json"
CHECKPOINT = "checkpoint.safetensors"  # written by the Trainer while a run trains (lstmkit.training.checkpoint)


def atomic_write_bytes(path: str | os.PathLike, data: bytes) -> None:
    """Write ``data`` to ``path`` so that readers see the old file or the new one, never a mix."""
    path = Path(path)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        os.fchmod(fd, 0o666 & ~_umask())  # mkstemp makes 0600 files; a model directory may be shared
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    dir_fd = os.open(path.parent, os.O_RDONLY)
    try:  # make the rename itself durable
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def to_json_bytes(obj: Any) -> bytes:
    return (json.dumps(obj, indent=2, ensure_ascii=False) + "\n").encode("utf-8")


def atomic_write_json(path: str | os.PathLike, obj: Any) -> None:
    atomic_write_bytes(path, to_json_bytes(obj))


@dataclass
class Artifact:
    """A loaded model directory."""

    kind: str  # which estimator wrote it, e.g. "forecaster"
    config: dict  # the configuration the model was built from
    state_dict: dict[str, Tensor]
    preprocessing: dict  # scalers, vocabularies, column names ...
    lstmkit_version: str
    training: dict | None = None  # how training ended: epochs, best_epoch, stopped_because, interrupted ...


def save_model(
    directory: str | os.PathLike,
    *,
    kind: str,
    config: Mapping[str, Any],
    state_dict: Mapping[str, Tensor],
    preprocessing: Mapping[str, Any] | None = None,
    training: Mapping[str, Any] | None = None,
) -> Path:
    """Write a model directory (created if needed) and return its path."""
    from lstmkit import __version__

    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    # Clones: safetensors refuses tensors that share memory (tied weights) or are non-contiguous.
    tensors = {name: t.detach().to("cpu").contiguous().clone() for name, t in state_dict.items()}
    payloads = {WEIGHTS: save_safetensors(tensors), PREPROCESSING: to_json_bytes(dict(preprocessing or {}))}
    settings = {"kind": kind, "config": dict(config), "training": None if training is None else dict(training)}
    header = to_json_bytes(
        {  # serialised before anything is written: a bad config must not break the old model
            "format_version": FORMAT_VERSION,
            "lstmkit_version": __version__,
            **settings,
            "settings_sha256": _settings_sha256(settings),
            "files": {name: {"sha256": hashlib.sha256(data).hexdigest(), "bytes": len(data)} for name, data in payloads.items()},
        }
    )
    for name, data in payloads.items():
        atomic_write_bytes(directory / name, data)
    atomic_write_bytes(directory / CONFIG, header)  # last: it vouches for the files written before it
    return directory


def load_model(directory: str | os.PathLike, *, kind: str | None = None) -> Artifact:
    """Read and verify a model directory; every problem is an ``ArtifactError`` that says what to do."""
    directory = Path(directory)
    if not directory.is_dir():
        raise ArtifactError(f"model directory {str(directory)!r} does not exist; pass a directory written by a train command or save()")
    header = _read_config(directory)
    if kind is not None and header["kind"] != kind:
        raise ArtifactError(
            f"{str(directory)!r} holds a {header['kind']!r} model, not a {kind!r} one; "
            f"use the {header['kind']} commands or another directory"
        )
    files = header["files"]
    blobs = {}
    for name in (WEIGHTS, PREPROCESSING):
        path = directory / name
        if not path.is_file():
            raise ArtifactError(f"{str(directory)!r} is missing {name}; the directory is incomplete: save or train the model again")
        data = path.read_bytes()
        expected = files.get(name)
        if not isinstance(expected, dict):
            raise ArtifactError(f"{CONFIG} in {str(directory)!r} does not describe {name}: it was edited; save the model again")
        if hashlib.sha256(data).hexdigest() != expected.get("sha256"):
            got, want = len(data), expected.get("bytes")
            detail = f"{got} bytes, expected {want}" if got != want else "same size, different SHA-256"
            raise ArtifactError(
                f"{name} in {str(directory)!r} does not match config.json ({detail}): it was truncated, "
                "modified or comes from another save; save or train the model again"
            )
        blobs[name] = data
    try:
        state_dict = load_safetensors(blobs[WEIGHTS])
    except SafetensorError as e:  # only reachable if the hash matched a broken file written by hand
        raise ArtifactError(f"{WEIGHTS} in {str(directory)!r} is not a valid safetensors file ({e}); save the model again") from None
    return Artifact(
        kind=header["kind"],
        config=header["config"],
        state_dict=state_dict,
        preprocessing=json.loads(blobs[PREPROCESSING]),
        lstmkit_version=header.get("lstmkit_version", "unknown"),
        training=header.get("training"),
    )


def saved_kind(directory: str | os.PathLike) -> str:
    """Which estimator wrote the model in ``directory`` (config.json's kind), checked as load_model checks it."""
    return _read_config(Path(directory))["kind"]


def _read_config(directory: Path) -> dict:
    path, checkpoint = directory / CONFIG, directory / CHECKPOINT
    # a checkpoint newer than the model: a run (perhaps replacing this model) is training or was killed
    if checkpoint.is_file() and (not path.is_file() or checkpoint.stat().st_mtime_ns > path.stat().st_mtime_ns):
        raise ArtifactError(
            f"training in {str(directory)!r} did not finish; resume it with --resume "
            "(in Python: TrainingOptions resume and checkpoint_dir) or train again"
        )
    if not path.is_file():
        raise ArtifactError(
            f"{str(directory)!r} has no {CONFIG}: it is not an lstmkit model directory, or its save was interrupted; "
            "save or train the model again"
        )
    try:
        header = json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as e:
        raise ArtifactError(
            f"{CONFIG} in {str(directory)!r} is not valid JSON ({e}); it was truncated or edited: save the model again"
        ) from None
    if (
        not isinstance(header, dict)
        or not {"format_version", "kind", "config", "files"} <= header.keys()
        or not isinstance(header["files"], dict)
        or not isinstance(header["config"], dict)
    ):
        raise ArtifactError(
            f"{CONFIG} in {str(directory)!r} lacks format_version/kind/config/files: it was not written by lstmkit or was edited"
        )
    version = header["format_version"]
    if not isinstance(version, int) or version > FORMAT_VERSION:
        raise ArtifactError(
            f"{str(directory)!r} uses model format {version!r}, this lstmkit reads formats up to {FORMAT_VERSION}; upgrade lstmkit"
        )
    # format 1 predates the settings hash; from 2 on an edited kind, config or training is caught here
    settings = {key: header.get(key) for key in ("kind", "config", "training")}
    if version >= 2 and header.get("settings_sha256") != _settings_sha256(settings):
        raise ArtifactError(
            f"{CONFIG} in {str(directory)!r} was edited: its settings no longer match the settings_sha256 written with them; "
            "train or save the model again (or restore the file)"
        )
    return header


def _settings_sha256(settings: dict) -> str:
    return hashlib.sha256(to_json_bytes(settings)).hexdigest()


def load_state_dict_checked(module: nn.Module, state_dict: Mapping[str, Tensor]) -> None:
    """``module.load_state_dict`` whose mismatches become one clear ``ArtifactError``."""
    check_state_dict(module, state_dict)
    with torch.no_grad():
        module.load_state_dict(state_dict)


def check_state_dict(module: nn.Module, state_dict: Mapping[str, Tensor]) -> None:
    """An ``ArtifactError`` unless ``state_dict`` has exactly the names and shapes of ``module``'s
    (which may live on the meta device: nothing is allocated)."""
    own = module.state_dict()
    missing = sorted(own.keys() - state_dict.keys())
    unexpected = sorted(state_dict.keys() - own.keys())
    wrong = sorted(k for k in own.keys() & state_dict.keys() if own[k].shape != state_dict[k].shape)
    if missing or unexpected or wrong:
        parts = [
            f"{label}: {', '.join(names[:2])}" + (f" and {len(names) - 2} more" if len(names) > 2 else "")
            for label, names in (("missing", missing), ("unexpected", unexpected), ("wrong shape", wrong))
            if names
        ]
        raise ArtifactError(
            f"the weights do not fit the model described by config.json ({'; '.join(parts)}); "
            "the files come from different runs: train or save the model again"
        )
