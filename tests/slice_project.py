"""A pytester project for slice discovery: a workflow of values whose error is planted on one pair slice (a x & b y)
by the PLANT environment variable, and a generated suite "values" with categorical and numeric metadata."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

TEST_MODULE = """
import dataclasses
import hashlib
import os

import pytest

from pytest_kolena.workflow import Evaluator, Image, Metadata, MetricsTestCase, MetricsTestSample, define_workflow
from pytest_kolena.workflow import GroundTruth as GT
from pytest_kolena.workflow import Inference as Inf


class Sample(Image):
    metadata: Metadata = dataclasses.field(default_factory=dict)


class Truth(GT):
    value: float


class Guess(Inf):
    value: float


wf, _, _, Model = define_workflow("Values", Sample, Truth, Guess)


class SampleMetrics(MetricsTestSample):
    error: float


class CaseMetrics(MetricsTestCase):
    mean_error: float = dataclasses.field(metadata={"mean_of": "error"})


class ErrorEvaluator(Evaluator):
    def compute_test_sample_metrics(self, test_case, inferences, configuration=None):
        return [(s, SampleMetrics(error=abs(g.value - t.value))) for s, t, g in inferences]

    def compute_test_case_metrics(self, test_case, inferences, metrics, configuration=None):
        return CaseMetrics(mean_error=sum(m.error for m in metrics) / len(metrics))


PLANT = float(os.environ.get("PLANT", "0"))
SEED = os.environ.get("NOISE_SEED", "0")


def infer(sample):
    # the noise of a sample from its locator below the suite's folder: the same wherever the test's folder is
    name = sample.locator[sample.locator.rindex("images/") :]
    digest = hashlib.blake2b((SEED + name).encode(), digest_size=4).hexdigest()
    error = int(digest, 16) / 2**32 * 0.2
    if sample.metadata["a"] == "x" and sample.metadata["b"] == "y":
        error += PLANT
    return Guess(value=error)


@pytest.mark.kolena(models=[Model("m", infer=infer)], evaluator=ErrorEvaluator(), thresholds={"mean_error": "<= 1"})
def test_values(kolena_result):
    pass
"""


def write_suite(root: Path, rows: int = 600, seed: int = 0, extra_columns: bool = True) -> None:
    """A suite "values" whose metadata has categorical columns a and b (and, `extra_columns`, a third categorical
    column c and a numeric d); the truth is 0."""
    rng = np.random.default_rng(seed)
    columns = {
        "locator": [f"images/{i}.jpg" for i in range(rows)],
        "value": 0.0,
        "a": rng.choice(["x", "w", "z"], rows),
        "b": rng.choice(["y", "v", "u"], rows),
    }
    if extra_columns:
        columns |= {"c": rng.choice(["p", "q"], rows), "d": rng.random(rows).round(4)}
    folder = root / "values" / "meta"
    folder.mkdir(parents=True)
    pd.DataFrame(columns).to_csv(folder / "metadata.csv", index=False)


def run(project: pytest.Pytester, *args: str) -> pytest.RunResult:
    """A pytest run of the project on the suite "values", slices of 20 samples or more."""
    return project.runpytest(
        "-p",
        "no:cacheprovider",
        "--kolena-suite=values",
        "--kolena-data=data",
        "-o",
        "kolena_discover_min_size=20",
        *args,
    )
