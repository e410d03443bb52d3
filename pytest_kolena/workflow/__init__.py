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
    "DataObject",
    "Metadata",
    "Image",
    "ImagePair",
    "ImageText",
    "TestSample",
    "Composite",
    "Text",
    "BaseVideo",
    "Video",
    "Document",
    "PointCloud",
    "Audio",
    "GroundTruth",
    "Inference",
    "Workflow",
    "TestCase",
    "TestSuite",
    "Model",
    "AxisConfig",
    "Plot",
    "Curve",
    "CurvePlot",
    "ConfusionMatrix",
    "Histogram",
    "BarPlot",
    "MetricsTestCase",
    "MetricsTestSample",
    "MetricsTestSuite",
    "Evaluator",
    "EvaluatorConfiguration",
    "BasicEvaluatorFunction",
    "TestCases",
    "EvaluationResults",
    "no_op_evaluator",
    "TestRun",
    "test",
    "define_workflow",
]
