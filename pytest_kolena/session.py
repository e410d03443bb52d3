"""The caches of a pytest session with kolena tests: markers read once, suites loaded once, each model run once
(on the session's executor), the baseline resolved once, each model run judged once.

Created when the first kolena test is collected; a pytest run without kolena tests never imports this module.
Collection is `items.py`, an item's result and verdict `verdict.py`, regression `judge.py`, the end `finish.py`.
"""

from __future__ import annotations

import contextlib
from typing import Any

import pytest

from ._gc import keep_long_lived, no_cyclic_gc, release_long_lived
from .data import SuiteError, load_suite
from .engine.results import RunResults
from .marker import KolenaSpec, read_marker
from .report.progress import ProgressLine
from .selection import SelectionFacts
from .settings import Settings
from .stores import inference_cache, open_store, storage_of
from .workflow import Model
from .workflow.test_run import TestRun


class ItemError(Exception):
    """An item that cannot be judged: its model or evaluator raised on the data it covers."""


def function_id(item: pytest.Item) -> str:
    """The test function of an item: its node id without parameters ("path/test_x.py::test_fn")."""
    return f"{item.parent.nodeid}::{getattr(item, 'originalname', item.name)}"


class KolenaSession:
    """Suites, model runs and regression judgements of one pytest session (of one xdist worker)."""

    def __init__(self, settings: Settings, progress: ProgressLine | None = None) -> None:
        self.settings = settings
        self.progress = progress
        self.current_nodeid = ""
        self.storage = storage_of(settings)
        self._resources = contextlib.ExitStack()  # the executor, shut down at the end of the session
        self._executor: Any = None
        self.specs: dict[str, KolenaSpec] = {}
        self._suites: dict[tuple, Any] = {}
        self._frozen = False  # objects alive when a suite loaded are out of the cyclic collector's reach
        self._runs: dict[tuple, RunResults] = {}
        self._failed: dict[tuple, Exception] = {}  # the error of a run that could not be made: said by its items
        self.judgements: dict[tuple, Any] = {}  # (test, run) -> its RunJudgement (judge.py)
        self.resolved_baseline: Any = None
        self._suite_exists: dict[str, bool] = {}  # the suites that `suites=` names, found at the data root or not
        self.computed: dict[tuple[str, int], tuple[str, RunResults]] = {}  # what this process ran, per test
        self.selection = SelectionFacts()  # the models of the kolena tests, and the items the selection left out
        self.shown: dict[tuple, str] = {}  # (run, stage, error) of an inference failure -> the item showing it

    def spec_for(self, item: pytest.Item) -> KolenaSpec | None:
        """The kolena marker of an item's test function, read once."""
        test = function_id(item)
        if test not in self.specs:
            marker = item.get_closest_marker("kolena")
            if marker is None:
                return None
            self.specs[test] = read_marker(marker.args, marker.kwargs, test)
        return self.specs[test]

    def spec_of(self, test: str) -> KolenaSpec:
        """The marker of a test function already read (by its id, "path/test_x.py::test_fn")."""
        return self.specs[test]

    def suite_exists(self, name: str) -> bool:
        """Whether the data root holds suite `name` (its metadata CSV), asked once per name."""
        if name not in self._suite_exists:
            from .data.storage import METADATA_PATH, Storage

            storage = Storage(self.settings.data_root, self.storage)
            self._suite_exists[name] = storage.exists(storage.url(name, METADATA_PATH))
        return self._suite_exists[name]

    def suite(self, spec: KolenaSpec, name: str) -> Any:
        """The workflow's TestSuite `name`, loaded once per session for a given column mapping and strata."""
        columns = dict(spec.columns) if spec.columns is not None else self.settings.column_map
        stratify = list(spec.stratify) if spec.stratify is not None else list(self.settings.stratify)
        key = (spec.workflow.name, name, tuple(sorted(map(str, columns.items()))), tuple(map(str, stratify)))
        if key not in self._suites:
            if self.settings.data_root is None:
                raise SuiteError("no data root: give --kolena-data=ROOT or set kolena_data in the pytest config")
            root, encoding = self.settings.data_root, self.settings.encoding
            self._suites[key] = load_suite(  # (which pauses the collector itself)
                spec.workflow, name, root, columns=columns, stratify=stratify, options=self.storage, encoding=encoding
            )
            keep_long_lived()  # the suite lives as long as the session
            self._frozen = True
        return self._suites[key]

    def run(self, test: str, spec: KolenaSpec, model: Model, suite: Any) -> RunResults:
        """Infer and evaluate a model on a suite once per session (per evaluator and configurations), with the
        store's inference cache when the model has a version; one process of a machine infers at a time."""
        # within a test function a model is its name (its fixture may build a new Model object for every item);
        # across test functions, its name and its infer function (two functions may bind other models of one name)
        work = (id(spec.evaluator), tuple(spec.configuration_names), model.name, id(suite))
        key, shared = (test, *work), (model.infer, model.infer_batch, *work)
        if key not in self._runs and shared in self._runs:
            self._runs[key] = self._runs[shared]
        if shared in self._failed:
            raise self._failed[shared]
        if key not in self._runs:
            settings, pool = self.settings, self.executor()
            run = TestRun(
                model,
                suite,
                spec.evaluator,
                list(spec.configurations),
                settings.reset,
                warn=False,
                executor=pool.executor if pool is not None else None,
                workers=pool.capacity if pool is not None else 1,
                batch_size=settings.batch_size,
                progress=self.progress,
                stall_timeout=settings.stall_timeout,
            )
            if self.progress is not None:
                self.progress.start(f"{model.name} on {suite.name}", self.current_nodeid)
            from .engine.executors import ExecutorError
            from .engine.inference import StallError

            with inference_cache(self.settings, self.storage, run, model, suite):
                try:
                    self._runs[key] = self._runs[shared] = run.run()
                except ExecutorError as error:
                    raise ItemError(f"model '{model.name}': {error}") from None
                except SuiteError as error:  # (a ground truth its type refused, made when the evaluator asked)
                    self._failed[shared] = ItemError(f"model '{model.name}' on {suite.name}: {error}")
                    raise self._failed[shared] from None
                except StallError as error:
                    raise self._given_up(pool, model, error) from None
        self.computed[(test, id(self._runs[key]))] = (test, self._runs[key])
        return self._runs[key]

    def _given_up(self, pool: Any, model: Model, stalled: Any) -> ItemError:
        """The error of the items of a model run whose executor stalled; the executor is given up for the session
        (shut down without waiting for its tasks), and later runs say where that was."""
        pool.abandoned = True
        state = pool.describe()
        why = f"{stalled}{': ' + state if state else ''}"
        executor = f"--kolena-executor {self.settings.executor}"
        self._executor = ItemError(f"{executor} was given up at {self.current_nodeid}: {why}")
        bound = (
            "; if a batch of this model takes longer, raise the bound with --kolena-stall-timeout SECONDS or the "
            "kolena_stall_timeout ini key"
        )
        return ItemError(f"model '{model.name}': {why}; {executor} was given up{bound if stalled.timed_out else ''}")

    def executor(self) -> Any:
        """The session's executor Pool (None: serial), started by the first model run and shut down by `close`;
        one that could not start, or was given up, raises the ItemError that says why."""
        if isinstance(self._executor, ItemError):  # tried once: every item says why, without waiting again
            raise self._executor
        if self._executor is None and self.settings.executor != "serial":
            from .engine.executors import ExecutorError, open_executor

            try:
                self._executor = self._resources.enter_context(
                    open_executor(  # a scheduler that cannot answer within the stall timeout will not do better
                        self.settings.executor, self.settings.workers, min(10.0, self.settings.stall_timeout)
                    )
                )
            except ExecutorError as error:
                self._executor = ItemError(str(error))
                raise self._executor from None
        return self._executor

    def close(self) -> None:
        """Shut the executor down, and drop the session's data: pytest's own garbage collection at its end then
        has little left to walk."""
        self._resources.close()
        self._executor = None
        if self._frozen:  # (before the suites go: then they are the collector's again)
            release_long_lived()
            self._frozen = False
        self._suites.clear()
        self._runs.clear()
        self.judgements.clear()
        self.computed.clear()

    def baseline(self) -> Any:
        """The baseline of --kolena-baseline, resolved once; None without one."""
        from .store.baseline import resolve

        if self.settings.baseline is None:
            return None
        if self.resolved_baseline is None:
            settings = self.settings
            with no_cyclic_gc():
                self.resolved_baseline = resolve(
                    settings.baseline,
                    open_store(self.settings, self.storage),
                    list(settings.suites),
                    settings.rootdir,
                    not settings.update_baseline,
                    files=settings.baseline_files,
                )
        return self.resolved_baseline
