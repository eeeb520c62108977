"""What every task estimator shares: scikit-learn's clone and parameter protocol, the notebook summary."""

import pytest
from sklearn.base import clone

from lstmkit.tasks.anomaly import AnomalyDetector
from lstmkit.tasks.classify import SequenceClassifier
from lstmkit.tasks.forecast import Forecaster
from lstmkit.tasks.panel import PanelForecaster
from lstmkit.tasks.tag import SequenceTagger
from lstmkit.tasks.textgen import TextGenerator


@pytest.mark.parametrize("cls", [Forecaster, PanelForecaster, SequenceClassifier, SequenceTagger, TextGenerator, AnomalyDetector])
def test_every_estimator_clones_and_summarises_its_options(cls):
    estimator = cls(seed=3, lr=0.005)
    copy = clone(estimator)  # scikit-learn checks that the constructor stores each parameter as given
    assert copy is not estimator and copy.get_params() == estimator.get_params()
    assert copy.config.training.seed == 3 and copy.config.training.lr == 0.005
    assert set(estimator.get_params()) >= {"seed", "lr", "epochs", "batch_size"}
    summary = estimator._repr_html_()
    assert cls.__name__ in summary and "seed" in summary and "batch_size" not in summary
