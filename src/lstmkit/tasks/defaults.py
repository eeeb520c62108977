"""Each task's default training options. Kept apart from the task modules, which import torch, so that
the command line can show them in ``--help`` without paying for that import."""

from __future__ import annotations

from lstmkit.training.options import TrainingOptions


def forecast_training() -> TrainingOptions:
    # epochs None: about 1,200 optimiser steps, 20..300 epochs, chosen from the data size (benchmarks/eval.py)
    return TrainingOptions(batch_size=32, lr=3e-3, patience=10, min_improvement=0.05, clip_grad_norm=1.0)


def textgen_training() -> TrainingOptions:
    # batch_size: B parallel streams (tbptt) or windows per batch
    return TrainingOptions(epochs=50, batch_size=32, lr=2e-3, patience=5, clip_grad_norm=1.0)


def classify_training() -> TrainingOptions:
    # epochs None: about 1,000 optimiser steps, 20..300 epochs of at least 20 steps (tasks/classify.py);
    # schedule auto: cosine for the small sets that train without a validation part
    return TrainingOptions(batch_size=64, lr=2e-3, patience=3, clip_grad_norm=5.0, schedule="auto")


def tag_training() -> TrainingOptions:
    # epochs None: about 1,000 optimiser steps, 20..300 epochs of at least 20 steps (tasks/tag.py); patience
    # 6 of those: 3 stopped 200 People's Daily sentences after 250 steps at entity F1 0.364, 6 reached 0.401
    return TrainingOptions(batch_size=32, lr=2e-3, patience=6, clip_grad_norm=5.0)
