"""Metric helpers: Kolena's values and matching semantics (and the one deliberate fix)."""

import pytest

from pytest_kolena.workflow.annotation import (
    BoundingBox,
    LabeledBoundingBox,
    Polygon,
    ScoredBoundingBox,
    ScoredLabeledBoundingBox,
    ScoredPolygon,
)
from pytest_kolena.workflow.metrics import (
    accuracy,
    f1_score,
    fpr,
    iou,
    match_inferences,
    match_inferences_multiclass,
    precision,
    recall,
    specificity,
)


def test_formula_values():
    assert precision(8, 2) == 0.8
    assert recall(8, 2) == 0.8
    assert f1_score(8, 2, 4) == 0.7272727272727272
    assert accuracy(8, 2, 4, 6) == 0.7
    assert fpr(6, 2) == 0.25
    assert specificity(6, 2) == 0.75


@pytest.mark.parametrize(
    "formula",
    [
        lambda: precision(0, 0),
        lambda: recall(0, 0),
        lambda: f1_score(0, 0, 0),
        lambda: accuracy(0, 0, 0, 0),
        lambda: fpr(0, 0),
        lambda: specificity(0, 0),
    ],
)
def test_zero_denominator_gives_int_zero(formula):
    result = formula()
    assert result == 0 and type(result) is int


def test_iou_of_boxes_and_polygons():
    assert iou(BoundingBox((0, 0), (10, 10)), BoundingBox((5, 5), (15, 15))) == 1 / 7
    assert iou(BoundingBox((0, 0), (10, 10)), BoundingBox((10, 0), (20, 10))) == 0.0  # touching
    assert iou(BoundingBox((0, 0), (10, 10)), BoundingBox((20, 20), (30, 30))) == 0.0
    square = Polygon([(0, 0), (10, 0), (10, 10), (0, 10)])
    assert iou(square, BoundingBox((5, 5), (15, 15))) == pytest.approx(1 / 7)
    triangle = Polygon([(0, 0), (10, 0), (0, 10)])
    assert iou(triangle, square) == pytest.approx(0.5)
    bowtie = Polygon([(0, 0), (10, 10), (10, 0), (0, 10)])  # self-intersecting: made valid, not an error
    assert 0 < iou(bowtie, square) <= 1


def test_iou_of_a_box_with_swapped_corners_is_that_of_its_rectangle():
    # Kolena gives 0.0 here although the box's area is 100; we order the corners first.
    swapped = BoundingBox(top_left=(10, 10), bottom_right=(0, 0))
    assert swapped.area == 100
    assert iou(swapped, BoundingBox((5, 5), (15, 15))) == 1 / 7
    assert iou(swapped, Polygon([(0, 0), (10, 0), (10, 10), (0, 10)])) == pytest.approx(1.0)


def test_iou_rejects_other_types():
    with pytest.raises(TypeError, match="iou: b must be a BoundingBox or a Polygon, got str"):
        iou(BoundingBox((0, 0), (1, 1)), "box")


def test_match_by_descending_score_with_copies_carrying_iou():
    gt = BoundingBox((0, 0), (10, 10))
    low = ScoredBoundingBox((0, 0), (10, 10), score=0.5)  # perfect overlap, lower score
    high = ScoredBoundingBox((0, 0), (10, 5), score=0.9)  # iou 0.5, higher score: matched first
    result = match_inferences([gt], [low, high])
    assert [(g, i.score, i.iou) for g, i in result.matched] == [(gt, 0.9, 0.5)]
    assert [(i.score, i.iou) for i in result.unmatched_inf] == [(0.5, 1.0)]
    assert result.unmatched_gt == []
    assert not hasattr(high, "iou")  # inputs are not modified


def test_no_fallback_to_the_second_best_ground_truth():
    first = BoundingBox((0, 0), (10, 10))
    second = BoundingBox((0, 0), (10, 8))
    a = ScoredBoundingBox((0, 0), (10, 10), score=0.9)  # best: first
    b = ScoredBoundingBox((0, 0), (10, 10), score=0.8)  # best is also first, taken; second (iou 0.8) is not tried
    result = match_inferences([first, second], [a, b])
    assert [(g, i.score) for g, i in result.matched] == [(first, 0.9)]
    assert [i.score for i in result.unmatched_inf] == [0.8]
    assert result.unmatched_gt == [second]


def test_ties_in_score_keep_input_order():
    gt = BoundingBox((0, 0), (10, 10))
    a = ScoredBoundingBox((0, 0), (10, 9), score=0.5)
    b = ScoredBoundingBox((0, 0), (10, 10), score=0.5)
    assert match_inferences([gt], [a, b]).matched[0][1].bottom_right == (10.0, 9.0)


def test_threshold_is_inclusive_and_ignored_ground_truths_drop_their_matches():
    gt = BoundingBox((0, 0), (10, 10))
    half = ScoredBoundingBox((0, 0), (10, 5), score=0.9)
    assert len(match_inferences([gt], [half], iou_threshold=0.5).matched) == 1
    assert len(match_inferences([gt], [half], iou_threshold=0.51).matched) == 0
    ignored = BoundingBox((100, 100), (110, 110))
    on_ignored = ScoredBoundingBox((100, 100), (110, 110), score=0.8)
    result = match_inferences([gt], [half, on_ignored], ignored_ground_truths=[ignored])
    assert len(result.matched) == 1 and result.unmatched_inf == [] and result.unmatched_gt == []


def test_polygon_matching_and_required_match_fields():
    square = Polygon([(0, 0), (10, 0), (10, 10), (0, 10)])
    result = match_inferences([square], [ScoredPolygon([(0, 0), (10, 0), (10, 10), (0, 10)], score=0.7)])
    assert result.matched[0][1].iou == pytest.approx(1.0)
    gts = [LabeledBoundingBox((0, 0), (10, 10), "car")]
    infs = [ScoredLabeledBoundingBox((0, 0), (10, 10), "truck", 0.9)]
    keyed = match_inferences(gts, infs, required_match_fields=["label"])
    assert keyed.matched == [] and keyed.unmatched_gt == gts and len(keyed.unmatched_inf) == 1


def test_multiclass_matching_reports_confusions():
    car = LabeledBoundingBox((0, 0), (10, 10), "car")
    dog = LabeledBoundingBox((50, 50), (60, 60), "dog")
    car_hit = ScoredLabeledBoundingBox((0, 0), (10, 10), "car", 0.9)
    cat_on_dog = ScoredLabeledBoundingBox((50, 50), (60, 60), "cat", 0.8)
    result = match_inferences_multiclass([car, dog], [car_hit, cat_on_dog])
    assert [(g.label, i.label) for g, i in result.matched] == [("car", "car")]
    assert [(g.label, i.label if i else None) for g, i in result.unmatched_gt] == [("dog", "cat")]
    assert [i.label for i in result.unmatched_inf] == ["cat"]


def test_mode_and_labels_are_checked():
    with pytest.raises(ValueError, match="mode 'coco' is not a valid mode"):
        match_inferences([], [], mode="coco")
    with pytest.raises(TypeError, match=r"inferences\[0\] \(ScoredBoundingBox\) has no label"):
        match_inferences_multiclass([], [ScoredBoundingBox((0, 0), (1, 1), 0.5)])
