"""Where inference runs: here (serial), on threads, on processes, or on a Dask cluster (a local one started for the
session, or an existing one at dask://HOST:PORT: `cluster.py`), all through the `concurrent.futures.Executor`
interface."""

from __future__ import annotations

import concurrent.futures
import contextlib
import dataclasses
import functools
import pickle
import queue
import threading
from collections.abc import Callable, Iterator
from typing import Any


class ExecutorError(Exception):
    """An executor that cannot be started: a missing extra, a scheduler that does not answer."""


@dataclasses.dataclass
class Pool:
    """An executor, how many tasks it runs at once (its workers; a Dask cluster's threads), and what it is like now
    (said when no task finishes: `describe`)."""

    executor: concurrent.futures.Executor
    capacity: int
    describe: Callable[[], str] = lambda: ""
    abandoned: bool = False  # a run gave up on its tasks: shut down without waiting for those still running


@contextlib.contextmanager
def open_executor(kind: str, workers: int, answer_timeout: float = 10) -> Iterator[Pool | None]:
    """The executor of `kind` with `workers` workers, shut down on exit (without waiting for the tasks of an
    abandoned pool); None for serial. `answer_timeout`: seconds a Dask scheduler has to answer."""
    if kind == "serial":
        yield None
    elif kind in ("threads", "processes"):
        if kind == "threads":
            executor: concurrent.futures.Executor = _DaemonThreads(workers)
        else:
            executor = _Pickled(concurrent.futures.ProcessPoolExecutor(workers))
        pool = Pool(executor, workers, lambda: f"the {workers} {kind} run infer calls that do not return")
        try:
            yield pool
        finally:  # batches not started are dropped; those running end, unless abandoned (a thread cannot be stopped)
            pool.executor.shutdown(wait=not pool.abandoned, cancel_futures=True)
    else:
        from .cluster import dask_pool

        with dask_pool(kind, workers, answer_timeout) as pool:
            yield pool


class _DaemonThreads(concurrent.futures.Executor):
    """Threads taking tasks from one queue. Daemon threads: the interpreter joins a ThreadPoolExecutor's threads at
    exit, so one stuck infer would keep pytest alive after the run gave up on it."""

    def __init__(self, workers: int) -> None:
        self._tasks: queue.SimpleQueue = queue.SimpleQueue()
        self._closed = False
        self._threads = [
            threading.Thread(target=self._work, name=f"kolena-infer-{i}", daemon=True) for i in range(workers)
        ]
        for thread in self._threads:
            thread.start()

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> concurrent.futures.Future:
        if self._closed:
            raise RuntimeError("cannot schedule new tasks after shutdown")
        future: concurrent.futures.Future = concurrent.futures.Future()
        self._tasks.put((future, functools.partial(fn, *args, **kwargs)))
        return future

    def _work(self) -> None:
        while (task := self._tasks.get()) is not None:
            future, call = task
            if future.set_running_or_notify_cancel():
                try:
                    future.set_result(call())
                except BaseException as error:
                    future.set_exception(error)
            del task, future, call  # no reference to a result while waiting for the next task

    def shutdown(self, wait: bool = True, *, cancel_futures: bool = False) -> None:
        self._closed = True
        while cancel_futures:
            try:
                task = self._tasks.get_nowait()
            except queue.Empty:
                break
            if task is not None:
                task[0].cancel()
        for _ in self._threads:
            self._tasks.put(None)
        if wait:
            for thread in self._threads:
                thread.join()


def _call_pickled(payload: bytes, *args: Any) -> Any:
    return pickle.loads(payload)(*args)


class _Pickled(concurrent.futures.Executor):
    """A process pool that sends the function with each task by cloudpickle when installed (closures and lambdas,
    as Dask does), else by pickle; a function that cannot be sent is an ExecutorError at once, not a failure per
    sample."""

    def __init__(self, pool: concurrent.futures.ProcessPoolExecutor) -> None:
        self.pool = pool
        self._sent: tuple[Any, bytes] | None = None  # the last function and its bytes: a model is pickled once

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> concurrent.futures.Future:
        if self._sent is None or self._sent[0] is not fn:
            self._sent = (fn, self._dumps(fn))
        return self.pool.submit(_call_pickled, self._sent[1], *args, **kwargs)

    @staticmethod
    def _dumps(fn: Callable[..., Any]) -> bytes:
        try:
            import cloudpickle as dumper
        except ImportError:
            dumper = pickle
        try:
            return dumper.dumps(fn)
        except Exception as error:
            raise ExecutorError(
                f"--kolena-executor processes: the model cannot be sent to worker processes ({type(error).__name__}: "
                f"{error}); define its infer function at module level, install cloudpickle, or use threads"
            ) from None

    def shutdown(self, wait: bool = True, *, cancel_futures: bool = False) -> None:
        if not wait:  # abandoned: the interpreter's exit would wait for a stuck task's process
            for process in list((getattr(self.pool, "_processes", None) or {}).values()):
                process.terminate()
        self.pool.shutdown(wait, cancel_futures=cancel_futures)
