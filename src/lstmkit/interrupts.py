"""Ctrl-C and SIGTERM as requests to stop at the next safe point: the first one asks, the second aborts.

The Trainer stops after the current batch; the command line's training commands finish writing their run
directory. Kept free of torch so that the command line can install it before importing the library.
"""

from __future__ import annotations

import contextlib
import signal
import threading
from collections.abc import Callable, Iterator
from typing import Any


class _Interrupts:
    """A SIGINT/SIGTERM handler: the first signal calls ``first(signum)`` and work goes on; the next raises
    KeyboardInterrupt. Nested handlers share what was asked: one caught by an outer handler (say, while
    the data was read) counts as the first for an inner one, and one caught inside counts outside too."""

    def __init__(self, first: Callable[[int], None], outer: Any) -> None:
        self.first = first
        self.outer: _Interrupts | None = outer if isinstance(outer, _Interrupts) else None
        self.requested: bool = self.outer is not None and self.outer.requested

    def __call__(self, signum: int, frame: Any) -> None:
        if self.requested:
            raise KeyboardInterrupt
        self.requested = True
        outer = self.outer
        while outer is not None:
            outer.requested, outer = True, outer.outer
        self.first(signum)


@contextlib.contextmanager
def on_interrupt(first: Callable[[int], None]) -> Iterator[_Interrupts]:
    """Handle SIGINT and SIGTERM with an ``_Interrupts`` while the block runs (outside the main thread,
    where signals cannot be caught, the handler is returned but not installed)."""
    handler = _Interrupts(first, signal.getsignal(signal.SIGINT))
    if threading.current_thread() is not threading.main_thread():
        yield handler
        return
    previous = {sig: signal.signal(sig, handler) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield handler
    finally:
        for sig, action in previous.items():
            signal.signal(sig, action)
