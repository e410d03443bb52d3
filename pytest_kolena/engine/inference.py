"""Inference over the distinct samples of a run: each sample inferred once, failures kept per sample."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from typing import Any

from .failure import Failure


@dataclasses.dataclass
class Inferred:
    """Inferences and failures by sample position, and how many inferences came from the cache."""

    inferences: dict[int, Any]
    failures: dict[int, Failure]
    from_cache: int = 0


def infer_distinct(
    infer: Callable[[Any], Any],
    samples: Sequence[Any],
    ids: Sequence[str],
    cache: Any = None,
) -> Inferred:
    """Call `infer` on each distinct sample not in `cache` (get, put, flush by sample id); an exception on one
    sample is recorded for that sample and the others go on. What was inferred is flushed even on Ctrl-C."""
    out = Inferred({}, {})
    try:
        for position, (sample, sample_id) in enumerate(zip(samples, ids)):
            cached = cache.get(sample_id) if cache is not None else None
            if cached is not None:
                out.inferences[position] = cached
                out.from_cache += 1
                continue
            try:
                inference = infer(sample)
            except Exception as error:
                out.failures[position] = Failure.from_exception("infer", error)
                continue
            out.inferences[position] = inference
            if cache is not None:
                cache.put(sample_id, inference)
    finally:
        if cache is not None:
            cache.flush()
    return out
