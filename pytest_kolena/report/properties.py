"""The `kolena.*` user properties of an item's reports: written once per item and read back, in this module only.

They carry an item's identity, metrics and verdict from the process that ran it (an xdist worker, maybe) to the
controller, where the terminal summary, JUnit XML and the run record's verdict rows read the same rows.
Standard library only: the controller reads them without loading the rest of the plugin.
"""

from __future__ import annotations

import dataclasses
import json
from typing import Any

PREFIX = "kolena."
METRIC = "kolena.metric."
DELTA = "kolena.delta."


@dataclasses.dataclass
class ItemRow:
    """What one item showed: where it ran, its metrics and its verdict."""

    test: str  # the test function: "path/test_x.py::test_fn"
    suite: str
    model: str  # Model.name, however the model was bound
    test_case: str  # "" on the suite item
    configuration: str
    order: int  # position among the items of its test function
    verdict: str = "error"
    metrics: dict[str, Any] = dataclasses.field(default_factory=dict)
    thresholded: list[str] = dataclasses.field(default_factory=list)
    deltas: dict[str, str] = dataclasses.field(default_factory=dict)  # metric -> "delta [interval]"
    note: str = ""  # why a regression check was not judged, or was underpowered
    inference: str = ""  # how the model's inferences came: made, or read from the inference cache
    rules: dict[str, str] = dataclasses.field(default_factory=dict)  # metric -> its threshold, "mean_nme <= 0.25"
    checks: list[dict[str, Any]] = dataclasses.field(default_factory=list)  # regression checks (Comparison.to_dict)
    message: str = ""  # the text of a failed or erroring item (set on the controller, from its report)
    worst: dict[str, Any] = dataclasses.field(default_factory=dict)  # a failing test case's worst samples

    def to_properties(self) -> list[tuple[str, Any]]:
        properties: list[tuple[str, Any]] = [
            ("kolena.test", self.test),
            ("kolena.suite", self.suite),
            ("kolena.model", self.model),
            ("kolena.test_case", self.test_case),
            ("kolena.configuration", self.configuration),
            ("kolena.order", self.order),
            ("kolena.verdict", self.verdict),
        ]
        if self.thresholded:
            properties.append(("kolena.thresholded", ",".join(self.thresholded)))
        if self.note:
            properties.append(("kolena.note", self.note))
        if self.inference:
            properties.append(("kolena.inference", self.inference))
        if self.rules:
            properties.append(("kolena.rules", json.dumps(self.rules)))
        if self.checks:
            properties.append(("kolena.checks", json.dumps(self.checks)))
        if self.worst:
            properties.append(("kolena.worst", json.dumps(self.worst)))
        properties += [(METRIC + name, value) for name, value in self.metrics.items()]
        properties += [(DELTA + name, value) for name, value in self.deltas.items()]
        return properties

    @classmethod
    def from_properties(cls, properties: list[tuple[str, Any]]) -> ItemRow | None:
        """The row of a report, or None for a report of no kolena item."""
        values = {k: v for k, v in properties if k.startswith(PREFIX)}
        if "kolena.suite" not in values:
            return None
        return cls(
            test=str(values.get("kolena.test", "")),
            suite=str(values["kolena.suite"]),
            model=str(values.get("kolena.model", "")),
            test_case=str(values.get("kolena.test_case", "")),
            configuration=str(values.get("kolena.configuration", "")),
            order=int(values.get("kolena.order", 0)),
            verdict=str(values.get("kolena.verdict", "error")),
            metrics={k[len(METRIC) :]: v for k, v in values.items() if k.startswith(METRIC)},
            thresholded=[m for m in str(values.get("kolena.thresholded", "")).split(",") if m],
            deltas={k[len(DELTA) :]: str(v) for k, v in values.items() if k.startswith(DELTA)},
            note=str(values.get("kolena.note", "")),
            inference=str(values.get("kolena.inference", "")),
            rules=json.loads(values.get("kolena.rules", "{}")),
            checks=json.loads(values.get("kolena.checks", "[]")),
            worst=json.loads(values.get("kolena.worst", "{}")),
        )


def is_kolena_item(properties: list[tuple[str, Any]]) -> bool:
    """Whether a report's properties are a kolena item's."""
    return any(key == "kolena.suite" for key, _ in properties)


def verdict_of(properties: list[tuple[str, Any]]) -> str | None:
    """The verdict word a report carries, if it is a kolena item's."""
    return next((v for k, v in properties if k == "kolena.verdict"), None)


def scalar_metrics(metrics: Any) -> dict[str, Any]:
    """The plain scalar fields of a metrics dataclass (the ones a property or a table cell can hold)."""
    if metrics is None or not dataclasses.is_dataclass(metrics):
        return {}
    values = ((f.name, getattr(metrics, f.name)) for f in dataclasses.fields(metrics))
    return {name: value for name, value in values if isinstance(value, (int, float, str, bool))}
