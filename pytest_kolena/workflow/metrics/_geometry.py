"""IoU and PASCAL VOC matching of inferences to ground truths, with Kolena's semantics.

One deliberate difference: Kolena's box IoU is 0.0 for a box given with swapped corners (bottom right
above or left of top left), although its area is not zero. Here corners are put in order first, so
such a box has the IoU of the rectangle it describes.
"""

from __future__ import annotations

import dataclasses
from collections import defaultdict
from collections.abc import Callable, Hashable
from typing import Any, Generic, Literal, TypeVar

from ..annotation import BoundingBox, Polygon

GT = TypeVar("GT")
Inf = TypeVar("Inf")


def _ordered_corners(box: BoundingBox) -> tuple[float, float, float, float]:
    (x1, y1), (x2, y2) = box.top_left, box.bottom_right
    return min(x1, x2), min(y1, y2), max(x1, x2), max(y1, y2)


def _iou_boxes(a: BoundingBox, b: BoundingBox) -> float:
    ax1, ay1, ax2, ay2 = _ordered_corners(a)
    bx1, by1, bx2, by2 = _ordered_corners(b)
    width = min(ax2, bx2) - max(ax1, bx1)
    height = min(ay2, by2) - max(ay1, by1)
    if width <= 0 or height <= 0:
        return 0.0
    intersection = width * height
    union = (ax2 - ax1) * (ay2 - ay1) + (bx2 - bx1) * (by2 - by1) - intersection
    return intersection / union if union > 0 else 0.0


def _as_shape(geometry: BoundingBox | Polygon) -> Any:
    from shapely.geometry import Polygon as ShapelyPolygon
    from shapely.validation import make_valid

    if isinstance(geometry, BoundingBox):
        x1, y1, x2, y2 = _ordered_corners(geometry)
        return ShapelyPolygon([(x1, y1), (x2, y1), (x2, y2), (x1, y2)])
    return make_valid(ShapelyPolygon(geometry.points))


def iou(a: BoundingBox | Polygon, b: BoundingBox | Polygon) -> float:
    """Intersection over union of two boxes or polygons (polygons through shapely, made valid first)."""
    if isinstance(a, BoundingBox) and isinstance(b, BoundingBox):
        return _iou_boxes(a, b)
    for name, value in (("a", a), ("b", b)):
        if not isinstance(value, (BoundingBox, Polygon)):
            raise TypeError(f"iou: {name} must be a BoundingBox or a Polygon, got {type(value).__name__}")
    shape_a, shape_b = _as_shape(a), _as_shape(b)
    union = shape_a.union(shape_b).area
    return shape_a.intersection(shape_b).area / union if union > 0 else 0


@dataclasses.dataclass(frozen=True)
class InferenceMatches(Generic[GT, Inf]):
    """Matched (ground truth, inference) pairs, unmatched ground truths (FN), unmatched inferences (FP).

    Returned inferences are copies carrying an `iou`: of their match, or the best over all ground truths.
    """

    matched: list[tuple[GT, Inf]]
    unmatched_gt: list[GT]
    unmatched_inf: list[Inf]


@dataclasses.dataclass(frozen=True)
class MulticlassInferenceMatches(Generic[GT, Inf]):
    """As InferenceMatches; unmatched ground truths come with the inference of another label they were confused with."""

    matched: list[tuple[GT, Inf]]
    unmatched_gt: list[tuple[GT, Inf | None]]
    unmatched_inf: list[Inf]


def _with_iou(inference: Any, value: float) -> Any:
    """A copy of an inference annotation carrying `iou` (annotations accept extra attributes)."""
    init = {f.name: getattr(inference, f.name) for f in dataclasses.fields(inference) if f.init}
    extras = {k: v for k, v in inference.extras().items() if k != "iou"}
    return type(inference)(**init, **extras, iou=value)


def _check_mode(mode: str) -> None:
    if mode != "pascal":
        raise ValueError(f"mode {mode!r} is not a valid mode; valid: 'pascal'")


def _match_pascal(
    ground_truths: list[Any],
    inferences: list[Any],
    ignored_ground_truths: list[Any] | None,
    iou_threshold: float,
) -> InferenceMatches:
    """PASCAL VOC: by descending score (ties in input order), each inference takes its best ground truth at or
    above the threshold if that one is free; there is no falling back to the second best."""
    ignored = list(ignored_ground_truths or [])
    candidates = list(ground_truths) + ignored
    n_real = len(ground_truths)
    taken: set[int] = set()
    matched, unmatched_inf = [], []
    for inference in sorted(inferences, key=lambda inf: -inf.score):
        best, best_iou, best_real_iou = None, -1.0, 0.0
        for index, ground_truth in enumerate(candidates):
            value = iou(ground_truth, inference)
            if index < n_real:
                best_real_iou = max(best_real_iou, value)
            if value >= iou_threshold and value > best_iou:
                best, best_iou = index, value
        if best is None or (best < n_real and best in taken):
            unmatched_inf.append(_with_iou(inference, best_real_iou))
        elif best < n_real:
            matched.append((ground_truths[best], _with_iou(inference, best_iou)))
            taken.add(best)
        # else: matched an ignored ground truth; dropped from the results
    unmatched_gt = [gt for index, gt in enumerate(ground_truths) if index not in taken]
    return InferenceMatches(matched=matched, unmatched_gt=unmatched_gt, unmatched_inf=unmatched_inf)


def _keyed(items: list[Any], fields: list[str]) -> dict[Hashable, list[Any]]:
    groups: dict[Hashable, list[Any]] = defaultdict(list)
    for item in items:
        groups[tuple(getattr(item, name, None) for name in fields)].append(item)
    return groups


def _per_key(
    match: Callable[..., Any],
    ground_truths: list[Any],
    inferences: list[Any],
    ignored_ground_truths: list[Any] | None,
    iou_threshold: float,
    fields: list[str],
) -> tuple[list, list, list]:
    """Match within each group of equal `fields` values, groups in sorted order (deterministic, as Kolena's
    per-label matching); concatenate the groups' results."""
    gts, infs, ignored = (
        _keyed(ground_truths, fields),
        _keyed(inferences, fields),
        _keyed(ignored_ground_truths or [], fields),
    )
    matched, unmatched_gt, unmatched_inf = [], [], []
    for key in sorted({*infs, *gts, *ignored}, key=repr):
        result = match(gts.get(key, []), infs.get(key, []), ignored.get(key, []), iou_threshold)
        matched += result.matched
        unmatched_gt += result.unmatched_gt
        unmatched_inf += result.unmatched_inf
    return matched, unmatched_gt, unmatched_inf


def match_inferences(
    ground_truths: list[Any],
    inferences: list[Any],
    *,
    ignored_ground_truths: list[Any] | None = None,
    mode: Literal["pascal"] = "pascal",
    iou_threshold: float = 0.5,
    required_match_fields: list[str] | None = None,
) -> InferenceMatches:
    """Match scored boxes or polygons to ground truths, ignoring labels (single class); PASCAL VOC mode."""
    _check_mode(mode)
    if not required_match_fields:
        return _match_pascal(ground_truths, inferences, ignored_ground_truths, iou_threshold)
    matched, unmatched_gt, unmatched_inf = _per_key(
        _match_pascal, ground_truths, inferences, ignored_ground_truths, iou_threshold, required_match_fields
    )
    return InferenceMatches(matched=matched, unmatched_gt=unmatched_gt, unmatched_inf=unmatched_inf)


def _match_multiclass(
    ground_truths: list[Any],
    inferences: list[Any],
    ignored_ground_truths: list[Any] | None,
    iou_threshold: float,
) -> MulticlassInferenceMatches:
    """Match within each label, then match the leftovers across labels to find confusions."""
    matched, unmatched_gt, unmatched_inf = _per_key(
        _match_pascal, ground_truths, inferences, ignored_ground_truths, iou_threshold, ["label"]
    )
    confusions = _match_pascal(unmatched_gt, unmatched_inf, ignored_ground_truths, iou_threshold)
    confused = []
    for gt, inf in confusions.matched:
        if gt.label != inf.label:
            confused.append((gt, inf))
            unmatched_gt.remove(gt)
    return MulticlassInferenceMatches(
        matched=matched,
        unmatched_gt=confused + [(gt, None) for gt in unmatched_gt],
        unmatched_inf=unmatched_inf,
    )


def match_inferences_multiclass(
    ground_truths: list[Any],
    inferences: list[Any],
    *,
    ignored_ground_truths: list[Any] | None = None,
    mode: Literal["pascal"] = "pascal",
    iou_threshold: float = 0.5,
    required_match_fields: list[str] | None = None,
) -> MulticlassInferenceMatches:
    """Match labeled scored boxes or polygons per label; report cross-label confusions with unmatched ground truths."""
    _check_mode(mode)
    for name, items in (("ground_truths", ground_truths), ("inferences", inferences)):
        for index, item in enumerate(items):
            if not hasattr(item, "label"):
                raise TypeError(f"match_inferences_multiclass: {name}[{index}] ({type(item).__name__}) has no label")
    if not required_match_fields:
        return _match_multiclass(ground_truths, inferences, ignored_ground_truths, iou_threshold)
    matched, unmatched_gt, unmatched_inf = _per_key(
        _match_multiclass, ground_truths, inferences, ignored_ground_truths, iou_threshold, required_match_fields
    )
    return MulticlassInferenceMatches(matched=matched, unmatched_gt=unmatched_gt, unmatched_inf=unmatched_inf)
