"""Scale: whole `pytest --kolena-suite` runs on synthetic 300-W-format suites against the hand-written floor, the
inference cache, threads, Dask, and a million samples; one table per comparison.

The suites are `bench_session.make_suite`'s (strata columns, ground truth, a predictions file), generated once per
size under the work dir. The test project's models look their answer up in the predictions (a numpy array): free
(`lookup`), 2 ms of sleep first (`slow`, for the cache), 5 ms of sleep (`io`, a model that waits on a service), or
about 5 ms of pure-Python arithmetic (`cpu`). The evaluator is the example's KeypointsEvaluator, per test case
(`seed`), the same with `once_per_sample = True` (`once`), or VectorisedKeypointsEvaluator (`vector`). Every child
is timed from start to exit with its own peak RSS (os.wait4); "pytest s" is the time on pytest's last line;
"inference s" is the inference phase alone (samples over the rate of the progress line's last report).

    python benchmarks/bench_scale.py [--only floor,cache,threads,dask,million] [--workdir DIR]

- floor: the floor (`floor.py`: all points parsed at once; and one json.loads per row) vs pytest with each
  evaluator, at 10,000 and 100,000 samples;
- cache: the 2 ms model on 10,000 samples (20 s of inference), cold (empty store) then warm (the same store);
- threads: the 5 ms model on 4,000 samples (20 s serial) with --kolena-workers 1, 2, 4, 8, 16;
- dask: the CPU-bound model on 2,000 samples (10 s serial), serial vs --kolena-executor dask --kolena-workers 2;
- million: 1,000,000 samples, the `once` evaluator (opt-in: minutes, and several GB).
"""

from __future__ import annotations

import argparse
import os
import platform
import re
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

from _child import run_child, suite_in
from bench_session import SEED, SUITE, make_suite

HERE = Path(__file__).resolve().parent
REPO = HERE.parent

PYTEST_INI = """\
[pytest]
testpaths = tests
kolena_data = {data}
kolena_stratify =
    occlusion
    mirrored
    roll_deg:quantile:4
"""

CONFTEST = "import sys\nsys.path.insert(0, {repo!r})\n"

TEST_MODULE = '''\
"""The scale benchmark's kolena test: the model and evaluator chosen by BENCH_MODEL and BENCH_EVALUATOR."""

import functools
import os
import time

import numpy as np
import pytest

from examples.facial_keypoints.workflow import (
    Inference,
    Keypoints,
    KeypointsEvaluator,
    Model,
    NmeThreshold,
    VectorisedKeypointsEvaluator,
)

PREDICTIONS = {predictions!r}


@functools.cache
def table():
    """Locator relative to the suite folder -> row, and the predicted points (loaded once per process)."""
    with np.load(PREDICTIONS) as data:
        return {{loc: i for i, loc in enumerate(data["locators"].tolist())}}, data["points"]


def lookup(test_sample):
    rows, points = table()
    row = rows["/".join(test_sample.locator.rsplit("/", 2)[-2:])]
    return Inference(Keypoints([tuple(p) for p in points[row].tolist()]), 1.0)


def slow(test_sample):
    time.sleep(0.002)
    return lookup(test_sample)


def io(test_sample):
    time.sleep(0.005)
    return lookup(test_sample)


def cpu(test_sample):
    total = 0
    for i in range(60_000):  # about 5 ms of pure Python on the benchmark machine
        total += i * i % 7
    return lookup(test_sample)


class PerCase(KeypointsEvaluator):
    once_per_sample = False


class Once(KeypointsEvaluator):
    once_per_sample = True


MODEL = Model(
    os.environ.get("BENCH_MODEL", "lookup"),
    infer=globals()[os.environ.get("BENCH_MODEL", "lookup")],
    metadata={{"version": os.environ["BENCH_VERSION"]}} if os.environ.get("BENCH_VERSION") else {{}},
)
EVALUATOR = {{"seed": PerCase, "once": Once, "vector": VectorisedKeypointsEvaluator}}[os.environ["BENCH_EVALUATOR"]]


@pytest.mark.kolena(
    models=[MODEL],
    evaluator=EVALUATOR(configurations=[NmeThreshold(0.08)]),
    thresholds={{"mean_nme": "<= 1.0"}},
    columns={{"points": "keypoints"}},
)
def test_scale(kolena_result):
    pass
'''


@dataclass
class Row:
    name: str
    wall_s: float
    peak_mb: float
    pytest_s: float | None = None
    inference_s: float | None = None
    exit_code: int = 0


def project_for(work: Path, samples: int) -> tuple[Path, Path]:
    """The suite of `samples` samples and its test project (made once)."""
    data = work / f"data-{samples}"
    suite_in(data, samples, SEED, make_suite)
    project = work / f"project-{samples}"
    (project / "tests").mkdir(parents=True, exist_ok=True)
    (project / "pytest.ini").write_text(PYTEST_INI.format(data=data))
    (project / "conftest.py").write_text(CONFTEST.format(repo=str(REPO)))
    module = TEST_MODULE.format(predictions=str(data / "predictions.npz"))
    (project / "tests" / "test_scale.py").write_text(module)
    return data, project


def pytest_row(name: str, project: Path, store: Path, env: dict[str, str], *options: str) -> Row:
    command = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", f"--kolena-suite={SUITE}"]
    command += [f"--kolena-store={store}", "--kolena-progress=on", *options]
    log = project / (re.sub(r"[^\w.-]+", "_", name) + ".log")
    child = run_child(command, project, {**os.environ, **env}, log)
    text = "\n".join(child.lines)
    own = re.findall(r" in ([\d.]+)s", text)
    rates = re.findall(r"inference ([\d,]+)/([\d,]+) \(100%\), ([\d,]+)/s", text)
    inference = None
    if rates:
        done, _, rate = (int(v.replace(",", "")) for v in rates[-1])
        inference = done / rate
    if child.exit_code != 0:
        print(f"  {name}: exit {child.exit_code}; see {log}")
    return Row(name, child.wall_s, child.peak_mb, float(own[-1]) if own else None, inference, child.exit_code)


def floor_row(name: str, data: Path, *options: str) -> Row:
    child = run_child(
        [sys.executable, str(HERE / "floor.py"), str(data), *options], data, dict(os.environ), data / "floor.log"
    )
    return Row(name, child.wall_s, child.peak_mb, exit_code=child.exit_code)


def print_table(title: str, rows: list[Row], reference: Row) -> None:
    print(f"\n{title}")
    header = f"{'run':<46} {'wall s':>7} {'pytest s':>8} {'infer s':>7} {'peak MB':>8} {'x wall':>7} {'x RSS':>6}"
    print(header + "\n" + "-" * len(header))
    for row in rows:
        own = f"{row.pytest_s:.2f}" if row.pytest_s is not None else "-"
        infer = f"{row.inference_s:.2f}" if row.inference_s is not None else "-"
        line = f"{row.name:<46} {row.wall_s:>7.2f} {own:>8} {infer:>7} {row.peak_mb:>8.0f}"
        line += f" {row.wall_s / reference.wall_s:>7.2f} {row.peak_mb / reference.peak_mb:>6.2f}"
        print(line + ("" if row.exit_code == 0 else f"  exit {row.exit_code}"))


def floor(work: Path) -> None:
    for samples in (10_000, 100_000):
        data, project = project_for(work, samples)
        rows = [
            floor_row("floor (points parsed at once)", data),
            floor_row("floor (json.loads per row)", data, "--per-row"),
        ]
        for evaluator in ("seed", "once", "vector"):
            env = {"BENCH_MODEL": "lookup", "BENCH_EVALUATOR": evaluator}
            rows.append(
                pytest_row(f"pytest, {evaluator} evaluator", project, work / f"store-{samples}-{evaluator}", env)
            )
        print_table(f"floor: {samples:,} samples, 12 test cases (x: against the first floor)", rows, rows[0])


def cache(work: Path) -> None:
    _, project = project_for(work, 10_000)
    store = work / "store-cache"
    env = {"BENCH_MODEL": "slow", "BENCH_EVALUATOR": "once", "BENCH_VERSION": "1"}
    subprocess.run(["rm", "-rf", str(store)], check=True)
    rows = [pytest_row("cold: empty store, 2 ms/sample", project, store, env)]
    rows.append(pytest_row("warm: the same store", project, store, env))
    print_table("cache: 10,000 samples, a 2 ms/sample model (x: against cold)", rows, rows[0])


def threads(work: Path) -> None:
    _, project = project_for(work, 4_000)
    env = {"BENCH_MODEL": "io", "BENCH_EVALUATOR": "once"}
    rows = [
        pytest_row(f"--kolena-workers {n}", project, work / "store-threads", env, f"--kolena-workers={n}")
        for n in (1, 2, 4, 8, 16)
    ]
    print_table("threads: 4,000 samples, 5 ms of sleep each (x: against 1 worker)", rows, rows[0])
    base = rows[0].inference_s
    print("inference speed-up: " + ", ".join(f"{r.name[-2:].strip()}: {base / r.inference_s:.1f}x" for r in rows))


def dask(work: Path) -> None:
    _, project = project_for(work, 2_000)
    env = {"BENCH_MODEL": "cpu", "BENCH_EVALUATOR": "once"}
    store = work / "store-dask"
    rows = [pytest_row("serial", project, store, env)]
    rows.append(
        pytest_row("dask LocalCluster, 2 workers", project, store, env, "--kolena-executor=dask", "--kolena-workers=2")
    )
    rows.append(
        pytest_row("processes, 2 workers", project, store, env, "--kolena-executor=processes", "--kolena-workers=2")
    )
    print_table("dask: 2,000 samples, about 5 ms of pure Python each (x: against serial)", rows, rows[0])
    print("inference speed-up: " + ", ".join(f"{r.name}: {rows[0].inference_s / r.inference_s:.2f}x" for r in rows[1:]))


def million(work: Path) -> None:
    data, project = project_for(work, 1_000_000)
    rows = [floor_row("floor (points parsed at once)", data)]
    rows.append(
        pytest_row(
            "pytest, once evaluator",
            project,
            work / "store-million",
            {"BENCH_MODEL": "lookup", "BENCH_EVALUATOR": "once"},
        )
    )
    print_table("million: 1,000,000 samples (x: against the floor)", rows, rows[0])


COMPARISONS = {"floor": floor, "cache": cache, "threads": threads, "dask": dask, "million": million}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument(
        "--only", default="floor,cache,threads,dask", help="comparisons, comma-separated (all but million)"
    )
    parser.add_argument(
        "--workdir", type=Path, help="where suites and projects are made (kept; default: a temporary folder)"
    )
    args = parser.parse_args()
    temporary = None if args.workdir else tempfile.TemporaryDirectory(prefix="bench-scale-")
    work = (args.workdir or Path(temporary.name)).resolve()
    work.mkdir(parents=True, exist_ok=True)
    memory_gb = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    import numpy
    import pandas
    import pytest

    print(
        f"machine: {os.cpu_count()} CPUs, {memory_gb:.0f} GB, {platform.platform()}, Python {platform.python_version()}"
    )
    print(f"numpy {numpy.__version__}, pandas {pandas.__version__}, pytest {pytest.__version__}; work: {work}")
    for name in args.only.split(","):
        COMPARISONS[name.strip()](work)
    if temporary is not None:
        temporary.cleanup()


if __name__ == "__main__":
    main()
