"""``--auto``: automatic model selection within a budget, for every task, with Optuna.

A TPE sampler proposes each trial's settings from the estimator's ``search_space(trial)``; the trial
fits a copy of the estimator on the training data and is scored by its best validation loss (the
validation part only; the test part is never seen). A median pruner stops trials whose validation loss
trails the median of earlier trials at the same epoch. The best settings are then fitted once more
(``Estimator._auto_refit``: the forecaster refits on training + validation rows for the epochs the
best trial needed; the other tasks keep the best trial's model).

The study lives in memory unless ``storage`` names an Optuna storage: an RDB URL
(``sqlite:///study.db``, ``postgresql://...``) or ``journal:PATH`` (a journal file, safe for several
processes on one machine or a shared file system). Several processes or machines that name the same
storage and study run trials of one study and see each other's: the way to scale the search out.
"""

from __future__ import annotations

import math
import os
import socket
import statistics
import sys
import time
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

from lstmkit.errors import UserError
from lstmkit.training.trainer import Callback

if TYPE_CHECKING:
    import optuna

    from lstmkit.tasks.base import Estimator
    from lstmkit.training.trainer import History, Trainer


@dataclass
class SearchOptions:
    trials: int | None = None  # at most this many trials in this process; None: as many as the budget allows
    max_minutes: float | None = None  # the whole search and the final fit; None: the trials alone bound it
    storage: str | None = None  # an Optuna RDB URL or journal:PATH; None: in memory
    study_name: str | None = None  # None: lstmkit-<task>

    def check(self) -> None:
        if self.trials is not None and (not isinstance(self.trials, int) or self.trials < 1):
            raise UserError(f"trials must be a whole number of at least 1, got {self.trials!r}")
        if self.max_minutes is not None and not (math.isfinite(self.max_minutes) and self.max_minutes > 0):
            raise UserError(f"max_minutes must be a positive number, got {self.max_minutes!r}")
        if self.trials is None and self.max_minutes is None:
            raise UserError("--auto (auto=True) needs a budget: --max-minutes (max_minutes=), --trials (SearchOptions(trials=)), or both")


def open_storage(url: str | None):
    """An Optuna storage from a URL: None (in memory), ``journal:PATH`` or an RDB URL."""
    import optuna

    if url is None:
        return None
    if url.startswith("journal:"):
        from optuna.storages.journal import JournalFileBackend

        path = url[len("journal:") :]
        if not path:
            raise UserError("--study-storage journal: needs a file path, e.g. journal:runs/study.journal")
        return optuna.storages.JournalStorage(JournalFileBackend(path))
    if "://" not in url:
        raise UserError(f"--study-storage {url!r} is not a storage URL; use journal:PATH or an RDB URL such as sqlite:///study.db")
    try:
        return optuna.storages.RDBStorage(url)
    except Exception as error:  # SQLAlchemy raises many kinds; all mean the same to the user
        raise UserError(f"--study-storage {url!r} cannot be opened: {error}") from None


class _Configured:
    """Answers a search space's questions with the config's own values (a trial of the configured settings);
    a value the config leaves to the data (None) takes the middle choice, which the spaces centre on the default."""

    def __init__(self, config) -> None:
        self.config = config
        self.asked: dict[str, Any] = {}

    def _value(self, name: str):
        if hasattr(self.config, name):
            return getattr(self.config, name)
        return getattr(self.config.training, name, None)

    def suggest_categorical(self, name: str, choices):
        value = self._value(name)
        self.asked[name] = value if value in choices else choices[len(choices) // 2]
        return self.asked[name]

    def suggest_int(self, name: str, low: int, high: int, **_) -> int:
        self.asked[name] = int(min(max(self._value(name), low), high))
        return self.asked[name]

    def suggest_float(self, name: str, low: float, high: float, **_) -> float:
        self.asked[name] = float(min(max(self._value(name), low), high))
        return self.asked[name]


class _Pruning(Callback):
    """Reports each epoch's validation loss to the trial and stops the fit when the pruner says so."""

    def __init__(self, trial: optuna.Trial) -> None:
        self.trial, self.pruned = trial, False

    def on_epoch_end(self, trainer: Trainer, record: dict) -> None:
        if record["val_loss"] is None:
            return
        self.trial.report(record["val_loss"], record["epoch"])
        if self.trial.should_prune():
            self.pruned = trainer.should_stop = True


def auto_fit(estimator: Estimator, train, validation=None, options: SearchOptions | None = None) -> Estimator:
    """Search ``estimator``'s settings on ``train`` (and ``validation``), then fit the best into ``estimator``.

    ``estimator.search`` afterwards holds the trial table (every trial of the study, this process's and
    other workers'), the best settings and score, and where the study lives."""
    import optuna

    options = options or SearchOptions()
    options.check()
    if estimator.config.training.log:
        raise UserError("--log (log=) records one training run and --auto trains many: drop one of them")
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    base = estimator.config
    seed = base.training.seed
    shared = options.storage is not None
    study = optuna.create_study(
        study_name=options.study_name or f"lstmkit-{estimator.kind}",
        storage=open_storage(options.storage),
        load_if_exists=True,
        direction="minimize",
        # workers of one shared study must not propose the same settings: each seeds its sampler apart
        sampler=optuna.samplers.TPESampler(seed=seed + (os.getpid() if shared else 0), n_startup_trials=5),
        pruner=optuna.pruners.MedianPruner(n_startup_trials=3, n_warmup_steps=5),
    )
    if not study.trials:  # the configured settings are the first trial: the search can only find better on validation
        configured = _Configured(base)
        estimator.search_space(configured, train)
        study.enqueue_trial(configured.asked, skip_if_exists=True)
    folds = estimator.search_folds(train, validation)
    worker = f"{socket.gethostname()}:{os.getpid()}"
    started = time.monotonic()
    deadline = started + options.max_minutes * 60 if options.max_minutes else math.inf
    verbose = base.training.verbose
    best: tuple[float, Estimator, Any] | None = None
    # Each trial may take an eighth of the budget, so that several run; the final fit is kept room for
    # (the longest trial times the refit's cost: an ensemble of N costs N trials).
    trial_cap = options.max_minutes * 60 / 8 if options.max_minutes else math.inf
    longest = 0.0
    done = unscored = 0
    while options.trials is None or done < options.trials:
        left = math.inf
        if options.max_minutes:
            left = deadline - time.monotonic() - max(longest, trial_cap if done == 0 else 0.0) * estimator.refit_cost
        if left <= 1.0 and done > 0:
            break
        trial = study.ask()
        trial.set_user_attr("worker", worker)
        overrides = estimator.search_space(trial, train)
        budget = None if math.isinf(left) else max(min(left, trial_cap), 1.0) / 60
        pruning = _Pruning(trial)
        trial_started = time.monotonic()
        share = None if budget is None else budget / len(folds)
        fitted: list[History] = []  # the folds' histories
        candidates: list[Estimator] = []  # the first is fitted on the data as given
        try:
            # one fit per fold, each with its share of the trial's time; only the first reports to the pruner
            # (the folds' epochs are not one sequence of steps)
            for fold_train, fold_validation in folds:
                candidate = type(estimator)(
                    base, **overrides, max_minutes=share, verbose=False, checkpoint_dir=None, resume=False, log=None
                )
                candidate.in_search = True
                candidate.fit(fold_train, fold_validation, callbacks=[] if candidates else [pruning])
                assert candidate.history is not None
                candidates.append(candidate)
                fitted.append(candidate.history)
                if pruning.pruned or candidate.history.interrupted or candidate.history.best_val_loss is None:
                    break
        except UserError as error:  # settings that do not fit this data (a lookback too long ...) fail the trial only
            study.tell(trial, state=optuna.trial.TrialState.FAIL)
            _progress(verbose, trial.number, f"failed: {error}", overrides, 0.0)
            done += 1
            continue
        seconds = time.monotonic() - trial_started
        longest = max(longest, seconds)
        history = fitted[0]
        if any(h.interrupted for h in fitted):
            study.tell(trial, state=optuna.trial.TrialState.FAIL)
            raise KeyboardInterrupt
        losses = [h.best_val_loss for h in fitted if h.best_val_loss is not None]
        score = float(sum(losses) / len(losses)) if len(losses) == len(folds) else None
        epochs = [h.best_epoch for h in fitted if h.best_epoch is not None]
        best_epoch = statistics.median_low(epochs) if epochs else None
        trial.set_user_attr("best_epoch", best_epoch)
        trial.set_user_attr("seconds", round(seconds, 2))
        if "budget" in history.stopped_because and len(history.epochs) < 2:
            study.tell(trial, state=optuna.trial.TrialState.FAIL)  # one epoch cut short says nothing about the settings
            _progress(verbose, trial.number, "the budget ran out in its first epoch", overrides, seconds)
        elif pruning.pruned:
            study.tell(trial, state=optuna.trial.TrialState.PRUNED)
            _progress(verbose, trial.number, "pruned", overrides, seconds)
        elif score is None or not math.isfinite(score):
            unscored += history.best_val_loss is None
            study.tell(trial, state=optuna.trial.TrialState.FAIL)
            _progress(verbose, trial.number, "no validation score", overrides, seconds)
        else:
            study.tell(trial, score)
            if best is None or score < best[0]:
                best = (score, candidates[0], overrides | {"best_epoch": best_epoch})
            _progress(verbose, trial.number, f"score {score:.5g} (best here {best[0]:.5g})", overrides, seconds)
        done += 1
    if best is None and done > 0 and unscored == done:
        # every trial trained but none could be validated (a series too short to hold out a horizon): no
        # search is possible, so the configured settings are fitted as they are
        print("--auto: the data leaves no validation rows to score trials on; fitting the configured settings instead", file=sys.stderr)
        estimator.fit(train, validation)
        estimator.search = _summary(study, options, None, done, started) | {"fallback": "no validation rows"}
        return estimator
    if best is None:
        spent = (time.monotonic() - started) / 60
        raise UserError(
            f"--auto: no trial finished with a validation score in {spent:.2g} minutes ({done} tried); "
            "the budget is too small for even one trial: raise --max-minutes or --trials"
        )
    score, winner, settings = best
    if estimator.refit_cost and study.best_trial.value is not None and study.best_trial.value < score:
        # another worker of a shared study found better settings: the final fit takes those
        shared_best = study.best_trial
        score = shared_best.value
        settings = estimator.search_space(optuna.trial.FixedTrial(shared_best.params), train) | {
            "best_epoch": shared_best.user_attrs.get("best_epoch")
        }
        winner = type(estimator)(base, **{k: v for k, v in settings.items() if k != "best_epoch"})
    refit = estimator._auto_refit(winner, settings)
    if refit is None:
        estimator.__dict__.update(winner.__dict__)
        # the searched settings stay; how and where training ran comes back from the user's options
        kept = {name: getattr(base.training, name) for name in ("max_minutes", "verbose", "checkpoint_dir", "resume")}
        estimator.config = replace(winner.config, training=replace(winner.config.training, **kept))
    else:
        left = deadline - time.monotonic()
        minutes = None if math.isinf(left) else max(left, 1.0) / 60
        config = replace(refit, training=replace(refit.training, max_minutes=minutes, verbose=verbose))
        estimator.config = config
        estimator.fit(train, validation)
        estimator.config = replace(config, training=replace(config.training, max_minutes=base.training.max_minutes))
    estimator.search = _summary(study, options, {"score": score, "settings": settings}, done, started)
    return estimator


def _summary(study: optuna.Study, options: SearchOptions, best: dict | None, done: int, started: float) -> dict:
    """What ``estimator.search`` holds after a search."""
    return {
        "study_name": study.study_name,
        "storage": options.storage or "memory",
        "best": best,
        "trials_here": done,
        "trials": trial_table(study),
        "seconds": round(time.monotonic() - started, 2),
    }


def trial_table(study: optuna.Study) -> list[dict]:
    """One row per trial of the study: number, state, score, settings, worker, seconds, best epoch."""
    return [
        {
            "number": t.number,
            "state": t.state.name.lower(),
            "score": t.value,
            **t.params,
            "worker": t.user_attrs.get("worker"),
            "seconds": t.user_attrs.get("seconds"),
            "best_epoch": t.user_attrs.get("best_epoch"),
        }
        for t in study.get_trials(deepcopy=False)
    ]


def _progress(verbose: bool, number: int, what: str, overrides: dict, seconds: float) -> None:
    if verbose:
        settings = " ".join(f"{k}={v:.3g}" if isinstance(v, float) else f"{k}={v}" for k, v in overrides.items())
        print(f"trial {number}: {what}; {settings} ({seconds:.1f} s)", file=sys.stderr, flush=True)
