"""test(): local runs that return results and keep every failure, without a server."""

import json
import re

import pytest

from pytest_kolena.workflow import (
    EvaluationResults,
    Evaluator,
    EvaluatorConfiguration,
    GroundTruth,
    Inference,
    MetricsTestCase,
    MetricsTestSample,
    MetricsTestSuite,
    TestCases,
    Text,
    define_workflow,
    no_op_evaluator,
    test,
)


class Sentence(Text):
    pass


class Truth(GroundTruth):
    label: str


class Guess(Inference):
    label: str


class Correct(MetricsTestSample):
    correct: bool


class Accuracy(MetricsTestCase):
    accuracy: float
    n: int


class Spread(MetricsTestSuite):
    worst: float


class Strict(EvaluatorConfiguration):
    case_sensitive: bool

    def display_name(self):
        return "strict" if self.case_sensitive else "lenient"


workflow, TestCase, TestSuite, Model = define_workflow("Toy", Sentence, Truth, Guess)


class AccuracyEvaluator(Evaluator):
    def compute_test_sample_metrics(self, test_case, inferences, configuration=None):
        same = (
            (lambda a, b: a == b)
            if configuration is None or configuration.case_sensitive
            else (lambda a, b: a.lower() == b.lower())
        )
        return [(ts, Correct(same(gt.label, inf.label))) for ts, gt, inf in inferences]

    def compute_test_case_metrics(self, test_case, inferences, metrics, configuration=None):
        return Accuracy(sum(m.correct for m in metrics) / len(metrics) if metrics else float("nan"), len(metrics))

    def compute_test_suite_metrics(self, test_suite, metrics, configuration=None):
        return Spread(min(m.accuracy for _, m in metrics))


def echo(sample):
    if sample.text == "boom":
        raise RuntimeError("model crashed on boom")
    return Guess(sample.text.split()[-1])


def pairs(*texts_and_labels):
    return [(Sentence(text), Truth(label)) for text, label in texts_and_labels]


@pytest.fixture
def suite():
    everything = TestCase(
        "all", test_samples=pairs(("a cat", "cat"), ("a Dog", "dog"), ("boom", "x"), ("one bird", "fish"))
    )
    animals = TestCase("animals", test_samples=pairs(("a cat", "cat"), ("a Dog", "dog")))
    return TestSuite("toy", test_cases=[everything, animals])


def test_results_per_configuration_and_test_case(suite):
    evaluator = AccuracyEvaluator(configurations=[Strict(True), Strict(False)])
    with pytest.warns(RuntimeWarning, match="1 of 4 samples failed to infer"):
        results = test(Model("echo", infer=echo), suite, evaluator)
    assert results.n_samples == 4 and results.n_failed == 1
    assert str(results.failures[0].failure) == "infer raised RuntimeError: model crashed on boom"
    assert "RuntimeError: model crashed on boom" in results.failures[0].failure.traceback
    strict_all = results.case("all", "strict")
    assert strict_all.metrics == Accuracy(1 / 3, 3)  # the failed sample is left out of the metrics, and listed
    assert [f.test_sample.text for f in strict_all.failures] == ["boom"]
    assert results.case("all", Strict(False)).metrics == Accuracy(2 / 3, 3)
    assert results.case("animals", "lenient").metrics == Accuracy(1.0, 2)
    assert [s.metrics.correct for s in results.case("animals", "strict").samples] == [True, False]
    assert results.test_suite_metrics("strict") == Spread(1 / 3)
    assert results.test_suite_metrics(Strict(False)) == Spread(2 / 3)
    json.dumps(results.to_dict())  # plain data all the way down


def test_lookup_errors_name_what_exists(suite):
    results = test(
        Model("m", infer=lambda s: Guess("x")),
        TestSuite("s", test_cases=[suite.test_cases[1]]),
        AccuracyEvaluator([Strict(True)]),
    )
    with pytest.raises(
        KeyError,
        match=re.escape("test case 'nope' at configuration None not found; results hold [('animals', 'strict')]"),
    ):
        results.case("nope")
    assert results.case("animals").metrics.n == 2


def test_infer_returning_the_wrong_type_fails_that_sample(suite):
    with pytest.warns(RuntimeWarning):
        results = test(Model("m", infer=lambda s: "cat"), suite, AccuracyEvaluator())
    assert results.n_failed == 4
    assert str(results.failures[0].failure) == "infer raised TypeError: infer returned str, expected Guess"


@pytest.mark.parametrize(
    "stage", ["compute_test_sample_metrics", "compute_test_case_metrics", "compute_test_case_plots"]
)
def test_an_evaluator_exception_is_kept_on_the_case_it_touches(suite, stage):
    class Broken(AccuracyEvaluator):
        pass

    def explode(self, test_case, *args):
        if test_case.name == "animals":
            raise ZeroDivisionError(f"bad {stage}")
        return getattr(AccuracyEvaluator, stage)(self, test_case, *args)

    setattr(Broken, stage, explode)
    with pytest.warns(RuntimeWarning, match="1 test case evaluations failed"):
        results = test(Model("m", infer=lambda s: Guess("cat")), suite, Broken())
    assert str(results.case("animals").error) == f"{stage} raised ZeroDivisionError: bad {stage}"
    assert results.case("all").error is None and results.case("all").metrics.n == 4
    assert results.suite_metrics == {}
    with pytest.raises(RuntimeError, match="not computed because test case\\(s\\) animals failed to evaluate"):
        results.test_suite_metrics()


def test_sample_metrics_must_cover_every_sample(suite):
    class Forgetful(AccuracyEvaluator):
        def compute_test_sample_metrics(self, test_case, inferences, configuration=None):
            return super().compute_test_sample_metrics(test_case, inferences, configuration)[:-1]

    with pytest.warns(RuntimeWarning):
        results = test(Model("m", infer=lambda s: Guess("cat")), suite, Forgetful())
    assert (
        "returned 3 (test sample, metrics) pairs for 4 test samples; no metrics for Sentence(text='one bird')"
        in str(results.case("all").error)
    )


def test_suite_metrics_exception_is_kept(suite):
    class NoSuite(AccuracyEvaluator):
        def compute_test_suite_metrics(self, test_suite, metrics, configuration=None):
            raise ValueError("no spread today")

    results = test(Model("m", infer=lambda s: Guess("cat")), suite, NoSuite())
    assert str(results.suite_errors[None]) == "compute_test_suite_metrics raised ValueError: no spread today"


def function_evaluator(test_samples, ground_truths, inferences, test_cases, configuration: Strict):
    metrics = [
        Correct(gt.label == inf.label if configuration.case_sensitive else gt.label.lower() == inf.label.lower())
        for gt, inf in zip(ground_truths, inferences)
    ]
    per_case = [
        (tc, Accuracy(sum(m.correct for m in ms) / len(ms), len(ms)))
        for tc, _, _, _, ms in test_cases.iter(test_samples, ground_truths, inferences, metrics)
    ]
    assert isinstance(test_cases, TestCases)
    return EvaluationResults(
        metrics_test_sample=list(zip(test_samples, metrics)), metrics_test_case=per_case, metrics_test_suite=Spread(0.0)
    )


def test_function_style_evaluator_runs_once_per_configuration_over_distinct_samples(suite):
    calls = []

    def counted(test_samples, ground_truths, inferences, test_cases, configuration: Strict):
        calls.append(len(test_samples))
        return function_evaluator(test_samples, ground_truths, inferences, test_cases, configuration)

    with pytest.warns(RuntimeWarning):
        results = test(Model("m", infer=echo), suite, counted, configurations=[Strict(True), Strict(False)])
    assert calls == [3, 3]  # 4 distinct samples, one failed to infer
    assert results.case("animals", "lenient").metrics == Accuracy(1.0, 2)
    assert results.case("all", "strict").metrics == Accuracy(1 / 3, 3)
    assert results.test_suite_metrics("strict") == Spread(0.0)
    assert results.case("animals", "strict").samples[1].metrics == Correct(False)


def test_function_evaluator_needing_a_configuration_without_one(suite):
    with pytest.raises(
        ValueError, match="the evaluator function takes a configuration, but no configurations were given"
    ):
        test(Model("m", infer=echo), suite, function_evaluator)


def test_no_op_evaluator_records_inferences(suite):
    results = test(Model("m", infer=lambda s: Guess("cat")), suite, no_op_evaluator)
    assert results.ok
    assert results.case("animals").metrics == MetricsTestCase()
    assert results.case("animals").samples[0].inference == Guess("cat")


@pytest.mark.parametrize(
    ("configurations", "error", "message"),
    [
        ([], ValueError, "empty configuration list provided, at least one configuration required or 'None'"),
        (
            [Strict(True), Strict(True)],
            ValueError,
            "all configurations must have distinct display names; repeated: strict",
        ),
        (
            [Strict(True), "lenient"],
            TypeError,
            "AccuracyEvaluator: configuration 1 is str, not an EvaluatorConfiguration",
        ),
    ],
)
def test_evaluator_configuration_checks(configurations, error, message):
    with pytest.raises(error, match=re.escape(message)):
        AccuracyEvaluator(configurations=configurations)


def test_configuration_without_display_name_cannot_be_made():
    class Nameless(EvaluatorConfiguration):
        threshold: float

    with pytest.raises(TypeError, match="abstract"):
        Nameless(0.5)


@pytest.mark.parametrize(
    ("make", "error", "message"),
    [
        (lambda: TestCase("", test_samples=[]), ValueError, "test case name must be a non-empty string, got ''"),
        (
            lambda: TestCase("c", test_samples=[(Sentence("a"), Guess("a"))]),
            TypeError,
            "test case 'c': test_samples[0][1] is Guess, expected Truth",
        ),
        (
            lambda: TestCase("c", test_samples=[(Text("a"), Truth("a"))]),
            TypeError,
            "test case 'c': test_samples[0][0] is Text, expected Sentence",
        ),
        (
            lambda: TestCase("c", test_samples=[Sentence("a")]),
            TypeError,
            "test case 'c': test_samples[0] must be a (test sample, ground truth) tuple, got Sentence",
        ),
        (
            lambda: TestCase("c", test_samples=pairs(("a", "x"), ("b", "y"), ("a", "z"))),
            ValueError,
            "test case 'c': test_samples[2] repeats test_samples[0] (Sentence(text='a'))",
        ),
        (
            lambda: TestSuite("s", test_cases=[TestCase("c"), TestCase("c")]),
            ValueError,
            "test suite 's': two test cases are named 'c'",
        ),
        (lambda: TestSuite("s", test_cases=["c"]), TypeError, "test suite 's': test_cases[0] is str, not a TestCase"),
        (lambda: Model("m", infer="not callable"), TypeError, "model 'm': infer must be callable, got str"),
        (
            lambda: test(Model("m"), TestSuite("s", test_cases=[TestCase("c")]), AccuracyEvaluator()),
            ValueError,
            "model 'm' has no infer function",
        ),
        (
            lambda: test(Model("m", infer=echo), TestSuite("s"), AccuracyEvaluator()),
            ValueError,
            "test suite 's' has no test cases",
        ),
        (
            lambda: test(Model("m", infer=echo), TestSuite("s", test_cases=[TestCase("c")])),
            ValueError,
            "an evaluator is required",
        ),
    ],
)
def test_definition_errors_say_what_is_wrong(make, error, message):
    with pytest.raises(error, match=re.escape(message)):
        make()


def test_mixing_workflows_is_refused():
    _, OtherCase, _OtherSuite, OtherModel = define_workflow("Other", Sentence, Truth, Guess)
    with pytest.raises(TypeError, match="test case 'c' belongs to workflow 'Other', not 'Toy'"):
        TestSuite("s", test_cases=[OtherCase("c")])
    with pytest.raises(TypeError, match="model 'm' is of workflow 'Other', test suite 's' of 'Toy'"):
        test(OtherModel("m", infer=echo), TestSuite("s", test_cases=[TestCase("c")]), AccuracyEvaluator())


def test_define_workflow_checks_its_types():
    with pytest.raises(
        TypeError, match="workflow 'Bad': ground_truth_type must be a subclass of GroundTruth, got <class 'str'>"
    ):
        define_workflow("Bad", Sentence, str, Guess)
    with pytest.raises(ValueError, match="workflow name must be a non-empty string"):
        define_workflow("  ", Sentence, Truth, Guess)


def test_editing_a_test_case_and_a_test_suite():
    case = TestCase("c", test_samples=pairs(("a", "x"), ("b", "y")))
    with case.edit() as editor:
        editor.add(Sentence("a"), Truth("changed"))
        editor.remove(Sentence("b"))
        editor.add(Sentence("c"), Truth("z"))
        editor.description("edited")
    assert [(ts.text, gt.label) for ts, gt in case.load_test_samples()] == [("a", "changed"), ("c", "z")]
    assert (case.description, case.version) == ("edited", 2)
    suite = TestSuite("s", test_cases=[case])
    with suite.edit() as editor:
        editor.add(TestCase("d"))
    assert [tc.name for tc in suite.test_cases] == ["c", "d"]
