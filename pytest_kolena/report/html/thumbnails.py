"""Thumbnails of the worst samples: images read through fsspec, scaled down, ground truth and inference drawn over
them by Pillow in two colours, as WebP data URIs."""

from __future__ import annotations

import base64
import io
from collections.abc import Iterator
from typing import Any

from .dependencies import _Libraries
from .text import Row, _finite

THUMBNAIL_SIZE = 160  # longest side of a thumbnail, pixels (smaller images are enlarged: the marks stay legible)
THUMBNAIL_LIMIT = 4000  # thumbnails per report at most, whatever the number of test cases
IMAGE_TRIES = 8  # locators of a suite that may fail to open, none opening, before the suite's images are given up
GROUND_TRUTH_COLOUR = "#00b7ff"
INFERENCE_COLOUR = "#ff8a00"


class _Thumbnails:
    """Images read through fsspec, ground truth and inference drawn over them in two colours, as WebP data URIs."""

    def __init__(self, libraries: _Libraries) -> None:
        self.libraries = libraries
        self.font = libraries.font.load_default()
        self.images: dict[str, tuple[Any, float, float] | None] = {}
        self.failures: dict[int, int] = {}  # suite (by id) -> its locators that failed to open, when none opened
        self.count = 0

    def draw(self, suite: Row, index: int, model: str, baseline: bool = False) -> str | None:
        """The sample's image with its ground truth and the model's inference drawn (`baseline`: the inference of the
        model's baseline, where the document keeps it)."""
        samples = suite["samples"]
        locator = (samples["test_samples"][index] or {}).get("locator")
        if self.count >= THUMBNAIL_LIMIT or not isinstance(locator, str):
            return None
        base = self.image(id(suite), locator)
        if base is None:
            return None
        image, sx, sy = base
        image = image.copy()
        canvas = self.libraries.draw.Draw(image)
        truths = samples.get("ground_truths") or []
        inferences = samples.get("baseline_inferences" if baseline else "inferences", {}).get(model) or []
        if baseline and (index >= len(inferences) or inferences[index] is None):
            return None
        self.annotate(canvas, truths[index] if index < len(truths) else None, GROUND_TRUTH_COLOUR, sx, sy, 0)
        self.annotate(
            canvas, inferences[index] if index < len(inferences) else None, INFERENCE_COLOUR, sx, sy, image.size[1]
        )
        out = io.BytesIO()
        image.save(out, "WEBP", quality=65, method=2)
        self.count += 1
        return "data:image/webp;base64," + base64.b64encode(out.getvalue()).decode("ascii")

    def image(self, suite: int, locator: str) -> tuple[Any, float, float] | None:
        """The image at `locator` scaled to THUMBNAIL_SIZE, with its scale factors; None when it cannot be read, and
        for every locator of a suite whose first IMAGE_TRIES locators could not be."""
        if locator in self.images:
            return self.images[locator]
        if self.failures.get(suite, 0) >= IMAGE_TRIES:
            return None
        import fsspec

        found = None
        try:
            with fsspec.open(locator, "rb") as handle:
                image = self.libraries.image.open(handle)
                width, height = image.size
                image.draft("RGB", (THUMBNAIL_SIZE, THUMBNAIL_SIZE))  # a JPEG decoded at a reduced scale
                image = image.convert("RGB")
            factor = THUMBNAIL_SIZE / max(image.size)
            size = (max(1, round(image.size[0] * factor)), max(1, round(image.size[1] * factor)))
            image = image.resize(size, self.libraries.image.Resampling.BILINEAR)
            found = (image, size[0] / width, size[1] / height)
            self.failures[suite] = -(10**9)  # one opened: the suite's images are worth trying, every one
        except Exception:  # a locator that is no readable image: a scheme fsspec lacks, a missing file, text
            self.failures[suite] = self.failures.get(suite, 0) + 1
        self.images[locator] = found
        return found

    def annotate(self, canvas: Any, value: Any, colour: str, sx: float, sy: float, bottom: int) -> None:
        """Keypoints (ground truth: rings, inference: dots), polylines, polygons, boxes, and labels in a corner
        (ground truth: top, inference: `bottom`, the image's height)."""
        labels = []
        for annotation in _annotations(value):
            kind = str(annotation.get("data_type", "")).split("/", 1)[-1]
            try:
                if kind in ("KEYPOINTS", "POLYLINE", "POLYGON"):
                    points = [(float(x) * sx, float(y) * sy) for x, y in annotation["points"]]
                    if kind == "POLYGON":
                        canvas.polygon(points, outline=colour, width=2)
                    elif kind == "POLYLINE":
                        canvas.line(points, fill=colour, width=2)
                    for x, y in points if kind == "KEYPOINTS" else []:
                        if bottom:
                            canvas.ellipse([x - 2, y - 2, x + 2, y + 2], fill=colour)
                        else:
                            canvas.ellipse([x - 3, y - 3, x + 3, y + 3], outline=colour, width=2)
                elif kind == "BOUNDING_BOX":
                    (x0, y0), (x1, y1) = annotation["top_left"], annotation["bottom_right"]
                    box = [min(x0, x1) * sx, min(y0, y1) * sy, max(x0, x1) * sx, max(y0, y1) * sy]
                    canvas.rectangle(box, outline=colour, width=2)
                    if "label" in annotation:
                        canvas.text((box[0] + 3, box[1] + 2), str(annotation["label"]), fill=colour, font=self.font)
                if kind in ("LABEL", "POLYGON") and "label" in annotation:
                    score = annotation.get("score")
                    labels.append(str(annotation["label"]) + (f" {score:.2f}" if _finite(score) else ""))
            except (KeyError, TypeError, ValueError):  # an annotation of an unexpected shape: not drawn
                continue
        for i, text in enumerate(labels[:4]):
            y = bottom - 14 - 12 * i if bottom else 2 + 12 * i
            box = canvas.textbbox((3, y), text, font=self.font)
            canvas.rectangle([box[0] - 2, box[1] - 1, box[2] + 2, box[3] + 1], fill="#000000")
            canvas.text((3, y), text, fill=colour, font=self.font)


def _annotations(value: Any, depth: int = 0) -> Iterator[Row]:
    """The annotations inside a ground truth or an inference (fields, lists of them), by their data_type."""
    if isinstance(value, dict) and str(value.get("data_type", "")).startswith("ANNOTATION/"):
        yield value
        return
    children = value.values() if isinstance(value, dict) else value if isinstance(value, list) else []
    for child in children if depth < 3 else []:
        if isinstance(child, (dict, list)):
            yield from _annotations(child, depth + 1)
