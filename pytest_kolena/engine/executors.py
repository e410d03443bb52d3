"""Where inference runs: here (serial), on threads, on processes, or on a Dask cluster (a local one started for the
session, or an existing one at dask://HOST:PORT), all through the `concurrent.futures.Executor` interface."""

from __future__ import annotations

import concurrent.futures
import contextlib
import pickle
from collections.abc import Callable, Iterator
from typing import Any


class ExecutorError(Exception):
    """An executor that cannot be started: a missing extra, a scheduler that does not answer."""


@contextlib.contextmanager
def open_executor(kind: str, workers: int) -> Iterator[concurrent.futures.Executor | None]:
    """The executor of `kind` with `workers` workers, shut down on exit; None for serial."""
    if kind == "serial":
        yield None
    elif kind == "threads":
        with concurrent.futures.ThreadPoolExecutor(workers, thread_name_prefix="kolena-infer") as pool:
            yield pool
    elif kind == "processes":
        with concurrent.futures.ProcessPoolExecutor(workers) as pool:
            yield _Pickled(pool)
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

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> concurrent.futures.Future:
        try:
            import cloudpickle as dumper
        except ImportError:
            dumper = pickle
        try:
            payload = dumper.dumps(fn)
        except Exception as error:
            raise ExecutorError(
                f"--kolena-executor processes: the model cannot be sent to worker processes ({type(error).__name__}: "
                f"{error}); define its infer function at module level, install cloudpickle, or use threads"
            ) from None
        return self.pool.submit(_call_pickled, payload, *args, **kwargs)

    def shutdown(self, wait: bool = True, *, cancel_futures: bool = False) -> None:
        self.pool.shutdown(wait, cancel_futures=cancel_futures)


@contextlib.contextmanager
def _dask(kind: str, workers: int) -> Iterator[concurrent.futures.Executor]:
    try:
        from distributed import Client, LocalCluster
    except ImportError:
        raise ExecutorError(
            f"--kolena-executor {kind} needs Dask's distributed: pip install 'pytest-kolena[dask]'"
        ) from None
    with contextlib.ExitStack() as stack:
        if kind == "dask":
            cluster = LocalCluster(
                n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=None, silence_logs=40
            )
            client = stack.enter_context(Client(stack.enter_context(cluster)))
        else:
            address = "tcp://" + kind.split("://", 1)[1].strip("/")
            try:
                client = stack.enter_context(Client(address, timeout="10s"))
            except OSError as error:
                raise ExecutorError(
                    f"--kolena-executor {kind}: no Dask scheduler answers at {address}: {error}"
                ) from None
        # pure=False: a model need not be deterministic for its tasks to run (Dask would merge equal tasks)
        yield client.get_executor(pure=False)
