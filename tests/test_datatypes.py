"""Workflow data types: declared with or without @dataclass, frozen, checked per class and per value."""

import dataclasses
import re
import sys
import types
from typing import Any, Dict, List, Optional, Tuple, Union

import numpy as np
import pytest

from pytest_kolena.workflow import (
    Composite,
    GroundTruth,
    Image,
    ImagePair,
    Inference,
    Metadata,
    MetricsTestCase,
    MetricsTestSample,
    MetricsTestSuite,
    TestSample,
    Video,
)
from pytest_kolena.workflow.annotation import (
    BoundingBox,
    BoundingBox3D,
    Keypoints,
    Label,
    LabeledBoundingBox,
    Polygon,
    ScoredBoundingBox,
    ScoredClassificationLabel,
    ScoredLabel,
)
from pytest_kolena.workflow.asset import ImageAsset, VideoAsset


class UndecoratedSample(Image):
    bbox: BoundingBox | None = None
    weight: float = 1.0


@dataclasses.dataclass(frozen=True)
class DecoratedSample(Image):
    bbox: BoundingBox | None = None
    metadata: Metadata = dataclasses.field(default_factory=dict)


@pytest.mark.parametrize("cls", [UndecoratedSample, DecoratedSample])
def test_subclass_keeps_its_fields_with_or_without_dataclass(cls):
    box = BoundingBox((0, 0), (2, 4))
    sample = cls("img.png", bbox=box)
    assert sample.locator == "img.png" and sample.bbox == box
    assert [f.name for f in dataclasses.fields(cls)][:2] == ["locator", "bbox"]
    with pytest.raises(dataclasses.FrozenInstanceError):
        sample.locator = "other.png"


def test_default_factory_survives_the_dataclass_decorator():
    assert DecoratedSample("a.png").metadata == {}
    assert DecoratedSample("a.png").metadata is not DecoratedSample("b.png").metadata


def test_unknown_keyword_is_a_type_error_for_samples():
    with pytest.raises(TypeError, match="unexpected keyword argument 'locaton'"):
        UndecoratedSample(locaton="a.png")


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda: Image(42), "Image.locator: expected a str, got int 42"),
        (
            lambda: UndecoratedSample("a.png", weight="heavy"),
            "UndecoratedSample.weight: expected a number (float), got str 'heavy'",
        ),
        (
            lambda: UndecoratedSample("a.png", weight=True),
            "UndecoratedSample.weight: expected a number (float), got bool True",
        ),
        (
            lambda: UndecoratedSample("a.png", bbox=[0, 0, 1, 1]),
            "UndecoratedSample.bbox: expected one of BoundingBox, NoneType, got list",
        ),
        (
            lambda: Keypoints([(1, 2), (3, "x")]),
            "Keypoints.points[1]: expected a 2-tuple tuple[float, float], got tuple (3, 'x')",
        ),
        (
            lambda: Keypoints([(1, 2, 3)]),
            "Keypoints.points[0]: expected a 2-tuple tuple[float, float], got tuple (1, 2, 3)",
        ),
        (lambda: Keypoints("1,2"), "Keypoints.points: expected a list of tuple[float, float], got str '1,2'"),
        (
            lambda: BoundingBox((0, 0), (1,)),
            "BoundingBox.bottom_right: expected a 2-tuple tuple[float, float], got tuple (1,)",
        ),
        (lambda: Label(3), "Label.label: expected a str, got int 3"),
        (lambda: ScoredLabel("cat", score="high"), "ScoredLabel.score: expected a number (float), got str 'high'"),
        (
            lambda: DecoratedSample("a.png", metadata={"age": {"nested": 1}}),
            "DecoratedSample.metadata['age']: expected one of",
        ),
        (lambda: Polygon([(0, 0), (1, 1)]), "Polygon must have at least three points (2 provided)"),
        (lambda: Video("v.mp4", start=5, end=1), "Video: start 5.0 is after end 1.0"),
        (lambda: VideoAsset("v.mp4", frame_rate=0), "VideoAsset: frame_rate 0.0 must be positive"),
    ],
)
def test_values_are_checked_when_an_instance_is_made(make, message):
    with pytest.raises(ValueError, match=re.escape(message)):
        make()


def test_numbers_are_converted_to_the_declared_type():
    sample = UndecoratedSample("a.png", weight=np.float32(0.5))
    assert type(sample.weight) is float and sample.weight == 0.5
    assert (
        UndecoratedSample("a.png", weight=2).weight == 2.0
        and type(UndecoratedSample("a.png", weight=2).weight) is float
    )
    keypoints = Keypoints(np.array([[1, 2], [3, 4]]))
    assert keypoints.points == [(1.0, 2.0), (3.0, 4.0)]
    assert DecoratedSample("a.png", metadata={"n": np.int64(3)}).metadata == {"n": 3}


def test_bounding_box_derived_values():
    box = BoundingBox(top_left=(10, 20), bottom_right=(40, 30))
    assert (box.width, box.height, box.area, box.aspect_ratio) == (30.0, 10.0, 300.0, 3.0)
    assert BoundingBox((0, 0), (5, 0)).aspect_ratio == 0
    assert BoundingBox3D(center=(0, 0, 0), dimensions=(2, 3, 4), rotations=(0, 0, 0)).volume == 24.0


def test_annotations_keep_extra_attributes_like_kolena():
    box = ScoredBoundingBox((0, 0), (1, 1), score=0.9, iou=0.5, difficult=True)
    assert box.iou == 0.5 and box.difficult is True
    assert box.to_dict()["iou"] == 0.5
    assert ScoredClassificationLabel is ScoredLabel


def test_variants_have_their_fields_in_kolena_order():
    box = LabeledBoundingBox((0, 0), (1, 1), "car")
    assert box.label == "car"
    assert [f.name for f in dataclasses.fields(LabeledBoundingBox) if f.init] == ["top_left", "bottom_right", "label"]


@pytest.mark.parametrize(
    ("annotation", "message"),
    [
        (Dict[str, int], "UsesField.field: unsupported field type Dict\\[str, int\\]: dicts are not supported"),
        (dict, "UsesField.field: unsupported field type dict: dicts are not supported"),
        (Any, "UsesField.field: unsupported field type Any"),
        (
            Tuple[float, float],
            "UsesField.field: unsupported field type Tuple\\[float, float\\]: tuples are not supported",
        ),
        (np.ndarray, "UsesField.field: unsupported field type ndarray: NumPy arrays are not supported"),
        (
            List[List[float]],
            "UsesField.field: unsupported field type List\\[List\\[float\\]\\]: nested or untyped lists",
        ),
        (Optional[Dict[str, int]], "UsesField.field: unsupported field type Dict\\[str, int\\]"),
        (set, "UsesField.field: unsupported field type set: not a supported type"),
    ],
)
@pytest.mark.parametrize("base", [TestSample, GroundTruth, Inference, MetricsTestSample])
def test_unsupported_field_types_are_refused_when_the_class_is_defined(base, annotation, message):
    with pytest.raises(TypeError, match=message):
        type("UsesField", (base,), {"__annotations__": {"field": annotation}})


@pytest.mark.parametrize(
    ("annotation", "value"),
    [
        (str, "text"),
        (bool, True),
        (int, 3),
        (float, 0.5),
        (Keypoints, Keypoints([(1, 2)])),
        (ImageAsset, ImageAsset("a.png")),
        (List[BoundingBox], [BoundingBox((0, 0), (1, 1))]),
        (Optional[float], None),
        (Union[BoundingBox, Polygon], Polygon([(0, 0), (1, 0), (1, 1)])),
        (List[Union[Label, ScoredLabel]], [Label("a"), ScoredLabel("b", 0.5)]),
    ],
)
def test_supported_field_types_are_accepted(annotation, value):
    cls = type("Fine", (GroundTruth,), {"__annotations__": {"field": annotation}})
    assert cls(field=value).field == value


def test_reserved_field_name():
    with pytest.raises(TypeError, match="Reserved.data_type: the field name 'data_type' is reserved"):
        type("Reserved", (GroundTruth,), {"__annotations__": {"data_type": str}})


def test_metadata_must_be_a_dict_of_scalars():
    with pytest.raises(TypeError, match=r"BadMeta.metadata: keys must be str"):
        type("BadMeta", (Image,), {"__annotations__": {"metadata": Dict[int, str]}})
    with pytest.raises(TypeError, match=r"BadMeta.metadata: must be declared as Metadata"):
        type("BadMeta", (Image,), {"__annotations__": {"metadata": str}})


def test_metrics_test_case_nesting_is_one_level():
    class PerClass(MetricsTestCase):
        label: str
        precision: float

    class Aggregate(MetricsTestCase):
        macro_precision: float
        per_class: List[PerClass]

    assert Aggregate(0.5, [PerClass("cat", 0.5)]).per_class[0].label == "cat"
    with pytest.raises(
        TypeError, match=r"Deeper.nested: doubly-nested metrics \(Aggregate.per_class\) are not supported"
    ):
        type("Deeper", (MetricsTestCase,), {"__annotations__": {"nested": List[Aggregate]}})
    with pytest.raises(
        TypeError, match=r"Listy.values: unsupported field type List\[float\]: lists are not supported here"
    ):
        type("Listy", (MetricsTestCase,), {"__annotations__": {"values": List[float]}})


def test_metrics_test_suite_takes_scalars_only():
    with pytest.raises(TypeError, match=r"SuiteBox.box: unsupported field type BoundingBox"):
        type("SuiteBox", (MetricsTestSuite,), {"__annotations__": {"box": BoundingBox}})


def test_composite_samples_hold_basic_samples_one_level_deep():
    pair = ImagePair(a=Image("a.png"), b=Image("b.png"))
    assert pair.b.locator == "b.png"
    with pytest.raises(TypeError, match="Nested.inner: a composite test sample cannot nest another composite"):
        type("Nested", (Composite,), {"__annotations__": {"inner": ImagePair}})


def test_string_annotations_are_resolved():
    module = types.ModuleType("later_module")
    sys.modules["later_module"] = module
    namespace = module.__dict__
    exec(
        "from __future__ import annotations\n"
        "from pytest_kolena.workflow import GroundTruth\n"
        "from pytest_kolena.workflow.annotation import Keypoints\n"
        "class Later(GroundTruth):\n"
        "    keypoints: Keypoints\n"
        "    factor: float\n",
        namespace,
    )
    later = namespace["Later"](Keypoints([(1, 2)]), 2)
    assert later.factor == 2.0
    with pytest.raises(ValueError, match="Later.factor: expected a number"):
        namespace["Later"](Keypoints([]), "x")


@pytest.mark.parametrize("bad", [float("inf"), float("-inf"), float("nan")])
def test_annotations_refuse_coordinates_that_are_not_finite(bad):
    from pytest_kolena.workflow.annotation import BoundingBox, Keypoints, Polygon

    with pytest.raises(ValueError, match=r"Keypoints\.points\[1\]: coordinates must be finite"):
        Keypoints([(1.0, 2.0), (bad, 3.0)])
    with pytest.raises(ValueError, match=r"BoundingBox\.corners\[1\]: coordinates must be finite"):
        BoundingBox((1.0, 2.0), (3.0, bad))
    with pytest.raises(ValueError, match=r"Polygon\.points\[2\]: coordinates must be finite"):
        Polygon([(0.0, 0.0), (1.0, 0.0), (bad, 1.0)])
