"""--auto: the Optuna search, its budget, its trial table, and a study shared by two worker processes."""

import json
import subprocess
import sys
import textwrap

import numpy as np
import pandas as pd
import pytest

from lstmkit.errors import UserError
from lstmkit.tasks.forecast import Forecaster
from lstmkit.training.search import SearchOptions, open_storage


def _series(n=160):
    t = np.arange(n)
    return pd.DataFrame({"y": np.sin(2 * np.pi * t / 12) + 0.02 * t + np.random.default_rng(0).normal(0, 0.1, n)})


def test_auto_scores_trials_on_validation_and_refits_the_best_on_train_and_validation():
    model = Forecaster(horizon=6, season=12, epochs=4, verbose=False)
    model.fit(_series(), auto=SearchOptions(trials=3))
    search = model.search
    assert len(search["trials"]) == 3 and search["trials_here"] == 3
    finished = [t for t in search["trials"] if t["state"] == "complete"]
    assert search["best"]["score"] == min(t["score"] for t in finished)
    best = search["best"]["settings"]
    assert model.lookback == best["lookback"] and model.config.hidden_size == best["hidden_size"]
    # the final fit: the best settings on training + validation rows, for the best trial's epochs, as an ensemble
    assert model.config.val_fraction == 0.0 and model.config.ensemble == 3
    assert len(model.history.epochs) == best["best_epoch"] and model.history.best_val_loss is None
    assert model.metrics is not None and model.metrics["origins"] > 0  # the test rows were never searched on


def test_auto_scores_a_short_series_on_rolling_origins():
    # 60 rows: 12 test, 6 validation (one horizon): too few to choose by, so each trial also fits the rows
    # up to one and two horizons earlier and is scored on the mean of the three validation losses
    data = _series(60)
    base = {"horizon": 6, "season": 12, "epochs": 3, "ensemble": 1, "verbose": False}
    model = Forecaster(**base)
    folds = model.search_folds(data, None)
    assert [(len(train), len(val)) for train, val in folds] == [(42, 6), (36, 6), (30, 6)]
    assert all(val.values[-1, 0] == data["y"].iloc[len(train) + 5] for train, val in folds)  # validation follows its training rows
    model.fit(data, auto=SearchOptions(trials=1))
    settings = {k: v for k, v in model.search["best"]["settings"].items() if k != "best_epoch"}
    losses = [Forecaster(**base | settings).fit(train, val).history.best_val_loss for train, val in folds]
    assert model.search["best"]["score"] == pytest.approx(np.mean(losses), rel=1e-6)
    # given validation rows, or a long series, are scored as they are
    assert len(model.search_folds(data.iloc[:48], data.iloc[48:])) == 1
    assert len(model.search_folds(_series(400), None)) == 1


def test_auto_without_a_budget_or_with_too_small_a_budget_is_refused():
    with pytest.raises(UserError, match="needs a budget"):
        Forecaster(horizon=6, verbose=False).fit(_series(), auto=True)
    big = pd.DataFrame({"y": np.sin(np.arange(20_000) / 7)})
    with pytest.raises(UserError, match="too small for even one trial"):
        Forecaster(horizon=6, verbose=False, hidden_size=128, max_minutes=0.001).fit(big, auto=True)


def test_bad_storage_urls_are_named():
    with pytest.raises(UserError, match="not a storage URL"):
        open_storage("study.db")
    with pytest.raises(UserError, match="needs a file path"):
        open_storage("journal:")


WORKER = textwrap.dedent(
    """
    import json, sys
    import numpy as np, pandas as pd
    from lstmkit.tasks.forecast import Forecaster
    from lstmkit.training.search import SearchOptions
    t = np.arange(160)
    frame = pd.DataFrame({"y": np.sin(2 * np.pi * t / 12) + 0.02 * t})
    model = Forecaster(horizon=6, season=12, epochs=2, ensemble=1, test_fraction=0.0, verbose=False)
    model.fit(frame, auto=SearchOptions(trials=3, storage=sys.argv[1], study_name="shared"))
    print(json.dumps(model.search["trials"]))
    """
)


@pytest.mark.slow
def test_two_worker_processes_share_one_file_backed_study(tmp_path):
    import optuna

    storage = f"journal:{tmp_path / 'study.journal'}"
    workers = [subprocess.Popen([sys.executable, "-c", WORKER, storage], stdout=subprocess.PIPE, text=True) for _ in range(2)]
    tables = [json.loads(w.communicate(timeout=600)[0]) for w in workers]
    assert all(w.returncode == 0 for w in workers)
    study = optuna.load_study(study_name="shared", storage=open_storage(storage))
    assert len(study.trials) == 6 and len({t.number for t in study.trials}) == 6
    assert len({t.user_attrs["worker"] for t in study.trials}) == 2  # each worker ran its own trials
    # whichever finished last saw the other's trials in its table
    assert max(len(table) for table in tables) == 6
