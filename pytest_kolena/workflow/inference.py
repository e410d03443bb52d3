"""Inferences: what a model outputs for a test sample."""

from __future__ import annotations

import dataclasses

from ._dataobject import DataObject
from ._rules import check_output_fields


@dataclasses.dataclass(frozen=True)
class Inference(DataObject):
    """The inference of a model on a test sample. Extend it with scalars, annotations, assets and lists of these."""

    @classmethod
    def _check_class(cls) -> None:
        check_output_fields(cls)
