"""Annotations: geometry and labels drawn over test samples, as in `kolena.workflow.annotation`.

Like Kolena's, annotations accept extra keyword arguments, kept as attributes and written by `to_dict`
(e.g. `ScoredBoundingBox(..., score=0.9, iou=0.7)`).
"""

from __future__ import annotations

import contextlib
import dataclasses
import itertools
import math
import threading
from collections.abc import Iterator
from typing import ClassVar

from ._dataobject import DataObject


@dataclasses.dataclass(frozen=True)
class Annotation(DataObject):
    """The base class of every annotation type."""

    _allow_extra: ClassVar[bool] = True


_checked_already = threading.local()  # .depth: blocks of coordinates_checked open in this thread


@contextlib.contextmanager
def coordinates_checked() -> Iterator[None]:
    """Annotations made in this block (in this thread) skip `check_finite`: their coordinates come from columns that
    were checked at once, with the row named (a suite's), or from annotations checked when they were made (a
    store's)."""
    _checked_already.depth = getattr(_checked_already, "depth", 0) + 1
    try:
        yield
    finally:
        _checked_already.depth -= 1


def check_finite(owner: object, name: str, points: list[tuple[float, float]] | tuple[tuple[float, float], ...]) -> None:
    """Coordinates are finite numbers: an infinite one would make every distance or overlap on it meaningless."""
    if getattr(_checked_already, "depth", 0):
        return
    if math.isfinite(sum(itertools.chain.from_iterable(points))):  # the common case, summed in C; a NaN or an
        return  # infinity makes the sum non-finite (so may finite numbers too large to add: then the loop finds none)
    for i, point in enumerate(points):
        if not (math.isfinite(point[0]) and math.isfinite(point[1])):
            raise ValueError(f"{type(owner).__name__}.{name}[{i}]: coordinates must be finite, got {tuple(point)}")


@dataclasses.dataclass(frozen=True)
class BoundingBox(Annotation):
    """Rectangle from its top left and bottom right `(x, y)` pixel vertices; width, height, area and aspect_ratio are derived."""

    _data_type: ClassVar[str] = "ANNOTATION/BOUNDING_BOX"

    top_left: tuple[float, float]
    bottom_right: tuple[float, float]
    width: float = dataclasses.field(init=False)
    height: float = dataclasses.field(init=False)
    area: float = dataclasses.field(init=False)
    aspect_ratio: float = dataclasses.field(init=False)

    def _finish(self) -> None:
        check_finite(self, "corners", (self.top_left, self.bottom_right))
        width = abs(self.bottom_right[0] - self.top_left[0])
        height = abs(self.bottom_right[1] - self.top_left[1])
        aspect_ratio = width / height if height != 0 else 0
        self.__dict__.update(width=width, height=height, area=width * height, aspect_ratio=aspect_ratio)


@dataclasses.dataclass(frozen=True)
class LabeledBoundingBox(BoundingBox):
    """BoundingBox with a string label."""

    label: str


@dataclasses.dataclass(frozen=True)
class ScoredBoundingBox(BoundingBox):
    """BoundingBox with a float score (e.g. model confidence)."""

    score: float


@dataclasses.dataclass(frozen=True)
class ScoredLabeledBoundingBox(BoundingBox):
    """BoundingBox with a string label and a float score."""

    label: str
    score: float


@dataclasses.dataclass(frozen=True)
class Polygon(Annotation):
    """Polygon from three or more `(x, y)` pixel vertices."""

    _data_type: ClassVar[str] = "ANNOTATION/POLYGON"

    points: list[tuple[float, float]]

    def _finish(self) -> None:
        if len(self.points) < 3:
            raise ValueError(f"{type(self).__name__} must have at least three points ({len(self.points)} provided)")
        check_finite(self, "points", self.points)


@dataclasses.dataclass(frozen=True)
class LabeledPolygon(Polygon):
    """Polygon with a string label."""

    label: str


@dataclasses.dataclass(frozen=True)
class ScoredPolygon(Polygon):
    """Polygon with a float score."""

    score: float


@dataclasses.dataclass(frozen=True)
class ScoredLabeledPolygon(Polygon):
    """Polygon with a string label and a float score."""

    label: str
    score: float


@dataclasses.dataclass(frozen=True)
class Keypoints(Annotation):
    """Any number of discrete `(x, y)` pixel points, e.g. facial landmarks."""

    _data_type: ClassVar[str] = "ANNOTATION/KEYPOINTS"

    points: list[tuple[float, float]]

    def _finish(self) -> None:
        check_finite(self, "points", self.points)


@dataclasses.dataclass(frozen=True)
class Polyline(Annotation):
    """Connected `(x, y)` pixel vertices."""

    _data_type: ClassVar[str] = "ANNOTATION/POLYLINE"

    points: list[tuple[float, float]]

    def _finish(self) -> None:
        check_finite(self, "points", self.points)


@dataclasses.dataclass(frozen=True)
class BoundingBox3D(Annotation):
    """Cuboid from its `(x, y, z)` center, dimensions and rotations about each axis; volume is derived."""

    _data_type: ClassVar[str] = "ANNOTATION/BOUNDING_BOX_3D"

    center: tuple[float, float, float]
    dimensions: tuple[float, float, float]
    rotations: tuple[float, float, float]
    volume: float = dataclasses.field(init=False)

    def _finish(self) -> None:
        self.__dict__["volume"] = math.prod(self.dimensions)


@dataclasses.dataclass(frozen=True)
class LabeledBoundingBox3D(BoundingBox3D):
    """BoundingBox3D with a string label."""

    label: str


@dataclasses.dataclass(frozen=True)
class ScoredBoundingBox3D(BoundingBox3D):
    """BoundingBox3D with a float score."""

    score: float


@dataclasses.dataclass(frozen=True)
class ScoredLabeledBoundingBox3D(BoundingBox3D):
    """BoundingBox3D with a string label and a float score."""

    label: str
    score: float


@dataclasses.dataclass(frozen=True)
class SegmentationMask(Annotation):
    """Raster mask at `locator` whose pixel values map to class names through `labels`."""

    _data_type: ClassVar[str] = "ANNOTATION/SEGMENTATION_MASK"

    labels: dict[int, str]
    locator: str


@dataclasses.dataclass(frozen=True)
class BitmapMask(Annotation):
    """Arbitrary bitmap mask at `locator`."""

    _data_type: ClassVar[str] = "ANNOTATION/BITMAP_MASK"

    locator: str


@dataclasses.dataclass(frozen=True)
class Label(Annotation):
    """A label, e.g. a classification."""

    _data_type: ClassVar[str] = "ANNOTATION/LABEL"

    label: str


ClassificationLabel = Label


@dataclasses.dataclass(frozen=True)
class ScoredLabel(Label):
    """Label with a float score."""

    score: float


ScoredClassificationLabel = ScoredLabel


@dataclasses.dataclass(frozen=True)
class TimeSegment(Annotation):
    """A segment of an audio or video file, from `start` to `end` seconds."""

    _data_type: ClassVar[str] = "ANNOTATION/TIME_SEGMENT"

    start: float
    end: float


@dataclasses.dataclass(frozen=True)
class LabeledTimeSegment(TimeSegment):
    """TimeSegment with a string label."""

    label: str


@dataclasses.dataclass(frozen=True)
class ScoredTimeSegment(TimeSegment):
    """TimeSegment with a float score."""

    score: float


@dataclasses.dataclass(frozen=True)
class ScoredLabeledTimeSegment(TimeSegment):
    """TimeSegment with a string label and a float score."""

    label: str
    score: float


__all__ = [
    "Annotation",
    "BitmapMask",
    "BoundingBox",
    "BoundingBox3D",
    "ClassificationLabel",
    "Keypoints",
    "Label",
    "LabeledBoundingBox",
    "LabeledBoundingBox3D",
    "LabeledPolygon",
    "LabeledTimeSegment",
    "Polygon",
    "Polyline",
    "ScoredBoundingBox",
    "ScoredBoundingBox3D",
    "ScoredClassificationLabel",
    "ScoredLabel",
    "ScoredLabeledBoundingBox",
    "ScoredLabeledBoundingBox3D",
    "ScoredLabeledPolygon",
    "ScoredLabeledTimeSegment",
    "ScoredPolygon",
    "ScoredTimeSegment",
    "SegmentationMask",
    "TimeSegment",
]
