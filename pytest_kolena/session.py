"""The work of a pytest session with kolena tests: suites loaded once, each model run once, judged once.

Created when the first kolena test is collected; a pytest run without kolena tests never imports this module.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Sequence
from typing import Any

import pytest

from ._gc import no_cyclic_gc
from .data import StorageOptions, SuiteError, list_suites, load_suite
from .engine.results import RunResults, TestCaseResult
from .items import MODEL_NAME, KolenaParam, expand
from .judge import RunJudgement, baseline_entries, judge_run, unjudged_run
from .marker import KolenaSpec, MarkerError, read_marker
from .options import Settings
from .report.progress import ProgressLine
from .selection import SelectionFacts, Unselected, did_you_mean
from .verdict import VERDICT, ItemResult, Verdict, decide_verdict
from .workflow import Model
from .workflow.test_run import TestRun


class NoSuite(str):
    """The parameter of a kolena test when no suite is selected: its message, the item's error."""


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
        self._specs: dict[str, KolenaSpec] = {}
        self._suites: dict[tuple, Any] = {}
        self._runs: dict[tuple, RunResults] = {}
        self._judgements: dict[tuple, RunJudgement] = {}
        self._baseline: Any = None
        self._suite_exists: dict[str, bool] = {}  # the suites that `suites=` names, found at the data root or not
        self.computed: dict[tuple[str, int], tuple[str, RunResults]] = {}  # what this process ran, per test
        self.selection = SelectionFacts()  # the models of the kolena tests, and the items the selection left out
        self._shown: dict[tuple, str] = {}  # (run, stage, error) of an inference failure -> the item showing it

    # collection ----------------------------------------------------------------------------------------------
    def spec_for(self, item: pytest.Item) -> KolenaSpec | None:
        """The kolena marker of an item's test function, read once."""
        test = function_id(item)
        if test not in self._specs:
            marker = item.get_closest_marker("kolena")
            if marker is None:
                return None
            self._specs[test] = read_marker(marker.args, marker.kwargs, test)
        return self._specs[test]

    def spec_of(self, test: str) -> KolenaSpec:
        """The marker of a test function already read (by its id, "path/test_x.py::test_fn")."""
        return self._specs[test]

    def parametrize(self, metafunc: pytest.Metafunc) -> None:
        """One item per model x test case x configuration of the selected suites; a marker, suite or baseline
        that cannot be used is a collection error with its message and no traceback."""
        from .store.baseline import BaselineError

        test = function_id(metafunc.definition)
        try:
            spec = self.spec_for(metafunc.definition)
            params = self.params(test, spec)
        except (MarkerError, SuiteError, BaselineError) as error:
            raise pytest.Collector.CollectError(f"kolena: {error}") from None
        if params:
            metafunc.parametrize("_kolena_param", params, ids=[p.id for p in params])
            return
        if not self.settings.suites:  # an error when the item runs: `-m "not kolena"` deselects it first
            problem = NoSuite(
                "no kolena suite selected: give --kolena-suite NAME or set kolena_suite in the pytest config; "
                'to run the other tests only, deselect the kolena tests with -m "not kolena"'
            )
            metafunc.parametrize("_kolena_param", [problem], ids=["no-suite"])
            return
        if not self.suites_of(spec):
            selected = ", ".join(self.settings.suites)
            reason = f"{test} runs on suites {', '.join(spec.suites or ())}; --kolena-suite selects {selected}"
            skip_id = "other-suite"
        else:
            selected = ", ".join(sorted(self.settings.models or []))
            reason = f"--kolena-model {selected} selects none of the models of {test}: " + ", ".join(
                r.name for r in spec.models
            )
            skip_id = "no-model"
        unselected = Unselected(reason, [r.name for r in spec.models])
        metafunc.parametrize(
            "_kolena_param", [pytest.param(unselected, marks=pytest.mark.skip(reason=reason))], ids=[skip_id]
        )

    def note_collected(self, items: Sequence[pytest.Item]) -> None:
        """The selection's facts of the collected items (after -k and -m): the models of every kolena test, and
        the kolena items that the selection left out."""
        for spec in self._specs.values():
            self.selection.add_models(ref.name for ref in spec.models)
        for item in items:
            callspec = getattr(item, "callspec", None)
            param = callspec.params.get("_kolena_param") if callspec is not None else None
            if isinstance(param, Unselected):
                self.selection.leave_out(str(param), param.models)

    def suites_of(self, spec: KolenaSpec) -> list[str]:
        """The selected suites a test runs on: all of them, or those its marker's `suites=` names."""
        selected = list(self.settings.suites)
        return selected if spec.suites is None else [name for name in selected if name in spec.suites]

    def params(self, test: str, spec: KolenaSpec) -> list[KolenaParam]:
        """The items of a test function; loading its suites (and the baseline) here makes their errors collection
        errors."""
        self.check_selected_suites()
        self.check_marker_suites(test, spec)
        self.baseline()

        def test_cases_of(suite_name: str) -> list[str]:
            return [tc.name for tc in self.suite(spec, suite_name).test_cases]

        params = expand(test, spec, self.suites_of(spec), test_cases_of, self.settings.models)
        places = [p.place for p in params]
        for kind, rules in (("thresholds", spec.rules), ("regression", spec.regression)):
            unmatched = rules.unmatched(places)
            if unmatched and params:
                cases = ", ".join(dict.fromkeys(places))
                raise MarkerError(
                    f"{test}: the {kind} pattern {unmatched[0]!r} matches no test case of the selected suites; "
                    f"test cases: {cases}"
                )
        return params

    def check_selected_suites(self) -> None:
        """A selected suite that is not at the data root (a typo, another case) is an error of every kolena test,
        never a test skipped for it: names match exactly."""
        root = self.settings.data_root
        unknown = [name for name in self.settings.suites if root is not None and not self.suite_exists(name)]
        if unknown:
            from .data.storage import METADATA_PATH, Storage

            name, found = unknown[0], list_suites(root, self.storage)
            url = Storage(root, self.storage).url(name, METADATA_PATH)
            raise SuiteError(
                f"--kolena-suite {name!r}: suite not found: {url} does not exist{did_you_mean(name, found)}; "
                f"suites under {root}: {', '.join(found) or 'none'}"
            )

    def check_marker_suites(self, test: str, spec: KolenaSpec) -> None:
        """A `suites=` name that is no suite at the data root (a typo) is a collection error, not a test skipped
        on every run; without a data root there is nothing to check against."""
        root = self.settings.data_root
        if spec.suites is None or root is None:
            return
        unknown = [name for name in spec.suites if not self.suite_exists(name)]
        if unknown:
            found = ", ".join(list_suites(root, self.storage)) or "none"
            raise MarkerError(f"{test}: suites= names {unknown[0]!r}, no suite under {root}; suites there: {found}")

    def suite_exists(self, name: str) -> bool:
        """Whether the data root holds suite `name` (its metadata CSV), asked once per name."""
        if name not in self._suite_exists:
            from .data.storage import METADATA_PATH, Storage

            storage = Storage(self.settings.data_root, self.storage)
            self._suite_exists[name] = storage.exists(storage.url(name, METADATA_PATH))
        return self._suite_exists[name]

    # suites and runs -----------------------------------------------------------------------------------------
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

            with self._inference_cache(run, model, suite):
                try:
                    self._runs[key] = self._runs[shared] = run.run()
                except ExecutorError as error:
                    raise ItemError(f"model '{model.name}': {error}") from None
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
                    open_executor(self.settings.executor, self.settings.workers)
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
        self._suites.clear()
        self._runs.clear()
        self._judgements.clear()
        self.computed.clear()

    @contextlib.contextmanager
    def _inference_cache(self, run: TestRun, model: Model, suite: Any) -> Iterator[None]:
        version = model.metadata.get("version")
        if version is None:  # a model without a version is inferred on every run: stale inferences are worse
            yield
            return
        from .store import InferenceCache
        from .store.cache import code_fingerprint
        from .store.lock import machine_lock

        with machine_lock(f"{self.settings.store}|{model.name}|{version}|{suite.name}"):
            decode = model.workflow.inference_type.from_dict
            options = store_options(self.settings, self.storage)
            code = code_fingerprint(model.infer) + code_fingerprint(model.infer_batch)
            store = self.settings.store
            run.cache = InferenceCache(store, model.name, str(version), suite.name, decode, options, code=code)
            yield

    # fixtures and verdicts -----------------------------------------------------------------------------------
    def suite_for(self, item: pytest.Item, param: KolenaParam | None) -> Any:
        """The `kolena_suite` fixture."""
        spec = self.spec_for(item)
        if spec is None or param is None:
            raise pytest.UsageError(
                f"{item.nodeid}: kolena_suite needs @pytest.mark.kolena(models=..., evaluator=...) on the test"
            )
        return self.suite(spec, param.suite)

    def result_for(self, request: pytest.FixtureRequest, param: KolenaParam) -> ItemResult:
        """The `kolena_result` fixture: the model (resolving a fixture name), run once, and this item's part."""
        if isinstance(param, NoSuite):
            pytest.fail(str(param), pytrace=False)
        model = param.model.model or request.getfixturevalue(param.model.fixture)
        if not isinstance(model, Model):
            pytest.fail(f"fixture '{param.model.fixture}' returned {type(model).__name__}, not a Model", pytrace=False)
        request.node.stash[MODEL_NAME] = model.name
        self.selection.add_models([model.name])
        wanted = self.settings.models
        if wanted is not None and model.name not in wanted and param.model.fixture not in wanted:
            reason = f"--kolena-model {', '.join(sorted(wanted))} does not select model '{model.name}'"
            self.selection.leave_out(reason)
            pytest.skip(reason)
        self.current_nodeid = request.node.nodeid  # where a progress line is written
        try:
            return self.item_result(self.spec_for(request.node), param, model)
        except ItemError as error:
            problem = str(error)
        pytest.fail(problem, pytrace=False)  # outside the except block: the traceback in the text is shown once

    def verdict(self, item: pytest.Item, param: KolenaParam, result: ItemResult) -> Verdict:
        """Decide the item's verdict, once, and keep it on the item for its report."""
        spec = self.spec_for(item)
        verdict = item.stash[VERDICT] = decide_verdict(spec, param, result, self.regression(spec, param, result))
        return verdict

    def item_result(self, spec: KolenaSpec, param: KolenaParam, model: Model) -> ItemResult:
        """The results of one item; an inference or evaluator failure that touches it raises ItemError, and so does
        the suite item of a model that inferred no sample."""
        suite = self.suite(spec, param.suite)
        run = self.run(param.test, spec, model, suite)
        configuration = next((c for c in spec.configurations if c.display_name() == param.configuration), None)
        if param.test_case is None:
            if run.failures and run.n_failed == run.n_samples:
                raise ItemError(
                    f"model '{model.name}' inferred no sample of {param.suite} ({run.inference_note}); first, "
                    f"{self._failure_text(run, run.failures[0])}"
                )
            if param.configuration in run.suite_errors:
                raise ItemError(
                    f"suite metrics of model '{model.name}' on {param.suite}: {run.suite_errors[param.configuration]}"
                )
            metrics = run.suite_metrics.get(param.configuration)
            return ItemResult(model, suite, configuration, None, metrics, [], [], run)
        case = _case_result(run, param.test_case, param.configuration)
        if case.failures:
            total = len(case.failures) + len(case.samples)
            raise ItemError(
                f"model '{model.name}': {len(case.failures)} of {total} samples of {case.name} failed to infer; "
                f"first, {self._failure_text(run, case.failures[0])}"
            )
        if case.error is not None:
            raise ItemError(f"evaluator on {case.name} ({param.configuration}): {case.error}\n{case.error.traceback}")
        return ItemResult(model, suite, configuration, case.test_case, case.metrics, case.samples, case.plots, run)

    def _failure_text(self, run: RunResults, failed: Any) -> str:
        """A sample's inference failure: with its traceback at the first item of the model run that shows this
        error, in one line at the others (an error of every sample, such as a module the workers lack, is one
        traceback, not one per item)."""
        label = getattr(failed.test_sample, "locator", None) or repr(failed.test_sample)[:100]
        first = self._shown.setdefault((id(run), failed.failure.stage, failed.failure.error), self.current_nodeid)
        if first != self.current_nodeid:
            return f"{label}: {failed.failure} (its traceback: see {first})"
        return f"{label}:\n{failed.failure.traceback}"

    # baselines and regression --------------------------------------------------------------------------------
    def store(self) -> Any:
        return open_store(self.settings, self.storage)

    def baseline(self) -> Any:
        """The baseline of --kolena-baseline, resolved once; None without one."""
        from .store.baseline import resolve

        if self.settings.baseline is None:
            return None
        if self._baseline is None:
            settings = self.settings
            with no_cyclic_gc():
                self._baseline = resolve(
                    settings.baseline,
                    self.store(),
                    list(settings.suites),
                    settings.rootdir,
                    not settings.update_baseline,
                )
        return self._baseline

    def regression(self, spec: KolenaSpec, param: KolenaParam, result: ItemResult) -> tuple[str | None, list, str]:
        """The regression outcome of an item (outcome, comparisons, baseline source), judged once per model run."""
        baseline = self.baseline()
        if baseline is None:
            return None, [], ""
        run = result.run
        key = (param.test, id(run))
        if key not in self._judgements:
            from .checks.regression import Judging

            model, entries = baseline_entries(spec, baseline, param.test, param.suite, run.model.name)
            source = f"model '{model}' in {baseline.source}" if model != run.model.name else baseline.source
            settings = self.settings  # (a run that writes the baseline files records what they did not hold)
            unjudged = settings.unjudged == "fail" and not settings.update_baseline and spec.regression.metrics()
            if unjudged and not any(entries.values()):
                self._judgements[key] = unjudged_run(baseline, param.test, param.suite, model)
                return self._judgements[key].of(param.test_case, param.configuration)
            judging = Judging(settings.confidence, settings.resamples, settings.min_samples, settings.error_control)
            with no_cyclic_gc():
                self._judgements[key] = judge_run(spec, run, entries, source, judging)
        return self._judgements[key].of(param.test_case, param.configuration)


def param_of(item: pytest.Item) -> KolenaParam | None:
    """The KolenaParam of a kolena item; None for other items (and a kolena test's no-suite or skip parameter)."""
    callspec = getattr(item, "callspec", None)
    param = callspec.params.get("_kolena_param") if callspec is not None else None
    return param if isinstance(param, KolenaParam) else None


def storage_of(settings: Settings) -> StorageOptions:
    """S3 access from the ini keys, else from the environment."""
    anonymous = True if settings.s3_anon else None
    return StorageOptions.from_environment(
        endpoint_url=settings.s3_endpoint, anonymous=anonymous, profile=settings.s3_profile
    )


def store_options(settings: Settings, storage: StorageOptions | None = None) -> dict[str, Any]:
    """fsspec options of the store's URL (S3 access from the ini keys and the environment)."""
    if "://" not in settings.store:
        return {}
    return (storage or storage_of(settings)).for_protocol(settings.store.split("://", 1)[0])


def open_store(settings: Settings, storage: StorageOptions | None = None) -> Any:
    from .store import RunStore

    return RunStore(settings.store, store_options(settings, storage))


def _case_result(run: RunResults, test_case: str, configuration: str | None) -> TestCaseResult:
    return next(c for c in run.cases if c.name == test_case and c.configuration_name == configuration)
