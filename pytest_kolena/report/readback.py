"""A stored run read back into the objects `test()` returns: one RunResults per test function, suite and model
(`load_runs(store, "main")[("tests/test_kp.py::test_kp", "300-W", "mean-shape")]`).

The data types come from the run's `types` rows (`module:qualname`), so the workflow's module must be importable
where the run is read. What cannot come back: the model's `infer` (a Model with its name and metadata only), the
evaluator configurations (objects named as they were: `display_name()` gives the stored name) and the exceptions of
samples that failed to infer (each a SampleFailure whose failure says so).
"""

from __future__ import annotations

import dataclasses
import importlib
from typing import Any

from ..workflow._dataobject import registered_type
from ..workflow.evaluator import EvaluatorConfiguration


@dataclasses.dataclass(frozen=True)
class StoredConfiguration(EvaluatorConfiguration):
    """An evaluator configuration known by its name only."""

    name: str

    def display_name(self) -> str:
        return self.name


def import_type(path: str) -> type:
    """`module:qualname` -> the class."""
    module_name, _, qualname = path.partition(":")
    found: Any = importlib.import_module(module_name)
    for part in qualname.split("."):
        found = getattr(found, part)
    return found


def workflow_of(test_sample_type: type) -> Any:
    """The Workflow that the test sample type's module defines (the one `define_workflow` returned)."""
    from ..workflow.workflow import Workflow

    module = importlib.import_module(test_sample_type.__module__)
    for value in vars(module).values():
        if isinstance(value, Workflow) and value.test_sample_type is test_sample_type:
            return value
    raise LookupError(
        f"no workflow of {test_sample_type.__qualname__} in module {module.__name__}: the stored run names it as "
        "its test sample type, and a run is read back through the workflow defined beside it"
    )


def _build(kind: type | None, value: Any) -> Any:
    if value is None or kind is None:
        return value
    return kind.from_dict(value)


def _sample_metrics(kind: type | None, columns: dict[str, list[Any]], row: tuple) -> Any:
    """A sample's metrics from its row of the columns; None for a sample without any (its inference failed)."""
    if all(value is None for value in row):
        return None
    return _build(kind, dict(zip(columns, row)))


def _plot(value: dict[str, Any]) -> Any:
    kind = registered_type(value.get("data_type", ""))
    return kind.from_dict(value) if kind is not None else value


RunKey = tuple[str, str, str]  # (test function, suite, model)

NOT_STORED = "inference failed in the stored run (its exception is not stored)"


def read_runs(document: dict[str, Any]) -> dict[RunKey, Any]:
    """The RunResults of each (test function, suite, model) of a report document (`report.document.run_document`)."""
    runs = {}
    for suite in document["suites"]:
        stored = _StoredSuite(suite)
        place = (suite["test"], suite["suite"])
        for model_row in (m for m in document["models"] if (m["test"], m["suite"]) == place):
            name = model_row["model"]
            cases = [c for c in document["cases"] if (c["test"], c["suite"], c["model"]) == (*place, name)]
            suite_metrics = [
                s for s in document["suite_metrics"] if (s["test"], s["suite"], s["model"]) == (*place, name)
            ]
            runs[(*place, name)] = stored.run(name, model_row["metadata"], cases, suite_metrics)
    return runs


class _StoredSuite:
    """One suite of a document (per test function) with its samples built once, read back model by model."""

    def __init__(self, suite: dict[str, Any]) -> None:
        self.suite = suite
        self.types = {name: import_type(path) for name, path in suite["types"].items()}
        self.workflow = workflow_of(self.types["test_sample"])
        self.samples = suite["samples"]
        self.test_samples = [_build(self.types["test_sample"], v) for v in self.samples["test_samples"]]
        self.ground_truths = [_build(self.types["ground_truth"], v) for v in self.samples["ground_truths"]]
        pairs = list(zip(self.test_samples, self.ground_truths))
        self.test_cases = {
            name: self.workflow.test_case_type._subset(name, [pairs[i] for i in members])
            for name, members in suite["test_cases"].items()
        }
        self.test_suite = self.workflow.test_suite_type(suite["suite"], test_cases=list(self.test_cases.values()))

    def run(self, name: str, metadata: dict, cases: list[dict], suite_metrics: list[dict]) -> Any:
        """The RunResults of model `name`: a sample without an inference of a model that stored inferences failed
        to infer (a SampleFailure, without its exception)."""
        from ..engine.failure import Failure
        from ..engine.results import RunResults, SampleFailure

        types, samples = self.types, self.samples
        inferences = [_build(types["inference"], v) for v in samples["inferences"].get(name, [])]
        failures = {
            i: SampleFailure(self.test_samples[i], self.ground_truths[i], Failure("infer", NOT_STORED, ""))
            for i, inference in enumerate(inferences)
            if inference is None
        }
        per_configuration = samples["metrics"].get(name, {})
        configurations = {c: StoredConfiguration(c) if c else None for c in per_configuration}
        metrics = {
            c: [_sample_metrics(types.get("sample_metrics"), columns, row) for row in zip(*columns.values())]
            for c, columns in per_configuration.items()
        }
        results = []
        for case in cases:
            configuration = case["configuration"]
            if configuration not in configurations:
                configurations[configuration] = StoredConfiguration(configuration) if configuration else None
            results.append(
                self._case(case, configurations[configuration], inferences, metrics.get(configuration), failures)
            )
        return RunResults(
            model=self.workflow.model_type(name, metadata=metadata),
            test_suite=self.test_suite,
            evaluator="",
            configurations=[c for c in configurations.values() if c is not None],
            cases=results,
            suite_metrics={
                (s["configuration"] or None): _build(types.get("suite_metrics"), s["metrics"]) for s in suite_metrics
            },
            suite_errors={},
            failures=list(failures.values()),
            n_samples=len(samples["ids"]),
        )

    def _case(
        self, case: dict, configuration: Any, inferences: list[Any], metrics: list[Any] | None, failures: dict
    ) -> Any:
        """One test case at one configuration: its samples, those that failed to infer apart."""
        from ..engine.results import SampleResult, TestCaseResult

        members = self.suite["test_cases"].get(case["test_case"], [])
        samples = [
            SampleResult(
                self.test_samples[i],
                self.ground_truths[i],
                inferences[i] if inferences else None,
                metrics[i] if metrics is not None else None,
                self.samples["ids"][i],
            )
            for i in members
            if i not in failures
        ]
        return TestCaseResult(
            test_case=self.test_cases[case["test_case"]],
            configuration=configuration,
            samples=samples,
            failures=[failures[i] for i in members if i in failures],
            metrics=_build(self.types.get("case_metrics"), case["metrics"]),
            plots=[_plot(p) for p in case["plots"]],
        )


def load_runs(store: Any, ref: str = "latest") -> dict[RunKey, Any]:
    """The RunResults of a stored run by (test function, suite, model): `store` a RunStore or its URL, `ref` a run
    id, a tag, a model name, a git ref or `latest`."""
    from ..store.baseline import find_run
    from ..store.runs import RunStore
    from .document import stored_document

    store = RunStore(store) if isinstance(store, str) else store
    info = find_run(ref, store)
    return read_runs(stored_document(store, info))
