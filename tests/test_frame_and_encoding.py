"""The suite as a DataFrame for vectorised evaluators, data objects written to JSON by the C encoder, and the
collector's pause: what a vectorised evaluator reads, what the store and the cache keep."""

from __future__ import annotations

import dataclasses
import gc
import json
from typing import List, Optional

import numpy as np
import pytest

from pytest_kolena._gc import no_cyclic_gc
from pytest_kolena.engine.frame import samples_frame
from pytest_kolena.workflow import GroundTruth, Image, Inference, Metadata
from pytest_kolena.workflow._dataobject import json_default
from pytest_kolena.workflow.annotation import BoundingBox, Keypoints, LabeledBoundingBox, Polygon


class Sample(Image):
    bbox: Optional[BoundingBox] = None
    metadata: Metadata = dataclasses.field(default_factory=dict)


class Truth(GroundTruth):
    keypoints: Keypoints
    factor: float


class Guess(Inference):
    keypoints: Keypoints
    boxes: List[LabeledBoundingBox] = dataclasses.field(default_factory=list)


def rows():
    return [
        (
            Sample("a.jpg", bbox=BoundingBox((0, 0), (2, 4)), metadata={"roll": 3.0, "camera": "x"}),
            Truth(Keypoints([(0.0, 1.0), (2.0, 3.0)]), 2.0),
            Guess(Keypoints([(0.5, 1.0), (2.0, 3.5)]), [LabeledBoundingBox((0, 0), (1, 1), "cat")]),
        ),
        (
            Sample("b.jpg", metadata={"roll": -1.0}),  # no box, no camera
            Truth(Keypoints([(1.0, 1.0), (1.0, 1.0)]), 4.0),
            Guess(Keypoints([(1.0, 1.0), (1.0, 2.0)])),
        ),
    ]


def test_the_frame_has_a_column_per_leaf_field_named_by_its_path():
    frame = samples_frame(rows(), ["a", "b"])
    assert list(frame.index) == ["a", "b"] and frame.index.name == "sample_id"
    assert frame["test_sample.locator"].tolist() == ["a.jpg", "b.jpg"]
    assert frame["ground_truth.factor"].tolist() == [2.0, 4.0]
    assert frame["test_sample.metadata.roll"].tolist() == [3.0, -1.0]
    assert (
        frame["test_sample.metadata.camera"].tolist()[0] == "x" and frame["test_sample.metadata.camera"].isna().iloc[1]
    )
    assert frame["test_sample.bbox.width"].tolist()[0] == 2.0 and np.isnan(frame["test_sample.bbox.width"].iloc[1])
    points = np.array(frame["inference.keypoints.points"].tolist())  # lists stay one value: stack them
    assert points.shape == (2, 2, 2)
    assert frame["inference.boxes"].iloc[0][0].label == "cat"


def test_a_frame_built_a_block_at_a_time_is_the_frame_built_at_once(monkeypatch):
    """Rows are flattened a block at a time (a loaded suite's let go block by block): a field missing from the first
    block (a box, a metadata key) still gets its columns in their place, None for the rows before."""
    import pytest_kolena.engine.frame as frame_module

    later_first = list(reversed(rows())) + rows()  # the first row has no box and no camera
    ids = [str(k) for k in range(len(later_first))]
    at_once = samples_frame(later_first, ids)
    monkeypatch.setattr(frame_module, "BLOCK", 1)
    by_block = samples_frame(later_first, ids)
    assert list(by_block.columns) == list(at_once.columns)
    bbox = ["test_sample.bbox.top_left", "test_sample.bbox.bottom_right"]
    assert list(at_once.columns[1:3]) == bbox  # (where the box is in the test sample's fields)
    assert by_block.equals(at_once)
    assert by_block["test_sample.metadata.camera"].isna().tolist()[:2] == [True, False]


def test_points_are_one_float_array_per_row_and_other_lists_stay_lists():
    """A keypoints' points: a (k, 2) float array per row (what a vectorised evaluator stacks, without a Python
    float per coordinate); a row without them None; rows of different lengths, and lists of other things, as given."""
    frame = samples_frame(rows(), ["a", "b"])
    points = frame["ground_truth.keypoints.points"]
    assert all(isinstance(cell, np.ndarray) and cell.shape == (2, 2) and cell.dtype == np.float64 for cell in points)
    assert points.iloc[0].tolist() == [[0.0, 1.0], [2.0, 3.0]] and points.map(len).tolist() == [2, 2]
    assert isinstance(frame["inference.boxes"].iloc[0], list)  # (boxes: data objects, kept)
    assert frame["test_sample.bbox.bottom_right"].tolist() == [(2.0, 4.0), None]  # a corner: an (x, y) tuple

    ragged = [
        (Sample("a.jpg"), Truth(Keypoints([(0.0, 1.0)]), 1.0), Guess(Keypoints([(0.0, 1.0)]))),
        (Sample("b.jpg"), Truth(Keypoints([(0.0, 1.0), (2.0, 3.0)]), 1.0), Guess(Keypoints([(0.0, 1.0)]))),
    ]
    frame = samples_frame(ragged, ["a", "b"])
    assert frame["ground_truth.keypoints.points"].tolist() == [[(0.0, 1.0)], [(0.0, 1.0), (2.0, 3.0)]]
    assert frame["inference.keypoints.points"].map(lambda cell: cell.shape).tolist() == [(1, 2), (1, 2)]

    optional = [
        (Sample("a.jpg"), Truth(Keypoints([(0.0, 1.0)]), 1.0), Guess(Keypoints([(0.0, 1.0)]))),
        (Sample("b.jpg"), Truth(Keypoints([(0.0, 1.0)]), 1.0), None),  # (no inference: no points)
    ]
    frame = samples_frame(optional, ["a", "b"])
    cells = frame["inference.keypoints.points"].tolist()
    assert cells[0].tolist() == [[0.0, 1.0]] and cells[1] is None


def test_an_empty_suite_gives_an_empty_frame():
    assert len(samples_frame([], [])) == 0


@pytest.mark.parametrize(
    "value",
    [
        Guess(Keypoints([(0.5, 1.0), (2.0, 3.5)]), [LabeledBoundingBox((0, 0), (1, 1), "cat")]),
        BoundingBox((0, 0), (3, 4)),
        Polygon([(0, 0), (1, 0), (1, 1)]),
        Truth(Keypoints([(0.0, 1.0)]), np.float64(2.5)),
    ],
)
def test_json_of_a_data_object_holds_what_to_dict_holds(value):
    assert json.loads(json.dumps(value, default=json_default)) == value.to_dict()


def test_json_refuses_what_to_dict_refuses():
    with pytest.raises(TypeError, match="cannot serialize"):
        json.dumps({"when": {1, 2}}, default=json_default)  # a set: never a lossy text in its place


def test_the_collector_is_paused_inside_and_back_after_an_error():
    assert gc.isenabled()
    with pytest.raises(ValueError), no_cyclic_gc():
        assert not gc.isenabled()
        raise ValueError("an evaluator's error")
    assert gc.isenabled()
    gc.disable()
    try:
        with no_cyclic_gc():
            pass
        assert not gc.isenabled()  # a caller's own pause is kept
    finally:
        gc.enable()


class Boxed(Inference):
    keypoints: Keypoints
    confidence: Optional[float] = None
    box: Optional[BoundingBox] = None
    label: str = ""
    count: int = 0
    sure: bool = False


class HeldRows(list):
    """Rows whose inferences a run holds as typed columns, as a loaded suite's do (`inference_column`, `pairs`)."""

    def __init__(self, rows, kind):
        from pytest_kolena.workflow._inferences import InferenceColumns

        super().__init__(rows)
        self.kind = kind
        self.held = InferenceColumns(kind, json_default, len(rows))
        for position, (_, _, inference) in enumerate(rows):
            self.held[position] = inference
        self.held.seal()  # (as a run does once inference is over)

    def inference_column(self, start, stop):
        column = self.held.column(range(start, min(stop, len(self))))
        return None if column is None else (column, self.kind)

    def pairs(self, start, stop):
        return [(ts, gt, None) for ts, gt, _ in self[start:stop]]


def boxed_rows(count):
    def inference(k):
        points = [(float(k), 1.0), (2.0, 3.0 + k)]
        box = BoundingBox((0, 0), (k + 1, 2)) if k % 2 else BoundingBox((1, 1), (3, 3))
        return Boxed(Keypoints(points), 0.5 if k % 3 else None, box, f"l{k}", k, bool(k % 2))

    return [(Sample(f"{k}.jpg"), Truth(Keypoints([(0.0, 1.0), (2.0, 3.0)]), 2.0), inference(k)) for k in range(count)]


@pytest.mark.parametrize("block", [3, 8192])
def test_the_inference_columns_read_from_the_typed_column_are_those_of_the_objects(monkeypatch, block):
    """A loaded suite's run holds its inferences as typed columns: the frame reads them from there, no inference
    made, and gets the frame the objects give (floats with missing values, points, a box's corners and sizes,
    text, integers, booleans), a block at a time."""
    import pytest_kolena.engine.frame as frame_module
    import pytest_kolena.workflow._inferences as inferences_module
    from pytest_kolena.workflow._inferences import InferenceColumns

    monkeypatch.setattr(frame_module, "BLOCK", block)
    monkeypatch.setattr(inferences_module, "BLOCK", 5 - block % 2)  # (the inferences in blocks of 4 or 5)
    rows = boxed_rows(7)
    ids = [str(k) for k in range(len(rows))]
    from_objects = samples_frame(rows, ids)
    held = HeldRows(rows, Boxed)
    monkeypatch.setattr(InferenceColumns, "_made", lambda *args: pytest.fail("an inference was made"))
    from_columns = samples_frame(held, ids)
    assert list(from_columns.columns) == list(from_objects.columns)
    assert list(from_columns.dtypes) == list(from_objects.dtypes)
    assert from_columns.equals(from_objects)
    assert isinstance(from_columns["inference.keypoints.points"].iloc[0], np.ndarray)
    assert from_columns["inference.box.top_left"].tolist()[:2] == [(1.0, 1.0), (0.0, 0.0)]


def test_inferences_the_columns_cannot_give_as_the_objects_do_are_made(monkeypatch):
    """Inferences whose blocks differ in type (a keypoint's extra in some), or with a field kept as JSON text (a
    list of boxes), are made as objects for the frame: the same frame either way, each row made once (not its test
    sample and ground truth first for the columns, then again with its inference)."""
    monkeypatch.setattr(HeldRows, "pairs", lambda *args: pytest.fail("rows made without their inference, unused"))
    boxed = boxed_rows(4)
    boxed[1][2].keypoints.__dict__["reason"] = "no face"  # (an extra, as Keypoints(..., reason=...) keeps it)
    ids = [str(k) for k in range(len(boxed))]
    assert samples_frame(HeldRows(boxed, Boxed), ids).equals(samples_frame(boxed, ids))
    guesses = rows()  # (one with a list of labeled boxes: JSON text in the columns)
    assert samples_frame(HeldRows(guesses, Guess), ["a", "b"]).equals(samples_frame(guesses, ["a", "b"]))
