"""The HTML report of a large run: its size, the time to write it and the time to open it in headless Chromium.

A synthetic 300-W-format suite (`synthetic.py`, default 100,000 samples, 12 test cases) is run by two models in
real pytest sessions: `lookup` (the suite's predictions file) and `lookup-shifted` (the same points moved by half a
pixel, slightly worse), first with `--kolena-tag main`, then with `--kolena-baseline main`, the shifted model
compared with the stored run of `lookup` (`baseline_models`): every test case gets its regression checks. The
suite's images are symbolic links to the 300-W images of `examples/data` (cycled), so that thumbnails cost what
they cost on a real image suite. The report of the second run is built from the store (`run_document`), written
(`write_html`), and opened from file:// in headless Chromium (Debian's `/usr/bin/chromium` and its driver),
`--repeat` times: the wall time of `driver.get` (it returns after the load event) until the page says it has
rendered, and the page's own `kolena-rendered` mark (navigation start to the end of the report's first rendering:
the overview, and the first failure's test case with its gallery and its samples table). Then the largest test case
(every sample) is opened, sorted by another column and paged, timed in the page.

The same is measured on the embedded 300-W suite (`examples/facial_keypoints/test_champion_challenger.py`, two
runs as above), the report's target being under 1 MB there and under 20 MB and 3 s to open at 100,000 samples.

    python benchmarks/bench_report.py [--samples 100000] [--workdir DIR] [--repeat 3]
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from _child import run_child, suite_in
from synthetic import SEED, SUITE, make_suite

REPO = Path(__file__).resolve().parents[1]
IMAGES = REPO / "examples" / "data" / "300-W" / "images"
BROWSER, DRIVER = "/usr/bin/chromium", "/usr/bin/chromedriver"

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

TEST_MODULE = '''\
"""Two models that look their predictions up, the second half a pixel off: a champion and a worse challenger."""

import functools

import numpy as np
import pytest

from examples.facial_keypoints.workflow import Inference, Keypoints, KeypointsEvaluator, Model, NmeThreshold


@functools.cache
def predictions() -> dict:
    with np.load({predictions!r}) as data:
        return dict(zip(data["locators"].tolist(), data["points"].tolist()))


def lookup(test_sample, shift=0.0) -> Inference:
    points = predictions()["/".join(test_sample.locator.rsplit("/", 2)[-2:])]
    return Inference(Keypoints([(x + shift, y + shift) for x, y in points]), 1.0)


champion = Model("lookup", infer=lookup)
challenger = Model("lookup-shifted", infer=lambda sample: lookup(sample, 0.5))


@pytest.mark.kolena(
    models=[champion, challenger],
    evaluator=KeypointsEvaluator(configurations=[NmeThreshold(0.08)]),
    thresholds={{"mean_nme": "<= 1.0"}},
    regression={{"mean_nme": "+2%"}},
    baseline_models={{"lookup-shifted": "lookup"}},
    columns={{"points": "keypoints"}},
)
def test_report(kolena_result):
    pass
'''


def link_images(data: Path, samples: int) -> None:
    """images/sNNNNNN.jpg -> one of the 300-W images, for every sample of the synthetic suite."""
    folder = data / SUITE / "images"
    if folder.exists() and len(os.listdir(folder)) == samples:
        return
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    sources = sorted(IMAGES.glob("*.jpg"))
    for i in range(samples):
        os.symlink(sources[i % len(sources)], folder / f"s{i:06d}.jpg")


def pytest_runs(project: Path, python: str, suite: str, test: str | None = None) -> None:
    """The two sessions: a tagged run, then a run against it; fails loudly when one does not finish."""
    env = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1"}
    base = [
        python,
        "-m",
        "pytest",
        "-q",
        "-p",
        "no:cacheprovider",
        f"--kolena-suite={suite}",
        *([test] if test else []),
    ]
    # the second run writes a report, as a user's would: it then stores what the page draws (test samples, ground
    # truths and metadata; against the baseline, its values and the inferences of the samples that got worse)
    second = ["--kolena-baseline", "main", f"--kolena-report={project / 'live.html'}"]
    for name, extra in (("a", ["--kolena-tag", "main"]), ("b", second)):
        child = run_child([*base, *extra], project, env, project / f"phase-{name}.log")
        print(f"  pytest phase {name}: {child.wall_s:.1f} s, {child.lines[-1] if child.lines else ''}", flush=True)
        if child.exit_code not in (0, 1):
            sys.exit(f"pytest phase {name} exited {child.exit_code}: see {project / f'phase-{name}.log'}")


def write_report(store: Path, target: Path) -> dict:
    """The last run's document, then its HTML; the times of both and the file's size."""
    from pytest_kolena.report.document import stored_document
    from pytest_kolena.report.html import write_html
    from pytest_kolena.store import RunStore

    start = time.perf_counter()
    runs = RunStore(str(store))
    info = runs.runs()[-1]
    document = stored_document(runs, info)
    built = time.perf_counter() - start
    start = time.perf_counter()
    write_html(document, target)
    written = time.perf_counter() - start
    samples = sum(len((s.get("samples") or {}).get("ids", [])) for s in document["suites"])
    return {"document_s": built, "write_s": written, "bytes": target.stat().st_size, "samples": samples}


def browser(work: Path):
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = BROWSER
    for argument in (
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        f"--user-data-dir={tempfile.mkdtemp(dir=work, prefix='chromium-')}",
        "--window-size=1400,1000",
    ):
        options.add_argument(argument)
    return webdriver.Chrome(service=Service(DRIVER), options=options)


def open_times(path: Path, work: Path, repeat: int) -> dict:
    """Medians over `repeat` fresh loads: driver.get wall time, the page's rendered mark; then the largest test case
    opened, sorted by its first column (the sample id) and paged, timed in the page."""
    driver = browser(work)
    try:
        gets, marks = [], []
        for _ in range(repeat):
            driver.get("about:blank")
            start = time.perf_counter()
            driver.get(path.as_uri())
            while not driver.execute_script("return document.body && document.body.dataset.rendered"):
                time.sleep(0.005)
            gets.append(time.perf_counter() - start)
            marks.append(driver.execute_script("return performance.getEntriesByName('kolena-rendered')[0].startTime"))
        largest = driver.execute_script(
            """const data = JSON.parse(document.getElementById('kolena-data').textContent);
            let best = 0, size = -1;
            data.cases.forEach((c, k) => { if (c && c.members === null && data.suites[c.suite].ids.length > size) {
              best = k; size = data.suites[c.suite].ids.length; } });
            location.hash = 'case-' + best;
            window.dispatchEvent(new HashChangeEvent('hashchange'));
            const opened = window.kolenaTimes['case-' + best];  // its gallery and table built, on load or now
            const header = document.querySelector('#case-' + best + ' .samples th.sortable');
            const t = performance.now(); header.click(); const sorted = performance.now() - t;
            const next = document.querySelector('#case-' + best + ' .page-next');
            const u = performance.now(); next.click(); const paged = performance.now() - u;
            return [size, opened, sorted, paged];"""
        )
        heap = driver.execute_script("return performance.memory ? performance.memory.usedJSHeapSize : null")
    finally:
        driver.quit()
    return {
        "get_s": statistics.median(gets),
        "gets": gets,
        "rendered_ms": statistics.median(marks),
        "marks": marks,
        "largest": largest,
        "heap_mb": heap / 2**20 if heap else None,
    }


def embedded(work: Path, python: str) -> tuple[dict, Path]:
    """The champion/challenger example on the embedded 300-W suite: two runs, then the report."""
    project = work / "embedded"
    shutil.rmtree(project, ignore_errors=True)
    project.mkdir(parents=True)
    store = project / "store"
    env = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1"}
    test = str(REPO / "examples" / "facial_keypoints" / "test_champion_challenger.py")
    for extra in (["--kolena-tag", "x"], ["--kolena-baseline", "x", f"--kolena-report={project / 'live.html'}"]):
        command = [python, "-m", "pytest", "-q", "-p", "no:cacheprovider", "--kolena-suite=300-W"]
        child = run_child([*command, f"--kolena-store={store}", *extra, test], REPO, env, project / "run.log")
        if child.exit_code not in (0, 1):
            sys.exit(f"the embedded suite's run exited {child.exit_code}: see {project / 'run.log'}")
    target = project / "report.html"
    return write_report(store, target), target


def report(name: str, written: dict, opened: dict) -> None:
    print(
        f"{name}: {written['samples']:,} samples; document {written['document_s']:.2f} s, write_html "
        f"{written['write_s']:.2f} s, {written['bytes'] / 1e6:.2f} MB"
    )
    gets = ", ".join(f"{g:.2f}" for g in opened["gets"])
    marks = ", ".join(f"{m:.0f}" for m in opened["marks"])
    print(
        f"  open: driver.get median {opened['get_s']:.2f} s ({gets}); rendered mark median {opened['rendered_ms']:.0f} ms ({marks})"
    )
    size, case, sort, page = opened["largest"]
    print(
        f"  largest test case ({size:,} samples): opened in {case:.0f} ms, sorted in {sort:.0f} ms, next page {page:.0f} ms"
    )
    if opened["heap_mb"]:
        print(f"  JS heap after: {opened['heap_mb']:.0f} MB")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--samples", type=int, default=100_000, help="samples in the synthetic suite (100000)")
    parser.add_argument("--workdir", type=Path, help="where to generate (kept; default: a temporary folder)")
    parser.add_argument("--python", default=sys.executable, help="interpreter of the pytest children")
    parser.add_argument("--repeat", type=int, default=3, help="loads of each report in the browser (3)")
    args = parser.parse_args()
    if not (Path(BROWSER).exists() and Path(DRIVER).exists()):
        sys.exit(f"needs {BROWSER} and {DRIVER} (Debian: apt-get install chromium chromium-driver)")

    temporary = None if args.workdir else tempfile.TemporaryDirectory(prefix="bench-report-")
    work = (args.workdir or Path(temporary.name)).resolve()
    try:
        memory_gb = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
        chromium = subprocess.run([BROWSER, "--version"], capture_output=True, text=True).stdout.strip()
        print(f"machine: {os.cpu_count()} CPUs, {memory_gb:.0f} GB, {platform.platform()}, {chromium}")

        written, target = embedded(work, args.python)
        report("embedded 300-W (champion/challenger)", written, open_times(target, work, args.repeat))

        data, project, store = work / "data", work / "project", work / "store"
        suite_in(data, args.samples, SEED, make_suite)
        link_images(data, args.samples)
        shutil.rmtree(store, ignore_errors=True)
        (project / "tests").mkdir(parents=True, exist_ok=True)
        (project / "pytest.ini").write_text(PYTEST_INI.format(data=data, store=store))
        (project / "conftest.py").write_text(f"import sys\nsys.path.insert(0, {str(REPO)!r})\n")
        (project / "tests" / "test_report.py").write_text(TEST_MODULE.format(predictions=str(data / "predictions.npz")))
        pytest_runs(project, args.python, SUITE)
        target = work / "report.html"
        written = write_report(store, target)
        report(f"synthetic ({args.samples:,} samples, 2 models)", written, open_times(target, work, args.repeat))
        return 0
    finally:
        if temporary is not None:
            temporary.cleanup()


if __name__ == "__main__":
    sys.exit(main())
