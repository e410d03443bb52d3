"""Plots check their shapes as Kolena's do."""

import re

import pytest

from pytest_kolena.workflow import AxisConfig, BarPlot, ConfusionMatrix, Curve, CurvePlot, Histogram


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda: Curve([0, 1, 2], [0, 1]), "Curve: series 'x' (length: 3) and 'y' (length: 2) have different lengths"),
        (
            lambda: Curve([0, 1], [0, 1], extra={"t": [1]}),
            "Curve: series 't' (length: 1) must match the length of 'x' and 'y' (2)",
        ),
        (
            lambda: Histogram("h", "x", "y", [0], []),
            "Histogram: minimum 2 entries required in 'buckets' series (length: 1)",
        ),
        (
            lambda: Histogram("h", "x", "y", [0, 2, 1], [1, 2]),
            "Histogram: 'buckets' must be strictly increasing, got [0, 2, 1]",
        ),
        (
            lambda: Histogram("h", "x", "y", [0, 1, 2], [1, 2, 3]),
            "Histogram: invalid 'frequency' shape (3,): expected (2,)",
        ),
        (
            lambda: Histogram("h", "x", "y", [0, 1, 2], [[1, 2], [3, 4]]),
            "Histogram: 'labels' are required when multiple 'frequency' series are provided",
        ),
        (
            lambda: Histogram("h", "x", "y", [0, 1, 2], [[1, 2], [3]], labels=["a", "b"]),
            "Histogram: 'frequency' series 1 has 1 values, expected 2 (one per bucket)",
        ),
        (
            lambda: Histogram("h", "x", "y", [0, 1, 2], [[1, 2]], labels=["a", "b"]),
            "Histogram: 1 'frequency' series for 2 labels",
        ),
        (
            lambda: BarPlot("b", "x", "y", [], []),
            "BarPlot: series 'labels' (length: 0) and 'values' (length: 0) must be equal length and non-empty",
        ),
        (
            lambda: BarPlot("b", "x", "y", ["a", "b"], [1]),
            "BarPlot: series 'labels' (length: 2) and 'values' (length: 1)",
        ),
        (lambda: ConfusionMatrix("c", ["a"], [[1]]), "ConfusionMatrix: at least two labels required, got 1"),
        (
            lambda: ConfusionMatrix("c", ["a", "b"], [[1, 2]]),
            "ConfusionMatrix: invalid number of matrix rows: got 1, expected 2",
        ),
        (
            lambda: ConfusionMatrix("c", ["a", "b"], [[1, 2], [3]]),
            "ConfusionMatrix: invalid number of matrix columns in row 1: 1, expected 2",
        ),
        (lambda: AxisConfig("cubic"), "AxisConfig.type: expected one of 'linear', 'log', got str 'cubic'"),
        (lambda: CurvePlot("p", "x", "y", [Curve([0], ["a"])]), "Curve.y[0]: expected one of float, int, got str 'a'"),
    ],
)
def test_plot_checks(make, message):
    with pytest.raises(ValueError, match=re.escape(message)):
        make()


def test_valid_plots_keep_their_values():
    histogram = Histogram("h", "x", "y", buckets=[0, 0.5, 1], frequency=[3, 4])
    assert histogram.frequency == [3, 4]
    matrix = ConfusionMatrix("c", ["cat", "dog"], [[9, 1], [2, None]])
    assert (matrix.x_label, matrix.y_label) == ("Predicted", "Actual")
