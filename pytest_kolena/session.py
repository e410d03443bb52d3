"""The state of one pytest session: selected suites, loaded suites, and each (model, suite) run, computed once."""

from __future__ import annotations

import dataclasses
import datetime
import os
import platform
import uuid
import warnings
from pathlib import Path
from typing import Any

import pytest

from .checks import Threshold
from .engine.results import RunResults, TestCaseResult
from .marker import KolenaSpec, ModelRef
from .workflow import Evaluator, Model
from .workflow.test_run import TestRun

SUITE_ITEM = "suite"


@dataclasses.dataclass(frozen=True)
class KolenaParam:
    """What one pytest item checks: a model on a test case (or on the whole suite) at one configuration."""

    suite: str
    model: ModelRef
    test_case: str | None  # None: the suite-level item
    configuration: str | None
    order: int = 0  # position among the items of its test function, for the summary

    @property
    def id(self) -> str:
        """A readable pytest id without spaces or '::' (which pytest would split node ids on)."""
        place = self.suite if self.test_case is None else self.test_case.replace(" :: ", ":")
        parts = [self.model.name, place] + ([self.configuration] if self.configuration else [])
        return "-".join(parts).replace(" ", "_")


@dataclasses.dataclass
class ItemResult:
    """The `kolena_result` fixture: the model, test case and configuration of the item, with their results."""

    model: Model
    suite: Any
    configuration: Any
    test_case: Any  # None for the suite-level item
    metrics: Any  # case metrics, or suite metrics for the suite-level item
    samples: list[Any]  # SampleResult: test sample, ground truth, inference, sample metrics
    plots: list[Any]
    run: RunResults

    @property
    def kind(self) -> str:
        return SUITE_ITEM if self.test_case is None else "test case"


class KolenaSession:
    """Options, suite cache and run cache of a pytest session."""

    def __init__(self, config: pytest.Config) -> None:
        self.config = config
        self._suites: dict[tuple, Any] = {}
        self._runs: dict[tuple, RunResults] = {}
        self._specs: dict[str, KolenaSpec | None] = {}
        self._baseline: Any = None
        self.computed: list[tuple[KolenaSpec, RunResults]] = []
        self.verdicts: dict[tuple[str, str, str, str], str] = {}
        self.finish_lines: list[str] = []
        self._suite_prefixes: dict[str, str] = {}  # suite name -> its folder, as locators start with it
        self.saw_items = False  # a report of a kolena item reached this process (the controller, under xdist)
        workerinput = getattr(config, "workerinput", None)
        self.is_worker = workerinput is not None
        self.run_id = (workerinput or {}).get("kolena_run_id") or datetime.datetime.now(datetime.UTC).strftime(
            "%Y%m%dT%H%M%S-"
        ) + uuid.uuid4().hex[:8]
        self.writer = (workerinput or {}).get("workerid", "main")

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        """A hook (the session is a registered plugin): note that kolena items ran, here or on xdist workers."""
        if report.user_properties and report.user_properties[0][0] == "kolena.suite":
            self.saw_items = True

    def spec_for(self, item: pytest.Item) -> KolenaSpec | None:
        """The kolena marker of an item's test function, read once."""
        from .marker import read_marker

        key = f"{item.parent.nodeid}::{getattr(item, 'originalname', item.name)}"
        if key not in self._specs:
            marker = item.get_closest_marker("kolena")
            self._specs[key] = read_marker(marker.args, marker.kwargs, key) if marker is not None else None
        return self._specs[key]

    # options ----------------------------------------------------------------------------------------------
    def suite_names(self) -> list[str]:
        return list(self.config.getoption("kolena_suite") or self.config.getini("kolena_suite") or [])

    def model_filter(self) -> set[str] | None:
        names = self.config.getoption("kolena_model")
        return set(names) if names else None

    def data_root(self) -> str | None:
        root = self.config.getoption("kolena_data") or self.config.getini("kolena_data")
        if not root:
            return None
        if "://" not in root and not os.path.isabs(root):  # relative to the ini file, like pytest's own paths
            base = self.config.inipath.parent if self.config.inipath else self.config.rootpath
            root = str(Path(base) / root)
        return root

    def storage_options(self) -> Any:
        from .data import StorageOptions

        return StorageOptions.from_environment(
            endpoint_url=self.config.getini("kolena_s3_endpoint") or None,
            anonymous=True if self.config.getini("kolena_s3_anon") else None,
            profile=self.config.getini("kolena_s3_profile") or None,
        )

    def columns(self, spec: KolenaSpec) -> dict[Any, str]:
        if spec.columns is not None:
            return dict(spec.columns)
        mapping = {}
        for line in self.config.getini("kolena_columns"):
            column, _, field = line.partition("=")
            if not field:
                raise pytest.UsageError(f"kolena_columns: {line!r} should read 'column=field', e.g. 'points=keypoints'")
            mapping[column.strip()] = field.strip()
        return mapping

    def stratify(self, spec: KolenaSpec) -> list[Any]:
        return list(spec.stratify) if spec.stratify is not None else list(self.config.getini("kolena_stratify"))

    def store_url(self) -> str:
        url = self.config.getoption("kolena_store") or self.config.getini("kolena_store") or ".kolena"
        if "://" not in url and not os.path.isabs(url):
            url = str(Path(self.config.rootpath) / url)
        return url

    def store(self) -> Any:
        from .store import RunStore

        return RunStore(self.store_url(), self._store_options())

    def _store_options(self) -> dict[str, Any]:
        return (
            self.storage_options().for_protocol(self.store_url().split("://", 1)[0])
            if "://" in self.store_url()
            else {}
        )

    def baseline(self) -> Any:
        """The baseline of --kolena-baseline, resolved once; None without one."""
        from .store.baseline import resolve

        ref = self.config.getoption("kolena_baseline") or self.config.getini("kolena_baseline")
        if not ref:
            return None
        if self._baseline is None:
            self._baseline = resolve(self._local(ref), self.store(), self.suite_names(), cwd=str(self.config.rootpath))
        return self._baseline

    def _local(self, ref: str) -> str:
        """A baseline file or folder relative to the rootdir (a trailing '/' kept); other references as given."""
        from .store.baseline import is_file_ref

        if "://" in ref or os.path.isabs(ref) or not is_file_ref(os.path.join(str(self.config.rootpath), ref)):
            return ref
        return os.path.join(str(self.config.rootpath), ref)

    def bootstrap(self) -> Any:
        from .checks.regression import Bootstrap

        return Bootstrap(
            resamples=int(self.config.getini("kolena_resamples") or 1000),
            confidence=float(
                self.config.getoption("kolena_confidence") or self.config.getini("kolena_confidence") or 0.95
            ),
            min_samples=int(self.config.getini("kolena_min_samples") or 20),
        )

    def sample_id(self, test_sample: Any, suite_name: str) -> str:
        """How a sample is named in a baseline: its locator relative to the suite folder, else a digest."""
        from .store.cache import sample_digest

        locator = getattr(test_sample, "locator", None)
        if locator is None:
            return sample_digest(test_sample)
        prefix = self._suite_prefixes.get(suite_name)
        if prefix is None:  # the prefix that suite loading put in front of relative locators
            from .data.storage import join
            from .data.typed import locator_prefix

            prefix = self._suite_prefixes[suite_name] = locator_prefix(join(self.data_root() or "", suite_name))
        return locator[len(prefix) :] if locator.startswith(prefix) else locator

    # suites and runs --------------------------------------------------------------------------------------
    def suite(self, spec: KolenaSpec, name: str) -> Any:
        """The workflow's TestSuite `name`, loaded once per session for a given column mapping and strata."""
        from .data import load_suite

        columns, stratify = self.columns(spec), self.stratify(spec)
        key = (spec.workflow.name, name, tuple(sorted(map(str, columns.items()))), tuple(map(str, stratify)))
        if key not in self._suites:
            root = self.data_root()
            if root is None:
                raise pytest.UsageError(
                    "kolena: no data root: give --kolena-data ROOT or set kolena_data in the pytest config"
                )
            self._suites[key] = load_suite(
                spec.workflow, name, root, columns=columns, stratify=stratify, options=self.storage_options()
            )
        return self._suites[key]

    def run(self, spec: KolenaSpec, model: Model, suite: Any) -> RunResults:
        """Infer and evaluate a model on a suite once per session (per evaluator and configurations), with the
        store's inference cache when the model has a version; one process of a machine infers at a time."""
        from .store import InferenceCache
        from .store.lock import machine_lock

        key = (id(spec.evaluator), tuple(spec.configuration_names), model.name, id(suite))
        if key in self._runs:
            return self._runs[key]
        run = TestRun(
            model, suite, spec.evaluator, list(spec.configurations), bool(self.config.getoption("kolena_reset"))
        )
        version = model.metadata.get("version")
        with warnings.catch_warnings():  # failures become errors of the items they touch
            warnings.simplefilter("ignore", RuntimeWarning)
            if version is None:
                results = run.run()
            else:
                with machine_lock(f"{self.store_url()}|{model.name}|{version}"):
                    decode = model.workflow.inference_type.from_dict
                    run.cache = InferenceCache(
                        self.store_url(), model.name, str(version), decode, self._store_options()
                    )
                    results = run.run()
        self._runs[key] = results
        self.computed.append((spec, results))
        return results

    def params(self, spec: KolenaSpec) -> list[KolenaParam]:
        """One item per selected suite x model x configuration x test case, then the suite-level item."""
        wanted = self.model_filter()
        params: list[KolenaParam] = []
        for suite_name in self.suite_names():
            suite = self.suite(spec, suite_name)
            for ref in spec.models:
                if wanted is not None and ref.name not in wanted:
                    continue
                for configuration in spec.configuration_names:
                    for place in [tc.name for tc in suite.test_cases] + [None]:
                        params.append(KolenaParam(suite_name, ref, place, configuration, len(params)))
        return params

    def item_result(self, spec: KolenaSpec, param: KolenaParam, model: Model) -> ItemResult:
        """The results of one item; an inference or evaluator failure that touches it raises ItemError."""
        suite = self.suite(spec, param.suite)
        run = self.run(spec, model, suite)
        configuration = next((c for c in spec.configurations if c.display_name() == param.configuration), None)
        if param.test_case is None:
            if param.configuration in run.suite_errors:
                raise ItemError(
                    f"suite metrics of model '{model.name}' on {param.suite}: {run.suite_errors[param.configuration]}"
                )
            return ItemResult(
                model, suite, configuration, None, run.suite_metrics.get(param.configuration), [], [], run
            )
        case = _case_result(run, param.test_case, param.configuration)
        if case.failures:
            first = case.failures[0]
            label = getattr(first.test_sample, "locator", None) or repr(first.test_sample)[:100]
            total = len(case.failures) + len(case.samples)
            raise ItemError(
                f"model '{model.name}': {len(case.failures)} of {total} samples of {case.name} failed to infer; "
                f"first, {label}:\n{first.failure.traceback}"
            )
        if case.error is not None:
            raise ItemError(f"evaluator on {case.name} ({param.configuration}): {case.error}\n{case.error.traceback}")
        return ItemResult(model, suite, configuration, case.test_case, case.metrics, case.samples, case.plots, run)

    def record(self) -> Any:
        """This writer's part of the run, for the store: models, sample, case and suite metrics, plots, verdicts."""
        from . import __version__
        from .store import RunRecord
        from .store.baseline import git_commit

        versions = {"pytest-kolena": __version__, "pytest": pytest.__version__, "python": platform.python_version()}
        record = RunRecord(
            run_id=self.run_id,
            writer=self.writer,
            time=datetime.datetime.now(datetime.UTC).isoformat(),
            tag=self.config.getoption("kolena_tag"),
            git_commit=git_commit(cwd=str(self.config.rootpath)),
            versions=versions,
        )
        for _, run in self.computed:
            suite, model = run.test_suite.name, run.model.name
            record.add("model", suite, model, run.model.metadata)
            seen: set[tuple[str, str]] = set()
            for case in run.cases:
                config = case.configuration_name or ""
                verdict = self.verdicts.get((suite, model, case.name, config))
                plots = [p.to_dict() for p in case.plots]
                record.add(
                    "case",
                    suite,
                    model,
                    _plain(case.metrics),
                    config,
                    case.name,
                    extra={"verdict": verdict, "plots": plots},
                )
                for sample in case.samples:
                    sample_id = self.sample_id(sample.test_sample, suite)
                    if (config, sample_id) not in seen and sample.metrics is not None:
                        seen.add((config, sample_id))
                        record.add("sample", suite, model, _plain(sample.metrics), config, sample_id=sample_id)
            for config, metrics in run.suite_metrics.items():
                verdict = self.verdicts.get((suite, model, "", config or ""))
                record.add("suite", suite, model, _plain(metrics), config or "", extra={"verdict": verdict})
        return record

    def finish(self) -> list[str]:
        """Write this writer's part of the run; on the controller, rewrite the baseline files if asked."""
        if self.computed:
            self.store().write(self.record())
        if self.is_worker or not self.saw_items:  # a session without kolena items touches no store
            return []
        lines = []
        if self.store().has(self.run_id):  # written here, or by the xdist workers
            lines.append(f"kolena: run {self.run_id} stored in {self.store_url()}")
        if self.config.getoption("kolena_update_baseline"):
            lines += self._update_baseline()
        return lines

    def _update_baseline(self) -> list[str]:
        from .store.baseline import Baseline, is_file_ref, write_file

        ref = self.config.getoption("kolena_baseline") or self.config.getini("kolena_baseline")
        if not ref or not is_file_ref(ref):
            return [
                "kolena: --kolena-update-baseline needs --kolena-baseline naming a .json file or a folder (ending in /)"
            ]
        if not ("://" in ref or os.path.isabs(ref)):
            ref = str(Path(self.config.rootpath) / ref)
        current = Baseline.from_rows(self.store().rows(self.run_id), self.run_id)
        lines = []
        for suite in sorted({key[0] for key in current.entries}):
            entries = {(model, config): entry for (s, model, config), entry in current.entries.items() if s == suite}
            lines.append(f"kolena: baseline of {suite} rewritten: {write_file(ref, suite, entries)}")
        return lines


def judge_regression(
    session: KolenaSession, spec: KolenaSpec, param: KolenaParam, result: ItemResult
) -> tuple[str | None, list[Any]]:
    """The regression verdict of an item against the baseline: "regressed", "improved", "new", or None (nothing to
    say), with the comparisons behind it."""
    from .checks.regression import compare, numeric_columns

    baseline = session.baseline()
    if baseline is None:
        return None, []
    entry = baseline.entry(param.suite, result.model.name, param.configuration)
    if param.test_case is None:
        return ("new" if entry is None or not entry.suite_metrics else None), []
    if entry is None or param.test_case not in entry.case_metrics:
        return "new", []
    allowances = spec.regression.for_case(param.test_case)
    if not allowances:
        return None, []
    paired = [(s, entry.samples.get(session.sample_id(s.test_sample, param.suite))) for s in result.samples]
    paired = [(s, b) for s, b in paired if b is not None and s.metrics is not None]
    candidate_metrics, baseline_dicts = [s.metrics for s, _ in paired], [b for _, b in paired]
    candidate_columns, baseline_columns = numeric_columns(candidate_metrics), numeric_columns(baseline_dicts)
    comparisons = []
    for allowance in allowances:
        baseline_value = entry.case_metrics[param.test_case].get(allowance.metric)
        candidate_value = getattr(result.metrics, allowance.metric, None)
        if not isinstance(baseline_value, (int, float)) or not isinstance(candidate_value, (int, float)):
            continue
        recompute = _recompute(spec, result, paired, allowance.metric)
        comparisons.append(
            compare(
                allowance.metric,
                allowance,
                spec.lower_is_better[allowance.metric],
                float(baseline_value),
                float(candidate_value),
                baseline_columns,
                candidate_columns,
                recompute,
                session.bootstrap(),
            )
        )
    verdicts = {c.verdict for c in comparisons}
    if "regressed" in verdicts:
        return "regressed", comparisons
    return ("improved" if "improved" in verdicts else None), comparisons


def _recompute(spec: KolenaSpec, result: ItemResult, paired: list[tuple[Any, dict]], metric: str) -> Any:
    """The general bootstrap path: the evaluator's own compute_test_case_metrics on resampled samples."""
    if not isinstance(spec.evaluator, Evaluator) or not paired:
        return None
    metrics_type = type(paired[0][0].metrics)
    candidate = [s.metrics for s, _ in paired]
    baseline = [metrics_type.from_dict(b) for _, b in paired]
    rows = [(s.test_sample, s.ground_truth, s.inference) for s, _ in paired]

    def recompute(indices: Any) -> tuple[float, float]:
        chosen = [rows[i] for i in indices]
        compute = spec.evaluator.compute_test_case_metrics
        before = compute(result.test_case, chosen, [baseline[i] for i in indices], result.configuration)
        after = compute(result.test_case, chosen, [candidate[i] for i in indices], result.configuration)
        return float(getattr(before, metric)), float(getattr(after, metric))

    return recompute


def _plain(metrics: Any) -> Any:
    return metrics.to_dict() if hasattr(metrics, "to_dict") else metrics


class ItemError(Exception):
    """An item that cannot be judged: its model or evaluator raised on the data it covers."""


def _case_result(run: RunResults, test_case: str, configuration: str | None) -> TestCaseResult:
    return next(c for c in run.cases if c.name == test_case and c.configuration_name == configuration)


def applicable_rules(spec: KolenaSpec, param: KolenaParam, metrics: Any) -> list[Threshold]:
    """The thresholds an item is judged by: case-level rules on a test case, suite-level ones on the suite item."""
    place = param.test_case or f"{param.suite} (suite metrics)"
    present = {f.name for f in dataclasses.fields(metrics)} if dataclasses.is_dataclass(metrics) else set()
    rules = []
    for rule in spec.rules.for_case(place):
        suite_level = rule.metric in spec.suite_metrics and rule.metric not in spec.case_metrics
        applies = (suite_level or rule.metric in present) if param.test_case is None else not suite_level
        if applies:
            rules.append(rule)
    return rules
