"""The kolena.workflow API, offline: change `from kolena.workflow import ...` to `from pytest_kolena.workflow import ...`."""

from ._dataobject import DataObject
from .evaluator import Evaluator, EvaluatorConfiguration, MetricsTestCase, MetricsTestSample, MetricsTestSuite
from .evaluator_function import BasicEvaluatorFunction, EvaluationResults, TestCases, no_op_evaluator
from .ground_truth import GroundTruth
from .inference import Inference
from .model import Model
from .plot import AxisConfig, BarPlot, ConfusionMatrix, Curve, CurvePlot, Histogram, Plot
from .test_case import TestCase
from .test_run import TestRun, test
from .test_sample import (
    Audio,
    BaseVideo,
    Composite,
    Document,
    Image,
    ImagePair,
    ImageText,
    Metadata,
    PointCloud,
    TestSample,
    Text,
    Video,
)
from .test_suite import TestSuite
from .workflow import Workflow, define_workflow

__all__ = [
    "Audio",
    "AxisConfig",
    "BarPlot",
    "BaseVideo",
    "BasicEvaluatorFunction",
    "Composite",
    "ConfusionMatrix",
    "Curve",
    "CurvePlot",
    "DataObject",
    "Document",
    "EvaluationResults",
    "Evaluator",
    "EvaluatorConfiguration",
    "GroundTruth",
    "Histogram",
    "Image",
    "ImagePair",
    "ImageText",
    "Inference",
    "Metadata",
    "MetricsTestCase",
    "MetricsTestSample",
    "MetricsTestSuite",
    "Model",
    "Plot",
    "PointCloud",
    "TestCase",
    "TestCases",
    "TestRun",
    "TestSample",
    "TestSuite",
    "Text",
    "Video",
    "Workflow",
    "define_workflow",
    "no_op_evaluator",
    "test",
]
