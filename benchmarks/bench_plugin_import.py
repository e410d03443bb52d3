"""Cost the installed plugin adds to an unrelated pytest run (target: at most 10 ms and 1 MiB).

A temporary project with one plain test (and an empty pytest.ini) is run by `pytest -q -p no:cacheprovider`
in a fresh interpreter, alternately with the plugin and with `-p no:kolena` (interleaved, so machine load hits
both alike), after 2 warm-up runs of each. Per run: the whole process wall time (start to exit), the time of
pytest.main inside it, the child's peak RSS (os.wait4) and the modules it imported. Bytecode is cached in a
private temporary prefix (PYTHONPYCACHEPREFIX); --no-bytecode measures with PYTHONDONTWRITEBYTECODE=1 instead.

    python benchmarks/bench_plugin_import.py [--runs N] [--no-bytecode]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

# Runs pytest in-process so that it can report pytest.main's own time and the modules it left imported.
WRAPPER = """
import json, sys, time, pytest
start = time.perf_counter()
code = pytest.main(sys.argv[2:])
elapsed = time.perf_counter() - start
json.dump({"code": int(code), "main": elapsed, "modules": sorted(sys.modules)}, open(sys.argv[1], "w"))
"""
RSS_UNIT = 1 if sys.platform == "darwin" else 1024  # ru_maxrss: bytes on macOS, KiB on Linux
MIB = 1024 * 1024


def run_once(project: Path, side: Path, env: dict[str, str], plugin: bool) -> dict:
    """One pytest process in `project`: wall time, peak RSS and what the wrapper reported."""
    args = ["-q", "-p", "no:cacheprovider"] + ([] if plugin else ["-p", "no:kolena"])
    start = time.perf_counter()
    proc = subprocess.Popen(
        [sys.executable, "-c", WRAPPER, str(side), *args], cwd=project, env=env, stdout=subprocess.DEVNULL
    )
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - start
    proc.returncode = os.waitstatus_to_exitcode(status)  # already reaped: keep Popen from waiting again
    result = json.loads(side.read_text())
    if proc.returncode != 0 or result["code"] != 0:
        sys.exit(f"pytest failed (plugin={plugin}): exit {proc.returncode}, pytest code {result['code']}")
    return {**result, "wall": wall, "rss": usage.ru_maxrss * RSS_UNIT}


def median_diff_interval(a: list[float], b: list[float], resamples: int = 5000) -> tuple[float, float]:
    """Bootstrap 95% interval of median(a) - median(b), each sample resampled on its own."""
    rng = random.Random(0)
    diffs = sorted(
        statistics.median(rng.choices(a, k=len(a))) - statistics.median(rng.choices(b, k=len(b)))
        for _ in range(resamples)
    )
    return diffs[int(0.025 * resamples)], diffs[int(0.975 * resamples) - 1]


def report(with_: list[dict], without: list[dict], bytecode: bool) -> None:
    """Print the medians, the difference with its 95% interval and the imported modules."""
    print(f"machine: {platform.platform()}, {os.cpu_count()} CPUs, Python {platform.python_version()}")
    print(f"runs: {len(with_)} with the plugin, {len(without)} with -p no:kolena (interleaved), ", end="")
    print("bytecode cached" if bytecode else "no bytecode cache (every module compiled in every run)")
    print()
    for key, label in (("wall", "process wall time"), ("main", "pytest.main in-process")):
        a, b = [r[key] * 1000 for r in with_], [r[key] * 1000 for r in without]
        low, high = median_diff_interval(a, b)
        med_a, med_b = statistics.median(a), statistics.median(b)
        print(f"{label:24} with {med_a:7.1f} ms   without {med_b:7.1f} ms   ", end="")
        print(f"diff {med_a - med_b:+6.1f} ms  (95% CI {low:+.1f} .. {high:+.1f})")
    rss_a, rss_b = [r["rss"] / MIB for r in with_], [r["rss"] / MIB for r in without]
    low, high = median_diff_interval(rss_a, rss_b)
    med_a, med_b = statistics.median(rss_a), statistics.median(rss_b)
    print(f"{'peak RSS':24} with {med_a:7.1f} MiB  without {med_b:7.1f} MiB  ", end="")
    print(f"diff {med_a - med_b:+6.2f} MiB (95% CI {low:+.2f} .. {high:+.2f})")
    mods_a, mods_b = set(with_[-1]["modules"]), set(without[-1]["modules"])
    print(f"{'modules in sys.modules':24} with {len(mods_a):7}      without {len(mods_b):7}      ", end="")
    print(f"diff {len(mods_a) - len(mods_b):+}")
    kolena = sorted(m for m in mods_a if m.startswith("pytest_kolena"))
    others = sorted(m for m in mods_a - mods_b if not m.startswith("pytest_kolena"))
    print(f"\npytest_kolena modules imported ({len(kolena)}): {', '.join(kolena) or '-'}")
    print(f"other modules only imported with the plugin ({len(others)}): {', '.join(others) or '-'}")
    print("target: at most +10 ms process wall time and +1 MiB peak RSS")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=30, help="measured runs of each variant (default 30)")
    parser.add_argument("--no-bytecode", action="store_true", help="keep no bytecode cache (PYTHONDONTWRITEBYTECODE)")
    opts = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        project, side = Path(tmp, "project"), Path(tmp, "result.json")
        project.mkdir()
        (project / "test_one.py").write_text("def test_one():\n    pass\n")
        (project / "pytest.ini").write_text("")
        env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST_", "PYTHONDONTWRITEBYTECODE"))}
        if opts.no_bytecode:
            env["PYTHONDONTWRITEBYTECODE"] = "1"
        else:  # a private bytecode cache, so nothing is written next to the sources
            env["PYTHONPYCACHEPREFIX"] = str(Path(tmp, "pycache"))
        for _ in range(2):  # warm-up: bytecode cache, page cache
            run_once(project, side, env, True)
            run_once(project, side, env, False)
        with_, without = [], []
        for i in range(2 * opts.runs):
            plugin = i % 2 == (i // 2) % 2  # ABBA order: neither variant always goes first
            (with_ if plugin else without).append(run_once(project, side, env, plugin))
    report(with_, without, not opts.no_bytecode)


if __name__ == "__main__":
    main()
