"""The function-style evaluator: one call over all the samples of a suite per configuration."""

from __future__ import annotations

import dataclasses
import inspect
from abc import ABCMeta, abstractmethod
from collections.abc import Callable, Iterator
from typing import Any, ClassVar

from ..engine.evaluation import CaseGroups
from .evaluator import EvaluatorConfiguration, MetricsTestCase, MetricsTestSample, MetricsTestSuite
from .plot import Plot
from .test_case import TestCase


class TestCases(metaclass=ABCMeta):
    """Groups per-sample values by the test case they belong to."""

    __test__: ClassVar[bool] = False

    @abstractmethod
    def iter(
        self,
        test_samples: list[Any],
        ground_truths: list[Any],
        inferences: list[Any],
        metrics_test_sample: list[Any],
    ) -> Iterator[tuple[TestCase, list[Any], list[Any], list[Any], list[Any]]]:
        """Yield (test case, its test samples, ground truths, inferences, sample metrics) per test case."""
        raise NotImplementedError


TestCases.register(CaseGroups)


@dataclasses.dataclass(frozen=True)
class EvaluationResults:
    """What a function-style evaluator returns: metrics at the three levels, and optional plots per test case."""

    metrics_test_sample: list[tuple[Any, MetricsTestSample]]
    metrics_test_case: list[tuple[TestCase, MetricsTestCase]]
    plots_test_case: list[tuple[TestCase, list[Plot]]] = dataclasses.field(default_factory=list)
    metrics_test_suite: MetricsTestSuite | None = None


BasicEvaluatorFunction = (
    Callable[[list[Any], list[Any], list[Any], TestCases, EvaluatorConfiguration], EvaluationResults | None]
    | Callable[[list[Any], list[Any], list[Any], TestCases], EvaluationResults | None]
)


def is_configured(function: Callable[..., Any]) -> bool:
    """Whether a function-style evaluator takes a configuration (a fifth parameter)."""
    return len(inspect.signature(function).parameters) >= 5


def no_op_evaluator(
    test_samples: list[Any],
    ground_truths: list[Any],
    inferences: list[Any],
    test_cases: TestCases,
) -> EvaluationResults:
    """An evaluator that computes nothing: empty metrics, to record inferences only."""
    sample_metrics = [MetricsTestSample() for _ in test_samples]
    case_metrics = [
        (tc, MetricsTestCase()) for tc, *_ in test_cases.iter(test_samples, ground_truths, inferences, sample_metrics)
    ]
    return EvaluationResults(
        metrics_test_sample=list(zip(test_samples, sample_metrics)), metrics_test_case=case_metrics
    )
