"""Wall time and peak memory of whole `pytest --kolena-suite` sessions on a large synthetic suite, as CI runs them.

A synthetic suite in the 300-W format (default 100,000 samples, `{work}/data/synthetic/meta/metadata.csv`) and a
test project next to it (`{work}/project`: pytest.ini, conftest.py, one kolena test) are generated with a fixed
seed. The model looks its prediction up in a file written with the suite (ground truth plus noise), so inference
is nearly free and the figures are the plugin's. One configuration (NmeThreshold(0.08)), 12 test cases (basic,
occlusion x 5, mirrored x 2, roll_deg quartiles x 4) and the suite item. Each phase is a fresh
`python -m pytest -q -p no:cacheprovider --kolena-suite=synthetic` child, timed from start to exit, with its peak
resident memory (rusage of the child):

- a: `--kolena-tag main`: the first run, stored in the run store;
- b: `--kolena-baseline main`: a regression run against it.

With `--cache` the same two phases run again with a versioned model (the inference cache: a fills it, b reads it).
With `--profile` phase b runs once more under cProfile, and the top functions are printed. `--gc-stats` adds the
time the children spent in the cyclic garbage collector (invisible to cProfile), `--repeat K` runs phase b K times.
The table's "pytest s" is the time on pytest's last line; "outside s" is the rest of the wall time: interpreter
start, imports and conftests before the session, unconfigure, cleanup and interpreter exit after it.

    python benchmarks/bench_session.py [--samples 100000] [--cache] [--profile] [--workdir DIR]
    python benchmarks/bench_session.py --python /other/.venv/bin/python --repo /other/checkout   # before/after
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import shlex
import shutil
import subprocess
import sys
import tempfile
import textwrap
from dataclasses import dataclass
from pathlib import Path

from _child import add_common_arguments, print_top, run_child, suite_in
from synthetic import SEED, SUITE, make_suite

PYTEST_INI = """\
[pytest]
testpaths = tests
kolena_data = {data}
kolena_store = {store}
kolena_stratify =
    occlusion
    mirrored
    roll_deg:quantile:4
"""

CONFTEST = '''\
"""Makes the `examples` package of the checkout under test importable; with BENCH_GC_STATS, times the collector."""

import os
import sys

REPO = {repo!r}
sys.path.insert(0, REPO)

if os.environ.get("BENCH_GC_STATS"):  # a JSON file: seconds spent in the cyclic garbage collector, up to atexit
    import atexit
    import gc
    import json
    import time

    STATS = {{"seconds": 0.0, "gen2_seconds": 0.0, "collections": [0, 0, 0]}}
    STARTED = [0.0]

    def on_gc(phase, info):
        if phase == "start":
            STARTED[0] = time.perf_counter()
            return
        took = time.perf_counter() - STARTED[0]
        STATS["seconds"] += took
        STATS["collections"][info["generation"]] += 1
        if info["generation"] == 2:
            STATS["gen2_seconds"] += took

    def write_stats():
        with open(os.environ["BENCH_GC_STATS"], "w") as out:
            json.dump(STATS, out)

    gc.callbacks.append(on_gc)
    atexit.register(write_stats)
'''

TEST_MODULE = '''\
"""The benchmark's kolena test: a model that looks its predictions up, on the synthetic suite."""

import functools
import os
import platform

import numpy as np
import pytest

from examples.facial_keypoints.workflow import Inference, Keypoints, KeypointsEvaluator, Model, NmeThreshold

PREDICTIONS = {predictions!r}
VERSION = os.environ.get("BENCH_MODEL_VERSION")  # set: the model gets a version, hence the inference cache


@functools.cache
def predictions() -> dict:
    """Locator relative to the suite folder (images/s000000.jpg) -> points as tuples of floats, loaded once."""
    with np.load(PREDICTIONS) as data:
        locators, points = data["locators"].tolist(), data["points"].tolist()
    return {{loc: tuple(tuple(p) for p in pts) for loc, pts in zip(locators, points)}}


def lookup(test_sample) -> Inference:
    key = "/".join(test_sample.locator.rsplit("/", 2)[-2:])
    return Inference(Keypoints(predictions()[key]), 1.0)


lookup_model = Model("lookup", infer=lookup, metadata={{"version": VERSION}} if VERSION else {{}})


@pytest.mark.kolena(
    models=[lookup_model],
    evaluator=KeypointsEvaluator(configurations=[NmeThreshold(0.08)]),
    thresholds={{"mean_nme": "<= 1.0"}},
    regression={{"mean_nme": "+2%"}},
    columns={{"points": "keypoints"}},
)
def test_synthetic(kolena_result):
    if kolena_result.test_case is not None:
        assert kolena_result.metrics.n_samples == len(kolena_result.samples)
'''


@dataclass
class Phase:
    """One pytest child: what it ran and what it cost."""

    name: str
    wall_s: float
    peak_mb: float
    summary: str  # pytest's final line, e.g. "13 passed in 41.20s"
    exit_code: int
    log: Path
    cpu_s: float = 0.0  # user + system time of the child
    gc: dict | None = None  # with --gc-stats: the collector's time up to atexit

    def count(self, word: str) -> int:
        found = re.search(rf"(\d+) {word}", self.summary)
        return int(found.group(1)) if found else 0

    @property
    def pytest_s(self) -> float | None:
        """The session time pytest reports itself (without interpreter start and plugin imports)."""
        found = re.search(r" in ([\d.]+)s", self.summary)
        return float(found.group(1)) if found else None


def write_project(project: Path, data: Path, store: Path, repo: Path) -> None:
    """pytest.ini, conftest.py and the kolena test of the benchmark's test project."""
    (project / "tests").mkdir(parents=True, exist_ok=True)
    (project / "pytest.ini").write_text(PYTEST_INI.format(data=data, store=store))
    (project / "conftest.py").write_text(CONFTEST.format(repo=str(repo)))
    (project / "tests" / "test_bench.py").write_text(TEST_MODULE.format(predictions=str(data / "predictions.npz")))


def run_phase(name: str, command: list[str], project: Path, env: dict[str, str]) -> Phase:
    """Runs one child to its end; its rusage (os.wait4) gives its own peak RSS, in KiB on Linux."""
    log = project / (re.sub(r"[^\w.-]+", "_", name) + ".log")
    gc_file = log.with_suffix(".gc.json")
    gc_file.unlink(missing_ok=True)
    if "BENCH_GC_STATS" in env:
        env = {**env, "BENCH_GC_STATS": str(gc_file)}
    child = run_child(command, project, env, log)
    summary = next((line for line in reversed(child.lines) if re.search(r"\d+ (passed|failed|error)", line)), "")
    summary = summary.strip("= ")
    gc = json.loads(gc_file.read_text()) if gc_file.exists() else None
    return Phase(name, child.wall_s, child.peak_mb, summary, child.exit_code, log, child.cpu_s, gc)


def print_table(phases: list[Phase]) -> None:
    """wall: start to exit of the child; pytest: the time on pytest's last line; outside: wall - pytest, i.e.
    interpreter start, imports and conftests before the session, unconfigure, cleanup and interpreter exit after."""
    with_gc = any(p.gc for p in phases)
    header = f"{'phase':<34} {'wall s':>7} {'pytest s':>8} {'outside s':>9} {'cpu s':>7} {'peak RSS MB':>11}"
    header += f" {'gc s':>6} {'gen2':>5}" if with_gc else ""
    header += f" {'passed':>6} {'failed':>6} {'errors':>6} {'exit':>4}"
    print(header)
    print("-" * len(header))
    for p in phases:
        own = f"{p.pytest_s:.2f}" if p.pytest_s is not None else "-"
        outside = f"{p.wall_s - p.pytest_s:.2f}" if p.pytest_s is not None else "-"
        line = f"{p.name:<34} {p.wall_s:>7.2f} {own:>8} {outside:>9} {p.cpu_s:>7.2f} {p.peak_mb:>11.0f}"
        if with_gc:
            line += f" {p.gc['seconds']:>6.2f} {p.gc['collections'][2]:>5}" if p.gc else f" {'-':>6} {'-':>5}"
        errors = p.count("error")  # also "2 errors"
        line += f" {p.count('passed'):>6} {p.count('failed'):>6} {errors:>6} {p.exit_code:>4}"
        print(line)


def print_profile(path: Path, top: int) -> None:
    """The top functions by cumulative and own time, then the plugin's and the example's own by cumulative time."""
    print_top(path, "b", top, r"(pytest_kolena/.*|examples/.*|tests/test_bench\.py)$", "pytest_kolena and examples")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    add_common_arguments(parser, 100_000, "checkout whose `examples` is used")
    parser.add_argument("--cache", action="store_true", help="also run a and b with a versioned model")
    parser.add_argument("--profile", action="store_true", help="also run b under cProfile and print the top")
    parser.add_argument("--repeat", type=int, default=1, help="runs of phase b (1)")
    parser.add_argument("--gc-stats", action="store_true", help="time the garbage collector in the children")
    args = parser.parse_args()

    temporary = None if args.workdir else tempfile.TemporaryDirectory(prefix="bench-session-")
    work = (args.workdir or Path(temporary.name)).resolve()
    data, project, store = work / "data", work / "project", work / "store"
    try:
        suite_in(data, args.samples, SEED, make_suite)
        shutil.rmtree(project, ignore_errors=True)
        write_project(project, data, store, args.repo.resolve())

        version = subprocess.run(
            [args.python, "-c", "import sys, pytest; print(sys.version.split()[0], pytest.__version__)"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.split()
        print(f"work: {work}\nchildren: {args.python} (Python {version[0]}, pytest {version[1]}), repo {args.repo}")
        memory_gb = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
        print(f"machine: {os.cpu_count()} CPUs, {memory_gb:.0f} GB, {platform.platform()}")

        pytest_cmd = ["-m", "pytest", "-q", "-p", "no:cacheprovider", f"--kolena-suite={SUITE}"]
        pytest_cmd += shlex.split(args.pytest_args)
        phases: list[Phase] = []
        modes = [("", None)] + ([("cached ", "1")] if args.cache else [])
        for label, model_version in modes:
            shutil.rmtree(store, ignore_errors=True)
            env = {k: v for k, v in os.environ.items() if not k.startswith("BENCH_")}
            if model_version:
                env["BENCH_MODEL_VERSION"] = model_version
            if args.gc_stats:
                env["BENCH_GC_STATS"] = "1"
            runs = [(f"{label}a: --kolena-tag main", ["--kolena-tag", "main"])]
            runs += [(f"{label}b: --kolena-baseline main", ["--kolena-baseline", "main"])] * args.repeat
            for name, extra in runs:
                phases.append(run_phase(name, [args.python, *pytest_cmd, *extra], project, env))
                print(f"  {name}: {phases[-1].wall_s:.1f} s, {phases[-1].summary or 'no summary'}", flush=True)
            if args.profile and not model_version:
                profile = project / "phase_b.prof"
                command = [args.python, "-m", "cProfile", "-o", str(profile), *pytest_cmd, "--kolena-baseline", "main"]
                phases.append(run_phase(f"{label}b under cProfile", command, project, env))
                print(f"  b under cProfile: {phases[-1].wall_s:.1f} s, {phases[-1].summary}", flush=True)

        print()
        print_table(phases)
        failed = [p for p in phases if p.exit_code != 0]
        for p in failed:
            tail = "\n".join(p.log.read_text(errors="replace").splitlines()[-40:])
            print(f"\n--- {p.name}: exit {p.exit_code}, last lines of {p.log} ---\n{textwrap.indent(tail, '  ')}")
        if args.profile:
            print_profile(project / "phase_b.prof", args.top)
        return 1 if failed else 0
    finally:
        if temporary is not None:
            temporary.cleanup()


if __name__ == "__main__":
    sys.exit(main())
