"""An executor that stops making progress, a cluster that cannot import the test's code, a model that infers
nothing: each run ends within its bound and says why, once."""

from __future__ import annotations

import importlib.util
import os
import re
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

pytestmark = pytest.mark.slow  # every test here runs a cluster or the real models

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "examples" / "data"

MODULE = """
import os
import signal
import threading
import zlib

import pytest

from examples.facial_keypoints.workflow import KeypointsEvaluator, NmeThreshold, mean_shape_model
from examples.quickstart.quickstart import Inference, Model

PYTEST_PID = os.getpid()
SCHEDULER_PID = os.environ.get("KOLENA_SCHEDULER_PID")
SHIFT = 1.5  # this module's own state: workers that cannot import the module get it with the function


def shifted(test_sample):
    inference = mean_shape_model.infer(test_sample)
    points = [(x + SHIFT, y) for x, y in inference.keypoints.points]
    return Inference(type(inference.keypoints)(points), inference.confidence)


def flaky(test_sample):
    if zlib.crc32(test_sample.locator.encode()) % 7 == 0:
        raise ValueError("cannot read " + test_sample.locator)
    return mean_shape_model.infer(test_sample)


def no_camera(test_sample):
    raise ValueError("no camera")


def imports_helper(test_sample):
    import helper  # a module of the project that the pytest process could import, the workers cannot

    return helper.infer(test_sample)


def hangs(test_sample):
    threading.Event().wait()


def kills_its_worker(test_sample):
    if os.getpid() != PYTEST_PID:
        os._exit(1)
    return mean_shape_model.infer(test_sample)


def kills_the_scheduler(test_sample):
    os.kill(int(SCHEDULER_PID), signal.SIGKILL)
    return mean_shape_model.infer(test_sample)


MODELS = [shifted, flaky, no_camera, imports_helper, hangs, kills_its_worker, kills_the_scheduler]


@pytest.mark.kolena(
    models=[Model(infer.__name__, infer=infer) for infer in MODELS],
    evaluator=KeypointsEvaluator(configurations=[NmeThreshold(0.08)]),
    columns={"points": "keypoints"},
)
def test_kp(kolena_result):
    pass
"""


INI = f"[pytest]\nkolena_data = {DATA}\nkolena_suite = 300-W\nkolena_stratify = occlusion\n"


def stall_timeout(project: pytest.Pytester, seconds: float) -> None:
    """Set the project's kolena_stall_timeout (an ini key that code without it ignores: it hangs, as it did)."""
    project.makeini(f"{INI}kolena_stall_timeout = {seconds}\n")


@pytest.fixture
def project(pytester: pytest.Pytester) -> pytest.Pytester:
    """A kolena project whose models are defined in its test module (one is chosen with --kolena-model)."""
    pytester.makeini(INI)
    helper = "from examples.facial_keypoints.workflow import mean_shape_model\n\ninfer = mean_shape_model.infer\n"
    pytester.makepyfile(test_kp=MODULE, helper=helper)
    pytester.makeconftest(f"import sys\nsys.path.insert(0, {str(ROOT)!r})\n")
    return pytester


def run(project: pytest.Pytester, model: str, *options: str) -> pytest.RunResult:
    """pytest on one model of the project in a child process, killed (a failed test) if it runs for a minute."""
    args = ("-p", "no:cacheprovider", "--kolena-model", model, *options)
    return project.runpytest_subprocess(*args, timeout=60)


def start(command: list[str], folder: Path, ready: Any) -> subprocess.Popen:
    """A Dask process (scheduler or worker) started in `folder` with its log there, once `ready(log)` is true."""
    folder.mkdir()
    env = {**os.environ, "PYTHONPATH": str(ROOT)}  # the package and the examples; not the pytester project
    log = folder / "log"
    with log.open("w") as out:
        process = subprocess.Popen([sys.executable, "-m", *command], cwd=folder, env=env, stdout=out, stderr=out)
    (folder / "pid").write_text(str(process.pid))
    deadline = time.monotonic() + 60
    while not ready(log.read_text()) and time.monotonic() < deadline and process.poll() is None:
        time.sleep(0.1)
    assert ready(log.read_text()), log.read_text()
    return process


@pytest.fixture
def scheduler(tmp_path: Path) -> Iterator[str]:
    """The address of a Dask scheduler alone on 127.0.0.1: a cluster without workers."""
    if importlib.util.find_spec("distributed") is None:  # not imported: Dask imports a backport of importlib.metadata
        pytest.skip("needs Dask's distributed")  # that breaks plugin discovery once pytester restores sys.meta_path
    command = ["distributed.cli.dask_scheduler", "--host", "127.0.0.1", "--port", "0", "--no-dashboard"]
    process = start(command, tmp_path / "scheduler", lambda log: "Scheduler at:" in log)
    yield re.search(r"Scheduler at:\s+(\S+)", (tmp_path / "scheduler" / "log").read_text()).group(1)
    process.kill()
    process.wait(10)


@pytest.fixture
def worker(scheduler: str, tmp_path: Path) -> Iterator[subprocess.Popen]:
    """One Dask worker of `scheduler`, without a nanny (a worker that dies stays dead), in a process that cannot
    import the pytester project's modules (another folder, another sys.path)."""
    command = ["distributed.cli.dask_worker", scheduler, "--no-nanny", "--nthreads", "1", "--no-dashboard"]
    process = start(command, tmp_path / "worker", lambda log: "Registered to:" in log)
    yield process
    process.kill()
    process.wait(10)


def dask(scheduler: str) -> tuple[str, ...]:
    return ("--kolena-executor", "dask://" + scheduler.removeprefix("tcp://"))


def literal(text: str) -> str:
    """`text` as an fnmatch pattern that matches it alone (node ids hold brackets)."""
    return text.replace("[", "[[]")


def test_a_scheduler_without_workers_errors_the_items_within_the_bound(project, scheduler):
    began = time.monotonic()
    result = run(project, "shifted", *dask(scheduler), "--kolena-stall-timeout", "3")
    assert time.monotonic() - began < 40
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    result.assert_outcomes(errors=7)
    option, first = dask(scheduler)[1], "test_kp.py::test_kp[shifted-300-W:basic-nme-threshold-0.08]"
    stalled = f"no task finished in 3 s: the Dask scheduler at {scheduler} has 0 workers"
    assert (
        f"model 'shifted': {stalled}; --kolena-executor {option} was given up; if a batch of this model takes longer, "
        "raise the bound with --kolena-stall-timeout SECONDS or the kolena_stall_timeout ini key"
    ) in result.stdout.lines
    assert result.stdout.lines.count(f"--kolena-executor {option} was given up at {first}: {stalled}") == 6


def test_workers_lost_mid_run_error_the_items_within_the_bound(project, scheduler, worker):
    stall_timeout(project, 3)
    result = run(project, "kills_its_worker", *dask(scheduler))
    assert worker.poll() == 1  # the model killed it
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    result.assert_outcomes(errors=7)
    result.stdout.fnmatch_lines(
        [f"model 'kills_its_worker': no task finished in 3 s: the Dask scheduler at {scheduler} has 0 workers; *"]
    )


def test_a_scheduler_lost_mid_run_errors_the_items_and_the_run_ends(project, scheduler, worker, tmp_path, monkeypatch):
    monkeypatch.setenv("KOLENA_SCHEDULER_PID", (tmp_path / "scheduler" / "pid").read_text())
    stall_timeout(project, 3)
    result = run(project, "kills_the_scheduler", *dask(scheduler))
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    result.assert_outcomes(errors=7)
    result.stdout.fnmatch_lines(
        [f"model 'kills_the_scheduler': *: the Dask client lost the scheduler at {scheduler} *"]
    )


def test_a_model_of_the_test_module_reaches_workers_that_cannot_import_it(project, scheduler, worker):
    result = run(project, "shifted", *dask(scheduler))
    assert result.ret == pytest.ExitCode.OK, result.stdout.str()
    result.assert_outcomes(passed=7)
    result.stdout.fnmatch_lines(["inference of shifted: 300 inferred, 0 from the cache"])


def errors_section(result: pytest.RunResult) -> str:
    """The output up to pytest's short test summary (which, under CI=true, repeats each message whole)."""
    return result.stdout.str().split("short test summary info", 1)[0]


def test_a_module_the_workers_lack_is_one_traceback_not_one_per_item(project, scheduler, worker):
    result = run(project, "imports_helper", *dask(scheduler))
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    result.assert_outcomes(errors=7)
    output = errors_section(result)
    assert output.count("Traceback (most recent call last)") == 1
    assert output.count("ModuleNotFoundError: No module named 'helper'") == 7  # its traceback, then 6 one-liners
    first = "test_kp.py::test_kp[imports_helper-300-W:basic-nme-threshold-0.08]"
    result.stdout.fnmatch_lines(
        [literal(f"*infer raised ModuleNotFoundError: No module named 'helper' (its traceback: see {first})")]
    )


def test_the_suite_item_of_a_model_that_inferred_nothing_is_an_error(project):
    result = run(project, "no_camera")
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    result.assert_outcomes(errors=7)  # the suite item too: its metrics are of no sample
    assert errors_section(result).count("Traceback (most recent call last)") == 1
    first = "test_kp.py::test_kp[no_camera-300-W:basic-nme-threshold-0.08]"
    result.stdout.fnmatch_lines(
        [
            "model 'no_camera' inferred no sample of 300-W (0 inferred, 0 from the cache, 300 failed); first, "
            + literal(f"*: infer raised ValueError: no camera (its traceback: see {first})")
        ]
    )


def test_the_inference_line_counts_failed_samples(project):
    result = run(project, "flaky")
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    line = re.search(r"inference of flaky: (\d+) inferred, 0 from the cache, (\d+) failed", result.stdout.str())
    assert line is not None, result.stdout.str()
    inferred, failed = map(int, line.groups())
    assert inferred + failed == 300 and 20 < failed < 80


@pytest.mark.parametrize("kind", ["threads", "processes"])
def test_a_stuck_task_errors_the_items_within_the_bound_and_the_run_ends(project, kind):
    stall_timeout(project, 2)
    result = run(project, "hangs", "--kolena-executor", kind, "--kolena-workers", "2")
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    result.assert_outcomes(errors=7)
    result.stdout.fnmatch_lines(
        [f"model 'hangs': no task finished in 2 s: the 2 {kind} run infer calls that do not return; *"]
    )
