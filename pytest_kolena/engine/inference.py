"""Inference over the distinct samples of a run: each sample inferred once, in batches, serially or on an executor
(`concurrent.futures` interface); failures kept per sample; the results in sample order whatever the executor."""

from __future__ import annotations

import concurrent.futures
import dataclasses
from collections.abc import Callable, MutableMapping, Sequence
from typing import Any

from .failure import Failure
from .results import Progress


class StallError(Exception):
    """An executor that stopped making progress: no task finished within the stall timeout, or it cancelled tasks
    itself (a Dask client that lost its scheduler). The run gives up on its tasks."""

    def __init__(self, message: str, timed_out: bool = False) -> None:
        super().__init__(message)
        self.timed_out = timed_out  # no task finished in time (not: the executor cancelled one)


TAKEN = 1024  # samples made at once for inference here (not on an executor: its batches are made as submitted)


@dataclasses.dataclass
class Inferred:
    """Inferences and failures by sample position, and how many inferences came from the cache."""

    inferences: Any  # by position: a dict, or what infer_distinct was given to keep them (columns)
    failures: dict[int, Failure]
    from_cache: int = 0
    retried_batches: int = 0  # batches on which infer_batch raised and infer retried each sample
    retried_because: Failure | None = None  # the first of those errors


@dataclasses.dataclass(frozen=True)
class Inferrer:
    """What a worker runs on a batch of samples: the model's `infer_batch`, else its `infer` on each sample, and
    the check of the inference's type. Picklable when the model's functions are (for processes and Dask)."""

    infer: Callable[[Any], Any] | None
    infer_batch: Callable[[list[Any]], Sequence[Any]] | None
    expected: type

    def __call__(self, samples: list[Any]) -> tuple[list[Any], Failure | None]:
        """An inference or a Failure per sample, in order; and the error of infer_batch when `infer` retried the
        batch sample by sample."""
        retried = None
        if self.infer_batch is not None:
            try:
                inferences = list(self.infer_batch(samples))
                if len(inferences) != len(samples):
                    raise ValueError(f"infer_batch returned {len(inferences)} inferences for {len(samples)} samples")
                return [self._checked(inference) for inference in inferences], None
            except Exception as error:
                retried = Failure.from_exception(f"infer_batch (on a batch of {len(samples)})", error)
                if self.infer is None:
                    return [retried] * len(samples), None
        return [self._one(sample) for sample in samples], retried

    def _one(self, sample: Any) -> Any:
        try:
            return self._checked(self.infer(sample))
        except Exception as error:
            return Failure.from_exception("infer", error)

    def _checked(self, inference: Any) -> Any:
        if isinstance(inference, self.expected):
            return inference
        error = TypeError(f"infer returned {type(inference).__name__}, expected {self.expected.__name__}")
        return Failure.from_exception("infer", error)


def infer_distinct(
    inferrer: Callable[[list[Any]], tuple[list[Any], Failure | None]],
    samples: Sequence[Any],
    ids: Sequence[str],
    cache: Any = None,
    executor: concurrent.futures.Executor | None = None,
    batch_size: int = 32,
    progress: Progress | None = None,
    workers: int = 1,
    stall_timeout: float | None = None,
    inferences: MutableMapping[int, Any] | None = None,
) -> Inferred:
    """Infer each distinct sample not in `cache` (get, put, flush by sample id), `batch_size` samples per call, on
    `executor` with `workers` workers (None: here, one batch after another). An exception on one sample is that
    sample's failure and the others go on; the inferences are kept in `inferences` (a dict unless given). What was
    inferred is flushed to the cache even on Ctrl-C, and when no task of the executor finishes for `stall_timeout`
    seconds (StallError)."""
    out = Inferred({} if inferences is None else inferences, {})
    todo = []
    encoded = _cached_encoded(cache, ids, out.inferences)
    out.from_cache = len(encoded)
    rest = [p for p in range(len(ids)) if p not in encoded]
    found = _cached(cache, [ids[p] for p in rest])
    for k, (position, cached) in enumerate(zip(rest, found)):
        if cached is None:
            todo.append(position)
        else:
            out.inferences[position] = cached
            out.from_cache += 1
            found[k] = None  # (held by `inferences` only, which may keep them as columns)
    batches = [todo[start : start + batch_size] for start in range(0, len(todo), batch_size)]
    done = out.from_cache

    def keep(batch: list[int], outcome: tuple[list[Any], Failure | None]) -> None:
        nonlocal done
        results, retried = outcome
        if retried is not None:
            out.retried_batches += 1
            out.retried_because = out.retried_because or retried
        for position, result in zip(batch, results):
            if isinstance(result, Failure):
                out.failures[position] = result
                continue
            out.inferences[position] = result
            if cache is not None:
                cache.put(ids[position], result)
        done += len(batch)
        if progress is not None:
            progress("inference", done, len(ids))

    try:
        if progress is not None:
            progress("inference", done, len(ids))
        if executor is None:
            per_take = max(1, TAKEN // max(1, batch_size))  # batches whose samples are made at once
            for start in range(0, len(batches), per_take):
                group = batches[start : start + per_take]
                made = iter(_batch(samples, [p for batch in group for p in batch]))
                for batch in group:
                    keep(batch, inferrer([next(made) for _ in batch]))
        else:
            _on_executor(executor, 4 * workers, inferrer, samples, batches, keep, stall_timeout)
    finally:
        if cache is not None:
            cache.flush()
    return out


def _batch(samples: Sequence[Any], positions: list[int]) -> list[Any]:
    """The samples at `positions`: made at once where the samples are made on demand (`take`)."""
    take = getattr(samples, "take", None)
    return take(positions) if take is not None else [samples[p] for p in positions]


def _cached_encoded(cache: Any, ids: Sequence[str], inferences: Any) -> set[int]:
    """The positions whose cached inference went to `inferences` as stored (a cache's typed chunks to a holder of
    inferences as columns: no object made), where both can."""
    if cache is None or not hasattr(cache, "get_encoded") or not hasattr(inferences, "add_encoded"):
        return set()
    done: set[int] = set()
    for positions, column, metadata in cache.get_encoded(list(ids)):
        inferences.add_encoded(positions, column, metadata)
        done.update(positions)
    return done


def _cached(cache: Any, ids: Sequence[str]) -> list[Any]:
    """The cached inference of each sample (None where none), read at once where the cache can (`get_many`)."""
    if cache is None:
        return [None] * len(ids)
    if hasattr(cache, "get_many"):
        return cache.get_many(list(ids))
    return [cache.get(sample_id) for sample_id in ids]


def _on_executor(
    executor: concurrent.futures.Executor,
    window: int,
    inferrer: Callable[[list[Any]], tuple[list[Any], Failure | None]],
    samples: Sequence[Any],
    batches: list[list[int]],
    keep: Callable[[list[int], tuple[list[Any], Failure | None]], None],
    stall_timeout: float | None = None,
) -> None:
    """Submit the batches, a bounded number at a time (memory, and Ctrl-C stops soon); keep each as it finishes. A
    batch whose task failed (a worker that died, a broken pool, a module the workers lack) fails its samples. On
    Ctrl-C, or a StallError (no task finished for `stall_timeout` s, or the executor cancelled one), the batches
    already finished are kept (they reach the cache) and the others are cancelled."""
    pending: dict[concurrent.futures.Future, list[int]] = {}
    queue = iter(batches)

    def task_failed(batch: list[int], error: BaseException) -> None:
        stage = "infer (task on the executor)"
        if isinstance(error, ImportError) and error.name:
            stage += f": the workers cannot import {error.name}; install it where they run"
        keep(batch, ([Failure.from_exception(stage, error)] * len(batch), None))

    try:
        while True:
            for batch in queue:
                try:
                    pending[executor.submit(inferrer, _batch(samples, batch))] = batch
                except concurrent.futures.BrokenExecutor as error:  # no batch can run any more
                    for rest in [batch, *queue]:
                        task_failed(rest, error)
                    break
                if len(pending) >= window:
                    break
            if not pending:
                return
            finished, _ = concurrent.futures.wait(pending, stall_timeout, concurrent.futures.FIRST_COMPLETED)
            if not finished:
                raise StallError(f"no task finished in {stall_timeout:g} s", timed_out=True)
            for future in finished:
                if future.cancelled():
                    raise StallError("the executor cancelled a task")
                batch = pending.pop(future)
                error = future.exception()
                if error is None:
                    keep(batch, future.result())
                else:
                    task_failed(batch, error)
    except BaseException:
        for future, batch in pending.items():
            if future.done() and not future.cancelled() and future.exception() is None:
                keep(batch, future.result())
            else:
                future.cancel()
        raise
