"""Cost of the regression checks' general path in a whole session: a macro-F1 classification suite judged against a
baseline, next to the same session with thresholds only.

The target: recomputing a metric that is not a mean of a sample metric (macro F1) on every bootstrap resample must
keep a regression session on a ~500-sample, 17-case, macro-F1 classification suite within 1.5 times the
thresholds-only session, with the same threshold verdicts.

A seeded 3-class suite (default 540 samples, `{work}/data/classes/meta/metadata.csv`) stratified into 16 test cases
besides the complete one (`camera`: 6 values, `lighting`: 4, `brightness:quantile:6`), and a test project next to it
(`{work}/project`). The model looks its answer up in a predictions file written with the suite (baseline about 85%
accurate; candidate = baseline with some churn, a little worse on one camera), so inference is nearly free. The
evaluator is written as a user would: per sample `correct`, per test case accuracy and macro F1 in NumPy from the
inferences. Each phase is a fresh `python -m pytest -q -p no:cacheprovider --kolena-suite=classes` child, timed
with os.wait4 (wall, CPU, peak RSS), with `--junitxml` for the per-item verdicts:

- a: the candidate, `thresholds={"macro_f1": ">= 0.0"}`, no baseline (a fresh store each time);
- b: the baseline model's run, stored with `--kolena-tag main` (once);
- c: the candidate with `--kolena-baseline main`, thresholds and `regression={"macro_f1": "+0.02"}` (the store as
  b left it, restored before each run, so every c sees one stored run).

a and c alternate `--repeat` times (3); the medians and c / a are reported, then each test case's threshold verdict
in a and in c (they must agree: same candidate, same thresholds) and c's regression verdicts. `--profile` runs c
once more under cProfile: top functions by cumulative and own time, the plugin's own, and the regression work
broken down (baseline, judge_run, bootstrap, evaluator calls, decoding, mean detection).

    python benchmarks/bench_general_path.py [--samples 540] [--repeat 3] [--profile] [--workdir DIR]
    python benchmarks/bench_general_path.py --python /other/.venv/bin/python --repo /other/checkout
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import shlex
import shutil
import statistics
import subprocess
import sys
import tempfile
import textwrap
import xml.etree.ElementTree as ElementTree
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
from _child import add_common_arguments, print_top, run_child, suite_in

SUITE = "classes"
SEED = 0
TARGET = 1.5
CAMERAS = np.array(["cam1", "cam2", "cam3", "cam4", "cam5", "cam6"])
LIGHTING = np.array(["day", "dusk", "night", "indoor"])
DEGRADED_CAMERA = "cam6"  # where the candidate is a little worse

THRESHOLDS = {"macro_f1": ">= 0.0"}
REGRESSION = {"macro_f1": "+0.02"}

PYTEST_INI = """\
[pytest]
testpaths = tests
kolena_data = {data}
kolena_stratify =
    camera
    lighting
    brightness:quantile:6
"""

TEST_MODULE = '''\
"""The benchmark's kolena test: a 3-class classifier that looks its answers up; accuracy and macro F1 per test case."""

import csv
import dataclasses
import functools
import json
import os

import numpy as np
import pytest

from pytest_kolena.workflow import Evaluator, GroundTruth, Image, Inference, MetricsTestCase, MetricsTestSample
from pytest_kolena.workflow import define_workflow

PREDICTIONS = {predictions!r}
COLUMN = os.environ.get("BENCH_MODEL", "candidate")  # which column of the predictions file answers
MARKER = json.loads(os.environ.get("BENCH_MARKER", "{{}}"))  # thresholds=, regression=


class Sample(Image):
    pass


class Truth(GroundTruth):
    label: int


class Guess(Inference):
    label: int


wf, _, _, Model = define_workflow("BenchClasses", Sample, Truth, Guess)


class SampleMetrics(MetricsTestSample):
    correct: bool


class CaseMetrics(MetricsTestCase):
    accuracy: float = dataclasses.field(metadata={{"better": "higher"}})
    macro_f1: float = dataclasses.field(metadata={{"better": "higher"}})


def macro_f1(truth: np.ndarray, guess: np.ndarray) -> float:
    """Unweighted mean over the labels present of each label's F1 (2 TP / (2 TP + FP + FN))."""
    scores = []
    for label in np.union1d(truth, guess):
        tp = np.count_nonzero((truth == label) & (guess == label))
        fp = np.count_nonzero((truth != label) & (guess == label))
        fn = np.count_nonzero((truth == label) & (guess != label))
        scores.append(2 * tp / (2 * tp + fp + fn))
    return float(np.mean(scores)) if scores else float("nan")


class ClassesEvaluator(Evaluator):
    def compute_test_sample_metrics(self, test_case, inferences, configuration=None):
        return [(sample, SampleMetrics(correct=guess.label == truth.label)) for sample, truth, guess in inferences]

    def compute_test_case_metrics(self, test_case, inferences, metrics, configuration=None) -> CaseMetrics:
        truth = np.array([gt.label for _, gt, _ in inferences])
        guess = np.array([inf.label for _, _, inf in inferences])
        return CaseMetrics(accuracy=float(np.mean([m.correct for m in metrics])), macro_f1=macro_f1(truth, guess))


@functools.cache
def answers() -> dict:
    """Locator relative to the suite folder (images/00000.jpg) -> label of the chosen column, read once."""
    with open(PREDICTIONS, newline="") as file:
        return {{row["locator"]: int(row[COLUMN]) for row in csv.DictReader(file)}}


def lookup(test_sample) -> Guess:
    return Guess(label=answers()["/".join(test_sample.locator.rsplit("/", 2)[-2:])])


classifier = Model("classifier", infer=lookup)


@pytest.mark.kolena(models=[classifier], workflow=wf, evaluator=ClassesEvaluator(), **MARKER)
def test_classes(kolena_result):
    pass
'''


@dataclass
class Phase:
    """One pytest child: what it ran, what it cost, and its items' verdicts."""

    name: str
    wall_s: float
    cpu_s: float
    peak_mb: float
    summary: str  # pytest's final line, e.g. "18 passed in 3.20s"
    kolena: str  # the kolena summary line, e.g. "kolena suite classes: 17 passed, 1 regressed"
    exit_code: int
    log: Path
    items: dict[str, dict] = field(default_factory=dict)  # test case (or "(suite)") -> kolena properties

    @property
    def pytest_s(self) -> float | None:
        found = re.search(r" in ([\d.]+)s", self.summary)
        return float(found.group(1)) if found else None


def make_suite(data: Path, samples: int) -> None:
    """The metadata CSV of the suite (locator, label, camera, lighting, brightness) and the predictions file
    (locator, baseline, candidate) outside the suite folder."""
    rng = np.random.default_rng(SEED)
    n = samples
    label = rng.choice(3, n, p=[0.5, 0.3, 0.2])
    camera = CAMERAS[rng.choice(6, n, p=[0.25, 0.2, 0.15, 0.15, 0.13, 0.12])]
    lighting = LIGHTING[rng.choice(4, n, p=[0.4, 0.25, 0.2, 0.15])]
    brightness = rng.uniform(0.2, 1.0, n).round(3)

    def wrong(labels: np.ndarray) -> np.ndarray:  # another class than the one given
        return (labels + rng.integers(1, 3, len(labels))) % 3

    right = rng.random(n) < np.where(lighting == "night", 0.75, 0.87)  # about 85% accurate
    baseline = np.where(right, label, wrong(label))
    # candidate: 8% of the answers change with no change in expected accuracy (as many right->wrong as
    # wrong->right), and 12% of the right answers on one camera go wrong
    churn = rng.random(n) < np.where(right, 0.04 / right.mean(), 0.04 / (1 - right.mean()))
    candidate = np.where(churn & right, wrong(label), np.where(churn & ~right, label, baseline))
    worse = (camera == DEGRADED_CAMERA) & (candidate == label) & (rng.random(n) < 0.12)
    candidate = np.where(worse, wrong(label), candidate)

    locators = [f"images/{i:05d}.jpg" for i in range(n)]
    frame = pd.DataFrame(
        {"locator": locators, "label": label, "camera": camera, "lighting": lighting, "brightness": brightness}
    )
    (data / SUITE / "meta").mkdir(parents=True, exist_ok=True)
    frame.to_csv(data / SUITE / "meta" / "metadata.csv", index=False)
    pd.DataFrame({"locator": locators, "baseline": baseline, "candidate": candidate}).to_csv(
        data / "predictions.csv", index=False
    )
    print(
        f"suite: {n} samples, accuracy baseline {np.mean(baseline == label):.3f}, candidate "
        f"{np.mean(candidate == label):.3f}, {np.mean(baseline != candidate):.1%} of the answers changed"
    )


def write_project(project: Path, data: Path) -> None:
    (project / "tests").mkdir(parents=True, exist_ok=True)
    (project / "pytest.ini").write_text(PYTEST_INI.format(data=data))
    (project / "conftest.py").write_text("")
    (project / "tests" / "test_bench.py").write_text(TEST_MODULE.format(predictions=str(data / "predictions.csv")))


def read_junit(path: Path) -> dict[str, dict]:
    """Test case name (or "(suite)") -> the item's kolena.* properties, from pytest's JUnit XML."""
    items = {}
    if not path.exists():
        return items
    for case in ElementTree.parse(path).getroot().iter("testcase"):
        props = {p.get("name"): p.get("value") for p in case.iter("property")}
        if "kolena.suite" in props:
            items[props.get("kolena.test_case") or "(suite)"] = props
    return items


def run_phase(name: str, command: list[str], project: Path, env: dict[str, str]) -> Phase:
    """Runs one child to its end; its rusage (os.wait4) gives its CPU time and peak RSS (KiB on Linux)."""
    log = project / (re.sub(r"[^\w.-]+", "_", name) + ".log")
    junit = log.with_suffix(".xml")
    junit.unlink(missing_ok=True)
    child = run_child([*command, f"--junitxml={junit}"], project, env, log)
    summary = next((line for line in reversed(child.lines) if re.search(r" in [\d.]+s\b", line)), "").strip("= ")
    kolena = next((line for line in child.lines if line.startswith(f"kolena suite {SUITE}:")), "")
    return Phase(
        name, child.wall_s, child.cpu_s, child.peak_mb, summary, kolena, child.exit_code, log, read_junit(junit)
    )


def print_table(phases: list[Phase]) -> None:
    header = (
        f"{'phase':<36} {'wall s':>7} {'pytest s':>8} {'outside s':>9} {'cpu s':>7} {'peak RSS MB':>11} {'exit':>4}"
    )
    header += "  kolena summary"
    print(header)
    print("-" * len(header))
    for p in phases:
        own = f"{p.pytest_s:.2f}" if p.pytest_s is not None else "-"
        outside = f"{p.wall_s - p.pytest_s:.2f}" if p.pytest_s is not None else "-"
        kolena = p.kolena.split(":", 1)[-1].strip() or p.summary or "no summary"
        line = (
            f"{p.name:<36} {p.wall_s:>7.2f} {own:>8} {outside:>9} {p.cpu_s:>7.2f} {p.peak_mb:>11.0f} {p.exit_code:>4}"
        )
        print(f"{line}  {kolena}")


def median_of(phases: list[Phase], what: str) -> float:
    values = [getattr(p, what) for p in phases if getattr(p, what) is not None]
    return statistics.median(values) if values else float("nan")


def print_medians(a: list[Phase], c: list[Phase]) -> float:
    """Medians of a and c and their ratios; returns the wall ratio."""
    print(f"\nmedians over {len(a)} runs of a and {len(c)} of c")
    print(f"{'':<28} {'a: thresholds':>14} {'c: regression':>14} {'c - a':>8} {'c / a':>7}")
    ratio = float("nan")
    for label, what in (("wall s", "wall_s"), ("pytest s", "pytest_s"), ("cpu s", "cpu_s"), ("peak RSS MB", "peak_mb")):
        ma, mc = median_of(a, what), median_of(c, what)
        print(f"{label:<28} {ma:>14.2f} {mc:>14.2f} {mc - ma:>+8.2f} {mc / ma:>7.2f}")
        if what == "wall_s":
            ratio = mc / ma
    verdict = "met" if ratio <= TARGET else "NOT met"
    print(f"target: c wall <= {TARGET} x a wall: {ratio:.2f}x, {verdict}")
    return ratio


def threshold_verdict(props: dict) -> str:
    """What the thresholds alone said of an item: a threshold breach is "failed" whatever the regression says."""
    verdict = props.get("kolena.verdict", "error")
    return verdict if verdict in ("failed", "error", "skipped") else "passed"


def compare_verdicts(a: Phase, c: Phase) -> bool:
    """Each test case's threshold verdict (and thresholded values) in a and in c; c's regression verdict."""
    names = list(dict.fromkeys([*a.items, *c.items]))
    print(f"\nverdicts per item, {a.name} vs {c.name}")
    header = (
        f"{'test case':<40} {'macro_f1 a':>10} {'macro_f1 c':>10} {'thr a':>7} {'thr c':>7} {'c verdict':>10}  delta"
    )
    print(header)
    print("-" * len(header))
    same = bool(names)
    for name in names:
        pa, pc = a.items.get(name, {}), c.items.get(name, {})
        ta, tc = threshold_verdict(pa) if pa else "missing", threshold_verdict(pc) if pc else "missing"
        fa, fc = pa.get("kolena.metric.macro_f1", "-"), pc.get("kolena.metric.macro_f1", "-")
        agree = ta == tc and fa == fc
        same &= agree
        mark = "" if agree else "   <-- differs"
        delta = pc.get("kolena.delta.macro_f1", "") + (f"  ({pc['kolena.note']})" if pc.get("kolena.note") else "")
        print(
            f"{name[:40]:<40} {_short(fa):>10} {_short(fc):>10} {ta:>7} {tc:>7} {pc.get('kolena.verdict', '-'):>10}  {delta}{mark}"
        )
    print(
        f"threshold verdicts and thresholded values of a and c: {'the same' if same else 'DIFFERENT'} ({len(names)} items)"
    )
    return same


def _short(value: str) -> str:
    try:
        return f"{float(value):.4f}"
    except ValueError:
        return value


def print_profile(path: Path, top: int) -> None:
    """Top functions by cumulative and own time; the plugin's and the benchmark module's own by cumulative; the
    regression work broken down by the functions that do it (a function a checkout lacks shows as -)."""
    own = r"(pytest_kolena/.*|tests/test_bench\.py)$"
    stats = print_top(path, "c", top, own, "pytest_kolena and the benchmark's test")

    total = max((value[3] for value in stats.values()), default=float("nan"))  # the outermost call: the child
    wanted = [
        ("pytest session", "_pytest/main.py", "_main"),
        ("suite loading", "pytest_kolena/session.py", "suite"),
        ("model run (infer + evaluate)", "pytest_kolena/session.py", "run"),
        ("baseline resolve (store read)", "pytest_kolena/session.py", "baseline"),
        ("regression: judge_run", "pytest_kolena/judge.py", "judge_run"),
        ("  _case_checks", "pytest_kolena/judge.py", "_case_checks"),
        ("  sample_columns", "pytest_kolena/checks/regression.py", "sample_columns"),
        ("  _mean_of (mean detection)", "pytest_kolena/judge.py", "_mean_of"),
        ("  _recompute (decode baseline)", "pytest_kolena/judge.py", "_recompute"),
        ("  bootstrap_worsenings", "pytest_kolena/checks/regression.py", "bootstrap_worsenings"),
        ("    recompute (closure)", "pytest_kolena/judge.py", "recompute"),
        ("    compute_test_case_metrics", "tests/test_bench.py", "compute_test_case_metrics"),
        ("      macro_f1", "tests/test_bench.py", "macro_f1"),
        ("  decide (p-value adjustment)", "pytest_kolena/checks/regression.py", "decide"),
        ("  judge_resampled", "pytest_kolena/checks/regression.py", "judge_resampled"),
        ("from_dict (decoding, all)", "pytest_kolena/workflow/_dataobject.py", "from_dict"),
        ("run record write (finish)", "pytest_kolena/session.py", "finish"),
    ]
    print("\n--- phase c: where the time goes (cumulative; - : no such function in this checkout) ---")
    print(f"{'':<34} {'ncalls':>9} {'cumtime':>8} {'tottime':>8} {'% child':>7}")
    print(f"{'whole child under cProfile':<34} {'':>9} {total:>8.2f}")
    for label, file_part, function in wanted:
        rows = [value for (file, _, fn), value in stats.items() if fn == function and file.endswith(file_part)]
        if not rows:
            print(f"{label:<34} {'-':>9} {'-':>8} {'-':>8}")
            continue
        calls = sum(v[1] for v in rows)
        cum, tot = max(v[3] for v in rows), sum(v[2] for v in rows)  # max: one entry, or a recursive one's outermost
        print(f"{label:<34} {calls:>9} {cum:>8.2f} {tot:>8.2f} {cum / total:>7.0%}")
    # what the evaluator's compute_test_case_metrics calls, split by callee (time spent under it)
    callees = []
    for (file, line, fn), value in stats.items():
        for (caller_file, _, caller_fn), (_, calls, tottime, cumtime) in value[4].items():
            if caller_fn == "compute_test_case_metrics" and caller_file.endswith("tests/test_bench.py"):
                callees.append((cumtime, tottime, calls, f"{Path(file).name}:{line}({fn})"))
    if callees:
        print("\n--- phase c: callees of the evaluator's compute_test_case_metrics (time under it, by cumulative) ---")
        print(f"{'ncalls':>10} {'tottime':>8} {'cumtime':>8}  function")
        for cumtime, tottime, calls, name in sorted(callees, reverse=True)[:12]:
            print(f"{calls:>10} {tottime:>8.3f} {cumtime:>8.3f}  {name}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    add_common_arguments(parser, 540, "checkout whose pytest_kolena the children import (first on their PYTHONPATH)")
    parser.add_argument("--repeat", type=int, default=3, help="runs of phases a and c each, alternating (3)")
    parser.add_argument("--profile", action="store_true", help="also run c under cProfile and print the top")
    parser.add_argument("--resamples", type=int, help="kolena_resamples (default: the plugin's)")
    args = parser.parse_args()

    temporary = None if args.workdir else tempfile.TemporaryDirectory(prefix="bench-general-path-")
    work = (args.workdir or Path(temporary.name)).resolve()
    data, project = work / "data", work / "project"
    stores = work / "stores"
    try:
        suite_in(data, args.samples, SEED, make_suite)
        shutil.rmtree(project, ignore_errors=True)
        shutil.rmtree(stores, ignore_errors=True)
        write_project(project, data)

        repo = args.repo.resolve()
        env = {k: v for k, v in os.environ.items() if not k.startswith("BENCH_")}
        env["PYTHONPATH"] = os.pathsep.join([str(repo), *filter(None, [os.environ.get("PYTHONPATH")])])
        probe = "import sys, platform, pytest, pytest_kolena; print(sys.version.split()[0], pytest.__version__, "
        probe += "pytest_kolena.__file__)"
        version = subprocess.run(
            [args.python, "-c", probe], capture_output=True, text=True, check=True, env=env, cwd=project
        ).stdout.split()
        print(f"work: {work}\nchildren: {args.python} (Python {version[0]}, pytest {version[1]})")
        print(f"pytest_kolena: {version[2]} (repo {repo}, git {_git_head(repo)})")
        memory_gb = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
        cpus = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
        print(f"machine: nproc {cpus} ({os.cpu_count()} CPUs), {memory_gb:.0f} GB, {platform.platform()}")
        print(f"load average at start: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")

        pytest_cmd = ["-m", "pytest", "-q", "-p", "no:cacheprovider", "-p", "no:randomly", f"--kolena-suite={SUITE}"]
        if args.resamples:
            pytest_cmd += ["-o", f"kolena_resamples={args.resamples}"]
        pytest_cmd += shlex.split(args.pytest_args)
        thresholds_only = {"thresholds": THRESHOLDS}
        with_regression = {"thresholds": THRESHOLDS, "regression": REGRESSION}
        store_a, store_c, pristine = stores / "a", stores / "c", stores / "after-b"

        def phase_a(name: str) -> Phase:
            shutil.rmtree(store_a, ignore_errors=True)
            child_env = {**env, "BENCH_MODEL": "candidate", "BENCH_MARKER": json.dumps(thresholds_only)}
            command = [args.python, *pytest_cmd, f"--kolena-store={store_a}"]
            return run_phase(name, command, project, child_env)

        def phase_c(name: str, profile: Path | None = None) -> Phase:
            shutil.rmtree(store_c, ignore_errors=True)
            shutil.copytree(pristine, store_c)
            child_env = {**env, "BENCH_MODEL": "candidate", "BENCH_MARKER": json.dumps(with_regression)}
            head = [args.python, "-m", "cProfile", "-o", str(profile)] if profile else [args.python]
            command = [*head, *pytest_cmd, f"--kolena-store={store_c}", "--kolena-baseline", "main"]
            return run_phase(name, command, project, child_env)

        phases: list[Phase] = []

        def note(phase: Phase) -> Phase:
            phases.append(phase)
            print(f"  {phase.name}: {phase.wall_s:.2f} s, {phase.summary or 'no summary'}", flush=True)
            return phase

        child_env = {**env, "BENCH_MODEL": "baseline", "BENCH_MARKER": json.dumps(thresholds_only)}
        command = [args.python, *pytest_cmd, f"--kolena-store={pristine}", "--kolena-tag", "main"]
        b = note(run_phase("b: baseline, --kolena-tag main", command, project, child_env))
        runs_a, runs_c = [], []
        for i in range(1, args.repeat + 1):
            runs_a.append(note(phase_a(f"a{i}: thresholds only")))
            runs_c.append(note(phase_c(f"c{i}: --kolena-baseline main")))
        profiled = None
        if args.profile:
            profiled = note(phase_c("c under cProfile", project / "phase_c.prof"))

        print()
        print_table(phases)
        ratio = print_medians(runs_a, runs_c)
        same = compare_verdicts(runs_a[0], runs_c[0])
        stable = all(p.items == runs_c[0].items for p in runs_c[1:])
        print(f"c's verdicts across its {len(runs_c)} runs: {'identical' if stable else 'DIFFERENT'}")
        print(f"load average at end: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
        failed = [p for p in phases if p.exit_code not in (0, 1) or not p.items]
        failed += [b] if b.exit_code != 0 and b not in failed else []
        for p in failed:
            tail = "\n".join(p.log.read_text(errors="replace").splitlines()[-40:])
            print(f"\n--- {p.name}: exit {p.exit_code}, last lines of {p.log} ---\n{textwrap.indent(tail, '  ')}")
        if profiled is not None and (project / "phase_c.prof").exists():
            print_profile(project / "phase_c.prof", args.top)
        return 1 if failed or not same or ratio != ratio else 0
    finally:
        if temporary is not None:
            temporary.cleanup()


def _git_head(repo: Path) -> str:
    found = subprocess.run(["git", "-C", str(repo), "rev-parse", "--short", "HEAD"], capture_output=True, text=True)
    dirty = subprocess.run(
        ["git", "-C", str(repo), "status", "--porcelain", "--untracked-files=no"], capture_output=True, text=True
    )
    return (found.stdout.strip() or "?") + (" (modified)" if dirty.stdout.strip() else "")


if __name__ == "__main__":
    sys.exit(main())
