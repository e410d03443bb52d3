"""A damaged store file is named (its path, what is wrong) once; a baseline lookup takes complete runs only and
says which runs it skipped; a damaged inference cache chunk is inferred again; nothing stored is changed."""

from __future__ import annotations

from pathlib import Path

import pytest
import test_baselines
from test_baselines import calls, run

from pytest_kolena.store import RunStore

project = test_baselines.project  # the 300-W project whose candidate model the environment picks

MAGIC = " is damaged: Parquet magic bytes not found in footer*"


def stored(project: pytest.Pytester, pattern: str) -> list[Path]:
    return sorted((project.path / "store").glob(pattern))


def cut_short(path: Path) -> bytes:
    """Keep the first half of a file, as a copy or an upload stopped midway would; the whole content returned."""
    content = path.read_bytes()
    path.write_bytes(content[: len(content) // 2])
    return content


@pytest.fixture
def damaged_main(project, monkeypatch) -> tuple[str, Path]:
    """One run tagged main, its file cut short: (its run id, its file)."""
    assert run(project, monkeypatch, "base", "--kolena-tag=main").ret == 0
    (path,) = stored(project, "runs/*/main.parquet")
    cut_short(path)
    return path.parent.name, path


@pytest.mark.parametrize("ref", ["main", "latest", "run id"])
def test_a_baseline_whose_only_run_is_damaged_is_an_error_naming_the_file(project, monkeypatch, damaged_main, ref):
    run_id, path = damaged_main
    size = path.stat().st_size
    result = run(project, monkeypatch, "base", f"--kolena-baseline={run_id if ref == 'run id' else ref}")
    assert result.ret == pytest.ExitCode.INTERRUPTED
    result.stdout.fnmatch_lines(
        [f"kolena: baseline *; skipped 1 incomplete run: run {run_id} (tag main): {path} ({size:,} bytes){MAGIC}"]
    )
    assert "ArrowInvalid" not in result.stdout.str() and "Traceback" not in result.stdout.str()
    assert path.stat().st_size == size  # left as it is


def test_a_damaged_newer_run_is_skipped_and_said_once(project, monkeypatch):
    assert run(project, monkeypatch, "base", "--kolena-tag=main").ret == 0
    assert run(project, monkeypatch, "base", "--kolena-tag=main").ret == 0
    older, newer = (info.run_id for info in RunStore(str(project.path / "store")).runs())  # (by time: two runs of
    # one second have ids in any order)
    content = cut_short(project.path / "store" / "runs" / newer / "main.parquet")
    result = run(project, monkeypatch, "nose-worse", "--kolena-baseline=main", "-W", "always")
    assert result.ret == pytest.ExitCode.TESTS_FAILED  # judged against the older run: the nose stratum regressed
    result.stdout.fnmatch_lines([f"*regressed against run {older} (tag main)*"])
    result.stdout.fnmatch_lines(
        [
            f"*StoreWarning: kolena: baseline 'main' is run {older} of *; skipped 1 incomplete run: run {newer} (tag main): *{MAGIC}"
        ]
    )
    assert result.stdout.str().count(f"skipped 1 incomplete run: run {newer}") == 1
    assert (project.path / "store" / "runs" / newer / "main.parquet").read_bytes() == content[: len(content) // 2]


def test_a_damaged_inference_cache_chunk_is_inferred_again_and_said_once(project, monkeypatch):
    assert run(project, monkeypatch, "base").ret == 0
    assert len(calls(project)) == 300
    chunks = stored(project, "cache/*/*.parquet")
    cut_short(chunks[0])
    result = run(project, monkeypatch, "base", "-W", "always")
    assert result.ret == 0
    inferred_again = len(calls(project)) - 300
    assert 0 < inferred_again <= 300
    result.stdout.fnmatch_lines([f"*kolena: inference cache file {chunks[0]} (* bytes){MAGIC}"])
    assert result.stdout.str().count(f"inference cache file {chunks[0]}") == 1
    assert chunks[0] in stored(project, "cache/*/*.parquet")  # kept
    assert run(project, monkeypatch, "base").ret == 0
    assert len(calls(project)) == 300 + inferred_again  # the new chunk serves them


def _write(store: str, run_id: str, writer: str, time: str, tag: str = "main") -> None:
    from pytest_kolena.store import RunRecord, RunStore

    record = RunRecord(run_id=run_id, writer=writer, time=time, tag=tag)
    record.add("case", "t", "300-W", "m", {"mean_nme": 0.1}, "c", "300-W :: basic")
    RunStore(store).write(record)


def test_a_run_without_its_controllers_part_is_incomplete(tmp_path):
    from pytest_kolena.store import RunStore
    from pytest_kolena.store.baseline import BaselineError, find_run
    from pytest_kolena.store.damage import StoreWarning

    store = str(tmp_path / "store")
    _write(store, "r1", "main", "2026-01-01T00:00:00")
    _write(store, "r2", "gw0", "2026-01-02T00:00:00")  # a worker's part; the controller was killed
    with pytest.warns(
        StoreWarning, match=r"is run r1 of .*skipped 1 incomplete run: run r2 \(tag main\): .*main.parquet is missing"
    ):
        assert find_run("main", RunStore(store)).run_id == "r1"
    with pytest.raises(BaselineError, match="no complete run with that id .* run r2 .*the run did not end"):
        find_run("r2", RunStore(store))


def test_a_damaged_file_of_a_complete_run_is_named_when_its_rows_are_read(tmp_path):
    from pytest_kolena.store import RunStore
    from pytest_kolena.store.damage import StoreError

    store = str(tmp_path / "store")
    _write(store, "r1", "main", "2026-01-01T00:00:00")
    (path,) = (tmp_path / "store" / "runs" / "r1").glob("*.parquet")
    content = path.read_bytes()
    path.write_bytes(content[:4] + bytes(len(content) - 12) + content[-8:])  # the footer's length kept, its bytes lost
    with pytest.raises(StoreError, match=f"{path} .* is damaged"):
        RunStore(store).rows("r1")


@pytest.mark.parametrize("damage", ["cut short", "not a baseline"])
def test_a_damaged_baseline_file_is_an_error_naming_it(project, monkeypatch, damage):
    args = ("--kolena-baseline=baselines/", "--kolena-update-baseline")
    assert run(project, monkeypatch, "base", *args).ret == 0
    path = project.path / "baselines" / "300-W.json"
    cut_short(path) if damage == "cut short" else path.write_text('["300-W"]\n')
    size = path.stat().st_size
    result = run(project, monkeypatch, "base", "--kolena-baseline=baselines/")
    assert result.ret == pytest.ExitCode.INTERRUPTED
    result.stdout.fnmatch_lines([f"kolena: {path} ({size:,} bytes) is damaged: not a baseline file: *"])
    assert path.stat().st_size == size  # left as it is
