"""Test samples: the inputs of a model, as in `kolena.workflow.TestSample` and its built-in kinds."""

from __future__ import annotations

import dataclasses
from typing import ClassVar

from . import _rules
from ._dataobject import DataObject, schema_of
from .asset import ImageAsset, check_time_span

_Scalar = None | str | float | int | bool
Metadata = dict[str, _Scalar | list[_Scalar]]
"""Type of a test sample's optional `metadata` field: str keys, scalar or list-of-scalar values."""

METADATA = "metadata"


@dataclasses.dataclass(frozen=True)
class TestSample(DataObject):
    """The input of a model. Extend it, or one of its kinds (Image, Text, ...), with the fields a model needs."""

    _data_type: ClassVar[str] = "TEST_SAMPLE/CUSTOM"
    _composite: ClassVar[bool] = False

    @classmethod
    def _check_class(cls) -> None:
        composite = cls._composite
        for name, tp in _rules.own_field_types(cls).items():
            _rules.check_reserved(cls, name)
            if name == METADATA:
                _rules.check_metadata_type(cls, tp)
            elif composite and isinstance(tp, type) and issubclass(tp, TestSample):
                if tp._composite:
                    raise TypeError(f"{cls.__name__}.{name}: a composite test sample cannot nest another composite")
            else:
                _rules.check_field(cls, name, tp, _rules.is_value_type)


@dataclasses.dataclass(frozen=True)
class Composite(TestSample):
    """A test sample made of several basic test samples, e.g. a pair of images as fields `a` and `b`."""

    _data_type: ClassVar[str] = "TEST_SAMPLE/COMPOSITE"
    _composite: ClassVar[bool] = True


@dataclasses.dataclass(frozen=True)
class Image(TestSample):
    """An image at a locator (path or URL such as `s3://bucket/image.png`)."""

    _data_type: ClassVar[str] = "TEST_SAMPLE/IMAGE"

    locator: str


@dataclasses.dataclass(frozen=True)
class ImagePair(Composite):
    """Two images."""

    a: Image
    b: Image


@dataclasses.dataclass(frozen=True)
class Text(TestSample):
    """An inline text snippet."""

    _data_type: ClassVar[str] = "TEST_SAMPLE/TEXT"

    text: str


@dataclasses.dataclass(frozen=True)
class ImageText(Composite):
    """An image with a text snippet."""

    image: Image
    text: Text


@dataclasses.dataclass(frozen=True)
class BaseVideo(TestSample):
    """A video file at a locator."""

    _data_type: ClassVar[str] = "TEST_SAMPLE/VIDEO"

    locator: str


@dataclasses.dataclass(frozen=True)
class Video(BaseVideo):
    """A video clip, optionally with a thumbnail and a start and end time in seconds."""

    thumbnail: ImageAsset | None = None
    start: float | None = None
    end: float | None = None

    def _finish(self) -> None:
        check_time_span(self, self.start, self.end)


@dataclasses.dataclass(frozen=True)
class Document(TestSample):
    """A document (PDF, TXT, ...) at a locator."""

    _data_type: ClassVar[str] = "TEST_SAMPLE/DOCUMENT"

    locator: str


@dataclasses.dataclass(frozen=True)
class PointCloud(TestSample):
    """A point cloud file at a locator."""

    _data_type: ClassVar[str] = "TEST_SAMPLE/POINT_CLOUD"

    locator: str


@dataclasses.dataclass(frozen=True)
class Audio(TestSample):
    """An audio file at a locator."""

    _data_type: ClassVar[str] = "TEST_SAMPLE/AUDIO"

    locator: str


def composite_fields(test_sample_type: type[TestSample]) -> set[str]:
    """Names of the fields of a composite test sample that hold basic test samples."""
    if not issubclass(test_sample_type, Composite):
        return set()
    field_types = schema_of(test_sample_type).field_types
    return {name for name, tp in field_types.items() if isinstance(tp, type) and issubclass(tp, TestSample)}
