"""The estimator template every task follows: ``fit(train, validation=None)``, ``predict``, ``evaluate -> dict``,
``save(dir)``, ``Cls.load(dir)``.

``fit`` is one template: ``_prepare`` turns the task's data into tensors (sizes inferred from the data),
``_build`` makes the network, the generic :class:`~lstmkit.training.Trainer` trains it with the config's
:class:`~lstmkit.training.TrainingOptions`, ``_after_fit`` adds what the task reports. Saving and loading
go through one pair of hooks, ``_preprocessing`` (what the model needs besides its weights, as JSON) and
``_restore`` (the reverse), so that a loaded model needs nothing but its directory.
"""

from __future__ import annotations

import html
import itertools
import math
import os
from collections.abc import Sequence
from dataclasses import asdict, fields, replace
from pathlib import Path
from typing import Any, ClassVar

import torch
from torch import Tensor, nn

from lstmkit.checks import checked_fields
from lstmkit.errors import ArtifactError, UserError
from lstmkit.io.artifacts import check_state_dict, load_model, load_state_dict_checked, save_model
from lstmkit.io.export import ExportGraph
from lstmkit.io.export import export as export_model
from lstmkit.training import Callback, History, Trainer, TrainingOptions
from lstmkit.training.checkpoint import remove_checkpoint
from lstmkit.training.options import training_field_names


class Estimator:
    """Base class of the task estimators. Subclasses set ``kind`` and ``config_class`` and fill in the hooks."""

    kind: ClassVar[str]
    config_class: ClassVar[type]
    in_search = False  # a trial of --auto: _after_fit skips what only the final model reports (test scores)
    search: dict | None = None  # after fit(auto=...): the trial table and the best settings (lstmkit.training.search)

    def __init__(self, config=None, **overrides) -> None:
        self.config = configure(self.config_class, config, overrides, type(self).__name__)
        self.model: nn.Module | None = None
        self.history: History | None = None

    # ------------------------------------------------------------------------------ the template
    def fit(self, train, validation=None, *, callbacks: Sequence[Callback] = (), auto=False):
        """Train on ``train``; ``validation`` (the same kind of data) drives early stopping, else the task
        holds out part of ``train``. ``callbacks`` go to the Trainer (``trainer.model`` is the network in
        training). ``auto=True`` (or a :class:`~lstmkit.training.search.SearchOptions`) first searches the
        settings with Optuna within ``max_minutes`` (see :mod:`lstmkit.training.search`). Returns self."""
        if auto:
            from lstmkit.training.search import SearchOptions, auto_fit

            if int(os.environ.get("WORLD_SIZE", "1")) > 1:
                raise UserError(
                    "--auto does not run under torchrun: start the search as separate processes sharing one "
                    "study_storage= instead (each fits its own trials)"
                )

            options = auto if isinstance(auto, SearchOptions) else SearchOptions(max_minutes=self.config.training.max_minutes)
            return auto_fit(self, train, validation, options)
        tensors, val_tensors = self._prepare(train, validation)
        torch.manual_seed(self.config.training.seed)  # the same seed builds the same initial weights
        self.model = self._build()
        trainer = Trainer(self._training_options(), [*self._callbacks(), *callbacks], describe=self._describe(), **self._trainer_keywords())
        self.history = trainer.fit(self.model, self._loss, tensors, val_tensors)
        self._after_fit()
        return self

    def _prepare(self, train, validation) -> tuple[tuple[Tensor, ...], tuple[Tensor, ...] | None]:
        raise NotImplementedError

    def _build(self) -> nn.Module:
        raise NotImplementedError

    def _loss(self, model: nn.Module, batch: tuple[Tensor, ...]) -> Tensor:
        raise NotImplementedError

    def _callbacks(self) -> Sequence[Callback]:
        return ()

    def _training_options(self) -> TrainingOptions:
        """The options the Trainer gets; tasks that choose a budget from the data override this."""
        return self.config.training

    def _trainer_keywords(self) -> dict[str, Any]:
        """Trainer keywords of this task: how validation is held out, whether samples are shuffled."""
        return {}

    def _after_fit(self) -> None: ...

    def search_space(self, trial, train) -> dict[str, Any]:
        """``--auto``: one trial's settings (config field overrides) drawn from ``trial`` (an Optuna trial);
        ``train`` is the training data, for ranges that depend on its size."""
        raise UserError(f"{type(self).__name__} has no search space for --auto")

    def search_folds(self, train, validation) -> list[tuple[Any, Any]]:
        """``--auto``: the (train, validation) pairs each trial fits and is scored on (the mean of their
        best validation losses); one pair, the data as given, unless the task validates small data by folds."""
        return [(train, validation)]

    @property
    def refit_cost(self) -> float:
        """``--auto``: what the final fit of ``_auto_refit`` costs, in trials (0: none)."""
        return 0.0

    def _auto_refit(self, winner: Estimator, settings: dict):
        """``--auto``: the config to fit the best settings with once more (None: keep the best trial's model)."""
        return None

    def _describe(self) -> dict:
        """What defines a run besides the data and the training options (for checkpoint fingerprints)."""
        return {k: v for k, v in asdict(self.config).items() if k != "training"}

    # --------------------------------------------------------------------------- persistence hooks
    def _preprocessing(self) -> dict:
        """Everything besides the weights that predict/evaluate need, as JSON."""
        raise NotImplementedError

    def _saved_config(self) -> dict:
        """config.json's ``config``: the task config plus derived sizes (override to add them)."""
        return asdict(self.config)

    def _restore(self, config: dict, preprocessing: dict) -> None:
        """Set what ``_preprocessing`` saved, so that ``_build`` can make the network again."""
        raise NotImplementedError

    def export(self, path, format: str = "onnx") -> dict:
        """Write the trained network as ONNX (``format="onnx"``) or TorchScript (``"torchscript"``) to
        ``path``, with its description (inputs, outputs, preprocessing) in ``path + ".json"``; returns the
        description. See ``lstmkit.io.export``."""
        return export_model(self, path, format)

    def _export_graph(self) -> ExportGraph:
        """The ``lstmkit.io.export.ExportGraph`` of this task's inference function."""
        raise UserError(f"{type(self).__name__} cannot be exported yet")

    def save(self, directory) -> Path:
        """Write the model directory (config.json, model.safetensors, preprocessing.json), atomically.

        Saving a model whose training finished into its run directory (``checkpoint_dir``) retires the
        training checkpoint there."""
        model = self._need_model()
        history = self.history
        training = (
            None
            if history is None
            else {
                "epochs": len(history.epochs),
                "best_epoch": history.best_epoch,
                "steps": history.steps,
                "stopped_because": history.stopped_because,
                "interrupted": history.interrupted,
                "seconds": round(history.seconds, 3),
                "device": history.device,
            }
        )
        path = save_model(
            directory,
            kind=self.kind,
            config=self._saved_config(),
            state_dict=model.state_dict(),
            preprocessing=self._preprocessing(),
            training=training,
        )
        run_dir = self.config.training.checkpoint_dir
        if history is not None and not history.interrupted and run_dir and Path(run_dir).resolve() == path.resolve():
            remove_checkpoint(path)  # this model is the run's result: its checkpoint has nothing left to resume
        return path

    @classmethod
    def load(cls, directory):
        """The estimator saved in ``directory``, on the CPU, ready to predict and evaluate."""
        art = load_model(directory, kind=cls.kind)
        try:
            self = cls(config_from_dict(cls.config_class, art.config))
        except UserError as e:
            raise ArtifactError(f"{directory}: config.json does not hold valid settings ({e}); retrain, or restore the file") from None
        try:
            self._restore(art.config, art.preprocessing)
            with torch.device("meta"):  # sizes read from the files meet the weights before any memory is taken
                check_state_dict(self._build(), art.state_dict)
        except ArtifactError:
            raise
        except (UserError, KeyError, TypeError, ValueError, IndexError, AttributeError, RuntimeError) as e:
            # UserError: a field failed its check (lstmkit.checks.saved); the others: one no check foresaw
            detail = str(e) if isinstance(e, UserError) else f"{type(e).__name__}: {e}"
            raise ArtifactError(
                f"{directory}: the saved model is not valid ({' '.join(detail.split())}); it was edited or damaged: train or save it again"
            ) from None
        self.model = self._build()
        load_state_dict_checked(self.model, art.state_dict)
        self.model.eval()
        return self

    def _need_model(self) -> nn.Module:
        if self.model is None:
            name = type(self).__name__
            raise UserError(f"this {name} is not fitted yet; call fit(train) first or {name}.load(run_dir)")
        return self.model

    # ------------------------------------------------------- scikit-learn and notebook protocol
    def get_params(self, deep: bool = True) -> dict[str, Any]:
        """The options as keyword arguments of the constructor: the config's fields and the training
        options' (one flat namespace, as ``__init__`` takes them). With ``set_params``, this is what
        scikit-learn's ``clone``, ``GridSearchCV`` and ``cross_val_score`` use."""
        return _flat_options(self.config)

    def set_params(self, **params) -> Estimator:
        """Change options by name (checked as in the constructor). A fitted model is dropped: its weights
        belong to the old options (saving them beside the new ones would make a directory that cannot load)."""
        self.config = configure(self.config_class, self.config, params, type(self).__name__)
        self.model, self.history = None, None
        return self

    def __sklearn_is_fitted__(self) -> bool:
        return self.model is not None

    def _repr_html_(self) -> str:
        """A notebook's summary: the class, whether it is fitted, and the options that differ from the defaults."""
        defaults = _flat_options(self.config_class())
        changed = {k: v for k, v in self.get_params().items() if v != defaults[k]}
        state = "not fitted"
        if self.model is not None:
            parameters = sum(p.numel() for p in self.model.parameters())
            epochs = f", {len(self.history.epochs)} epochs" if self.history is not None else ""
            state = f"fitted: {parameters:,} weights{epochs}"
        rows = "".join(f"<tr><td>{html.escape(k)}</td><td>{html.escape(repr(v))}</td></tr>" for k, v in changed.items())
        options = f"<table>{rows}</table>" if rows else "<p>default options</p>"
        return f"<div><b>{type(self).__name__}</b> ({html.escape(state)}){options}</div>"

    @property
    def device(self) -> torch.device:
        """Where the model lives (inputs for inference are moved there)."""
        model = self._need_model()
        tensor = next(itertools.chain(model.parameters(), model.buffers()), None)
        return tensor.device if tensor is not None else torch.device("cpu")


def _flat_options(config) -> dict[str, Any]:
    """A task config's fields and its training options' in one namespace, as the estimators take them."""
    options = {f.name: getattr(config, f.name) for f in fields(config) if f.name != "training"}
    return options | {f.name: getattr(config.training, f.name) for f in fields(config.training)}


def configure(cls, config, overrides: dict, owner: str):
    """A task config: ``config`` (default ``cls()``) with keyword overrides, copied and checked.

    Overrides may name fields of the config or of its nested ``training`` options
    (``Forecaster(horizon=5, epochs=20)``)."""
    own = {f.name for f in fields(cls)}
    training_names = training_field_names()
    unknown = sorted(set(overrides) - own - training_names)
    if unknown:
        raise UserError(f"unknown {owner} option(s) {unknown}; the options are the fields of {cls.__name__} and of TrainingOptions")
    config = config or cls()
    if not isinstance(config, cls):
        raise UserError(f"{owner} takes a {cls.__name__}, got {type(config).__name__}")
    training = replace(overrides.get("training", config.training), **{k: v for k, v in overrides.items() if k in training_names})
    config = replace(config, training=training, **{k: v for k, v in overrides.items() if k in own and k != "training"})
    config = replace(config, **checked_fields(config))
    config.check()
    config.training.check()
    return config


def config_from_dict(cls, saved: dict):
    """A config from a saved config.json section, ignoring the keys that are not fields (derived values)."""
    known = {f.name for f in fields(cls)}
    values = {k: v for k, v in saved.items() if k in known and k != "training"}
    config = cls(**values)
    if isinstance(saved.get("training"), dict):
        names = training_field_names()
        config.training = replace(config.training, **{k: v for k, v in saved["training"].items() if k in names})
    # a loaded model predicts; it does not write or resume checkpoints of the run that made it
    config.training = replace(config.training, checkpoint_dir=None, resume=False)
    return config


def unpack_pair(data, name: str, parts: str) -> tuple:
    """``data`` as a pair, e.g. (X, y); anything else is a UserError naming ``parts``."""
    if not (isinstance(data, (tuple, list)) and len(data) == 2):
        raise UserError(f"{name} must be a pair {parts}, got {type(data).__name__}")
    return data[0], data[1]


# Upper bounds for sizes that build the network: far beyond any LSTM that fits in memory, low enough that a
# typo (--layers 1000000) or an edited config.json is refused at once instead of hanging or exhausting memory
SIZE_LIMITS = {"num_layers": 64, "ensemble": 64, "ngram_order": 10}
MAX_WIDTH = 8192  # embedding_dim, hidden_size and channel counts: 4 x 8192^2 weights per layer is 1 GB in float32
WIDTHS = ("embedding_dim", "hidden_size", "fcn_channels", "conv_channels", "char_dim", "char_channels")


def check_sizes(config, names: tuple[str, ...]) -> None:
    """The checks every model config shares: the named sizes (None allowed) at least 1 and within their limits
    (SIZE_LIMITS, MAX_WIDTH), dropout in [0, 1)."""
    for name in names:
        value = getattr(config, name)
        if value is not None and value < 1:
            raise UserError(f"{name} must be at least 1, got {value}")
        limit = MAX_WIDTH if name in WIDTHS else SIZE_LIMITS.get(name)
        if value is not None and limit is not None and value > limit:
            raise UserError(f"{name} must be at most {limit}, got {value}; lstmkit refuses sizes beyond any network that fits in memory")
    if config.dropout is not None and not 0 <= config.dropout < 1:
        raise UserError(f"dropout must be in [0, 1), got {config.dropout}")


def trim_padding(batch: tuple):
    """A batch (inputs, lengths, ...) cut to its own longest sequence: Trainer batches are slices of
    tensors padded to the longest sequence of all the data, so most of their padding is wasted work."""
    steps = int(batch[1].max())
    return tuple(t[:, :steps] if t.dim() > 1 else t for t in batch)


EPOCH_BATCHES = 20  # the fewest optimiser steps between two validation checks


def sized_training(tensors: tuple[Tensor, ...], batch_size: int, steps: int, epochs: int | None) -> tuple[tuple[Tensor, ...], int]:
    """Training sized by the data: (tensors, epochs) for about ``steps`` optimiser steps in 20..300 epochs
    (``epochs``, when given, wins). A small training set repeats within an epoch, so that an epoch is at
    least EPOCH_BATCHES steps and patience counts validation checks that are that many steps apart (50
    samples would otherwise get one step per epoch and stop after a handful of updates)."""
    n = len(tensors[0])
    repeats = max(1, math.ceil(EPOCH_BATCHES * batch_size / n))
    if repeats > 1:  # a large training set is not copied
        tensors = tuple(t.repeat(repeats, *([1] * (t.dim() - 1))) for t in tensors)
    batches = math.ceil(repeats * n / batch_size)
    return tensors, epochs or int(min(300, max(20, math.ceil(steps / batches))))
