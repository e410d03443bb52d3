"""Inference on every executor, batched inference, and the evaluator's once-per-sample and DataFrame forms: the same
results, the same errors, the same order, whatever runs them."""

from __future__ import annotations

import re
import sys
import zlib
from pathlib import Path

import numpy as np
import pytest

# imported once here: pytester's in-process runs forget modules they import, and NumPy cannot load twice
from examples.facial_keypoints.workflow import (
    KeypointsEvaluator,
    NmeThreshold,
    VectorisedKeypointsEvaluator,
    mean_shape_model,
    wf,
)
from examples.quickstart.quickstart import Inference, Model
from pytest_kolena.data import load_suite
from pytest_kolena.engine.executors import open_executor
from pytest_kolena.testing import KolenaProject
from pytest_kolena.workflow._identity import SampleIndex
from pytest_kolena.workflow.annotation import Keypoints
from pytest_kolena.workflow.test_run import TestRun

DATA = Path(__file__).resolve().parents[1] / "examples" / "data"
CONFIGURATIONS = [NmeThreshold(0.05), NmeThreshold(0.08)]


def broken(test_sample) -> bool:
    """About one sample in seven, the same ones on every run."""
    return zlib.crc32(test_sample.locator.encode()) % 7 == 0


def flaky_infer(test_sample):
    """The mean-shape model, failing on some samples with an error that names them."""
    if broken(test_sample):
        raise ValueError(f"cannot read {test_sample.locator}")
    return mean_shape_model.infer(test_sample)


def flaky_batch(test_samples):
    """The same model, vectorised: a batch holding a broken sample raises as a whole."""
    bad = [ts.locator for ts in test_samples if broken(ts)]
    if bad:
        raise ValueError(f"cannot read {bad[0]}")
    return [mean_shape_model.infer(ts) for ts in test_samples]


def wrong_type(test_sample):
    return Keypoints([(0.0, 0.0)] * 5) if broken(test_sample) else mean_shape_model.infer(test_sample)


@pytest.fixture(scope="module")
def suite():
    return load_suite(wf, "300-W", DATA, columns={"points": "keypoints"}, stratify=["occlusion", "mirrored"])


def outcome(results) -> dict:
    """What a user sees of a run: every sample's inference or failure, every metric, in order."""
    return {
        "failures": [(f.test_sample.locator, str(f.failure)) for f in results.failures],
        "cases": [
            (c.name, c.configuration_name, c.metrics, [(s.sample_id, s.inference, s.metrics) for s in c.samples])
            for c in results.cases
        ],
        "suite": results.suite_metrics,
    }


def run(suite, model, evaluator=None, executor=None, workers=1, batch_size=32):
    evaluator = evaluator or KeypointsEvaluator(configurations=CONFIGURATIONS)
    return TestRun(model, suite, evaluator, warn=False, executor=executor, workers=workers, batch_size=batch_size).run()


@pytest.mark.parametrize("kind", ["threads", "processes", "dask"])
def test_every_executor_gives_the_serial_results_and_errors(suite, kind):
    model = Model("flaky", infer=flaky_infer)
    serial = outcome(run(suite, model))
    assert 20 < len(serial["failures"]) < 80  # some samples fail, each with its own message
    assert all(locator in message for locator, message in serial["failures"])
    with open_executor(kind, 2) as pool:
        assert outcome(run(suite, model, executor=pool.executor, workers=2, batch_size=7)) == serial


def test_the_processes_executor_sends_closures_and_refuses_what_cannot_be_sent(suite):
    import threading

    shape = mean_shape_model.infer
    closure = Model("closure", infer=lambda ts: shape(ts))
    lock = threading.Lock()

    def locked(ts):
        with lock:  # a lock cannot be pickled
            return shape(ts)

    with open_executor("processes", 2) as pool:
        assert outcome(run(suite, closure, executor=pool.executor, workers=2)) == outcome(run(suite, closure))
        with pytest.raises(Exception, match="cannot be sent to worker processes .*define its infer function"):
            run(suite, Model("locked", infer=locked), executor=pool.executor, workers=2)


def test_a_batch_that_raises_is_retried_sample_by_sample(suite):
    serial = outcome(run(suite, Model("flaky", infer=flaky_infer)))
    both = Model("flaky", infer=flaky_infer, infer_batch=flaky_batch)
    results = run(suite, both, batch_size=16)
    assert outcome(results) == serial
    samples = SampleIndex.of(suite).samples
    raising = sum(any(broken(ts) for ts in samples[i : i + 16]) for i in range(0, len(samples), 16))
    assert f"infer_batch raised on {raising} batches, each retried sample by sample by infer" in results.inference_note
    assert "(first: infer_batch (on a batch of 16) raised ValueError: cannot read " in results.inference_note
    with open_executor("threads", 3) as pool:
        assert outcome(run(suite, both, executor=pool.executor, workers=3, batch_size=16)) == serial


def test_a_batch_only_model_fails_the_samples_of_a_batch_that_raises(suite):
    sizes = []

    def batch(test_samples):
        sizes.append(len(test_samples))
        return flaky_batch(test_samples)

    results = run(suite, Model("batched", infer_batch=batch), batch_size=10)
    assert max(sizes) == 10 and sum(sizes) == results.n_samples
    samples = SampleIndex.of(suite).samples  # the order in which samples are inferred
    batches = [samples[start : start + 10] for start in range(0, len(samples), 10)]
    whole_batches = {ts.locator for b in batches if any(broken(ts) for ts in b) for ts in b}
    assert {f.test_sample.locator for f in results.failures} == whole_batches
    assert all("infer_batch (on a batch of" in str(f.failure) for f in results.failures)
    good = [s for c in results.cases for s in c.samples]
    assert all(s.inference == mean_shape_model.infer(s.test_sample) for s in good)


def test_an_inference_of_the_wrong_type_is_that_samples_failure_on_any_executor(suite):
    model = Model("wrong", infer=wrong_type)
    serial = outcome(run(suite, model))
    assert serial["failures"] and all("expected Inference" in m for _, m in serial["failures"])
    with open_executor("threads", 2) as pool:
        assert outcome(run(suite, model, executor=pool.executor, workers=2)) == serial


class Counting(KeypointsEvaluator):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.calls = []

    def compute_test_sample_metrics(self, test_case, inferences, configuration=None):
        self.calls.append((test_case, len(inferences)))
        return super().compute_test_sample_metrics(test_case, inferences, configuration)


class OncePerSample(Counting):
    once_per_sample = True


def test_once_per_sample_gives_the_per_test_case_metrics_with_one_call_per_configuration(suite):
    per_case, once = Counting(configurations=CONFIGURATIONS), OncePerSample(configurations=CONFIGURATIONS)
    expected = outcome(run(suite, mean_shape_model, per_case))
    assert outcome(run(suite, mean_shape_model, once)) == expected
    n_cases = len(suite.test_cases)
    assert len(per_case.calls) == n_cases * len(CONFIGURATIONS)
    assert once.calls == [(None, 300)] * len(CONFIGURATIONS)  # the 300 distinct samples, no test case


def test_the_dataframe_evaluator_equals_the_seed_style_one(suite):
    model = Model("noisy", infer=noisy_infer)
    seed = outcome(run(suite, model))
    vectorised = outcome(run(suite, model, VectorisedKeypointsEvaluator(configurations=CONFIGURATIONS)))
    assert [c[:2] for c in vectorised["cases"]] == [c[:2] for c in seed["cases"]]
    for (_, _, metrics, samples), (_, _, seed_metrics, seed_samples) in zip(vectorised["cases"], seed["cases"]):
        assert metrics.mean_nme == pytest.approx(seed_metrics.mean_nme, rel=1e-12)
        assert metrics.alignment_failure_rate == seed_metrics.alignment_failure_rate
        for (_, _, m), (_, _, s) in zip(samples, seed_samples):
            assert m.normalized_mean_error == pytest.approx(s.normalized_mean_error, rel=1e-12)
            assert m.alignment_failure == s.alignment_failure


@pytest.mark.parametrize("evaluator", [OncePerSample, VectorisedKeypointsEvaluator])
def test_a_sample_that_cannot_be_scored_fails_the_test_cases_holding_it_as_the_default_path_does(suite, evaluator):
    nose = next(tc for tc in suite.test_cases if tc.name.endswith("occlusion nose"))
    bad = next(iter(nose.iter_test_samples()))[0].locator

    def short(test_sample):  # one sample with 4 keypoints for 5
        inference = mean_shape_model.infer(test_sample)
        return Inference(Keypoints(inference.keypoints.points[:4]), 1.0) if test_sample.locator == bad else inference

    model = Model("short", infer=short)
    default = run(suite, model)  # per test case: the cases holding the sample fail
    failing = {(c.name, c.configuration_name) for c in default.cases if c.error is not None}
    assert ("300-W :: occlusion nose", "nme-threshold-0.08") in failing
    assert len(failing) < len(default.cases)
    results = run(suite, model, evaluator(configurations=CONFIGURATIONS))
    assert {(c.name, c.configuration_name) for c in results.cases if c.error is not None} == failing
    assert all(bad in str(c.error) for c in results.cases if c.error is not None)
    kept = [c for c in results.cases if c.error is None]
    assert kept and all(c.metrics.n_samples == len(c.samples) for c in kept)


def noisy_infer(test_sample):
    rng = np.random.default_rng(zlib.crc32(test_sample.locator.encode()))
    points = mean_shape_model.infer(test_sample).keypoints.points
    return Inference(Keypoints([(x + rng.normal(0, 2), y + rng.normal(0, 2)) for x, y in points]), 1.0)


# --- through pytest: the options, the cache, the progress line ------------------------------------------------------
ROOT = Path(__file__).resolve().parents[1]

PLUGIN_MODULE = """
import os
import zlib

import pytest

from examples.facial_keypoints.workflow import KeypointsEvaluator, NmeThreshold, mean_shape_model
from examples.quickstart.quickstart import Model


def flaky(test_sample):
    if zlib.crc32(test_sample.locator.encode()) % 7 == 0 and os.environ.get("KOLENA_FLAKY"):
        raise ValueError("cannot read " + test_sample.locator)
    return mean_shape_model.infer(test_sample)


model = Model("flaky", infer=flaky, metadata={"version": "1"})


@pytest.mark.kolena(models=[model], evaluator=KeypointsEvaluator(configurations=[NmeThreshold(0.08)]), columns={"points": "keypoints"})
def test_kp(kolena_result):
    pass
"""


@pytest.fixture
def project(pytester: pytest.Pytester) -> KolenaProject:
    project = KolenaProject(pytester, DATA, suite="300-W", stratify=["occlusion"], store="store", syspath=[ROOT])
    project.module("test_kp", PLUGIN_MODULE)
    return project


def errors_and_summary(result: pytest.RunResult) -> list[str]:
    """What a user reads of a run, less what differs between runs (run id, times)."""
    varying = re.compile(r"run \d{8}T\d{6}-\w+ stored| in [\d.]+s|^platform |^rootdir|^plugins|^kolena: pytest-kolena")
    return [line for line in result.stdout.lines if not varying.search(line)]


@pytest.mark.parametrize(
    "options", [["--kolena-workers", "4"], ["--kolena-executor", "processes", "--kolena-workers", "2"]]
)
def test_an_executor_shows_what_a_serial_run_shows(project, monkeypatch, options):
    monkeypatch.setenv("KOLENA_FLAKY", "1")
    serial = project.runpytest("-p", "no:cacheprovider", "--kolena-reset", "-rE")
    assert serial.ret == 1
    assert any("cannot read" in line for line in errors_and_summary(serial))
    parallel = project.runpytest("-p", "no:cacheprovider", "--kolena-reset", "-rE", *options)
    assert parallel.ret == 1
    assert errors_and_summary(parallel) == errors_and_summary(serial)


@pytest.mark.slow
def test_dask_through_pytest_and_the_cache_on_threads(project):
    first = project.runpytest_subprocess("-p", "no:cacheprovider", "--kolena-executor", "dask", "--kolena-workers", "2")
    assert first.ret == 0, first.stdout.str()
    first.stdout.fnmatch_lines(["inference of flaky: 300 inferred, 0 from the cache"])
    again = project.runpytest("-p", "no:cacheprovider", "--kolena-workers", "3")
    assert again.ret == 0
    again.stdout.fnmatch_lines(["inference of flaky: 0 inferred, 300 from the cache"])


@pytest.mark.parametrize(
    ("option", "message"),
    [
        (["--kolena-executor", "gpu"], "*--kolena-executor / kolena_executor is 'gpu': give serial, threads*"),
        (["--kolena-workers", "-2"], "*--kolena-workers / kolena_workers is -2: give 1 or more*"),
        (["--kolena-workers", "many"], "*--kolena-workers / kolena_workers: *expected an integer*"),
        (["--kolena-batch-size", "0"], "*--kolena-batch-size / kolena_batch_size is 0: give 1 or more*"),
        (["--kolena-progress", "maybe"], "*--kolena-progress / kolena_progress is 'maybe': give auto, on or off*"),
        (["--kolena-executor", "dask://"], "*names no scheduler: give dask://HOST:PORT*"),
        (["--kolena-stall-timeout", "0"], "*--kolena-stall-timeout / kolena_stall_timeout is 0: give the seconds*"),
        (["--kolena-stall-timeout", "soon"], "*--kolena-stall-timeout / kolena_stall_timeout: *expected a number*"),
    ],
)
def test_a_bad_executor_setting_stops_the_run_at_once(project, option, message):
    result = project.runpytest("-p", "no:cacheprovider", *option)
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines([message])


def test_a_dask_scheduler_that_does_not_answer_is_the_items_error(project):
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    executor = f"--kolena-executor=dask://127.0.0.1:{port}"
    result = project.runpytest_subprocess("-p", "no:cacheprovider", executor, "--kolena-stall-timeout=1")
    assert result.ret == 1
    result.stdout.fnmatch_lines([f"*no Dask scheduler answers at tcp://127.0.0.1:{port}*"])


def test_progress_lines_when_asked_and_none_otherwise(project):
    on = project.runpytest("-p", "no:cacheprovider", "--kolena-reset", "--kolena-progress", "on")
    on.stdout.fnmatch_lines(
        [
            "kolena: flaky on 300-W: inference 300/300 (100%), */s",
            "kolena: flaky on 300-W: evaluation 6/6 (100%), */s",
        ]
    )
    for quiet in ([], ["--kolena-progress", "off"], ["-q"]):  # not a terminal: auto is off
        result = project.runpytest("-p", "no:cacheprovider", "--kolena-reset", *quiet)
        assert result.ret == 0
        assert "kolena: flaky on 300-W" not in result.stdout.str()


def test_progress_stays_quiet_on_xdist_workers(project):
    from pytest_kolena.report.progress import ProgressLine

    config = project.parseconfigure("-p", "no:cacheprovider")
    assert ProgressLine.of(config, "on", is_worker=False) is not None
    assert ProgressLine.of(config, "on", is_worker=True) is None  # a worker's output is not a terminal
    result = project.runpytest("-p", "no:cacheprovider", "--kolena-reset", "--kolena-progress", "on", "-n", "2")
    assert result.ret == 0
    result.assert_outcomes(passed=7)


def run_on_a_terminal(project: pytest.Pytester, *args: str) -> str:
    """pytest in a child process whose output is a pseudo-terminal, as a developer runs it."""
    import os
    import pty
    import select
    import subprocess
    import sys
    import time

    leader, follower = pty.openpty()
    env = {**os.environ, "COLUMNS": "100", "TERM": "xterm"}
    child = subprocess.Popen(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "--kolena-reset", *args],
        cwd=project.path,
        stdin=subprocess.DEVNULL,
        stdout=follower,
        stderr=follower,
        env=env,
    )
    os.close(follower)
    output, deadline = b"", time.monotonic() + 120
    while time.monotonic() < deadline:
        if not select.select([leader], [], [], 1)[0]:
            if child.poll() is not None:
                break
            continue
        try:
            chunk = os.read(leader, 65536)
        except OSError:  # the child closed the terminal
            break
        if not chunk:
            break
        output += chunk
    child.wait(timeout=10)
    os.close(leader)
    return output.decode(errors="replace")


@pytest.mark.skipif(sys.platform == "win32", reason="a pseudo-terminal is POSIX")
def test_on_a_terminal_the_line_is_redrawn_in_place_and_quiet_with_q(project):
    shown = run_on_a_terminal(project)
    assert "\rkolena: flaky on 300-W: inference 300/300 (100%)" in shown  # redrawn in place
    lines = shown.replace("\r\n", "\n").split("\n")
    final = [line for line in lines if "evaluation 6/6 (100%)" in line]
    assert len(final) == 1 and final[0].rstrip().endswith("/s")  # its last state kept, on its own line
    assert any(line.startswith("test_kp.py .......") for line in lines), repr(shown)  # pytest's line, below it
    assert "7 passed" in shown
    assert "kolena: flaky on 300-W" not in run_on_a_terminal(project, "-q")


def test_ctrl_c_on_threads_keeps_the_finished_batches_in_the_cache(suite):
    from pytest_kolena.engine.inference import Inferrer, infer_distinct

    class Cache(dict):
        flushed = False

        def put(self, sample_id, inference):
            self[sample_id] = inference

        def flush(self):
            self.flushed = True

    def interrupt(what, done, total):  # the user presses Ctrl-C once 40 samples are in
        if done >= 40:
            raise KeyboardInterrupt

    index, cache = SampleIndex.of(suite), Cache()
    inferrer = Inferrer(mean_shape_model.infer, None, Inference)
    with open_executor("threads", 4) as pool, pytest.raises(KeyboardInterrupt):
        infer_distinct(inferrer, index.samples, index.ids, cache, pool.executor, 8, interrupt, pool.capacity)
    assert cache.flushed and 40 <= len(cache) < 300
    by_id = dict(zip(index.ids, index.samples))
    assert all(cache[i] == mean_shape_model.infer(by_id[i]) for i in cache)


BATCH_MODULE = """
import os

import pytest

from examples.facial_keypoints.workflow import KeypointsEvaluator, NmeThreshold, mean_shape_model
from examples.quickstart.quickstart import Model


def batch(test_samples):
    with open("calls.txt", "a") as out:
        out.write(f"{{len(test_samples)}}\\n")
    revision = {revision}  # the code's own constant: another revision is other code
    return [mean_shape_model.infer(ts) for ts in test_samples]


model = Model("batched", infer_batch=batch, metadata={{"version": "1"}})


@pytest.mark.kolena(models=[model], evaluator=KeypointsEvaluator(configurations=[NmeThreshold(0.08)]), columns={{"points": "keypoints"}})
def test_kp(kolena_result):
    pass
"""


def test_the_cache_knows_when_infer_batch_changed(project):
    project.makepyfile(test_kp=BATCH_MODULE.format(revision=1))
    first = project.runpytest("-p", "no:cacheprovider", "--kolena-batch-size", "50")
    assert first.ret == 0
    first.stdout.fnmatch_lines(["inference of batched: 300 inferred, 0 from the cache"])
    calls = (project.path / "calls.txt").read_text().split()
    assert calls == ["50"] * 6
    assert project.runpytest("-p", "no:cacheprovider").ret == 0  # the same code: all from the cache
    assert (project.path / "calls.txt").read_text().split() == calls
    project.makepyfile(test_kp=BATCH_MODULE.format(revision=2))  # new code, same version
    again = project.runpytest("-p", "no:cacheprovider")
    again.stdout.fnmatch_lines(["inference of batched: 300 inferred, 0 from the cache (300 cached by other code*"])
