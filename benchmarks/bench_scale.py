"""The scale benchmark (issue 11): pytest-kolena sessions against the floor, the inference cache, executors, and
1,000,000 samples, one table per comparison.

Synthetic 300-W-format suites (`synthetic.make_suite`: strata columns `occlusion`, `mirrored`, `roll_deg`, and a
predictions file) are generated once per size under `{work}/suites/{N}` (kept between runs with `--workdir`), each
by a child process whose time and peak RSS are printed. Every measured run is a child process timed from start to
exit, with its peak RSS (os.wait4), its output in `{work}/logs/`. The pytest children run
`python -m pytest -q -p no:cacheprovider --kolena-suite=synthetic --kolena-progress=on` in a generated project
(`{work}/project`: the strata `occlusion`, `mirrored`, `roll_deg:quantile:4`, so 12 test cases and the suite item)
with one kolena test at NmeThreshold(0.08), `thresholds={"mean_nme": "<= 1.0"}`, a fresh store per run unless said
otherwise. The model is chosen per comparison, each a module-level function of the test module (so that it pickles
for the processes and dask executors), each returning the suite's predictions file's answer:

- lookup: finds its answer in the predictions file (nearly free: the figures are the plugin's);
- sleep: time.sleep(MS / 1000) per sample, then the lookup (an I/O-bound model);
- cpu: a deterministic pure-Python loop of about MS ms per sample (calibrated here, the loop count passed to the
  children), then the lookup.

The evaluator: seed = the example's KeypointsEvaluator (sample metrics computed per test case: 4 times per sample
here), once = the same with `once_per_sample = True` (defined in the test module), vector = the example's
VectorisedKeypointsEvaluator (the DataFrame form). `--floor-evaluators` (all three), `--evaluator` (cache, threads,
dask: seed), `--million-evaluator` (once).

Comparisons (`--only`, default floor,cache,threads,dask, 2 to 3 minutes on 2 cores; million is opt-in: 2 minutes
more, 6 GB):

- floor: at each of `--floor-samples` (10,000 and 100,000), floor.py (hand-written pandas/numpy for the same
  metrics, all points parsed at once: the reference row; and `--per-row`, one json.loads per row) against pytest
  with the lookup model and each evaluator. Each pytest run's metrics (its JUnit XML properties) are compared with
  the floor's: every test case's mean NME, failure rate, CED AUC and size, and the threshold verdicts;
- cache: a model sleeping `--cache-sleep-ms` (2) per sample with metadata={"version": "1"}, on `--cache-samples`
  (10,000): cold (an empty store: infer and fill the cache) against warm (the same store again: read it). 10,000
  samples make 20 s of inference, ten times the plugin's own cost at that size, so that both the saving and what a
  warm run still costs show; 100,000 would only add 180 s of sleeping;
- threads: a model sleeping `--sleep-ms` (5) per sample, `--kolena-workers` each of `--threads` (1,2,4,8,16) on
  `--threads-samples` (2,000: 10 s serial, and still 4 batches of 32 per thread at 16 threads); speed-up against 1;
- dask: the CPU-bound model of `--cpu-ms` (5) per sample on `--dask-samples` (2,000: 10 s serial, enough to repay
  a LocalCluster's start): serial against `--kolena-executor dask --kolena-workers 2`, and processes for scale;
- million: `--million-samples` (1,000,000) through pytest with the lookup model, against the floor on the same suite
  (checked like floor).

Columns: "wall s" from start to exit of the child; "own s" the time the child reports itself (pytest's last line;
the floor's time after its imports); "infer s" pytest's inference phase (samples over the rate on the progress
line's last report; none when every inference came from the cache); "peak MB" the peak resident memory of the child,
or of its largest descendant process if larger (Linux wait4: the workers of processes and dask are not added up);
then each over the reference row (the first one), or for cache, threads and dask the speed-up (reference / row).

    python benchmarks/bench_scale.py [--only floor,cache,threads,dask,million] [--workdir DIR]
    python benchmarks/bench_scale.py --only floor --floor-samples 10000 --floor-evaluators seed   # one row quickly
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
import time
from dataclasses import dataclass
from pathlib import Path

import floor
from _child import add_child_arguments, run_child, suite_in
from synthetic import SEED, SUITE

HERE = Path(__file__).resolve().parent
COMPARISONS = ("floor", "cache", "threads", "dask", "million")
EVALUATORS = ("seed", "once", "vector")

PYTEST_INI = """\
[pytest]
testpaths = tests
kolena_stratify =
    occlusion
    mirrored
    roll_deg:quantile:4
"""

CONFTEST = '''\
"""Makes the `examples` package of the checkout under test importable."""

import sys

sys.path.insert(0, {repo!r})
'''

# the CPU-bound model's work, in the test module and calibrated by the runner: the same code in both
SPIN = '''\
def spin(loops: int) -> int:
    """Deterministic pure-Python work (it holds the GIL): about 80 ns per loop on the benchmark machine."""
    total = 0
    for i in range(loops):
        total = (total + i * i) % 1_000_003
    return total
'''

TEST_MODULE = '''\
"""bench_scale's kolena test: a model and an evaluator chosen by the environment (BENCH_MODEL, BENCH_EVALUATOR),
on the synthetic suite given by --kolena-suite and --kolena-data. The models are module-level functions: they
pickle by reference for the processes and dask executors."""

import functools
import os
import time

import numpy as np
import pytest

from examples.facial_keypoints import workflow
from examples.facial_keypoints.workflow import Inference, Keypoints, KeypointsEvaluator, Model, NmeThreshold

PREDICTIONS = os.environ["BENCH_PREDICTIONS"]
MODEL = os.environ.get("BENCH_MODEL", "lookup")  # lookup, sleep or cpu
EVALUATOR = os.environ.get("BENCH_EVALUATOR", "seed")  # seed, once or vector
VERSION = os.environ.get("BENCH_MODEL_VERSION")  # set: the model has a version, hence the inference cache
SLEEP_S = float(os.environ.get("BENCH_SLEEP_MS", "5")) / 1000
CPU_LOOPS = int(os.environ.get("BENCH_CPU_LOOPS", "100000"))


@functools.cache
def predictions() -> tuple:
    """Locator relative to the suite folder (images/s000000.jpg) -> row, and the (n, 5, 2) points: loaded once per
    process (each worker process loads its own)."""
    with np.load(PREDICTIONS) as data:
        locators, points = data["locators"].tolist(), data["points"]
    return dict(zip(locators, range(len(locators)))), points


def lookup(test_sample) -> Inference:
    rows, points = predictions()
    row = rows["/".join(test_sample.locator.rsplit("/", 2)[-2:])]
    return Inference(Keypoints([tuple(p) for p in points[row].tolist()]), 1.0)


def sleepy(test_sample) -> Inference:
    """An I/O-bound model: waits, then answers."""
    time.sleep(SLEEP_S)
    return lookup(test_sample)


{spin}

def busy(test_sample) -> Inference:
    """A CPU-bound model: computes in Python (holding the GIL), then answers; the same answer every time."""
    if spin(CPU_LOOPS) < 0:
        raise AssertionError("unreachable")
    return lookup(test_sample)


class OnceKeypointsEvaluator(KeypointsEvaluator):
    """The example's evaluator, declaring that its sample metrics do not depend on the test case."""

    once_per_sample = True


def evaluator():
    if EVALUATOR == "once":
        kind = OnceKeypointsEvaluator
    elif EVALUATOR == "vector":
        kind = getattr(workflow, "VectorisedKeypointsEvaluator", None) or getattr(workflow, "VectorKeypointsEvaluator")
    else:
        kind = KeypointsEvaluator
    return kind(configurations=[NmeThreshold(0.08)])


INFER = {{"lookup": lookup, "sleep": sleepy, "cpu": busy}}[MODEL]
model = Model(MODEL, infer=INFER, metadata={{"version": VERSION}} if VERSION else {{}})


@pytest.mark.kolena(
    models=[model],
    evaluator=evaluator(),
    thresholds={{"mean_nme": "<= 1.0"}},
    columns={{"points": "keypoints"}},
)
def test_synthetic(kolena_result):
    if kolena_result.test_case is not None:
        assert kolena_result.metrics.n_samples == len(kolena_result.samples)
'''


@dataclass
class Row:
    """One measured child."""

    label: str
    wall_s: float
    own_s: float | None  # the time the child reports itself
    peak_mb: float
    exit_code: int
    summary: str  # the child's last line: pytest's "13 passed in 8.01s", or the floor's
    log: Path
    infer_s: float | None = None  # pytest's inference phase: samples over the rate of the last progress line
    note: str = ""


def numbers(text: str) -> list[int]:
    return [int(v.replace("_", "").replace(",", "")) for v in text.split(",") if v.strip()]


def words(text: str, allowed: tuple[str, ...], option: str) -> list[str]:
    chosen = [w.strip() for w in text.split(",") if w.strip()]
    unknown = [w for w in chosen if w not in allowed]
    if unknown:
        raise SystemExit(f"{option}: unknown {', '.join(unknown)}; choose among {', '.join(allowed)}")
    return chosen


def calibrate_spin(cpu_ms: float) -> tuple[int, float]:
    """Loops of SPIN for `cpu_ms` ms on this machine (the best of 5 timings of 200,000 loops); and loops per ms."""
    namespace: dict = {}
    exec(SPIN, namespace)  # the very code of the test module
    spin = namespace["spin"]
    best = min(_timed(spin, 200_000) for _ in range(5))
    per_ms = 200_000 / (best * 1000)
    return max(1, round(cpu_ms * per_ms)), per_ms


def _timed(function, *args) -> float:
    start = time.perf_counter()
    function(*args)
    return time.perf_counter() - start


class Bench:
    """The work folder, the children's interpreter, and the runs made so far."""

    def __init__(self, args: argparse.Namespace, work: Path) -> None:
        self.args = args
        self.work = work
        self.logs = work / "logs"
        self.project = work / "project"
        self.generated: dict[int, tuple[float, float] | None] = {}  # samples -> generator's (wall s, peak MB)

    def suite(self, samples: int) -> Path:
        """The data root of a suite of `samples`, generated by a child process unless already there."""
        data = self.work / "suites" / str(samples) / "data"

        def generate(target: Path, n: int) -> None:
            log = self.logs / f"generate-{n}.log"
            command = [sys.executable, str(HERE / "synthetic.py"), str(target), "--samples", str(n)]
            child = run_child(command, HERE, dict(os.environ), log)
            if child.exit_code:
                raise SystemExit(f"generating {n} samples failed (exit {child.exit_code}): see {log}")
            self.generated[n] = (child.wall_s, child.peak_mb)
            print(f"  generator, {n:,} samples: {child.wall_s:.1f} s wall, peak RSS {child.peak_mb:.0f} MB")

        suite_in(data, samples, SEED, generate)
        return data

    def pytest(self, label: str, data: Path, store: Path, options: list[str], env: dict[str, str], log: str) -> Row:
        """One pytest child on the suite under `data`; `env` sets BENCH_MODEL, BENCH_EVALUATOR, ..."""
        command = [self.args.python, "-m", "pytest", "-q", "-p", "no:cacheprovider", f"--kolena-suite={SUITE}"]
        # options as --name=value: pytest finds its rootdir before it knows the plugin's options, and would take a
        # separate value for a path argument (and /tmp/work for the rootdir, not the project)
        command += [f"--kolena-data={data}", f"--kolena-store={store}", "--kolena-progress=on", *options]
        command += shlex.split(self.args.pytest_args)
        environment = {k: v for k, v in os.environ.items() if not k.startswith("BENCH_")}
        environment |= {"BENCH_PREDICTIONS": str(data / "predictions.npz"), **env}
        return self.run(label, command, environment, log)

    def floor(self, label: str, data: Path, log: str, *options: str) -> Row:
        command = [self.args.python, str(HERE / "floor.py"), str(data), *options]
        return self.run(label, command, dict(os.environ), log)

    def run(self, label: str, command: list[str], env: dict[str, str], log: str) -> Row:
        path = self.logs / (re.sub(r"[^\w.-]+", "_", log) + ".log")
        child = run_child(command, self.project, env, path)
        summary = next(
            (line for line in reversed(child.lines) if re.search(r"\d+ (passed|failed|errors?)|^floor:", line)), ""
        )
        summary = summary.strip("= ")
        own = re.search(r" in ([\d.]+)s", summary)
        row = Row(
            label, child.wall_s, float(own.group(1)) if own else None, child.peak_mb, child.exit_code, summary, path
        )
        # the progress line's last report of inference: "inference 10,000/10,000 (100%), 2,310/s"
        rates = re.findall(r"inference ([\d,]+)/[\d,]+ \(100%\), ([\d,]+)/s", "\n".join(child.lines))
        if rates:
            done, rate = (int(v.replace(",", "")) for v in rates[-1])
            row.infer_s = done / rate if rate else None
        status = f"exit {row.exit_code}, " if row.exit_code else ""
        print(f"  {label}: {row.wall_s:.1f} s, {row.peak_mb:.0f} MB, {status}{summary or 'no summary'}", flush=True)
        return row


def check_floor(floor_json: Path, junit: Path, row: Row, samples: int) -> str:
    """The floor's metrics against what the pytest run showed; sets the row's note."""
    try:
        agree, report = floor.compare(json.loads(floor_json.read_text()), floor.plugin_metrics(junit))
    except (OSError, ValueError, SyntaxError) as error:  # SyntaxError: xml.etree's ParseError
        row.note = "no check"
        return f"{row.label}, {samples:,} samples: cannot check against the floor: {error}"
    worst = re.search(r"mean_nme: max \|floor - plugin\| (\S+)", report)
    row.note = f"mean_nme diff {worst.group(1) if worst else '?'}" + ("" if agree else " DIFFER")
    return f"{row.label}, {samples:,} samples: {'agree' if agree else 'DIFFER'}\n{textwrap.indent(report, '  ')}"


def print_table(title: str, rows: list[Row], speedup: bool = False) -> None:
    """One comparison: each row's wall, own and inference time and peak RSS, and the ratios to the first row (or
    with `speedup`, the first row's times over each row's)."""
    ref = rows[0]

    def ratio(value: float | None, reference: float | None) -> str:
        if not value or not reference:
            return "-"
        return f"{reference / value if speedup else value / reference:.2f}x"

    names = ("wall", "own", "infer") if speedup else ("wall / ref", "own / ref", "infer / ref")
    names = tuple(f"{n} speed-up" for n in names) if speedup else names
    width = max(34, *(len(r.label) for r in rows))
    header = f"{'':<{width}} {'wall s':>7} {'own s':>7} {'infer s':>7} {'peak MB':>7}"
    header += f" {names[0]:>13} {names[1]:>13} {names[2]:>14} {'RSS / ref':>9} {'exit':>4}  notes"
    print(f"\n{title}\n{header}\n{'-' * len(header)}")
    for r in rows:
        own = f"{r.own_s:.2f}" if r.own_s is not None else "-"
        infer = f"{r.infer_s:.2f}" if r.infer_s is not None else "-"
        notes = ", ".join(n for n in (r.note, r.summary if r.exit_code else "") if n)
        line = f"{r.label:<{width}} {r.wall_s:>7.2f} {own:>7} {infer:>7} {r.peak_mb:>7.0f}"
        line += (
            f" {ratio(r.wall_s, ref.wall_s):>13} {ratio(r.own_s, ref.own_s):>13} {ratio(r.infer_s, ref.infer_s):>14}"
        )
        line += f" {r.peak_mb / ref.peak_mb:>8.2f}x {r.exit_code:>4}  {notes}"
        print(line)


def compare_floor(bench: Bench, samples: int, evaluators: list[str], checks: list[str], per_row: bool) -> list[Row]:
    data = bench.suite(samples)
    floor_json = bench.work / f"floor-{samples}.json"
    rows = [bench.floor("floor.py (pandas/numpy)", data, f"floor-{samples}-floor", "--json", str(floor_json))]
    if per_row:
        rows.append(
            bench.floor("floor.py --per-row (json.loads per row)", data, f"floor-{samples}-per-row", "--per-row")
        )
    for name in evaluators:
        store = bench.work / "stores" / f"floor-{samples}-{name}"
        shutil.rmtree(store, ignore_errors=True)
        junit = bench.work / f"floor-{samples}-{name}.xml"
        junit.unlink(missing_ok=True)
        env = {"BENCH_MODEL": "lookup", "BENCH_EVALUATOR": name}
        label = f"pytest, lookup model, {name} evaluator"
        rows.append(bench.pytest(label, data, store, [f"--junitxml={junit}"], env, f"floor-{samples}-pytest-{name}"))
        checks.append(check_floor(floor_json, junit, rows[-1], samples))
    return rows


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    add_child_arguments(parser, "checkout whose `examples` is used")
    option = parser.add_argument
    option("--only", default="floor,cache,threads,dask", help=f"comparisons to run, of {','.join(COMPARISONS)}")
    option("--evaluator", default="seed", choices=EVALUATORS, help="evaluator of cache, threads, dask (seed)")
    option("--floor-evaluators", default="seed,once,vector", help="evaluators of the floor's pytest rows (all)")
    option("--million-evaluator", default="once", choices=EVALUATORS, help="evaluator of million (once)")
    option("--floor-samples", default="10000,100000", help="suite sizes of the floor comparison (10000,100000)")
    option("--cache-samples", type=int, default=10_000, help="samples of the cache comparison (10000)")
    option("--cache-sleep-ms", type=float, default=2.0, help="the cached model's sleep per sample (2)")
    option("--threads-samples", type=int, default=2_000, help="samples of the threads comparison (2000)")
    option("--threads", default="1,2,4,8,16", help="--kolena-workers of the threads comparison (1,2,4,8,16)")
    option("--sleep-ms", type=float, default=5.0, help="the I/O-bound model's sleep per sample (5)")
    option("--dask-samples", type=int, default=2_000, help="samples of the dask comparison (2000)")
    option("--dask-workers", type=int, default=2, help="workers of the LocalCluster (and of processes) (2)")
    option("--cpu-ms", type=float, default=5.0, help="the CPU-bound model's work per sample, in ms (5)")
    option("--million-samples", type=int, default=1_000_000, help="samples of the million comparison (1000000)")
    args = parser.parse_args()
    only = words(args.only, COMPARISONS, "--only")
    floor_evaluators = words(args.floor_evaluators, EVALUATORS, "--floor-evaluators")

    temporary = None if args.workdir else tempfile.TemporaryDirectory(prefix="bench-scale-")
    work = (args.workdir or Path(temporary.name)).resolve()
    try:
        bench = Bench(args, work)
        bench.logs.mkdir(parents=True, exist_ok=True)
        shutil.rmtree(bench.project, ignore_errors=True)
        (bench.project / "tests").mkdir(parents=True)
        (bench.project / "pytest.ini").write_text(PYTEST_INI)
        (bench.project / "conftest.py").write_text(CONFTEST.format(repo=str(args.repo.resolve())))
        (bench.project / "tests" / "test_bench.py").write_text(TEST_MODULE.format(spin=SPIN))
        print_machine(args, work)

        tables: list[tuple[str, list[Row], bool]] = []
        checks: list[str] = []
        if "floor" in only:
            for samples in numbers(args.floor_samples):
                print(f"\nfloor, {samples:,} samples", flush=True)
                rows = compare_floor(bench, samples, floor_evaluators, checks, True)
                tables.append((f"floor: {samples:,} samples, the floor against pytest", rows, False))

        if "cache" in only:
            n = args.cache_samples
            print(f"\ncache, {n:,} samples, {args.cache_sleep_ms:g} ms per sample", flush=True)
            data = bench.suite(n)
            store = work / "stores" / "cache"
            shutil.rmtree(store, ignore_errors=True)
            env = {
                "BENCH_MODEL": "sleep",
                "BENCH_SLEEP_MS": str(args.cache_sleep_ms),
                "BENCH_MODEL_VERSION": "1",
                "BENCH_EVALUATOR": args.evaluator,
            }
            runs = [("cold: an empty store (infer, fill the cache)", "cold"), ("warm: the same store again", "warm")]
            rows = [bench.pytest(label, data, store, [], env, f"cache-{n}-{name}") for label, name in runs]
            tables.append((f"cache: {n:,} samples, a {args.cache_sleep_ms:g} ms/sample model, version 1", rows, True))

        if "threads" in only:
            n = args.threads_samples
            print(f"\nthreads, {n:,} samples, {args.sleep_ms:g} ms sleep per sample", flush=True)
            data = bench.suite(n)
            env = {"BENCH_MODEL": "sleep", "BENCH_SLEEP_MS": str(args.sleep_ms), "BENCH_EVALUATOR": args.evaluator}
            rows = []
            for workers in numbers(args.threads):
                store = work / "stores" / f"threads-{workers}"
                shutil.rmtree(store, ignore_errors=True)
                label = f"--kolena-workers {workers}" + (" (serial)" if workers == 1 else " (threads)")
                rows.append(
                    bench.pytest(label, data, store, [f"--kolena-workers={workers}"], env, f"threads-{n}-{workers}")
                )
            tables.append((f"threads: {n:,} samples, a {args.sleep_ms:g} ms sleep per sample", rows, True))

        if "dask" in only:
            n, workers = args.dask_samples, args.dask_workers
            loops, per_ms = calibrate_spin(args.cpu_ms)
            print(f"\ndask, {n:,} samples, {args.cpu_ms:g} ms CPU per sample ({loops:,} loops at {per_ms:,.0f}/ms)")
            data = bench.suite(n)
            env = {"BENCH_MODEL": "cpu", "BENCH_CPU_LOOPS": str(loops), "BENCH_EVALUATOR": args.evaluator}
            runs = [
                ("serial", []),
                (f"processes, {workers} workers", ["--kolena-executor=processes", f"--kolena-workers={workers}"]),
                (
                    f"dask LocalCluster, {workers} workers",
                    ["--kolena-executor=dask", f"--kolena-workers={workers}"],
                ),
            ]
            rows = []
            for label, options in runs:
                store = work / "stores" / f"dask-{label.split(',')[0].split()[0]}"
                shutil.rmtree(store, ignore_errors=True)
                rows.append(bench.pytest(label, data, store, options, env, f"dask-{n}-{label}"))
            title = f"dask: {n:,} samples, a CPU-bound model of {args.cpu_ms:g} ms per sample ({os.cpu_count()} CPUs)"
            tables.append((title, rows, True))

        if "million" in only:
            n = args.million_samples
            print(f"\nmillion, {n:,} samples", flush=True)
            rows = compare_floor(bench, n, [args.million_evaluator], checks, False)
            tables.append((f"million: {n:,} samples, the floor against pytest", rows, False))

        print("\n" + "=" * 40)
        print_machine(args, work)
        for n, cost in sorted(bench.generated.items()):
            if cost:
                print(f"generator (synthetic.py), {n:,} samples: {cost[0]:.1f} s wall, peak RSS {cost[1]:.0f} MB")
        for title, rows, speedup in tables:
            print_table(title, rows, speedup)
        if checks:
            print("\nthe floor's metrics against the plugin's:\n" + "\n".join(checks))
        failed = [r for _, rows, _ in tables for r in rows if r.exit_code]
        for r in failed:
            tail = "\n".join(r.log.read_text(errors="replace").splitlines()[-30:])
            print(f"\n--- {r.label}: exit {r.exit_code}, last lines of {r.log} ---\n{textwrap.indent(tail, '  ')}")
        disagree = [c for c in checks if "DIFFER" in c.splitlines()[0] or "cannot check" in c]
        return 1 if failed or disagree else 0
    finally:
        if temporary is not None:
            temporary.cleanup()


def print_machine(args: argparse.Namespace, work: Path) -> None:
    """The machine and the versions of the children's interpreter, as bench_session.py prints them."""
    script = (
        "import sys, importlib.metadata as m\n"
        "names = ['pytest', 'pytest-kolena', 'numpy', 'pandas', 'pyarrow', 'distributed']\n"
        "def version(name):\n"
        "    try:\n"
        "        return m.version(name)\n"
        "    except m.PackageNotFoundError:\n"
        "        return '-'\n"
        "print('Python ' + sys.version.split()[0] + ', ' + ', '.join(n + ' ' + version(n) for n in names))\n"
    )
    versions = subprocess.run([args.python, "-c", script], capture_output=True, text=True, check=True).stdout.strip()
    memory_gb = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    load = ", ".join(f"{v:.2f}" for v in os.getloadavg())
    print(f"work: {work}\nchildren: {args.python} ({versions}), repo {args.repo}")
    print(f"machine: {os.cpu_count()} CPUs, {memory_gb:.0f} GB, {platform.platform()}, load average {load}")


if __name__ == "__main__":
    sys.exit(main())
