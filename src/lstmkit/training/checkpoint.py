"""Training checkpoints: one ``checkpoint.safetensors`` per run directory, replaced atomically.

Tensors (weights, optimiser moments, the best weights so far, RNG states, the epoch's sample order)
go in as safetensors; everything else (position, history, schedule, the fingerprint of data and
options) as JSON in the file's metadata. One file, one rename: a kill at any moment leaves either the
previous checkpoint or the new one. No pickle.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import Any

import torch
from safetensors import SafetensorError, safe_open
from safetensors.torch import save as save_safetensors
from torch import Tensor

from lstmkit.errors import ArtifactError
from lstmkit.io.artifacts import CHECKPOINT, atomic_write_bytes


def save_checkpoint(path: str | os.PathLike, tensors: dict[str, Tensor], state: dict[str, Any]) -> None:
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    flat = {name: t.detach().to("cpu").contiguous().clone() for name, t in tensors.items()}
    atomic_write_bytes(path, save_safetensors(flat, metadata={"state": json.dumps(state)}))


def load_checkpoint(path: str | os.PathLike) -> tuple[dict[str, Tensor], dict[str, Any]]:
    try:
        with safe_open(str(path), framework="pt") as f:
            state = json.loads((f.metadata() or {})["state"])
            tensors = {name: f.get_tensor(name) for name in f.keys()}
    except (SafetensorError, KeyError, json.JSONDecodeError, OSError) as e:
        raise ArtifactError(f"the checkpoint {str(path)!r} cannot be read ({e}); start the run again without --resume") from None
    return tensors, state


def fingerprint(tensors: list[Tensor], described: dict[str, Any]) -> str:
    """SHA-256 of the training/validation tensors and a JSON-able description (options, model shape)."""
    digest = hashlib.sha256(json.dumps(described, sort_keys=True, default=str).encode("utf-8"))
    for t in tensors:
        t = t.detach().to("cpu").contiguous()
        digest.update(f"{t.dtype}{tuple(t.shape)}".encode())
        if t.numel():
            digest.update(t.view(torch.uint8).numpy().data)  # hashed in place, not copied to bytes
    return digest.hexdigest()


def split_optimizer_state(state: dict) -> tuple[dict[str, Tensor], dict]:
    """An optimiser's state_dict as tensors (per parameter) and JSON (param groups, scalar state)."""
    tensors, scalars = {}, {}
    for index, values in state["state"].items():
        for key, value in values.items():
            if isinstance(value, Tensor):
                tensors[f"optimizer/{index}/{key}"] = value
            else:
                scalars[f"{index}/{key}"] = value
    return tensors, {"param_groups": state["param_groups"], "scalars": scalars}


def join_optimizer_state(tensors: dict[str, Tensor], saved: dict) -> dict:
    state: dict[int, dict] = {}
    for name, value in tensors.items():
        if name.startswith("optimizer/"):
            _, index, key = name.split("/", 2)
            state.setdefault(int(index), {})[key] = value
    for name, value in saved["scalars"].items():
        index, key = name.split("/", 1)
        state.setdefault(int(index), {})[key] = value
    return {"state": state, "param_groups": saved["param_groups"]}


def remove_checkpoint(directory: str | os.PathLike) -> None:
    Path(directory, CHECKPOINT).unlink(missing_ok=True)
