"""Ground truths: the expected outputs that a model is evaluated against."""

from __future__ import annotations

import dataclasses

from ._dataobject import DataObject
from ._rules import check_output_fields


@dataclasses.dataclass(frozen=True)
class GroundTruth(DataObject):
    """The ground truth of a test sample. Extend it with scalars, annotations, assets and lists of these."""

    @classmethod
    def _check_class(cls) -> None:
        check_output_fields(cls)
