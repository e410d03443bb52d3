"""Test-case-level plots: curves, histograms, bar plots and confusion matrices, with Kolena's checks."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import ClassVar, Literal

from ._dataobject import DataObject

NumberSeries = Sequence[float | int]
NullableNumberSeries = Sequence[float | int | None]


@dataclasses.dataclass(frozen=True)
class AxisConfig(DataObject):
    """How to draw an axis: `"linear"` or `"log"`."""

    type: Literal["linear", "log"]


@dataclasses.dataclass(frozen=True)
class Plot(DataObject):
    """The base class of every plot."""


@dataclasses.dataclass(frozen=True)
class Curve(DataObject):
    """A series of `(x, y)` points, optionally labeled, with optional extra series of the same length."""

    x: NumberSeries
    y: NumberSeries
    label: str | None = None
    extra: dict[str, NumberSeries] | None = None

    def _finish(self) -> None:
        if len(self.x) != len(self.y):
            raise ValueError(
                f"Curve: series 'x' (length: {len(self.x)}) and 'y' (length: {len(self.y)}) have different lengths"
            )
        for key, series in (self.extra or {}).items():
            if len(series) != len(self.x):
                raise ValueError(
                    f"Curve: series '{key}' (length: {len(series)}) must match the length of 'x' and 'y' ({len(self.x)})"
                )


@dataclasses.dataclass(frozen=True)
class CurvePlot(Plot):
    """One or more curves, e.g. a ROC curve or a cumulative error distribution."""

    _data_type: ClassVar[str] = "PLOT/CURVE"

    title: str
    x_label: str
    y_label: str
    curves: list[Curve]
    x_config: AxisConfig | None = None
    y_config: AxisConfig | None = None


@dataclasses.dataclass(frozen=True)
class Histogram(Plot):
    """Distribution of a continuous value: n+1 increasing bucket bounds and n frequencies (per label if several)."""

    _data_type: ClassVar[str] = "PLOT/HISTOGRAM"

    title: str
    x_label: str
    y_label: str
    buckets: NumberSeries
    frequency: NumberSeries | Sequence[NumberSeries]
    labels: list[str] | None = None
    x_config: AxisConfig | None = None
    y_config: AxisConfig | None = None

    def _finish(self) -> None:
        n_buckets = len(self.buckets)
        if n_buckets < 2:
            raise ValueError(f"Histogram: minimum 2 entries required in 'buckets' series (length: {n_buckets})")
        if any(b <= a for a, b in zip(self.buckets, self.buckets[1:])):
            raise ValueError(f"Histogram: 'buckets' must be strictly increasing, got {list(self.buckets)}")
        nested = len(self.frequency) > 0 and isinstance(self.frequency[0], (list, tuple))
        n_labels = len(self.labels or [])
        if nested and not n_labels:
            raise ValueError("Histogram: 'labels' are required when multiple 'frequency' series are provided")
        if not nested:
            expected = (n_labels, n_buckets - 1) if n_labels else (n_buckets - 1,)
            if expected != (len(self.frequency),):
                raise ValueError(f"Histogram: invalid 'frequency' shape ({len(self.frequency)},): expected {expected}")
            return
        if len(self.frequency) != n_labels:
            raise ValueError(f"Histogram: {len(self.frequency)} 'frequency' series for {n_labels} labels")
        for i, series in enumerate(self.frequency):
            if len(series) != n_buckets - 1:
                raise ValueError(
                    f"Histogram: 'frequency' series {i} has {len(series)} values, expected {n_buckets - 1} (one per bucket)"
                )


@dataclasses.dataclass(frozen=True)
class BarPlot(Plot):
    """Values of a discrete variable: one value per label."""

    _data_type: ClassVar[str] = "PLOT/BAR"

    title: str
    x_label: str
    y_label: str
    labels: Sequence[str | int | float]
    values: NullableNumberSeries
    config: AxisConfig | None = None

    def _finish(self) -> None:
        n_labels, n_values = len(self.labels), len(self.values)
        if n_labels == 0 or n_values == 0 or n_labels != n_values:
            raise ValueError(
                f"BarPlot: series 'labels' (length: {n_labels}) and 'values' (length: {n_values}) must be equal length and non-empty"
            )


@dataclasses.dataclass(frozen=True)
class ConfusionMatrix(Plot):
    """A square matrix of counts, rows the actual class and columns the predicted one."""

    _data_type: ClassVar[str] = "PLOT/CONFUSION_MATRIX"

    title: str
    labels: list[str]
    matrix: Sequence[NullableNumberSeries]
    x_label: str = "Predicted"
    y_label: str = "Actual"

    def _finish(self) -> None:
        n_labels = len(self.labels)
        if n_labels < 2:
            raise ValueError(f"ConfusionMatrix: at least two labels required, got {n_labels}")
        if len(self.matrix) != n_labels:
            raise ValueError(
                f"ConfusionMatrix: invalid number of matrix rows: got {len(self.matrix)}, expected {n_labels}"
            )
        for i, row in enumerate(self.matrix):
            if len(row) != n_labels:
                raise ValueError(
                    f"ConfusionMatrix: invalid number of matrix columns in row {i}: {len(row)}, expected {n_labels}"
                )
