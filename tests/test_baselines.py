"""Regression against baselines in real pytest sessions: run store, tags, baseline files, the inference cache."""

from __future__ import annotations

import json
import multiprocessing
from pathlib import Path

import pytest

# imported once here: pytester's in-process runs forget modules they import, and NumPy cannot load twice
import examples.facial_keypoints.workflow  # noqa: F401
import pytest_kolena.data
import pytest_kolena.store  # noqa: F401
from pytest_kolena.testing import KolenaProject

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "examples" / "data"

MODULE = """
import os
import zlib

import numpy as np
import pandas as pd
import pytest

from examples.facial_keypoints.workflow import KeypointsEvaluator, NmeThreshold, degraded_model, mean_shape_model, wf
from examples.quickstart.quickstart import Inference, Model
from pytest_kolena.workflow.annotation import Keypoints

FRAME = pd.read_csv("{csv}")
NOSE = set(FRAME.locator[FRAME.occlusion == "nose"].str.rsplit("/", n=1).str[1])


def counted(infer):
    def wrapped(test_sample):
        counter, stop = os.environ.get("KOLENA_COUNT"), os.environ.get("KOLENA_STOP_AFTER")
        if counter:
            if stop and len(open(counter).readlines()) >= int(stop):
                raise KeyboardInterrupt
            with open(counter, "a") as out:
                out.write(test_sample.locator + "\\n")
        return infer(test_sample)
    return wrapped


def moved(inference, dx):
    return Inference(Keypoints([(x + dx, y + dx) for x, y in inference.keypoints.points]), 1.0)


def nose_worse(test_sample):
    inference = mean_shape_model.infer(test_sample)
    return moved(inference, 4.0) if test_sample.locator.rsplit("/", 1)[1] in NOSE else inference


def noisy(test_sample):
    rng = np.random.default_rng(zlib.crc32(test_sample.locator.encode()))
    inference = mean_shape_model.infer(test_sample)
    return Inference(Keypoints([(x + rng.normal(0, 0.3), y + rng.normal(0, 0.3)) for x, y in inference.keypoints.points]), 1.0)


MODELS = {{
    "base": Model("mean-shape", infer=counted(mean_shape_model.infer), metadata={{"version": "1"}}),
    "nose-worse": Model("mean-shape", infer=counted(nose_worse), metadata={{"version": "2"}}),
    "noisy": Model("mean-shape", infer=counted(noisy), metadata={{"version": "3"}}),
    "old": Model("mean-shape", infer=counted(degraded_model.infer), metadata={{"version": "0"}}),
}}


@pytest.fixture
def candidate():
    return MODELS[os.environ["KOLENA_CANDIDATE"]]


@pytest.mark.kolena(models=["candidate"], workflow=wf, evaluator=KeypointsEvaluator(configurations=[NmeThreshold(0.08)]), regression={{"mean_nme": "+5%"}}, columns={{"points": "keypoints"}})
def test_kp(kolena_result):
    pass
"""


@pytest.fixture
def project(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> KolenaProject:
    project = KolenaProject(pytester, DATA, suite="300-W", stratify=["occlusion"], store="store", syspath=[ROOT])
    project.module("test_kp", MODULE.format(csv=DATA / "300-W" / "meta" / "metadata.csv"))
    monkeypatch.setenv("KOLENA_COUNT", str(pytester.path / "infer-calls.txt"))
    (pytester.path / "infer-calls.txt").write_text("")
    return project


def run(
    project: KolenaProject, monkeypatch: pytest.MonkeyPatch, candidate: str, *args: str, subprocess: bool = False
) -> pytest.RunResult:
    monkeypatch.setenv("KOLENA_CANDIDATE", candidate)
    return project.run(*args, subprocess=subprocess)


def calls(pytester: pytest.Pytester) -> list[str]:
    return (pytester.path / "infer-calls.txt").read_text().splitlines()


def test_worse_on_one_stratum_regresses_that_item_only(project, monkeypatch):
    assert run(project, monkeypatch, "base", "--kolena-tag", "main").ret == 0
    result = run(project, monkeypatch, "nose-worse", "--kolena-baseline", "main", "-v")
    assert result.ret == 1
    result.assert_outcomes(failed=1, passed=6)
    result.stdout.fnmatch_lines(
        [
            "*test_kp?candidate-300-W:occlusion_nose-nme-threshold-0.08? REGRESSED*",
            "*model 'mean-shape' on 300-W :: occlusion nose at nme-threshold-0.08: regressed against run * (tag main)",
            "  mean_nme: baseline 0.22*, candidate 0.2*, delta +0.0* (95% interval +0.0* to +0.0*, n=42), allowed worsening +5% (0.011*); paired t p=*, adjusted over 6 checks p=*: regressed",
        ]
    )
    assert "basic-nme-threshold-0.08 REGRESSED" not in result.stdout.str()
    result.stdout.fnmatch_lines(
        ["*300-W :: basic*?+0.0*, +0.0*?*passed", "*300-W :: occlusion nose*+0.0* ?+0.0*, +0.0*?*regressed"]
    )


def test_change_within_noise_passes_and_shows_its_interval(project, monkeypatch):
    run(project, monkeypatch, "base", "--kolena-tag", "main")
    result = run(project, monkeypatch, "noisy", "--kolena-baseline", "main")
    assert result.ret == 0
    result.stdout.fnmatch_lines(["*delta mean_nme ?interval?*", "*300-W :: basic*?-0.0*, +0.0*?*passed*"])


def test_improvement_passes_as_improved(project, monkeypatch):
    run(project, monkeypatch, "old", "--kolena-tag", "old")
    result = run(project, monkeypatch, "base", "--kolena-baseline", "old", "-v")
    assert result.ret == 0
    result.stdout.fnmatch_lines(["*test_kp?candidate-300-W:basic-nme-threshold-0.08? IMPROVED*"])


def test_a_missing_baseline_fails_unless_the_project_accepts_new_model_runs(project, monkeypatch):
    """Not a crash; a failure that says what the baseline holds, or "new" where kolena_unjudged = pass."""
    (project.path / "baselines").mkdir()
    result = run(project, monkeypatch, "base", "--kolena-baseline=baselines/", "-v")
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    result.stdout.fnmatch_lines(
        [
            "*model 'mean-shape' on 300-W :: basic at nme-threshold-0.08: nothing to compare: the baseline "
            "*baselines/ holds no run of model 'mean-shape' in test_kp.py::test_kp on 300-W at nme-threshold-0.08; it "
            "holds nothing.*"
            "(kolena_unjudged = pass)",
        ]
    )
    project.makeini(project.path.joinpath("tox.ini").read_text() + "\nkolena_unjudged = pass\n")
    result = run(project, monkeypatch, "base", "--kolena-baseline=baselines/", "-v")
    assert result.ret == 0
    result.stdout.fnmatch_lines(
        ["*test_kp?candidate-300-W:basic-nme-threshold-0.08? NEW*", "kolena suite 300-W: 7 new"]
    )


def test_update_baseline_rewrites_the_file(project, monkeypatch):
    run(project, monkeypatch, "base", "--kolena-baseline=baselines/", "--kolena-update-baseline")
    written = json.loads((project.path / "baselines" / "300-W.json").read_text())
    entry = written["tests"]["test_kp.py::test_kp"]["mean-shape"]["configurations"]["nme-threshold-0.08"]
    assert entry["test_cases"]["300-W :: basic"]["mean_nme"] == pytest.approx(0.1896, abs=1e-4)
    assert len(entry["samples"]) == 300
    assert any(name.startswith("images/einstein-000.jpg#") for name in entry["samples"])  # locator + its box
    inferences = written["tests"]["test_kp.py::test_kp"]["mean-shape"]["inferences"]
    assert inferences.keys() == entry["samples"].keys()  # what a baseline recomputes its metrics from
    assert run(project, monkeypatch, "base", "--kolena-baseline=baselines/").ret == 0
    assert run(project, monkeypatch, "nose-worse", "--kolena-baseline=baselines/300-W.json").ret == 1


def test_unknown_baseline_says_what_exists(project, monkeypatch):
    run(project, monkeypatch, "base", "--kolena-tag", "main")
    result = run(project, monkeypatch, "base", "--kolena-baseline", "release-9")
    assert result.ret == pytest.ExitCode.INTERRUPTED
    result.stdout.fnmatch_lines(
        [
            "kolena: baseline 'release-9' is no baseline file, run id, tag, model name or git ref with a run in *; 1 runs there, tags: main"
        ]
    )


def test_second_run_infers_nothing_and_reset_infers_again(project, monkeypatch):
    run(project, monkeypatch, "base")
    assert len(calls(project)) == 300
    run(project, monkeypatch, "base")
    assert len(calls(project)) == 300
    run(project, monkeypatch, "base", "--kolena-reset")
    assert len(calls(project)) == 600


def test_interrupted_run_resumes_with_the_remaining_samples(project, monkeypatch):
    monkeypatch.setenv("KOLENA_STOP_AFTER", "120")
    interrupted = run(project, monkeypatch, "base", subprocess=True)  # a real Ctrl-C stops the whole process
    assert interrupted.ret == pytest.ExitCode.INTERRUPTED
    assert len(calls(project)) == 120
    monkeypatch.delenv("KOLENA_STOP_AFTER")
    assert run(project, monkeypatch, "base").ret == 0
    done = calls(project)
    assert len(done) == 300 and len(set(done)) == 300  # the 180 others, none twice


def test_xdist_infers_each_sample_once(project, monkeypatch):
    result = run(project, monkeypatch, "base", "-n", "2")
    assert result.ret == 0
    done = calls(project)
    assert len(done) == 300 and len(set(done)) == 300


@pytest.mark.slow
def test_store_on_s3(project, monkeypatch, s3_endpoint):
    store = ["--kolena-store=s3://kolena-runs/team", "-o", f"kolena_s3_endpoint={s3_endpoint}"]
    import s3fs

    s3fs.S3FileSystem(endpoint_url=s3_endpoint).mkdir("kolena-runs")
    # in subprocesses: the moto server lives in this process, and must not see its modules dropped by pytester
    assert run(project, monkeypatch, "base", "--kolena-tag", "main", *store, subprocess=True).ret == 0
    assert len(calls(project)) == 300
    result = run(project, monkeypatch, "nose-worse", "--kolena-baseline", "main", *store, subprocess=True)
    assert result.ret == 1
    result.stdout.fnmatch_lines(["*regressed against run * (tag main)"])
    run(project, monkeypatch, "base", *store, subprocess=True)
    assert len(calls(project)) == 600  # base: 300, nose-worse: 300 (another version), base again: cached


def _write_run(store: str, run_id: str, rows: int) -> None:
    from pytest_kolena.store import RunRecord, RunStore

    record = RunRecord(run_id=run_id, writer="main", time="2026-11-27T00:00:00")
    for i in range(rows):
        record.add("sample", "t", "300-W", "m", {"error": i}, "c", sample_id=f"s{i}")
    RunStore(store).write(record)


def test_two_processes_writing_one_store_lose_nothing(tmp_path):
    store = str(tmp_path / "store")
    context = multiprocessing.get_context("spawn")
    writers = [context.Process(target=_write_run, args=(store, f"run-{i}", 5000)) for i in range(2)]
    for writer in writers:
        writer.start()
    for writer in writers:
        writer.join(60)
        assert writer.exitcode == 0
    from pytest_kolena.store import RunStore

    runs = RunStore(store).runs()
    assert sorted(r.run_id for r in runs) == ["run-0", "run-1"]
    for run_id in ("run-0", "run-1"):
        rows = RunStore(store).rows(run_id)
        assert len(rows) == 5000 and {r["values"]["error"] for r in rows} == set(range(5000))


def _record(run_id: str, time: str, model: str, tag: str | None = None, commit: str | None = None, value: float = 0.1):
    from pytest_kolena.store import RunRecord

    record = RunRecord(run_id=run_id, writer="main", time=time, tag=tag, git_commit=commit)
    record.add("case", "t", "300-W", model, {"mean_nme": value}, "c", "300-W :: basic")
    return record


def test_baseline_references_resolve_to_the_latest_matching_run(tmp_path):
    import subprocess

    from pytest_kolena.store import RunStore
    from pytest_kolena.store.baseline import BaselineError, resolve

    repo = tmp_path / "repo"
    repo.mkdir()
    git = ["git", "-C", str(repo), "-c", "user.email=ci@example.com", "-c", "user.name=ci"]
    subprocess.run([*git, "init", "-q"], check=True)
    subprocess.run([*git, "commit", "-q", "--allow-empty", "-m", "first"], check=True)
    commit = subprocess.run([*git, "rev-parse", "HEAD"], capture_output=True, text=True, check=True).stdout.strip()
    store = RunStore(str(tmp_path / "store"))
    store.write(_record("r1", "2026-01-01T00:00:00", "m1", tag="main", value=0.1))
    store.write(_record("r2", "2026-01-02T00:00:00", "m1", tag="main", value=0.2, commit=commit))
    store.write(_record("r3", "2026-01-03T00:00:00", "m2", value=0.3))

    def value(ref: str, model: str = "m1") -> float:
        return (
            resolve(ref, store, ["300-W"], cwd=str(repo))
            .entry("t", "300-W", model, "c")
            .case_metrics["300-W :: basic"]["mean_nme"]
        )

    assert value("r1") == 0.1  # run id
    assert value("main") == 0.2  # tag: the latest run with it
    assert value("m2", model="m2") == 0.3  # model name: the latest run with it
    assert value("HEAD") == 0.2  # git ref: the run of that commit
    with pytest.raises(BaselineError, match="3 runs there, tags: main"):
        resolve("v9", store, ["300-W"], cwd=str(repo))
