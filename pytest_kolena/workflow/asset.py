"""Assets: files linked to test samples, ground truths or inferences, as in `kolena.workflow.asset`."""

from __future__ import annotations

import dataclasses
from typing import ClassVar

from ._dataobject import DataObject


@dataclasses.dataclass(frozen=True)
class Asset(DataObject):
    """The base class of every asset type."""

    _allow_extra: ClassVar[bool] = True


@dataclasses.dataclass(frozen=True)
class ImageAsset(Asset):
    """An image file."""

    _data_type: ClassVar[str] = "ASSET/IMAGE"

    locator: str


@dataclasses.dataclass(frozen=True)
class PlainTextAsset(Asset):
    """A plain text file."""

    _data_type: ClassVar[str] = "ASSET/PLAIN_TEXT"

    locator: str


@dataclasses.dataclass(frozen=True)
class BinaryAsset(Asset):
    """A binary file."""

    _data_type: ClassVar[str] = "ASSET/BINARY"

    locator: str


@dataclasses.dataclass(frozen=True)
class PointCloudAsset(Asset):
    """A point cloud file (.pcd, .npy or .npz)."""

    _data_type: ClassVar[str] = "ASSET/POINT_CLOUD"

    locator: str


@dataclasses.dataclass(frozen=True)
class BaseVideoAsset(Asset):
    """A video file."""

    _data_type: ClassVar[str] = "ASSET/VIDEO"

    locator: str


def check_time_span(obj: object, start: float | None, end: float | None) -> None:
    """Kolena's rule for video clips: start <= end, both non-negative."""
    if start is not None and end is not None:
        if start > end:
            raise ValueError(f"{type(obj).__name__}: start {start} is after end {end}")
        if start < 0 or end < 0:
            raise ValueError(f"{type(obj).__name__}: start {start} and end {end} must be non-negative")


@dataclasses.dataclass(frozen=True)
class VideoAsset(BaseVideoAsset):
    """A video clip, optionally with a thumbnail, a start and end time (seconds) and a frame rate."""

    thumbnail: ImageAsset | None = None
    start: float | None = None
    end: float | None = None
    frame_rate: float | None = None

    def _finish(self) -> None:
        check_time_span(self, self.start, self.end)
        if self.frame_rate is not None and self.frame_rate <= 0:
            raise ValueError(f"VideoAsset: frame_rate {self.frame_rate} must be positive")


__all__ = ["Asset", "BaseVideoAsset", "BinaryAsset", "ImageAsset", "PlainTextAsset", "PointCloudAsset", "VideoAsset"]
