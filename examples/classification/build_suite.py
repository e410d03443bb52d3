"""Write the suite `examples/data/breast-cancer/meta/metadata.csv`: the held-out half of `split.py`, one row per
biopsy, sorted by row number. Deterministic: a rerun writes the same bytes.

    python -m examples.classification.build_suite            # from the repository root

Columns: `locator` (`sklearn://breast_cancer/{row}`), `features` (the 30 features as a JSON list, in sklearn's
order, each float written by its shortest exact repr, so the suite holds sklearn's values exactly), `diagnosis`
(`malignant` or `benign`); then metadata to stratify by: `mean_radius`, `mean_texture` (the features themselves),
`size` (`small` below a mean radius of 12, `large` at 15 and above, else `medium`) and `texture` (`smooth` below a
mean texture of 20, else `coarse`).
"""

from __future__ import annotations

import csv
import io
import json
import sys
from pathlib import Path

from examples.classification.split import split
from examples.classification.workflow import LOCATOR_PREFIX

SUITE_CSV = Path(__file__).resolve().parents[1] / "data" / "breast-cancer" / "meta" / "metadata.csv"
HEADER = ["locator", "features", "diagnosis", "mean_radius", "mean_texture", "size", "texture"]
SIZE_EDGES = (12.0, 15.0)  # mean radius: small < 12 <= medium < 15 <= large
TEXTURE_EDGE = 20.0  # mean texture: smooth < 20 <= coarse


def size_of(mean_radius: float) -> str:
    return "small" if mean_radius < SIZE_EDGES[0] else "medium" if mean_radius < SIZE_EDGES[1] else "large"


def texture_of(mean_texture: float) -> str:
    return "smooth" if mean_texture < TEXTURE_EDGE else "coarse"


def suite_csv() -> str:
    """The suite's CSV text."""
    data = split()
    radius, texture = data.feature_names.index("mean radius"), data.feature_names.index("mean texture")
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(HEADER)
    for row in data.test_rows.tolist():
        features = data.features[row].tolist()
        writer.writerow(
            [
                f"{LOCATOR_PREFIX}{row}",
                json.dumps(features),
                data.diagnosis[row],
                repr(features[radius]),
                repr(features[texture]),
                size_of(features[radius]),
                texture_of(features[texture]),
            ]
        )
    return out.getvalue()


def main(path: Path = SUITE_CSV) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(suite_csv().encode("utf-8"))
    return path


if __name__ == "__main__":
    print(main(Path(sys.argv[1]) if len(sys.argv) > 1 else SUITE_CSV))
