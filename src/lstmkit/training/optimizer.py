"""torch's AdamW, called without the ``torch._dynamo`` import that its decorators trigger.

In eager mode ``torch.optim.Optimizer`` wraps ``__init__``'s ``add_param_group``, ``zero_grad``,
``state_dict``, ``load_state_dict`` and ``step`` in decorators that exist for ``torch.compile``; the
first call of any of them imports ``torch._dynamo`` (and sympy with it): 1.2 s before the first batch
on an idle 2-core machine, more on a busy one, longer than a small model's whole training. The
undecorated functions are the same code, so the updates are bit-identical (tests/training).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import torch


def _undecorated(function: Callable) -> Callable:
    # functools.wraps keeps the original as __wrapped__; a torch without the decorator has none
    return getattr(function, "__wrapped__", function)


class AdamW(torch.optim.AdamW):
    """``torch.optim.AdamW`` for eager training: the same updates, no dynamo import. The step runs under
    ``no_grad``, so ``differentiable=True`` is refused."""

    def __init__(self, params, *args: Any, **keywords: Any) -> None:
        if keywords.get("differentiable"):
            raise ValueError("lstmkit's AdamW steps under no_grad; use torch.optim.AdamW for a differentiable optimizer")
        super().__init__(params, *args, **keywords)

    add_param_group = _undecorated(torch.optim.Optimizer.add_param_group)
    zero_grad = _undecorated(torch.optim.Optimizer.zero_grad)
    state_dict = _undecorated(torch.optim.Optimizer.state_dict)
    load_state_dict = _undecorated(torch.optim.Optimizer.load_state_dict)

    @torch.no_grad()  # what the step's decorator does in eager mode (the optimizer is not differentiable)
    def step(self, closure: Callable[[], Any] | None = None) -> Any:
        # AdamW's own step (torch before 2.7 defines one; later ones inherit Adam's)
        return _undecorated(torch.optim.AdamW.step)(self, closure)
