"""Inference on a Dask cluster: a LocalCluster started for the session, or an existing one at dask://HOST:PORT.

Every task is `pickle.loads` of one cloudpickle payload that makes the call as it is loaded, so the scheduler needs
none of the test's code; the modules that the workers cannot import, or import as other code (a test module, a
conftest, a project package not installed there), travel by value.
"""

from __future__ import annotations

import concurrent.futures
import contextlib
import functools
import hashlib
import logging
import os
import pickle
import site
import sys
import sysconfig
from collections.abc import Callable, Iterator
from typing import Any

from ..fs import address_of, is_url
from .executors import ExecutorError, Pool

CLOSE_TIMEOUT = 20  # seconds for a client or a cluster to close


@contextlib.contextmanager
def dask_pool(kind: str, workers: int, answer_timeout: float = 10) -> Iterator[Pool]:
    """A Pool on the Dask cluster of `kind` (dask: a LocalCluster of `workers` processes; dask://HOST:PORT); the
    scheduler has `answer_timeout` seconds to answer (to connect, its workers, which modules they have)."""
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
            stack.callback(close, cluster)
            client = Client(cluster)
            stack.callback(close, client)
        else:
            address = address_of(kind).strip("/")
            address = address if is_url(address) else "tcp://" + address  # dask://tls://host:port keeps its scheme
            try:
                client = Client(address, timeout=f"{answer_timeout}s")
                stack.callback(close, client)
                threads = client.nthreads(callback_timeout=answer_timeout)
            except (OSError, ValueError) as error:
                raise ExecutorError(
                    f"--kolena-executor {kind}: no Dask scheduler answers at {address}: {error}"
                ) from None
        capacity = sum(client.nthreads().values()) if kind == "dask" else sum(threads.values())
        shipped = Shipped(client, answer_timeout)
        yield Pool(shipped, capacity or workers, shipped.describe)  # an existing cluster: all its threads


def close(closable: Any, timeout: float = CLOSE_TIMEOUT) -> None:
    """Close a Dask client or cluster, waiting at most `timeout` s: a scheduler that is gone, or workers that do not
    answer the close (seen after other asyncio loops ran in the process), must not hang the pytest session."""
    try:
        closable.close(timeout=timeout)
    except Exception as error:  # a timeout: say so, go on
        logging.getLogger(__name__).warning("kolena: Dask did not close within %s s (%s)", timeout, error)


class Shipped(concurrent.futures.Executor):
    """The tasks of a Dask client, each sent as one payload (see the module), with the modules that the workers lack
    by value. The workers are asked which they lack when a new function is sent (once per model run)."""

    def __init__(self, client: Any, answer_timeout: float = 10) -> None:
        self.client = client
        self.answer_timeout = answer_timeout
        self.address = client.scheduler.address
        self.executor = client.get_executor(pure=False)  # a model need not be deterministic (Dask merges equal tasks)
        self.by_value: set[str] = set()
        self._asked: set[str] = set()
        self._last: Any = None

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> concurrent.futures.Future:
        if fn is not self._last:
            self._last = fn
            self._ask_workers()
        payload = dumps(_Call(fn, args, kwargs), self.by_value)
        return self.executor.submit(pickle.loads, payload)

    def _ask_workers(self) -> None:
        digests = {name: digest for name, digest in local_modules().items() if name not in self._asked}
        if not digests:
            return
        question = dumps(_Call(lacking, (digests,), {}), {__name__})  # by value: the workers may lack this package
        try:
            answers = self.client.run(pickle.loads, question, on_error="return", callback_timeout=self.answer_timeout)
        except Exception:  # the scheduler does not answer: the tasks will stall, and the run say so
            return
        lists = [answer for answer in answers.values() if isinstance(answer, list)]
        if lists:  # no worker yet: ask again with the next function
            self._asked.update(digests)
            self.by_value.update(name for answer in lists for name in answer)

    def describe(self) -> str:
        """The cluster as the scheduler sees it now: its workers, or that it does not answer."""
        if self.client.status != "running":  # closed when it could not reconnect
            return f"the Dask client lost the scheduler at {self.address} (client {self.client.status})"
        try:
            threads = self.client.nthreads(callback_timeout=self.answer_timeout)
        except Exception as error:
            return f"the Dask scheduler at {self.address} does not answer ({type(error).__name__}: {error})"
        if not threads:
            return f"the Dask scheduler at {self.address} has 0 workers"
        return (
            f"the Dask scheduler at {self.address} has {len(threads)} workers ({sum(threads.values())} threads) "
            "whose tasks do not finish"
        )

    def shutdown(self, wait: bool = True, *, cancel_futures: bool = False) -> None:
        """Nothing to do: closing the client cancels its tasks."""


class _Call:
    """`fn(*args, **kwargs)`, made when its pickle is loaded."""

    def __init__(self, fn: Callable[..., Any], args: tuple, kwargs: dict[str, Any]) -> None:
        self.fn, self.args, self.kwargs = fn, args, kwargs

    def __reduce__(self) -> tuple[Callable[..., Any], tuple]:
        return (functools.partial(self.fn, **self.kwargs) if self.kwargs else self.fn), self.args


def dumps(value: Any, by_value: set[str]) -> bytes:
    """`value` by cloudpickle, with the modules named in `by_value` pickled by value; an ExecutorError at once when
    it cannot be sent."""
    import cloudpickle

    registered = set(cloudpickle.list_registry_pickle_by_value())
    modules = [sys.modules[name] for name in sorted(by_value - registered) if name in sys.modules]
    for module in modules:
        cloudpickle.register_pickle_by_value(module)
    try:
        return cloudpickle.dumps(value)
    except Exception as error:
        raise ExecutorError(
            f"the model cannot be sent to the Dask workers ({type(error).__name__}: {error}); make its infer function "
            "and what it uses picklable (no open files, locks or connections), or use --kolena-executor threads"
        ) from None
    finally:
        for module in modules:
            cloudpickle.unregister_pickle_by_value(module)


def local_modules() -> dict[str, str]:
    """The imported modules that no installation provides (neither the standard library nor site-packages: test
    modules, conftests, the project's packages, editable installs), with a digest of their source file."""
    installed = {sysconfig.get_path(kind) for kind in ("stdlib", "platstdlib", "purelib", "platlib")}
    installed |= set(site.getsitepackages())
    prefixes = tuple(os.path.join(os.path.realpath(path), "") for path in installed if path)
    found = {}
    for name, module in list(sys.modules.items()):
        path = getattr(module, "__file__", None)
        if name == "__main__" or not isinstance(path, str) or os.path.realpath(path).startswith(prefixes):
            continue
        with contextlib.suppress(OSError):
            found[name] = _digest(path)
    return found


def lacking(digests: dict[str, str]) -> list[str]:
    """On a worker: the modules it cannot import, or whose source differs from the client's (`digests`)."""
    import importlib.util

    missing = []
    for name, digest in digests.items():
        try:
            spec = importlib.util.find_spec(name)
            same = spec is not None and spec.origin is not None and _digest(spec.origin) == digest
        except Exception:  # a parent package that cannot be imported, a file that cannot be read
            same = False
        if not same:
            missing.append(name)
    return missing


def _digest(path: str) -> str:
    with open(path, "rb") as source:
        return hashlib.sha1(source.read()).hexdigest()
