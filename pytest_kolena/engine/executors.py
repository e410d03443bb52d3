"""Where inference runs: here (serial), on threads, on processes, or on a Dask cluster (a local one started for the
session, or an existing one at dask://HOST:PORT), all through the `concurrent.futures.Executor` interface."""

from __future__ import annotations

import concurrent.futures
import contextlib
import dataclasses
import logging
import pickle
from collections.abc import Callable, Iterator
from typing import Any


class ExecutorError(Exception):
    """An executor that cannot be started: a missing extra, a scheduler that does not answer."""


@dataclasses.dataclass(frozen=True)
class Pool:
    """An executor and how many tasks it runs at once (its workers; a Dask cluster's threads)."""

    executor: concurrent.futures.Executor
    capacity: int


@contextlib.contextmanager
def open_executor(kind: str, workers: int) -> Iterator[Pool | None]:
    """The executor of `kind` with `workers` workers, shut down on exit; None for serial."""
    if kind == "serial":
        yield None
    elif kind in ("threads", "processes"):
        if kind == "threads":
            pool: concurrent.futures.Executor = concurrent.futures.ThreadPoolExecutor(workers, "kolena-infer")
        else:
            pool = _Pickled(concurrent.futures.ProcessPoolExecutor(workers))
        try:
            yield Pool(pool, workers)
        finally:  # batches not started are dropped; those running end (a thread cannot be stopped)
            pool.shutdown(wait=True, cancel_futures=True)
    else:
        with _dask(kind, workers) as pool:
            yield pool


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
        self.pool.shutdown(wait, cancel_futures=cancel_futures)


@contextlib.contextmanager
def _dask(kind: str, workers: int) -> Iterator[Pool]:
    try:
        from distributed import Client, LocalCluster
    except ImportError:
        raise ExecutorError(
            f"--kolena-executor {kind} needs Dask's distributed: pip install 'pytest-kolena[dask]'"
        ) from None
    with contextlib.ExitStack() as stack:
        if kind == "dask":
            cluster = LocalCluster(
                n_workers=workers,
                threads_per_worker=1,
                processes=True,
                dashboard_address=None,
                silence_logs=logging.ERROR,
            )
            stack.callback(_close, cluster)
            client = Client(cluster)
            stack.callback(_close, client)
        else:
            address = kind.split("://", 1)[1].strip("/")
            address = address if "://" in address else "tcp://" + address  # dask://tls://host:port keeps its scheme
            try:
                client = Client(address, timeout="10s")
                stack.callback(_close, client)
            except (OSError, ValueError) as error:
                raise ExecutorError(
                    f"--kolena-executor {kind}: no Dask scheduler answers at {address}: {error}"
                ) from None
        capacity = sum(client.nthreads().values()) or workers  # an existing cluster: all its threads
        # pure=False: a model need not be deterministic for its tasks to run (Dask would merge equal tasks)
        yield Pool(client.get_executor(pure=False), capacity)


def _close(closable: Any, timeout: float = 20) -> None:
    """Close a Dask client or cluster, waiting at most `timeout` s: a cluster whose workers do not answer the close
    (seen after other asyncio loops ran in the process) must not hang the pytest session; its processes end with
    it."""
    try:
        closable.close(timeout=timeout)
    except Exception as error:  # a timeout: say so, go on
        logging.getLogger(__name__).warning("kolena: Dask did not close within %s s (%s)", timeout, error)
