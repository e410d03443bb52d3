"""Inference over the distinct samples of a run: each sample inferred once, failures kept per sample."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Hashable, Iterable
from typing import Any

from .failure import Failure


@dataclasses.dataclass
class Inferred:
    """Inferences and failures by sample key, and how many inferences came from the cache."""

    inferences: dict[Hashable, Any]
    failures: dict[Hashable, Failure]
    from_cache: int = 0


def infer_distinct(
    infer: Callable[[Any], Any],
    samples: Iterable[Any],
    key: Callable[[Any], Hashable],
    cache: Any = None,
) -> Inferred:
    """Call `infer` once per distinct sample not in `cache` (get, put, flush); an exception on one sample is
    recorded for that sample and the others go on. What was inferred is flushed to the cache even on Ctrl-C."""
    out = Inferred({}, {})
    try:
        for sample in samples:
            k = key(sample)
            if k in out.inferences or k in out.failures:
                continue
            cached = cache.get(sample) if cache is not None else None
            if cached is not None:
                out.inferences[k] = cached
                out.from_cache += 1
                continue
            try:
                inference = infer(sample)
            except Exception as error:
                out.failures[k] = Failure.from_exception("infer", error)
                continue
            out.inferences[k] = inference
            if cache is not None:
                cache.put(sample, inference)
    finally:
        if cache is not None:
            cache.flush()
    return out
