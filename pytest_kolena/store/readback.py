"""A stored run read back into the objects `test()` returns: one RunResults per test function and model.

The data types come from the run's `types` rows (`module:qualname`), so the workflow's module must be importable
where the run is read. What cannot come back: the model's `infer` (a Model with its name and metadata only) and the
evaluator configurations (objects named as they were: `display_name()` gives the stored name).
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


def read_runs(document: dict[str, Any]) -> dict[tuple[str, str], Any]:
    """The RunResults of each (test function, model) of a report document (`report.document.run_document`)."""
    from ..engine.results import RunResults, SampleResult, TestCaseResult

    runs = {}
    for suite in document["suites"]:
        types = {name: import_type(path) for name, path in suite["types"].items()}
        workflow = workflow_of(types["test_sample"])
        samples = suite["samples"]
        test_samples = [_build(types["test_sample"], v) for v in samples["test_samples"]]
        ground_truths = [_build(types["ground_truth"], v) for v in samples["ground_truths"]]
        test_cases = {
            name: workflow.test_case_type._subset(name, [(test_samples[i], ground_truths[i]) for i in members])
            for name, members in suite["test_cases"].items()
        }
        test_suite = workflow.test_suite_type(suite["suite"], test_cases=list(test_cases.values()))
        place = (suite["test"], suite["suite"])
        for model_row in (m for m in document["models"] if (m["test"], m["suite"]) == place):
            name = model_row["model"]
            inferences = [_build(types["inference"], v) for v in samples["inferences"].get(name, [])]
            per_configuration = samples["metrics"].get(name, {})
            configurations = {c: StoredConfiguration(c) if c else None for c in per_configuration}
            metrics = {
                c: [_sample_metrics(types.get("sample_metrics"), columns, row) for row in zip(*columns.values())]
                for c, columns in per_configuration.items()
            }
            cases = []
            for case in (c for c in document["cases"] if (c["test"], c["suite"], c["model"]) == (*place, name)):
                configuration = case["configuration"]
                members = suite["test_cases"].get(case["test_case"], [])
                cases.append(
                    TestCaseResult(
                        test_case=test_cases[case["test_case"]],
                        configuration=configurations.setdefault(
                            configuration, StoredConfiguration(configuration) if configuration else None
                        ),
                        samples=[
                            SampleResult(
                                test_samples[i],
                                ground_truths[i],
                                inferences[i] if inferences else None,
                                metrics[configuration][i] if configuration in metrics else None,
                                samples["ids"][i],
                            )
                            for i in members
                        ],
                        metrics=_build(types.get("case_metrics"), case["metrics"]),
                        plots=[_plot(p) for p in case["plots"]],
                    )
                )
            suite_metrics = {
                (s["configuration"] or None): _build(types.get("suite_metrics"), s["metrics"])
                for s in document["suite_metrics"]
                if (s["test"], s["suite"], s["model"]) == (*place, name)
            }
            runs[(suite["test"], name)] = RunResults(
                model=workflow.model_type(name, metadata=model_row["metadata"]),
                test_suite=test_suite,
                evaluator="",
                configurations=[c for c in configurations.values() if c is not None],
                cases=cases,
                suite_metrics=suite_metrics,
                suite_errors={},
                failures=[],
                n_samples=len(samples["ids"]),
            )
    return runs


def load_runs(store: Any, ref: str = "latest") -> dict[tuple[str, str], Any]:
    """The RunResults of a stored run by (test function, model): `store` a RunStore or its URL, `ref` a run id,
    a tag, a model name, a git ref or `latest`."""
    from ..report.document import run_document
    from .baseline import find_run
    from .runs import RunStore

    store = RunStore(store) if isinstance(store, str) else store
    info = find_run(ref, store)
    return read_runs(run_document(info, store.rows(info.run_id)))
