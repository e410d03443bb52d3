"""The work of a pytest session with kolena tests: suites loaded once, each model run once, judged once.

Created when the first kolena test is collected; a pytest run without kolena tests never imports this module.
"""

from __future__ import annotations

import contextlib
import dataclasses
from collections.abc import Iterator, Sequence
from types import SimpleNamespace
from typing import Any

import pytest

from ._gc import no_cyclic_gc
from .data import StorageOptions, SuiteError, list_suites, load_suite
from .engine.results import RunResults, TestCaseResult
from .items import MODEL_NAME, VERDICT, ItemResult, KolenaParam, Verdict, decide, expand
from .judge import RunJudgement, judge_run
from .marker import KolenaSpec, MarkerError, ModelRef, read_marker
from .options import Settings
from .report.progress import ProgressLine
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
        self._judged_runs: int | None = None  # K: the model runs judged against a baseline, counted once
        self.computed: dict[tuple[str, int], tuple[str, RunResults]] = {}  # what this process ran, per test
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
            reason = f"runs on suites {', '.join(spec.suites or ())}; --kolena-suite selects {selected}"
            skip_id = "other-suite"
        else:
            selected = ", ".join(sorted(self.settings.models or []))
            reason = f"--kolena-model {selected} selects none of the models: {', '.join(r.name for r in spec.models)}"
            skip_id = "no-model"
        metafunc.parametrize(
            "_kolena_param", [pytest.param(None, marks=pytest.mark.skip(reason=reason))], ids=[skip_id]
        )

    def suites_of(self, spec: KolenaSpec) -> list[str]:
        """The selected suites a test runs on: all of them, or those its marker's `suites=` names."""
        selected = list(self.settings.suites)
        return selected if spec.suites is None else [name for name in selected if name in spec.suites]

    def params(self, test: str, spec: KolenaSpec) -> list[KolenaParam]:
        """The items of a test function; loading its suites (and the baseline) here makes their errors collection
        errors."""
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
                raise SuiteError("no data root: give --kolena-data ROOT or set kolena_data in the pytest config")
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
        wanted = self.settings.models
        if wanted is not None and model.name not in wanted and param.model.fixture not in wanted:
            pytest.skip(f"--kolena-model {', '.join(sorted(wanted))} does not select model '{model.name}'")
        request.node.stash[MODEL_NAME] = model.name
        self.current_nodeid = request.node.nodeid  # where a progress line is written
        try:
            return self.item_result(self.spec_for(request.node), param, model)
        except ItemError as error:
            problem = str(error)
        pytest.fail(problem, pytrace=False)  # outside the except block: the traceback in the text is shown once

    def verdict(self, item: pytest.Item, param: KolenaParam, result: ItemResult) -> Verdict:
        """Decide the item's verdict, once, and keep it on the item for its report."""
        spec = self.spec_for(item)
        if self._judged_runs is None and spec.regression.metrics():
            self._judged_runs = self.judged_runs(item.session.items)
        verdict = item.stash[VERDICT] = decide(spec, param, result, self.regression(spec, param, result))
        return verdict

    def judged_runs(self, items: list[pytest.Item]) -> int:
        """K, the model runs that share the session's false-alarm budget: those with regression rules among the
        items selected to run (deselected items and `skip`-marked tests left out). A fixture's model is known by its
        Model.name only when the fixture runs: under --kolena-model, the fixtures of a test count for at most the
        selected names that its other models do not take (an upper bound: K never too small)."""
        models: dict[tuple[str, str], set[ModelRef]] = {}
        for item in items:
            param = param_of(item)
            spec = self._specs.get(param.test) if param is not None else None
            if spec is not None and spec.regression.metrics() and item.get_closest_marker("skip") is None:
                models.setdefault((param.test, param.suite), set()).add(param.model)
        return sum(self._selected_runs(refs) for refs in models.values())

    def _selected_runs(self, refs: set[ModelRef]) -> int:
        """How many of a test's models on a suite run: every object (collection kept the selected ones only), and
        the fixtures that --kolena-model may select."""
        wanted = self.settings.models
        fixtures = {ref for ref in refs if ref.model is None}
        if wanted is None:
            return len(refs)
        named = {ref for ref in fixtures if ref.fixture in wanted}
        free = set(wanted) - {ref.name for ref in refs if ref.model is not None}
        return len(refs) - len(fixtures) + len(named) + min(len(fixtures - named), len(free))

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

            model = spec.baseline_models.get(run.model.name, run.model.name)
            entries = {name: baseline.entry(param.test, param.suite, model, name) for name in spec.configuration_names}
            source = f"model '{model}' in {baseline.source}" if model != run.model.name else baseline.source
            settings = self.settings
            judging = Judging(settings.confidence, settings.resamples, settings.min_samples, settings.error_control)
            runs = max(1, self._judged_runs or 0)
            with no_cyclic_gc():
                self._judgements[key] = judge_run(spec, run, entries, source, judging, runs)
        return self._judgements[key].of(param.test_case, param.configuration)

    def discover(self, record: Any, test: str, run: RunResults) -> None:
        """Slice discovery on a model's run (against its baseline when there is one), into the run's record."""
        from .checks.regression import Judging
        from .discover import discover_run
        from .report.slices import LEVEL

        spec, baseline = self._specs[test], self.baseline()
        entries: dict[str | None, Any] = {name: None for name in spec.configuration_names}
        if baseline is not None:
            model = spec.baseline_models.get(run.model.name, run.model.name)
            entries = {name: baseline.entry(test, run.test_suite.name, model, name) for name in entries}
        values: dict[str, Any] = {"alpha": Judging(self.settings.confidence).alpha, "searches": []}
        try:
            with no_cyclic_gc():
                values["searches"] = discover_run(spec, run, entries, self.settings)
        except Exception as error:  # the run is stored all the same; the summary says why nothing was searched
            values["error"] = f"model '{run.model.name}' on {run.test_suite.name}: {type(error).__name__}: {error}"
        record.add(LEVEL, test, run.test_suite.name, run.model.name, values)


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


@dataclasses.dataclass
class Finished:
    """What the end of a session says: the summary's closing lines, the discovered slices' section, and whether
    discovery fails the run (a slice significantly worse than the baseline, under --kolena-discover-fail)."""

    lines: list[str] = dataclasses.field(default_factory=list)
    slice_lines: list[str] = dataclasses.field(default_factory=list)
    fails: bool = False


def finish(settings: Settings, session: KolenaSession | None, rows: list[Any]) -> Finished:
    """Write this process's part of the run (the model runs it computed, the slices it discovered; on the
    controller, the item rows it saw); on the controller, say where the run is, judge the slices, write the reports
    and rewrite the baseline files if asked."""
    from .store.record import add_items, add_results, add_suite, new_record

    record = new_record(settings.run_id, settings.writer, settings.tag, settings.rootdir)
    with no_cyclic_gc():
        suites_added = set()
        for test, run in session.computed.values() if session is not None else []:
            add_results(record, test, run)
            if (test, run.test_suite.name) not in suites_added:
                suites_added.add((test, run.test_suite.name))
                add_suite(record, test, run, with_samples=bool(settings.reports))
            if settings.discover:
                session.discover(record, test, run)
    if not settings.is_worker:
        add_items(record, rows)
    store = open_store(settings, session.storage if session is not None else None)
    if len(record):
        store.write(record)
    if session is not None:
        session.close()
    if settings.is_worker:
        return Finished()
    if not rows:  # a session without kolena items touches no store; its reports say that no kolena item ran
        return Finished(write_empty_reports(settings, record) if settings.reports else [])
    lines = [f"kolena: run {settings.run_id} stored in {settings.store}"]
    if session is not None and session._baseline is not None:  # (under xdist the workers resolved it)
        lines.append(f"kolena: compared with the baseline {session._baseline.source}")
    # a report reads the whole run; discovery alone its own rows (the whole run is 3 s and 250 MB at 100,000 samples)
    levels = None if settings.reports else ("slices",)
    stored = store.rows(settings.run_id, levels) if settings.reports or settings.discover else []
    finished = Finished(lines)
    if settings.discover:
        finished.slice_lines, finished.fails = _slices(settings, stored)
    if settings.reports:
        lines += write_reports(settings, store, stored)
    if settings.update_baseline:
        failed = sorted({row.verdict for row in rows} & {"failed", "regressed", "error"})
        failed += ["regressed slices"] if finished.fails else []
        if failed and not settings.force:
            lines.append(
                f"kolena: baseline NOT rewritten: the run has {' and '.join(failed)} items; fix them, or add "
                "--kolena-force to make this run the baseline anyway"
            )
        else:
            lines += _update_baseline(settings, store)
    return finished


def _slices(settings: Settings, stored: list[dict[str, Any]]) -> tuple[list[str], bool]:
    """The section of the discovered slices, and whether they fail the run."""
    from .checks.discovery import REGRESSED
    from .report.slices import discovered, summary_lines

    result = discovered(stored)
    if result is None:
        return ["kolena: no slice searched: no model run with a metric that is the mean of a sample metric"], False
    lines = summary_lines(result)
    regressed = [s for s in result["found"] if s["kind"] == REGRESSED]
    fails = bool(regressed) and settings.discover_fail
    if fails:
        lines.append(f"kolena: {len(regressed)} slice(s) regressed: the run fails (--kolena-discover-fail)")
    return lines, fails


def write_reports(settings: Settings, store: Any, stored: list[dict[str, Any]]) -> list[str]:
    """The --kolena-report files, from the run as stored (every xdist worker's part included, `stored`); a report
    that cannot be written is said, and the others are still written."""
    from .report.document import run_document
    from .report.writers import write_step_summary

    document = run_document(store.info(settings.run_id), stored)
    lines = _write_all(document, settings.reports)
    if any(path.lower().endswith(".md") for path in settings.reports):
        summary = write_step_summary(document)
        if summary:
            lines.append(f"kolena: Markdown summary added to $GITHUB_STEP_SUMMARY ({summary})")
    return lines


def write_empty_reports(settings: Settings, record: Any) -> list[str]:
    """The --kolena-report files of a run without kolena items (all deselected or skipped): reports that say so,
    not silence."""
    from .report.document import run_document

    info = SimpleNamespace(run_id=record.run_id, time=record.time, tag=record.tag, git_commit=record.git_commit)
    return _write_all(run_document(info, []), settings.reports, " (no kolena items ran)")


def _write_all(document: dict[str, Any], paths: Sequence[str], note: str = "") -> list[str]:
    """Each report file, with a line saying it was written (`note` after its path) or why it was not."""
    from .report.writers import write_report

    lines = []
    for path in paths:
        try:
            write_report(document, path)
            lines.append(f"kolena: report {path}{note}")
        except (ImportError, OSError, ValueError) as error:
            lines.append(f"kolena: report {path} NOT written: {error}")
    return lines


def _update_baseline(settings: Settings, store: Any) -> list[str]:
    from .store.baseline import Baseline, read_file, write_file

    current = Baseline.from_rows(store.rows(settings.run_id), settings.run_id)
    lines = []
    for suite in sorted({key[1] for key in current.entries}):
        # a partial run (-k, --kolena-model) replaces its own entries and keeps the others of the file
        kept = read_file(settings.baseline, [suite], must_exist=False).entries
        entries = {(t, m, c): entry for (t, s, m, c), entry in kept.items() if s == suite}
        entries |= {(t, m, c): entry for (t, s, m, c), entry in current.entries.items() if s == suite}
        lines.append(f"kolena: baseline of {suite} rewritten: {write_file(settings.baseline, suite, entries)}")
    return lines


def _case_result(run: RunResults, test_case: str, configuration: str | None) -> TestCaseResult:
    return next(c for c in run.cases if c.name == test_case and c.configuration_name == configuration)
