"""What the session benchmarks share: their common arguments, a generated suite reused across runs, and a pytest
child timed to its exit (os.wait4: the child's own CPU time and peak RSS)."""

from __future__ import annotations

import argparse
import io
import json
import os
import pstats
import re
import shutil
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path


def add_common_arguments(parser: argparse.ArgumentParser, samples: int, repo_help: str) -> None:
    parser.add_argument("--samples", type=int, default=samples, help=f"samples in the suite ({samples})")
    parser.add_argument("--workdir", type=Path, help="where to generate (kept; default: a temporary folder)")
    parser.add_argument("--python", default=sys.executable, help="interpreter of the pytest children")
    parser.add_argument("--repo", type=Path, default=Path(__file__).resolve().parents[1], help=repo_help)
    parser.add_argument("--top", type=int, default=25, help="functions shown per profile ordering (25)")
    parser.add_argument("--pytest-args", default="", help="more pytest arguments, e.g. '-n 2'")


def add_child_arguments(parser: argparse.ArgumentParser, repo_help: str) -> None:
    """add_common_arguments without --samples and --top, for a benchmark of several suite sizes and no profile."""
    parser.add_argument("--workdir", type=Path, help="where to generate (kept; default: a temporary folder)")
    parser.add_argument("--python", default=sys.executable, help="interpreter of the pytest children")
    parser.add_argument("--repo", type=Path, default=Path(__file__).resolve().parents[1], help=repo_help)
    parser.add_argument("--pytest-args", default="", help="more pytest arguments, e.g. '-n 2'")


def suite_in(data: Path, samples: int, seed: int, make_suite: Callable[[Path, int], None]) -> None:
    """Generate the suite under `data`, unless the one there was made with the same size and seed."""
    stamp = data.parent / "generated.json"
    wanted = {"samples": samples, "seed": seed}
    if stamp.exists() and json.loads(stamp.read_text()) == wanted:
        print(f"reusing the suite of {samples:,} samples in {data}")
        return
    shutil.rmtree(data, ignore_errors=True)
    start = time.perf_counter()
    make_suite(data, samples)
    stamp.write_text(json.dumps(wanted))
    print(f"generated {samples:,} samples in {time.perf_counter() - start:.1f} s")


@dataclass
class Child:
    """A finished child process: its cost and its output."""

    wall_s: float
    cpu_s: float
    peak_mb: float
    exit_code: int
    lines: list[str]


def run_child(command: list[str], cwd: Path, env: dict[str, str], log: Path) -> Child:
    """Run `command` to its end with its output in `log`; its rusage gives its own peak RSS (KiB on Linux)."""
    with open(log, "w") as out:
        start = time.perf_counter()
        child = subprocess.Popen(command, cwd=cwd, env=env, stdout=out, stderr=subprocess.STDOUT)
        _, status, usage = os.wait4(child.pid, 0)
        wall = time.perf_counter() - start
    child.returncode = os.waitstatus_to_exitcode(status)  # reaped here: Popen must not wait for it again
    lines = [line.strip() for line in log.read_text(errors="replace").splitlines() if line.strip()]
    return Child(wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024, child.returncode, lines)


def print_top(path: Path, phase: str, top: int, own: str, label: str) -> dict:
    """A profile's top functions by cumulative and by own time, then those whose file matches `own` by cumulative
    time; returns the profile's raw stats for more."""
    for order in ("cumulative", "tottime"):
        text = io.StringIO()
        pstats.Stats(str(path), stream=text).strip_dirs().sort_stats(order).print_stats(top)
        body = text.getvalue()
        print(f"\n--- profile of phase {phase}, top {top} by {order} ---")
        print(body[body.find("   ncalls") :].rstrip() if "   ncalls" in body else body)
    stats = pstats.Stats(str(path)).stats
    rows = []
    for (file, line, function), (_, calls, tottime, cumtime, _) in stats.items():
        found = re.search(own, file)
        if found:
            rows.append((cumtime, tottime, calls, f"{found.group(1)}:{line}({function})"))
    print(f"\n--- profile of phase {phase}, top {top} functions of {label} by cumulative ---")
    print(f"{'ncalls':>10} {'tottime':>8} {'cumtime':>8}  function")
    for cumtime, tottime, calls, name in sorted(rows, reverse=True)[:top]:
        print(f"{calls:>10} {tottime:>8.3f} {cumtime:>8.3f}  {name}")
    return stats
