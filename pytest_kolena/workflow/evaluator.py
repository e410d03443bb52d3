"""Metrics at three levels, evaluator configurations, and the class-based Evaluator."""

from __future__ import annotations

import dataclasses
import typing
from abc import ABCMeta, abstractmethod
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, ClassVar

from . import _rules
from ._dataobject import DataObject
from .plot import AxisConfig, BarPlot, ConfusionMatrix, Curve, CurvePlot, Histogram, Plot  # noqa: F401 (Kolena re-exports)

if TYPE_CHECKING:
    from .ground_truth import GroundTruth
    from .inference import Inference
    from .test_case import TestCase
    from .test_sample import TestSample
    from .test_suite import TestSuite

_SCALARS_ONLY = "str, bool, int, float, Optional of these"


@dataclasses.dataclass(frozen=True)
class MetricsTestSample(DataObject):
    """Metrics of one test sample (e.g. its normalized mean error). Fields as for a ground truth."""

    @classmethod
    def _check_class(cls) -> None:
        _rules.check_value_fields(cls)


@dataclasses.dataclass(frozen=True)
class MetricsTestCase(DataObject):
    """Aggregate metrics of a test case: scalars, and lists of nested MetricsTestCase (one level, e.g. per class)."""

    @classmethod
    def _check_class(cls) -> None:
        for name, tp in _rules.own_field_types(cls).items():
            _rules.check_reserved(cls, name)
            nested = _nested_metrics_type(tp)
            if nested is None:
                _rules.check_field(
                    cls, name, tp, _rules.is_scalar, _SCALARS_ONLY + ", List[MetricsTestCase]", lists=False
                )
                continue
            for field_name, field_type in typing.get_type_hints(nested).items():
                if _nested_metrics_type(field_type) is not None:
                    raise TypeError(
                        f"{cls.__name__}.{name}: doubly-nested metrics ({nested.__name__}.{field_name}) are not supported"
                    )


def _nested_metrics_type(tp: Any) -> type | None:
    if typing.get_origin(tp) is list:
        (item,) = typing.get_args(tp)
        if isinstance(item, type) and issubclass(item, MetricsTestCase):
            return item
    return None


@dataclasses.dataclass(frozen=True)
class MetricsTestSuite(DataObject):
    """Metrics across the test cases of a suite (e.g. the variance of a test case metric). Scalars only."""

    @classmethod
    def _check_class(cls) -> None:
        for name, tp in _rules.own_field_types(cls).items():
            _rules.check_reserved(cls, name)
            _rules.check_field(cls, name, tp, _rules.is_scalar, _SCALARS_ONLY, lists=False)


@dataclasses.dataclass(frozen=True)
class EvaluatorConfiguration(DataObject, metaclass=ABCMeta):
    """One setting of an evaluator, e.g. the threshold above which an error is a failure."""

    @abstractmethod
    def display_name(self) -> str:
        """The name of this configuration in reports and pytest ids; distinct within an evaluator."""
        raise NotImplementedError


class Evaluator(metaclass=ABCMeta):
    """Turns inferences into metrics: per test sample, per test case (with optional plots), per test suite.

    Each `compute_*` method is called once per test case and configuration, except (not in Kolena's client):
    - with `once_per_sample = True` on the class (the sample metrics do not look at the test case), the sample
      metrics are computed once per configuration for all the distinct samples of the suite, with
      `test_case=None`, and shared by the test cases holding each sample;
    - an evaluator may compute them vectorised instead: `compute_test_sample_metrics_frame(frame, configuration)`
      gets a pandas DataFrame of all the distinct samples of the suite (a row per sample, a column per field:
      `test_sample.locator`, `ground_truth.keypoints.points`, `inference.keypoints.points`, ...) and
      returns one MetricsTestSample per row, in order.
    """

    configurations: list[EvaluatorConfiguration]
    once_per_sample: ClassVar[bool] = False

    def __init__(self, configurations: Sequence[EvaluatorConfiguration] | None = None) -> None:
        if configurations is not None and len(configurations) == 0:
            raise ValueError("empty configuration list provided, at least one configuration required or 'None'")
        self.configurations = list(configurations or [])
        for i, configuration in enumerate(self.configurations):
            if not isinstance(configuration, EvaluatorConfiguration):
                raise TypeError(
                    f"{type(self).__name__}: configuration {i} is {type(configuration).__name__}, not an EvaluatorConfiguration"
                )
        names = [configuration.display_name() for configuration in self.configurations]
        duplicates = sorted({name for name in names if names.count(name) > 1})
        if duplicates:
            raise ValueError(f"all configurations must have distinct display names; repeated: {', '.join(duplicates)}")

    def display_name(self) -> str:
        """The name of this evaluator; defaults to its class name."""
        return type(self).__name__

    @staticmethod
    def is_sample_metrics(value: object) -> bool:
        """Whether a value is one sample's metrics (the engine asks it of a vectorised evaluator's rows)."""
        return isinstance(value, MetricsTestSample)

    def compute_test_sample_metrics(
        self,
        test_case: TestCase | None,
        inferences: list[tuple[TestSample, GroundTruth, Inference]],
        configuration: EvaluatorConfiguration | None = None,
    ) -> list[tuple[TestSample, MetricsTestSample]]:
        """One MetricsTestSample per given test sample (`test_case` is None when `once_per_sample`). Required,
        unless the evaluator computes them with `compute_test_sample_metrics_frame`."""
        frame_form = getattr(self, "compute_test_sample_metrics_frame", None)
        if frame_form is None:
            raise NotImplementedError(
                f"{type(self).__name__} defines neither compute_test_sample_metrics nor "
                "compute_test_sample_metrics_frame"
            )
        from ..engine.frame import samples_frame

        frame = samples_frame(inferences, [str(i) for i in range(len(inferences))])
        return list(zip((ts for ts, _, _ in inferences), frame_form(frame, configuration)))

    @abstractmethod
    def compute_test_case_metrics(
        self,
        test_case: TestCase,
        inferences: list[tuple[TestSample, GroundTruth, Inference]],
        metrics: list[MetricsTestSample],
        configuration: EvaluatorConfiguration | None = None,
    ) -> MetricsTestCase:
        """Aggregate metrics of a test case; `metrics` is in the order of `inferences`."""
        raise NotImplementedError

    def compute_test_case_plots(
        self,
        test_case: TestCase,
        inferences: list[tuple[TestSample, GroundTruth, Inference]],
        metrics: list[MetricsTestSample],
        configuration: EvaluatorConfiguration | None = None,
    ) -> list[Plot] | None:
        """Optional plots of a test case."""
        return None

    def compute_test_suite_metrics(
        self,
        test_suite: TestSuite,
        metrics: list[tuple[TestCase, MetricsTestCase]],
        configuration: EvaluatorConfiguration | None = None,
    ) -> MetricsTestSuite | None:
        """Optional metrics across the test cases of a suite."""
        return None
