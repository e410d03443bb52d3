"""What slice discovery (`--kolena-discover`) adds to a whole pytest run on 100,000 samples with 10 metadata columns
(the target: at most 20%), and where its time goes.

The synthetic 300-W-format suite of `synthetic.py` (default 100,000 samples; the columns that feed no field:
rotation_deg, roll_deg, scale, shift_x, shift_y, mirrored, blur_radius, occlusion, occluded, brightness, and
`source`, one value, which discovery leaves out: 10 searched) and the project of `bench_session.py` (stratified by
occlusion, mirrored and roll quartiles: 12 test cases, whose slices are no candidates; NmeThreshold(0.08), so two
sample metrics with a direction, normalized_mean_error and alignment_failure). The model looks its points up in the
suite's predictions file; the candidate of phase b moves each point by seeded noise (0.5 px), so that its
worsenings against the baseline are not all zero.

Once, untimed: `--kolena-tag main` with the plain model (the baseline). Then, `--repeat` times, interleaved, the same
child pytest without and with `--kolena-discover` (the order alternating between repetitions):

- a: no baseline (two "weak" searches);
- b: the noisy candidate with `--kolena-baseline main` (two weak and two "regressed" searches, and the judgement).

Wall time of each child from start to exit (pytest's own figure in brackets), medians, and the overhead. In the runs
with discovery the project's conftest times the plugin's discovery functions (wrapped when the option is on, so
the runs without it are untouched) and, with `--profile`, the last phase b runs `discover_run` under cProfile.

    python benchmarks/bench_discovery_overhead.py [--samples 100000] [--repeat 3] [--workdir DIR] [--profile]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import pstats
import re
import shutil
import statistics
import sys
import tempfile
from pathlib import Path

from _child import add_common_arguments, run_child, suite_in
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
"""Makes `examples` importable; with --kolena-discover and BENCH_TIMES, times the plugin's discovery functions (and
with BENCH_PROFILE, profiles discover_run)."""

import atexit
import functools
import json
import os
import sys
import time

REPO = {repo!r}
sys.path.insert(0, REPO)
TIMES = {{}}


def timed(owner, name, key=None):
    original = getattr(owner, name)
    key = key or name

    @functools.wraps(original)
    def wrapper(*args, **kwargs):
        start = time.perf_counter()
        try:
            return original(*args, **kwargs)
        finally:
            entry = TIMES.setdefault(key, [0.0, 0])
            entry[0] += time.perf_counter() - start
            entry[1] += 1

    setattr(owner, name, wrapper)


def pytest_configure(config):
    if not (os.environ.get("BENCH_TIMES") and config.getoption("kolena_discover", False)):
        return
    from pytest_kolena import discover, finish
    from pytest_kolena.checks import discovery
    from pytest_kolena.report import slices
    from pytest_kolena.store import runs

    timed(discover, "discover_into", "discover.discover_into (per model run, with the record)")
    timed(finish, "_slices", "finish._slices (the controller: judge, summary lines)")
    timed(slices, "discovered")
    timed(runs.RunStore, "rows", "RunStore.rows (the run read back from the store)")
    for name in ("_table", "_samples_by_configuration", "_metrics", "_column", "_baseline_column"):
        timed(discover, name)
    grouped = discover.groupings

    def groupings(frame, url, columns, *args, **kwargs):
        found, skipped = grouped(frame, url, columns, *args, **kwargs)
        TIMES["columns searched"] = [g.columns[0] for g in found]
        TIMES["columns skipped"] = skipped
        return found, skipped

    discover.groupings = groupings
    timed(discover, "groupings")
    for name in ("proposal_halves", "fingerprints"):
        timed(discovery, name)
    searched = discovery.search

    def search(singles, scores, halves, kind, *args, **kwargs):
        start = time.perf_counter()
        result = searched(singles, scores, halves, kind, *args, **kwargs)
        entry = TIMES.setdefault(f"search ({{kind}})", [0.0, 0])
        entry[0] += time.perf_counter() - start
        entry[1] += 1
        TIMES.setdefault("searches", []).append([kind, result.tried, result.screened, len(result.candidates)])
        return result

    discovery.search = search
    run = discover.discover_run
    if os.environ.get("BENCH_PROFILE"):
        import cProfile

        def profiled(*args, **kwargs):
            profile = cProfile.Profile()
            try:
                return profile.runcall(run, *args, **kwargs)
            finally:
                profile.dump_stats(os.environ["BENCH_PROFILE"])

        discover.discover_run = profiled
    timed(discover, "discover_run")

    def write():
        with open(os.environ["BENCH_TIMES"], "w") as out:
            json.dump(TIMES, out)

    atexit.register(write)
'''

TEST_MODULE = '''\
"""A model that looks its points up; with BENCH_CANDIDATE, the same points moved by seeded noise (0.5 px)."""

import functools
import os

import numpy as np
import pytest

from examples.facial_keypoints.workflow import Inference, Keypoints, KeypointsEvaluator, Model, NmeThreshold

PREDICTIONS = {predictions!r}


@functools.cache
def predictions() -> dict:
    with np.load(PREDICTIONS) as data:
        locators, points = data["locators"].tolist(), data["points"]
    if os.environ.get("BENCH_CANDIDATE"):
        points = (points + np.random.default_rng(1).normal(0, 0.5, points.shape)).round(3)
    return {{loc: tuple(tuple(p) for p in pts) for loc, pts in zip(locators, points.tolist())}}


def lookup(test_sample) -> Inference:
    key = "/".join(test_sample.locator.rsplit("/", 2)[-2:])
    return Inference(Keypoints(predictions()[key]), 1.0)


@pytest.mark.kolena(
    models=[Model("lookup", infer=lookup)],
    evaluator=KeypointsEvaluator(configurations=[NmeThreshold(0.08)]),
    thresholds={{"mean_nme": "<= 1.0"}},
    regression={{"mean_nme": "+2%"}},
    columns={{"points": "keypoints"}},
)
def test_synthetic(kolena_result):
    if kolena_result.test_case is not None:
        assert kolena_result.metrics.n_samples == len(kolena_result.samples)
'''


def pytest_seconds(lines: list[str]) -> float | None:
    for line in reversed(lines):
        found = re.search(r"\d+ (?:passed|failed|error).* in ([\d.]+)s", line)
        if found:
            return float(found.group(1))
    return None


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    add_common_arguments(parser, 100_000, "checkout whose `examples` is used")
    parser.add_argument("--repeat", type=int, default=3, help="runs of each child (3)")
    parser.add_argument("--profile", action="store_true", help="profile discover_run in one more phase-b run")
    args = parser.parse_args()

    temporary = None if args.workdir else tempfile.TemporaryDirectory(prefix="bench-discovery-")
    work = (args.workdir or Path(temporary.name)).resolve()
    data, project, store = work / "data", work / "project", work / "store"
    try:
        suite_in(data, args.samples, SEED, make_suite)
        shutil.rmtree(project, ignore_errors=True)
        shutil.rmtree(store, ignore_errors=True)
        (project / "tests").mkdir(parents=True)
        (project / "pytest.ini").write_text(PYTEST_INI.format(data=data, store=store))
        (project / "conftest.py").write_text(CONFTEST.format(repo=str(args.repo.resolve())))
        predictions = str(data / "predictions.npz")
        (project / "tests" / "test_bench.py").write_text(TEST_MODULE.format(predictions=predictions))
        memory_gb = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
        print(f"work: {work}\nmachine: {os.cpu_count()} CPUs, {memory_gb:.0f} GB, {platform.platform()}")
        print(f"Python {sys.version.split()[0]}; load average {', '.join(f'{x:.2f}' for x in os.getloadavg())}")

        base_env = {k: v for k, v in os.environ.items() if not k.startswith("BENCH_")}
        base_env["PYTHONDONTWRITEBYTECODE"] = "1"
        pytest_cmd = [args.python, "-m", "pytest", "-q", "-p", "no:cacheprovider", f"--kolena-suite={SUITE}"]
        setup = run_child([*pytest_cmd, "--kolena-tag", "main"], project, base_env, project / "setup.log")
        print(f"setup (--kolena-tag main): {setup.wall_s:.1f} s, exit {setup.exit_code}", flush=True)
        if setup.exit_code != 0:
            print("\n".join(setup.lines[-30:]))
            return 1

        phases = {"a": [], "b": ["--kolena-baseline", "main"]}
        walls: dict[tuple[str, bool], list[float]] = {}
        owns: dict[tuple[str, bool], list[float]] = {}
        times: dict[str, list[dict]] = {"a": [], "b": []}
        for repetition in range(args.repeat):
            for phase, extra in phases.items():
                order = (False, True) if repetition % 2 == 0 else (True, False)
                for discover in order:
                    env = dict(base_env)
                    if phase == "b":
                        env["BENCH_CANDIDATE"] = "1"
                    name = f"{phase}{'-discover' if discover else ''}-{repetition}"
                    command = [*pytest_cmd, *extra] + (["--kolena-discover"] if discover else [])
                    if discover:
                        env["BENCH_TIMES"] = str(project / f"{name}.times.json")
                    child = run_child(command, project, env, project / f"{name}.log")
                    own = pytest_seconds(child.lines)
                    walls.setdefault((phase, discover), []).append(child.wall_s)
                    owns.setdefault((phase, discover), []).append(own or float("nan"))
                    if discover:
                        times[phase].append(json.loads(Path(env["BENCH_TIMES"]).read_text()))
                    found = next((line for line in child.lines if re.match(r"kolena: \d+ slice", line)), "")
                    print(
                        f"  {name}: {child.wall_s:.1f} s (pytest {own}), {child.peak_mb:.0f} MB, exit "
                        f"{child.exit_code}; {found}",
                        flush=True,
                    )
                    if child.exit_code not in (0, 1):
                        print("\n".join(child.lines[-30:]))
                        return 1

        print(f"\nmedians of {args.repeat} (ranges), seconds")
        print("| phase | without | with --kolena-discover | overhead, wall | overhead, pytest's own |")
        print("| --- | --- | --- | --- | --- |")
        for phase in phases:
            off, on = walls[(phase, False)], walls[(phase, True)]
            own_off, own_on = owns[(phase, False)], owns[(phase, True)]
            m_off, m_on = statistics.median(off), statistics.median(on)
            o_off, o_on = statistics.median(own_off), statistics.median(own_on)
            print(
                f"| {phase} | {m_off:.2f} ({min(off):.2f}-{max(off):.2f}) [{o_off:.2f}] | {m_on:.2f} "
                f"({min(on):.2f}-{max(on):.2f}) [{o_on:.2f}] | {m_on - m_off:+.2f} s, {100 * (m_on / m_off - 1):+.1f}% "
                f"| {o_on - o_off:+.2f} s, {100 * (o_on / o_off - 1):+.1f}% |"
            )

        for phase in phases:
            first = times[phase][0]
            print(f"\nphase {phase}: time split of discovery (in-process wrappers; median over {args.repeat} runs)")
            print(f"  columns searched: {first.get('columns searched')}; skipped: {first.get('columns skipped')}")
            print(f"  searches (kind, tried, confirmed, candidates): {first.get('searches')}")
            keys = [k for k, v in first.items() if isinstance(v, list) and len(v) == 2 and isinstance(v[1], int)]
            for key in sorted(keys, key=lambda k: -first[k][0]):
                values = [t[key][0] for t in times[phase] if key in t]
                print(f"  {statistics.median(values):8.3f} s  {first[key][1]:>3} calls  {key}")

        if args.profile:
            env = dict(base_env, BENCH_CANDIDATE="1", BENCH_TIMES=str(project / "profile.times.json"))
            env["BENCH_PROFILE"] = str(project / "discover_run.prof")
            command = [*pytest_cmd, "--kolena-baseline", "main", "--kolena-discover"]
            child = run_child(command, project, env, project / "profile.log")
            print(f"\nphase b with discover_run under cProfile: {child.wall_s:.1f} s, exit {child.exit_code}")
            stats = pstats.Stats(env["BENCH_PROFILE"])
            stats.strip_dirs().sort_stats("cumulative").print_stats(args.top)
            stats.sort_stats("tottime").print_stats(args.top)
        return 0
    finally:
        if temporary is not None:
            temporary.cleanup()


if __name__ == "__main__":
    sys.exit(main())
