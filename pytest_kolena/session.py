"""The state of one pytest session: selected suites, loaded suites, and each (model, suite) run, computed once."""

from __future__ import annotations

import dataclasses
import os
import warnings
from pathlib import Path
from typing import Any

import pytest

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


def case_result(run: RunResults, test_case: str, configuration: str | None) -> TestCaseResult:
    return next(c for c in run.cases if c.name == test_case and c.configuration_name == configuration)
