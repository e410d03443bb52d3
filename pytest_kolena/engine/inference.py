"""Inference over the distinct samples of a run: each sample inferred once, failures kept per sample."""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterable
from typing import Any

from .failure import Failure


def infer_distinct(
    infer: Callable[[Any], Any],
    samples: Iterable[Any],
    key: Callable[[Any], Hashable],
) -> tuple[dict[Hashable, Any], dict[Hashable, Failure]]:
    """Call `infer` once per distinct sample; return inferences and failures, both by sample key.

    An exception on one sample is recorded for that sample and the others go on.
    """
    inferences: dict[Hashable, Any] = {}
    failures: dict[Hashable, Failure] = {}
    for sample in samples:
        k = key(sample)
        if k in inferences or k in failures:
            continue
        try:
            inferences[k] = infer(sample)
        except Exception as error:
            failures[k] = Failure.from_exception("infer", error)
    return inferences, failures
