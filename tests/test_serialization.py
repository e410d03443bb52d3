"""Every data type survives a round trip through a plain dict and JSON text."""

import json

import pytest

from pytest_kolena.workflow import (
    Audio,
    AxisConfig,
    BarPlot,
    ConfusionMatrix,
    Curve,
    CurvePlot,
    Document,
    EvaluatorConfiguration,
    GroundTruth,
    Histogram,
    Image,
    ImagePair,
    ImageText,
    Inference,
    Metadata,
    MetricsTestCase,
    PointCloud,
    Text,
    Video,
    asset,
)
from pytest_kolena.workflow import annotation as a

SQUARE = [(0, 0), (4, 0), (4, 4), (0, 4)]


class SampleWithEverything(Image):
    bbox: a.BoundingBox | None = None
    tags: list[str] = None
    metadata: Metadata = None


class Detections(Inference):
    boxes: list[a.ScoredLabeledBoundingBox | a.ScoredBoundingBox]
    polygons: list[a.ScoredLabeledPolygon]
    mask: a.SegmentationMask | None = None


class PerClass(MetricsTestCase):
    label: str
    ap: float


class Summary(MetricsTestCase):
    mean_ap: float
    per_class: list[PerClass]


DETECTIONS = Detections(
    boxes=[a.ScoredLabeledBoundingBox((0, 0), (1, 1), "car", 0.9), a.ScoredBoundingBox((2, 2), (3, 3), 0.4)],
    polygons=[a.ScoredLabeledPolygon(SQUARE, "road", 0.3)],
    mask=a.SegmentationMask({1: "road"}, "m.png"),
)


class NmeThreshold(EvaluatorConfiguration):
    threshold: float

    def display_name(self):
        return f"nme-threshold-{self.threshold}"


OBJECTS = [
    a.BoundingBox((0, 0), (3, 4)),
    a.LabeledBoundingBox((0, 0), (3, 4), "car"),
    a.ScoredBoundingBox((0, 0), (3, 4), 0.5),
    a.ScoredLabeledBoundingBox((0, 0), (3, 4), "car", 0.5),
    a.Polygon(SQUARE),
    a.LabeledPolygon(SQUARE, "road"),
    a.ScoredPolygon(SQUARE, 0.1),
    a.ScoredLabeledPolygon(SQUARE, "road", 0.1),
    a.Keypoints([(1, 2), (3, 4)]),
    a.Polyline([(1, 2), (3, 4)]),
    a.BoundingBox3D((0, 0, 0), (1, 2, 3), (0, 0, 0.5)),
    a.LabeledBoundingBox3D((0, 0, 0), (1, 2, 3), (0, 0, 0), "car"),
    a.ScoredBoundingBox3D((0, 0, 0), (1, 2, 3), (0, 0, 0), 0.9),
    a.ScoredLabeledBoundingBox3D((0, 0, 0), (1, 2, 3), (0, 0, 0), "car", 0.9),
    a.SegmentationMask({1: "road", 255: "sky"}, "s3://b/mask.png"),
    a.BitmapMask("mask.png"),
    a.Label("cat"),
    a.ScoredLabel("cat", 0.7),
    a.TimeSegment(0, 1.5),
    a.LabeledTimeSegment(0, 1.5, "speech"),
    a.ScoredTimeSegment(0, 1.5, 0.2),
    a.ScoredLabeledTimeSegment(0, 1.5, "speech", 0.2),
    a.ScoredBoundingBox((0, 0), (1, 1), 0.5, iou=0.25),
    asset.ImageAsset("a.png"),
    asset.PlainTextAsset("a.txt"),
    asset.BinaryAsset("a.bin"),
    asset.PointCloudAsset("a.pcd"),
    asset.VideoAsset("a.mp4", thumbnail=asset.ImageAsset("t.png"), start=1, end=2, frame_rate=30),
    Image("a.png"),
    Text("hello"),
    Document("a.pdf"),
    PointCloud("a.pcd"),
    Audio("a.wav"),
    Video("a.mp4", thumbnail=asset.ImageAsset("t.png"), start=0, end=3),
    ImagePair(Image("a.png"), Image("b.png")),
    ImageText(Image("a.png"), Text("caption")),
    SampleWithEverything(
        "a.png", a.BoundingBox((1, 1), (2, 2)), ["x", "y"], {"age": 3, "ok": True, "tags": ["a", None]}
    ),
    DETECTIONS,
    Summary(0.5, [PerClass("cat", 0.4), PerClass("dog", 0.6)]),
    AxisConfig("log"),
    Curve([0, 1], [1, 0], label="roc", extra={"threshold": [0.9, 0.1]}),
    CurvePlot("ROC", "FPR", "TPR", [Curve([0, 1], [0, 1])], x_config=AxisConfig("linear")),
    Histogram("NME", "nme", "count", [0, 1, 2], [[1, 2], [3, 4]], labels=["a", "b"]),
    BarPlot("Counts", "label", "count", ["a", "b"], [1, None]),
    ConfusionMatrix("Cat vs dog", ["cat", "dog"], [[9, 1], [2, 8]]),
    NmeThreshold(0.05),
]


@pytest.mark.parametrize("obj", OBJECTS, ids=lambda o: type(o).__name__)
def test_round_trip_through_json(obj):
    text = json.dumps(obj.to_dict())
    back = type(obj).from_dict(json.loads(text))
    assert back == obj
    assert type(back) is type(obj)
    assert back.to_dict() == obj.to_dict()


def test_typed_objects_carry_kolena_data_types():
    assert a.BoundingBox((0, 0), (1, 1)).to_dict()["data_type"] == "ANNOTATION/BOUNDING_BOX"
    assert Image("a.png").to_dict()["data_type"] == "TEST_SAMPLE/IMAGE"
    assert asset.ImageAsset("a.png").to_dict()["data_type"] == "ASSET/IMAGE"
    assert "data_type" not in PerClass("cat", 0.4).to_dict()


def test_union_members_are_told_apart_by_their_fields():
    detections = Detections.from_dict(json.loads(json.dumps(DETECTIONS.to_dict())))
    assert [type(b) for b in detections.boxes] == [a.ScoredLabeledBoundingBox, a.ScoredBoundingBox]


def test_union_order_does_not_matter():
    reverse = type(
        "Reverse",
        (Inference,),
        {"__annotations__": {"boxes": list[a.ScoredBoundingBox | a.ScoredLabeledBoundingBox]}},
    )
    original = reverse(boxes=DETECTIONS.boxes)
    assert [type(b) for b in reverse.from_dict(original.to_dict()).boxes] == [
        a.ScoredLabeledBoundingBox,
        a.ScoredBoundingBox,
    ]


def test_extras_round_trip_on_annotations():
    box = a.ScoredBoundingBox.from_dict(a.ScoredBoundingBox((0, 0), (1, 1), 0.5, iou=0.25).to_dict())
    assert box.iou == 0.25


def test_from_dict_names_the_bad_field():
    with pytest.raises(ValueError, match="Keypoints.points: expected a list"):
        a.Keypoints.from_dict({"points": "oops"})
    with pytest.raises(ValueError, match="GtWithBox.box: expected a BoundingBox dict, got str 'nope'"):
        type("GtWithBox", (GroundTruth,), {"__annotations__": {"box": a.BoundingBox}}).from_dict({"box": "nope"})
