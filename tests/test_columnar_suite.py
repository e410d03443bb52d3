"""A loaded suite keeps its fields as columns: its test samples and ground truths are made when code asks for them
and let go once nobody holds them, so a run's results do not keep a copy of the suite in objects."""

from __future__ import annotations

import dataclasses
import gc
import weakref

import pytest

from examples.facial_keypoints.workflow import (
    Inference,
    KeypointsEvaluator,
    Model,
    NmeThreshold,
    VectorisedKeypointsEvaluator,
    mean_shape_model,
    wf,
)
from pytest_kolena.data import load_suite
from pytest_kolena.workflow import test
from tests.keypoints import DATA, keypoints_project


@pytest.fixture
def suite():
    return load_suite(wf, "300-W", str(DATA), columns={"points": "keypoints"}, stratify=["mirrored"])


class Watching(KeypointsEvaluator):
    """The example's evaluator, keeping a weak reference to each ground truth it was given."""

    seen: list = []

    def compute_test_case_metrics(self, test_case, inferences, metrics, configuration=None):
        self.seen.extend(weakref.ref(gt) for _, gt, _ in inferences[:3])
        return super().compute_test_case_metrics(test_case, inferences, metrics, configuration)


def test_a_runs_results_hold_no_test_sample_or_ground_truth_yet_give_them_when_asked(suite):
    evaluator = Watching(configurations=[NmeThreshold(0.08)])
    results = test(mean_shape_model, suite, evaluator)
    gc.collect()
    assert evaluator.seen and all(ref() is None for ref in evaluator.seen)  # let go: nothing holds them
    basic = results.case("300-W :: basic")
    first = basic.samples[0]
    expected = suite.test_cases[0].load_test_samples()[0]
    assert (first.test_sample, first.ground_truth) == expected
    assert first.test_sample is expected[0]  # while held, the same object
    assert results.case("300-W :: mirrored True").metrics.n_samples + results.case(
        "300-W :: mirrored False"
    ).metrics.n_samples == len(basic.samples)


def test_the_test_cases_of_a_loaded_suite_share_their_samples_while_held(suite):
    basic, mirrored = (case.load_test_samples() for case in suite.test_cases[:2])
    by_id = {id(ts) for ts, _ in basic}
    assert all(id(ts) in by_id for ts, _ in mirrored)


def test_a_ground_truth_its_type_refuses_fails_the_run_naming_its_row(pytester):
    """Ground truths are made when an evaluator asks for them: a custom type's refusal names the file and row."""
    project = keypoints_project(pytester)
    project.write_ini(kolena_suite="300-W")
    pytester.makepyfile(
        test_strict="""
        import dataclasses
        import pytest
        from examples.facial_keypoints.workflow import KeypointsEvaluator, NmeThreshold, TestSample, Inference
        from examples.quickstart.quickstart import GroundTruth
        from pytest_kolena.workflow import define_workflow

        @dataclasses.dataclass(frozen=True)
        class StrictTruth(GroundTruth):
            def __post_init__(self):
                if self.normalization_factor > 35:
                    raise ValueError(f"normalization factor {self.normalization_factor} is not a face's")

        _, TestCase, TestSuite, Model = define_workflow("strict", TestSample, StrictTruth, Inference)

        def infer(ts):
            from examples.facial_keypoints.workflow import MEAN_SHAPE, mean_shape_infer
            return mean_shape_infer(MEAN_SHAPE)(ts)

        @pytest.mark.kolena(
            models=[Model("m", infer=infer)],
            evaluator=KeypointsEvaluator(configurations=[NmeThreshold(0.08)]),
            columns={"points": "keypoints"},
        )
        def test_strict(kolena_result):
            pass
        """
    )
    result = project.run()
    assert result.ret != 0
    result.stdout.fnmatch_lines(
        ["model 'm' on 300-W: *metadata.csv, row 2 (line 3): normalization factor 36.24 is not a face's"]
    )
    assert result.parseoutcomes()["errors"] == 4  # each item says it: 3 test cases and the suite
    assert "Traceback" not in result.stdout.str()


def test_a_loop_over_a_runs_results_makes_their_samples_a_block_at_a_time(suite):
    """A test that reads each result's test sample, one at a time, does not make them one at a time."""
    results = test(mean_shape_model, suite, KeypointsEvaluator(configurations=[NmeThreshold(0.08)]))
    gc.collect()
    pairs = suite._sample_index.pairs
    made = []
    maker = pairs._makers[0]
    pairs._makers = (lambda rows: made.append(len(rows)) or maker(rows), pairs._makers[1])
    locators = [sample.test_sample.locator for sample in results.case("300-W :: basic").samples]
    assert len(set(locators)) == 300 and made == [300]  # one block (of up to 1,024 rows)


def test_a_sample_in_several_test_cases_keeps_one_copy_of_equal_sample_metrics(suite):
    """Computed per test case (the seed's way), a sample's metrics are equal in each case holding it: kept once."""
    results = test(mean_shape_model, suite, KeypointsEvaluator(configurations=[NmeThreshold(0.08)]))
    basic = {s.sample_id: s.metrics for s in results.case("300-W :: basic").samples}
    mirrored = results.case("300-W :: mirrored True").samples
    assert mirrored and all(s.metrics is basic[s.sample_id] for s in mirrored)


def counting(evaluator_type, truths, alive):
    """The evaluator, counting the ground truths alive when `compute_test_case_metrics` runs."""

    class Counting(evaluator_type):
        def compute_test_case_metrics(self, test_case, inferences, metrics, configuration=None):
            gc.collect()
            alive.append(sum(ref is not None and ref() is not None for ref in truths))
            return super().compute_test_case_metrics(test_case, inferences, metrics, configuration)

    return Counting(configurations=[NmeThreshold(0.08)])


def test_an_evaluator_that_reads_only_the_metrics_holds_no_ground_truth(suite):
    """A run holds no ground truth of a loaded suite: the rows an evaluator walks are made as it reads them, and
    `compute_test_case_metrics` (reading only the sample metrics) finds none alive."""
    alive = []
    results = test(
        mean_shape_model, suite, counting(VectorisedKeypointsEvaluator, suite._sample_index.pairs._alive[1], alive)
    )
    assert alive == [0, 0, 0]
    gc.collect()  # (and the suite keeps no entry for the objects gone: no weak reference per row made)
    assert all(ref is None for refs in suite._sample_index.pairs._alive for ref in refs)
    basic = results.case("300-W :: basic")
    assert basic.metrics.n_samples == 300 and basic.samples[5].ground_truth.normalization_factor > 0


def test_rows_read_per_test_case_are_made_once_up_to_a_bound(suite, monkeypatch):
    """An evaluator that reads each test case's rows (the seed's) gets a sample's row made once for all the test cases
    holding it, up to ROWS_KEPT rows; beyond, rows are made again per test case and let go (memory stays bounded)."""
    import pytest_kolena.workflow.test_run as test_run

    pairs = suite._sample_index.pairs
    maker = pairs._makers[1]
    made = []
    pairs._makers = (pairs._makers[0], lambda rows: made.append(len(rows)) or maker(rows))
    alive = []
    test(mean_shape_model, suite, counting(KeypointsEvaluator, pairs._alive[1], alive))
    assert sum(made) == 300 and alive == [300, 300, 300]  # (300 rows: every one kept)
    made.clear(), alive.clear()
    monkeypatch.setattr(test_run, "ROWS_KEPT", 100)
    test(mean_shape_model, suite, counting(KeypointsEvaluator, pairs._alive[1], alive))
    assert sum(made) == 300 + 200 and alive == [100, 100, 100]  # (the mirrored cases: the 200 rows not kept, again)


def test_the_rows_an_evaluator_gets_read_as_a_list_would(suite):
    """The rows are a sequence made as it is read: len, index, slice, iteration and == as the list Kolena passes."""
    seen = {}

    class Reading(KeypointsEvaluator):
        def compute_test_case_metrics(self, test_case, inferences, metrics, configuration=None):
            if test_case.name.endswith("basic"):
                listed = list(inferences)
                seen.update(n=len(inferences), last=inferences[-1] == listed[-1], part=inferences[2:4] == listed[2:4])
                seen["equal"] = inferences == listed and [ts for ts, _, _ in inferences] == [r[0] for r in listed]
            return super().compute_test_case_metrics(test_case, inferences, metrics, configuration)

    test(mean_shape_model, suite, Reading(configurations=[NmeThreshold(0.08)]))
    assert seen == {"n": 300, "last": True, "part": True, "equal": True}


def test_a_run_keeps_its_inferences_as_columns_and_gives_them_back_equal(suite):
    """The inferences of a loaded suite are kept as typed columns, not an object per sample: the run holds none of
    the model's objects, and each result's inference (and the rows an evaluator reads) is equal to what the model
    returned."""
    made = {}

    def infer(test_sample):
        inference = mean_shape_model.infer(test_sample)
        made[test_sample.locator] = (weakref.ref(inference), inference.to_dict())
        return inference

    model = Model("columns", infer=infer)
    results = test(model, suite, KeypointsEvaluator(configurations=[NmeThreshold(0.08)]))
    gc.collect()
    assert len(made) == 300 and all(ref() is None for ref, _ in made.values())
    for sample in results.case("300-W :: mirrored True").samples:
        assert sample.inference.to_dict() == made[sample.test_sample.locator][1]
    assert (
        results.case("300-W :: basic").metrics
        == test(mean_shape_model, suite, KeypointsEvaluator()).case("300-W :: basic").metrics
    )


def test_an_inference_of_a_subclass_is_kept_as_it_was_made(suite):
    """What the columns would not give back as it was (another class than the workflow's) is kept as made."""

    @dataclasses.dataclass(frozen=True)
    class Scored(Inference):
        score: float = 0.5

    kept = []

    def infer(test_sample):
        inference = mean_shape_model.infer(test_sample)
        kept.append(Scored(inference.keypoints, inference.confidence, score=0.25))
        return kept[-1]

    results = test(Model("subclass", infer=infer), suite, KeypointsEvaluator(configurations=[NmeThreshold(0.08)]))
    first = results.case("300-W :: basic").samples[0].inference
    assert first is kept[0] and first.score == 0.25
