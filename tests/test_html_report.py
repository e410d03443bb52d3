"""The HTML report of a real run, opened in a real headless Chromium: the overview, a chart, the drill-down of a test
case with its annotated thumbnails, sorting, paging, and user strings shown as text, never run as markup."""

from __future__ import annotations

import copy
import html.parser
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from pytest_kolena.report.html import HtmlDependencyError, render_html, script_json, write_html
from pytest_kolena.report.html.run import severity

ROOT = Path(__file__).resolve().parents[1]
# the champion/challenger example's marker with the degraded mean shape as the challenger: a regressed test case
CHALLENGE = """
import pytest
from examples.facial_keypoints.workflow import KeypointsEvaluator, NmeThreshold, degraded_model, mean_shape_model

@pytest.mark.kolena(
    models=[mean_shape_model, degraded_model],
    evaluator=KeypointsEvaluator(configurations=[NmeThreshold(0.08)]),
    thresholds={"mean_nme": "<= 0.5"},
    regression={"mean_nme": "+2%"},
    baseline_models={"mean-shape-degraded": "mean-shape"},
    columns={"points": "keypoints"},
    stratify=["occlusion", "mirrored", "roll_deg:quantile:4", "blur_radius"],
    suites=["300-W"],
)
def test_champion_challenger(kolena_result):
    pass
"""
HOSTILE = "<script>alert(1)</script>"
WAIT = 10  # seconds, at most, for the page to render or an image to load


@pytest.fixture(scope="module")
def document(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """Champion and challenger on the embedded 300-W suite, run twice in a child pytest (tagged, then against the
    tag: regression checks, and the challenger's regressed test case), read back from its store."""
    store = tmp_path_factory.mktemp("store")
    module = store / "test_challenge.py"
    module.write_text(CHALLENGE)
    env = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1"}
    for extra in ("--kolena-tag=main", "--kolena-baseline=main"):
        command = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-p", "no:randomly"]
        # a run that writes a report stores the test samples and ground truths the report draws
        command += [
            "--kolena-suite=300-W",
            f"--kolena-data={ROOT / 'examples' / 'data'}",
            f"--kolena-store={store}",
            f"--kolena-report={store}/run.md",
            extra,
        ]
        command.append(str(module))
        result = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
        assert result.returncode in (0, 1), result.stdout[-4000:] + result.stderr[-4000:]
    from pytest_kolena.report.document import stored_document
    from pytest_kolena.store import RunStore

    runs = RunStore(str(store))
    info = runs.runs()[-1]
    return stored_document(runs, info)


def hostile(document: dict[str, Any], folder: Path) -> dict[str, Any]:
    """The document with `<script>` in the run's tag, a model's metadata and the worst sample's id and locator (a
    real image, copied to a path holding the string)."""
    changed = copy.deepcopy(document)
    changed["run"]["tag"] = HOSTILE
    changed["models"][0]["metadata"]["description"] = HOSTILE
    samples = changed["suites"][0]["samples"]
    image = folder / "<script>alert(1)<" / "script>.jpg"
    image.parent.mkdir(parents=True)
    first = samples["test_samples"][0]
    shutil.copy(first["locator"], image)
    samples["test_samples"][0] = first | {"locator": str(image)}
    samples["ids"][0] = f"images/{HOSTILE}.jpg"
    for by_configuration in samples["metrics"].values():  # the worst sample of every model: on the first page
        for columns in by_configuration.values():
            columns["normalized_mean_error"][0] = 9.0
    return changed


@pytest.fixture(scope="module")
def report(document: dict[str, Any], tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("report")
    target = folder / "report.html"
    write_html(hostile(document, folder), target)
    return target


@pytest.fixture
def page(browser: Any, report: Path) -> Any:
    """The report freshly loaded, rendered by its script."""
    from selenium.webdriver.support.ui import WebDriverWait

    browser.get("about:blank")
    browser.get_log("browser")  # drop what came before
    browser.get(report.as_uri())
    WebDriverWait(browser, WAIT).until(lambda d: d.execute_script("return document.body.dataset.rendered"))
    return browser


def by_css(driver: Any, selector: str) -> list[Any]:
    from selenium.webdriver.common.by import By

    return driver.find_elements(By.CSS_SELECTOR, selector)


def loaded(driver: Any, image: Any) -> int:
    """The natural width of an image once it has loaded (0: it did not)."""
    from selenium.webdriver.support.ui import WebDriverWait

    WebDriverWait(driver, WAIT).until(lambda d: d.execute_script("return arguments[0].complete", image))
    return driver.execute_script("return arguments[0].naturalWidth", image)


def open_case(driver: Any, label: str) -> Any:
    """Click the test case's link in the test cases table; its section, once shown."""
    from selenium.webdriver.support.ui import WebDriverWait

    link = next(a for a in by_css(driver, "table.cases a") if a.text == label)
    target = link.get_attribute("href").rsplit("#", 1)[1]
    link.click()
    WebDriverWait(driver, WAIT).until(lambda d: by_css(d, f"#{target}")[0].is_displayed())
    return by_css(driver, f"#{target}")[0]


def column_values(section: Any, name: str) -> list[float]:
    """The numbers shown in a column of the section's samples table (by its header), missing values left out."""
    headers = [th.text for th in by_css(section, ".samples thead tr:last-child th")]
    at = headers.index(name) + 1
    cells = [td.text for td in by_css(section, f".samples tbody td:nth-child({at})")]
    return [float(text) for text in cells if text != "\u2013"]


@pytest.mark.slow
class TestInTheBrowser:
    def test_overview_lists_every_item_by_severity_in_the_flow_of_the_page(self, page, document):
        """Regressed first (the surest, then the largest), then failed, errors, improved, the rest; every item in
        the page's own flow, not an inner scroll box."""
        rows = by_css(page, "table.items tbody tr")
        assert len(rows) == len(document["items"])
        shown = [row.find_elements("css selector", ".v")[0].text for row in rows]
        assert sorted(shown) == sorted(item["verdict"] for item in document["items"])
        rank = {"regressed": 0, "failed": 1, "error": 2, "improved": 3}
        order = [rank.get(verdict, 4) for verdict in shown]
        assert order == sorted(order) and shown[0] == "regressed"
        table = by_css(page, "table.items")[0]
        assert page.execute_script("return arguments[0].parentElement.scrollHeight", table) == page.execute_script(
            "return arguments[0].parentElement.clientHeight", table
        )  # (nothing hidden below an inner scroll)
        totals = by_css(page, ".totals")[0].text
        assert all(f"{verdict} {count}" in totals for verdict, count in document["totals"].items())

    def test_no_table_is_wider_than_a_1400_pixel_window(self, page):
        case = open_case(page, "300-W :: mirrored True")
        assert case.is_displayed()
        assert page.execute_script("return window.innerWidth") <= 1400
        too_wide = page.execute_script(  # (the samples table, a column per field, scrolls in its own box)
            "return [...document.querySelectorAll('table, .samples')].filter(t => t.offsetParent !== null)"
            ".filter(t => !t.closest('.samples') || t.classList.contains('samples'))"
            ".filter(t => t.getBoundingClientRect().right > document.documentElement.clientWidth + 1)"
            ".map(t => t.className + ' ' + Math.round(t.getBoundingClientRect().width))"
        )
        assert too_wide == []
        assert page.execute_script("return document.documentElement.scrollWidth <= window.innerWidth")

    def test_drill_down_chart_thumbnails_and_samples(self, page, document, tmp_path):
        most_severe = sorted(document["items"], key=severity)[0]
        first = most_severe["test_case"] or "(suite metrics: every sample)"
        shown = [section for section in by_css(page, "section.case") if section.is_displayed()]
        assert [by_css(section, "h2")[0].text for section in shown] == [first]  # on load: the most severe item's
        case = open_case(page, "300-W :: mirrored True")
        assert [section for section in by_css(page, "section.case") if section.is_displayed()] == [case]
        chart = by_css(case, "img.chart")[0]
        assert loaded(page, chart) > 0
        thumbnails = by_css(case, ".gallery img")
        assert thumbnails and all(loaded(page, image) > 0 for image in thumbnails[:3])
        size = len(document["suites"][0]["test_cases"]["300-W :: mirrored True"])
        assert len(by_css(case, ".samples tbody tr")) == min(50, size)
        assert f"of {size}" in by_css(case, ".page-label")[0].text
        if any(item["checks"] for item in document["items"]):
            assert by_css(case, "table.checks tbody tr")
        page.save_screenshot(str(tmp_path / "report.png"))
        assert (tmp_path / "report.png").stat().st_size > 10_000
        errors = [entry for entry in page.get_log("browser") if entry["level"] == "SEVERE"]
        assert not errors  # a content security policy violation would be one

    def test_sorting_by_a_sample_metric(self, page):
        case = open_case(page, "300-W :: basic")
        values = column_values(case, "normalized_mean_error")
        assert values == sorted(values, reverse=True)  # worst first, by default
        header = next(th for th in by_css(case, ".samples thead th") if th.text == "normalized_mean_error")
        header.click()
        ascending = column_values(case, "normalized_mean_error")
        assert ascending == sorted(ascending) and ascending[0] < values[-1]
        header = next(th for th in by_css(case, ".samples thead th") if th.text.startswith("normalized_mean_error"))
        header.click()
        assert column_values(case, "normalized_mean_error") == values

    def test_paging(self, page):
        case = open_case(page, "300-W :: basic")
        first = [td.text for td in by_css(case, ".samples tbody td.sample")]
        by_css(case, ".page-next")[0].click()
        second = [td.text for td in by_css(case, ".samples tbody td.sample")]
        assert len(second) == 50 and not set(first) & set(second)
        assert "rows 51\u2013100 of 300" in by_css(case, ".page-label")[0].text
        by_css(case, ".page-last")[0].click()
        assert len(by_css(case, ".samples tbody tr")) == 50  # 300 = 6 pages of 50
        assert by_css(case, ".page-next")[0].get_attribute("disabled")
        from selenium.webdriver.support.ui import Select

        Select(by_css(case, "select[aria-label='rows per page']")[0]).select_by_value("200")
        assert len(by_css(case, ".samples tbody tr")) == 200
        assert "rows 1\u2013200 of 300" in by_css(case, ".page-label")[0].text

    def test_samples_table_has_metadata_baseline_and_change_and_filters_by_a_metadata_value(self, page, document):
        """A regressed test case's samples: the suite's metadata columns, each model's baseline value and change
        beside its sample metric, the full sample id; filtered to one metadata value."""
        regressed = next(item for item in document["items"] if item["verdict"] == "regressed")
        case = open_case(page, regressed["test_case"])
        headers = [th.text for th in by_css(case, ".samples thead tr:last-child th")]
        assert {"occlusion", "roll_deg", "mirrored"} <= set(headers)
        assert "baseline normalized_mean_error" in headers and "change normalized_mean_error" in headers
        groups = [th.text for th in by_css(case, ".samples thead tr:first-child th")]
        assert "metadata" in groups
        first = by_css(case, ".samples tbody tr")[0].find_elements("css selector", "td")
        at = {name: k for k, name in enumerate(headers)}  # (the first model's columns come first)
        after = float(first[at["normalized_mean_error"]].text)
        before = float(first[at["baseline normalized_mean_error"]].text)
        assert float(first[at["change normalized_mean_error"]].text) == pytest.approx(after - before, abs=2e-3)
        cell = first[0]
        suite = document["suites"][0]["samples"]
        assert cell.text in [*suite["ids"], f"images/{HOSTILE}.jpg"]  # the whole id, not cut
        assert page.execute_script("return arguments[0].scrollWidth <= arguments[0].clientWidth", cell)
        from selenium.webdriver.support.ui import Select

        Select(by_css(case, "select[aria-label='filter column']")[0]).select_by_visible_text("occlusion")
        Select(by_css(case, "select[aria-label='filter value']")[0]).select_by_visible_text("nose")
        members = document["suites"][0]["test_cases"][regressed["test_case"]]
        expected = sum(1 for i in members if suite["metadata"][i]["occlusion"] == "nose")
        assert f"of {expected} " in by_css(case, ".page-label")[0].text + " "
        shown = [
            row.find_elements("css selector", "td")[at["occlusion"]].text for row in by_css(case, ".samples tbody tr")
        ]
        assert shown and set(shown) == {"nose"}

    def test_the_gallery_of_a_regressed_case_shows_what_got_worse_baseline_beside_candidate(self, page, document):
        """The regressed model's row of the gallery: the samples that got worse the most against the baseline (the
        failure text's ranking), each drawn twice, with the baseline's inference and with the candidate's."""
        import numpy as np

        regressed = next(item for item in document["items"] if item["verdict"] == "regressed")
        case = open_case(page, regressed["test_case"])
        rows = by_css(case, ".gallery .row.worsened")
        assert len(rows) == 1 and rows[0].find_elements("css selector", ".who")[0].text.startswith(regressed["model"])
        tiles = rows[0].find_elements("css selector", ".tile")
        suite = document["suites"][0]["samples"]
        metric = "normalized_mean_error"
        after = np.array(next(iter(suite["metrics"][regressed["model"]].values()))[metric], dtype=float)
        before = np.array(next(iter(suite["baseline"][regressed["model"]].values()))[metric], dtype=float)
        after[0] = 9.0  # (as `hostile` made it)
        members = document["suites"][0]["test_cases"][regressed["test_case"]]
        expected = sorted(members, key=lambda i: (-(after[i] - before[i]), i))[: len(tiles)]
        shown = [tile.find_elements("css selector", ".id")[0].text for tile in tiles]
        ids = [f"images/{HOSTILE}.jpg", *suite["ids"][1:]]
        assert len(tiles) == 8 and shown == [ids[i] for i in expected]
        if 0 not in expected:  # the failure text ranks them so too (on the run's own values)
            listed = regressed["message"].split("(change: baseline -> candidate):")[1].splitlines()[1:6]
            assert all(ids[i].split("#")[0] in line for i, line in zip(expected, listed))
        for tile in [t for t, i in zip(tiles, expected) if i != 0][:3]:  # (the edited one's baseline: not kept)
            images = tile.find_elements("css selector", "img")
            assert [image.get_attribute("alt").split(" ")[0] for image in images] == ["baseline", "candidate"]
            assert all(loaded(page, image) > 0 for image in images)
            assert " → " in tile.find_elements("css selector", ".change")[0].text

    def test_user_strings_show_as_text(self, page):
        from selenium.common.exceptions import NoAlertPresentException

        case = open_case(page, "(suite metrics: every sample)")
        assert by_css(case, ".samples tbody td.sample")[0].text == f"images/{HOSTILE}.jpg"
        tile = by_css(case, ".gallery .tile")[0]
        assert tile.find_elements("css selector", ".id")[0].text == f"images/{HOSTILE}.jpg"
        assert loaded(page, tile.find_elements("css selector", "img")[0]) > 0  # its image, read from that path
        assert HOSTILE in by_css(page, "header")[0].text and HOSTILE in by_css(page, "table.models")[0].text
        assert page.execute_script("return document.scripts.length") == 2  # the data block and the page's own
        with pytest.raises(NoAlertPresentException):
            page.switch_to.alert.text  # noqa: B018


@pytest.mark.slow
def test_a_large_suite_keeps_the_worst_of_each_test_case(browser, document, tmp_path, monkeypatch):
    """Beyond TABLE_LIMIT samples, the table holds the KEPT_PER_CASE worst of each test case per model (the page
    stays small at any suite size) and says so; each test case still shows its own worst samples, worst first."""
    import numpy as np
    from selenium.webdriver.support.ui import WebDriverWait

    from pytest_kolena.report.html import samples as page_samples

    monkeypatch.setattr(page_samples, "TABLE_LIMIT", 100)
    monkeypatch.setattr(page_samples, "KEPT_PER_CASE", 10)
    small, full = tmp_path / "small.html", tmp_path / "full.html"
    write_html(document, small)
    monkeypatch.setattr(page_samples, "TABLE_LIMIT", 100_000)
    write_html(document, full)
    assert small.stat().st_size < full.stat().st_size
    browser.get(small.as_uri())
    WebDriverWait(browser, WAIT).until(lambda d: d.execute_script("return document.body.dataset.rendered"))
    case = open_case(browser, "300-W :: mirrored True")
    note = by_css(case, ".table-note")[0].text
    models = list(document["suites"][0]["samples"]["metrics"])
    assert note.startswith("This suite has 300 samples: the table holds") and "10 worst of each test case" in note
    suite = document["suites"][0]["samples"]
    members = document["suites"][0]["test_cases"]["300-W :: mirrored True"]
    errors = np.array(next(iter(suite["metrics"][models[0]].values()))["normalized_mean_error"], dtype=float)
    worst = sorted(members, key=lambda i: -errors[i])[:10]
    shown = [td.text for td in by_css(case, ".samples tbody td.sample")]
    assert set(shown) >= {suite["ids"][i] for i in worst}  # its own worst are there (and other models' worst)
    assert set(shown) <= {suite["ids"][i] for i in members}
    values = column_values(case, "normalized_mean_error")
    assert values[0] == pytest.approx(errors[worst[0]], rel=1e-3)  # worst first (shown to 4 digits)
    tiles = [tile.find_elements("css selector", ".id")[0].text for tile in by_css(case, ".gallery .tile")]
    assert tiles[: min(8, len(worst))] == [suite["ids"][i] for i in worst[:8]]  # the gallery's by the table's rows


def test_sample_values_read_from_their_columns_give_the_reports_decoded_values_give(document, tmp_path):
    """The document keeps a stored run's test samples, ground truths and inferences as their typed columns (a
    report of a million samples decodes only what it shows); every report is the same as from decoded lists."""
    from pytest_kolena.report.writers import write_report

    samples = document["suites"][0]["samples"]
    assert not isinstance(samples["test_samples"], list)  # (read from the column, not decoded up front)
    decoded = copy.deepcopy(document)
    for suite in decoded["suites"]:
        values = suite["samples"]
        values["test_samples"], values["ground_truths"] = list(values["test_samples"]), list(values["ground_truths"])
        values["inferences"] = {model: list(v) for model, v in values["inferences"].items()}
    assert render_html(decoded) == render_html(document)
    for name, source in (("lazy", document), ("decoded", decoded)):
        write_report(source, str(tmp_path / f"{name}.json"))
    assert (tmp_path / "lazy.json").read_bytes() == (tmp_path / "decoded.json").read_bytes()


class LinkCollector(html.parser.HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.targets: list[str] = []
        self.tags: set[str] = set()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.add(tag)
        self.targets += [value or "" for name, value in attrs if name in ("src", "href", "action", "srcset")]


def test_one_small_file_that_loads_nothing(report):
    text = report.read_text(encoding="utf-8")
    assert report.stat().st_size < 1_000_000  # the embedded 300-W suite, two models
    links = LinkCollector()
    links.feed(text)
    assert all(target.startswith(("data:image/", "#")) for target in links.targets)
    assert not links.tags & {"link", "iframe", "object", "embed", "base"}
    assert "content-security-policy" in text.lower() and "default-src 'none'" in html.unescape(text)


def test_embedded_json_cannot_close_its_script_tag():
    text = script_json({"id": "</script><script>alert(1)</script><!--", "and": "a & b"})
    assert not set(text) & set("<>&")
    import json

    assert json.loads(text) == {"id": "</script><script>alert(1)</script><!--", "and": "a & b"}


def plots_document(plots: list[dict[str, Any]]) -> dict[str, Any]:
    """A document of one test case, two models, the given plots each; no samples."""
    place = {"test": "t.py::test_plots", "suite": "s", "configuration": "", "test_case": "s :: basic"}
    items = [place | {"model": m, "order": i, "verdict": "passed", "metrics": {"x": 1.0}} for i, m in enumerate("ab")]
    return {
        "format": "pytest-kolena-report",
        "version": 1,
        "run": {"id": "r", "time": "now", "tag": None, "git_commit": None},
        "totals": {"passed": 2},
        "items": [i | {"rules": {}, "checks": [], "note": "", "message": ""} for i in items],
        "models": [],
        "cases": [place | {"model": m, "metrics": {"x": 1.0}, "plots": plots} for m in "ab"],
        "suite_metrics": [],
        "suites": [],
    }


def test_every_plot_type_is_drawn_as_a_chart():
    from pytest_kolena.workflow.plot import BarPlot, ConfusionMatrix, Curve, CurvePlot, Histogram

    plots = [
        CurvePlot(title="ROC $x$", x_label="FPR", y_label="TPR", curves=[Curve(x=[0, 0.5, 1], y=[0, 0.8, 1])]),
        Histogram(
            title="h", x_label="v", y_label="n", buckets=[0, 1, 2], frequency=[[1, 2], [3, 4]], labels=["p", "q"]
        ),
        BarPlot(title="b", x_label="class", y_label="n", labels=["x", "y"], values=[1, None]),
        ConfusionMatrix(title="cm", labels=["x", "y"], matrix=[[5, 1], [2, 7]]),
    ]
    page = render_html(plots_document([plot.to_dict() for plot in plots]))
    assert page.count('<img class="chart"') == 4
    assert "not drawn" not in page


def test_a_plot_that_cannot_be_drawn_says_so():
    page = render_html(plots_document([{"data_type": "PLOT/BAR", "title": "broken", "labels": ["x"]}]))
    assert "plot broken not drawn: KeyError" in page


def test_without_the_extra_the_error_names_it(monkeypatch, tmp_path):
    for name in ("matplotlib", "matplotlib.style", "matplotlib.figure", "matplotlib.backends.backend_agg"):
        monkeypatch.setitem(sys.modules, name, None)
    with pytest.raises(HtmlDependencyError, match=r'matplotlib, not installed: pip install "pytest-kolena\[html\]"'):
        write_html(plots_document([]), tmp_path / "report.html")
    assert issubclass(HtmlDependencyError, ImportError)
    assert not (tmp_path / "report.html").exists()


def test_side_by_side_shows_both_runs():
    document = plots_document([])
    document["compared_with"] = {"id": "before-run", "time": "then", "tag": None, "git_commit": None}
    document["items"][0]["other"] = {"verdict": "failed", "metrics": {"x": 0.5}}
    page = render_html(document)
    assert "side by side with</b> <code>before-run</code>" in page
    assert "<th>before</th>" in page and "0.5 → 1" in page


def test_an_empty_run_still_renders():
    document = plots_document([]) | {"items": [], "cases": [], "totals": {}}
    assert "no items" in render_html(document)
