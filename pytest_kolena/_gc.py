"""Pausing the cyclic garbage collector while large results are built."""

from __future__ import annotations

import contextlib
import gc
from collections.abc import Iterator


@contextlib.contextmanager
def no_cyclic_gc() -> Iterator[None]:
    """No cyclic garbage collection while a suite loads, a model run builds its results, a baseline is read, a run
    judged or recorded: they make hundreds of thousands of objects and no cycles, and each full collection would
    walk every live object again (measured: 6.5 s of a 28 s run on 100,000 samples). Reference counting still frees
    everything as usual; cycles made meanwhile are collected after."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def keep_long_lived() -> None:
    """Move every object alive now (a suite just loaded: a few objects per sample, alive until the session ends) out
    of the cyclic collector's reach: its full collections no longer walk them again and again (at 100,000 samples one
    falls inside inference and cost a third of its rate). Not a pause: new objects are collected as usual, and
    reference counting frees the frozen ones as ever; `release_long_lived` hands them back."""
    gc.freeze()


def release_long_lived() -> None:
    """The objects `keep_long_lived` moved, back to the collector (the session ends: its suites are dropped)."""
    gc.unfreeze()
