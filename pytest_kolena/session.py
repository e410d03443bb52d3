"""The state of one pytest session: selected suites, loaded suites, and each (model, suite) run, computed once."""

from __future__ import annotations

import dataclasses
import os
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
        """Infer and evaluate a model on a suite once per session (per evaluator and configurations)."""
        key = (id(spec.evaluator), tuple(spec.configuration_names), model.name, id(suite))
        if key not in self._runs:
            evaluator = spec.evaluator
            configurations = list(spec.configurations) if not isinstance(evaluator, Evaluator) else None
            run = TestRun(model, suite, evaluator, configurations)
            if isinstance(evaluator, Evaluator):
                run.configurations = list(spec.configurations)
            with warnings.catch_warnings():  # failures become errors of the items they touch
                warnings.simplefilter("ignore", RuntimeWarning)
                self._runs[key] = run.run()
        return self._runs[key]

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
