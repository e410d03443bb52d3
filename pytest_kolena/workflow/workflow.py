"""A workflow: the names and data types of one ML problem, and `define_workflow`."""

from __future__ import annotations

import dataclasses

from ._dataobject import DataObject, schema_of
from ._rules import is_value_type
from .ground_truth import GroundTruth
from .inference import Inference
from .model import Model
from .test_case import TestCase
from .test_sample import TestSample, composite_fields
from .test_suite import TestSuite


@dataclasses.dataclass(frozen=True)
class Workflow:
    """The definition of a workflow: a name and its TestSample, GroundTruth and Inference types."""

    name: str
    test_sample_type: type[TestSample]
    ground_truth_type: type[GroundTruth]
    inference_type: type[Inference]
    # the TestCase, TestSuite and Model classes bound to this workflow (what define_workflow returns)
    test_case_type: type[TestCase] = dataclasses.field(init=False, compare=False, repr=False)
    test_suite_type: type[TestSuite] = dataclasses.field(init=False, compare=False, repr=False)
    model_type: type[Model] = dataclasses.field(init=False, compare=False, repr=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "name", self.name.strip() if isinstance(self.name, str) else self.name)
        if not isinstance(self.name, str) or not self.name:
            raise ValueError(f"workflow name must be a non-empty string, got {self.name!r}")
        for role, base in (
            ("test_sample_type", TestSample),
            ("ground_truth_type", GroundTruth),
            ("inference_type", Inference),
        ):
            given = getattr(self, role)
            if not (isinstance(given, type) and issubclass(given, base)):
                raise TypeError(f"workflow '{self.name}': {role} must be a subclass of {base.__name__}, got {given!r}")
            schema_of(given)
        elements = composite_fields(self.test_sample_type)
        for role in ("ground_truth_type", "inference_type"):
            output_type = getattr(self, role)
            for name, tp in schema_of(output_type).field_types.items():
                grouped = isinstance(tp, type) and issubclass(tp, DataObject) and not is_value_type(tp)
                if grouped and name not in elements:
                    raise TypeError(
                        f"workflow '{self.name}': {output_type.__name__}.{name} groups fields for a composite element, "
                        f"but {self.test_sample_type.__name__} has no such element (its elements: {sorted(elements) or 'none'})"
                    )
        test_case = type("TestCase", (TestCase,), {"workflow": self, "__module__": __name__})
        test_suite = type(
            "TestSuite", (TestSuite,), {"workflow": self, "_test_case_type": test_case, "__module__": __name__}
        )
        object.__setattr__(self, "test_case_type", test_case)
        object.__setattr__(self, "test_suite_type", test_suite)
        object.__setattr__(self, "model_type", type("Model", (Model,), {"workflow": self, "__module__": __name__}))


def define_workflow(
    name: str,
    test_sample_type: type[TestSample],
    ground_truth_type: type[GroundTruth],
    inference_type: type[Inference],
) -> tuple[Workflow, type[TestCase], type[TestSuite], type[Model]]:
    """Define a workflow; returns it with the TestCase, TestSuite and Model classes bound to it."""
    workflow = Workflow(name, test_sample_type, ground_truth_type, inference_type)
    return workflow, workflow.test_case_type, workflow.test_suite_type, workflow.model_type
