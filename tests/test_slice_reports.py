"""The slices discovery found, in every report of a run (--kolena-report .md, .json, .html, the GitHub step summary
and `python -m pytest_kolena report`): a planted weak pair slice listed with its label and stratify line; a search
that found nothing says so; a run that did not search has no section and `"slices": null`."""

from __future__ import annotations

import copy
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from slice_project import TEST_MODULE, write_suite
from slice_project import run as run_values

from pytest_kolena.report.html import render_html
from pytest_kolena.report.markdown import markdown

ROOT = Path(__file__).resolve().parents[1]
SCHEMA = json.loads((ROOT / "pytest_kolena" / "report" / "schema.json").read_text())
WAIT = 10  # seconds, at most, for the page to render
LABEL = "a x & b y"
HEADING = "## Discovered slices"


@pytest.fixture
def project(pytester: pytest.Pytester) -> pytest.Pytester:
    write_suite(pytester.path / "data", rows=400, extra_columns=False)
    pytester.makepyfile(test_values=TEST_MODULE)
    return pytester


def run(project: pytest.Pytester, *args: str) -> pytest.RunResult:
    result = run_values(project, *args)
    assert result.ret == 0, result.outlines
    return result


def reports(project: pytest.Pytester, *args: str, name: str = "run") -> dict[str, Path]:
    """A run writing every report format; the paths by suffix."""
    paths = {suffix: project.path / f"{name}{suffix}" for suffix in (".md", ".json", ".html")}
    run(project, *args, *(f"--kolena-report={path}" for path in paths.values()))
    return paths


def report_command(project: pytest.Pytester, *args: str) -> None:
    command = [sys.executable, "-m", "pytest_kolena", "report", "--store", ".kolena", *args]
    done = subprocess.run(command, cwd=project.path, capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr


def section(text: str) -> str:
    """The Markdown report's section of the discovered slices ("" without one)."""
    if HEADING not in text:
        return ""
    rest = text.split(HEADING, 1)[1]
    return HEADING + rest.split("\n## ", 1)[0]


def table_rows(text: str) -> list[list[str]]:
    """The rows of the section's table as cells (the header first, the separator left out)."""
    lines = [line for line in text.splitlines() if line.startswith("|") and not line.startswith("|---")]
    return [[cell.strip() for cell in line.strip("|").split(" | ")] for line in lines]


def test_the_markdown_report_and_step_summary_list_the_planted_slice_with_its_stratify_line(project, monkeypatch):
    monkeypatch.setenv("PLANT", "0.15")
    summary = project.path / "step-summary.md"
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(summary))
    paths = reports(project, "--kolena-discover")
    text = paths[".md"].read_text()
    found = section(text)
    assert found, text
    assert section(summary.read_text()).strip() == found.strip()
    assert (
        "candidates tried" in found
        and "screened: tested on the held-out half" in found
        and "false discovery rate 0.025" in found
    )
    head, first, *_ = table_rows(found)
    row = dict(zip(head, first))
    assert row["rank"] == "1" and row["kind"] == "weak" and row["model"] == "m"
    assert row["slice"] == "a x &amp; b y"  # the label, escaped as every user string in a cell
    assert int(row["n"]) >= 20
    assert row["add to kolena_stratify"] == "`a * b`"
    worse = row["worse by [interval]"]
    assert worse.startswith("+") and " [+" in worse  # the effect, its interval above 0
    assert float(row["adjusted p"]) <= 0.025
    assert not any(LABEL.replace("&", "&amp;") in cells for cells in table_rows(found)[2:])  # listed once


def test_the_json_report_follows_its_schema_and_holds_the_found_slices_and_the_report_command_agrees(
    project, monkeypatch
):
    monkeypatch.setenv("PLANT", "0.15")
    paths = reports(project, "--kolena-discover")
    document = json.loads(paths[".json"].read_text())
    jsonschema.validate(document, SCHEMA)
    slices = document["slices"]
    assert slices["alpha"] == 0.025 and slices["tried"] >= slices["screened"] >= len(slices["found"]) >= 1
    first = slices["found"][0]
    assert (first["label"], first["stratify"], first["kind"], first["rank"]) == (LABEL, "a * b", "weak", 1)
    assert first["model"] == "m" and first["suite"] == "values" and first["metric"] == "error"
    assert first["low"] > 0 and first["p_adjusted"] <= 0.025 and first["size"] >= 20
    assert slices["searches"] and all(s["model"] == "m" for s in slices["searches"])
    # the report command rewrites the same reports from the store
    report_command(project, "latest", "-o", "again.json", "-o", "again.md")
    assert json.loads((project.path / "again.json").read_text()) == document
    assert (project.path / "again.md").read_text() == paths[".md"].read_text()


def test_side_by_side_shows_the_second_runs_slices(project, monkeypatch):
    run(project, "--kolena-tag=main")  # no search
    monkeypatch.setenv("PLANT", "0.15")
    run(project, "--kolena-discover")
    report_command(project, "main", "latest", "-o", "both.md", "-o", "both.json")
    both = json.loads((project.path / "both.json").read_text())
    jsonschema.validate(both, SCHEMA)
    assert both["slices"]["found"][0]["label"] == LABEL
    found = section((project.path / "both.md").read_text())
    assert "`a * b`" in found and "a x &amp; b y" in found
    report_command(project, "latest", "main", "-o", "back.json", "-o", "back.md")  # the second run did not search
    assert json.loads((project.path / "back.json").read_text())["slices"] is None
    assert not section((project.path / "back.md").read_text())


def test_a_run_without_discovery_has_no_slices_in_its_reports(project, monkeypatch):
    monkeypatch.setenv("PLANT", "0.15")
    paths = reports(project)
    assert HEADING not in paths[".md"].read_text()
    document = json.loads(paths[".json"].read_text())
    jsonschema.validate(document, SCHEMA)
    assert "slices" in document and document["slices"] is None
    assert 'id="slices"' not in paths[".html"].read_text()


def test_a_search_that_found_nothing_says_none_found(project, monkeypatch):
    monkeypatch.setenv("NOISE_SEED", "1")  # no plant
    paths = reports(project, "--kolena-discover")
    document = json.loads(paths[".json"].read_text())
    jsonschema.validate(document, SCHEMA)
    assert document["slices"]["found"] == [] and document["slices"]["tried"] > 0
    found = section(paths[".md"].read_text())
    assert "none found" in found and not table_rows(found)
    assert 'id="slices"' in paths[".html"].read_text() and "none found" in paths[".html"].read_text()
    # and how little that proves: the weakness the search would have found 80% of the time at this size
    from pytest_kolena.checks.discovery import detectable_effect, detected_share

    slices = document["slices"]
    detectable, weak = slices["detectable"], [s for s in slices["searches"] if s["kind"] == "weak"]
    samples = min(s["samples"] for s in weak)
    assert detectable["samples"] == samples and detectable["share"] == detected_share(samples)
    expected = detectable_effect(samples, slices["screened"], slices["tried"], slices["alpha"])
    assert detectable["effect"] == pytest.approx(expected) and 0 < expected < 3
    words = f"a slice of {detectable['share']:.0%} of them is found 80% of the time when worse than the rest by"
    assert f"at {samples:,} samples, {words} {expected:.2f} standard deviations or more" in found


HOSTILE = "<script>alert(1)</script>|*x*`"


def hostile(document: dict[str, Any]) -> dict[str, Any]:
    """The document with markup, a pipe, emphasis and a backtick in the first slice's label, model and line."""
    changed = copy.deepcopy(document)
    first = changed["slices"]["found"][0]
    first["label"], first["model"], first["stratify"] = f"a {HOSTILE}", HOSTILE, f"a * {HOSTILE}"
    return changed


def test_user_strings_in_found_slices_are_escaped(project, monkeypatch):
    monkeypatch.setenv("PLANT", "0.15")
    paths = reports(project, "--kolena-discover", name="plain")
    document = hostile(json.loads(paths[".json"].read_text()))
    text = section(markdown(document))
    head, first, *_ = table_rows(text)
    assert len(first) == len(head)  # no pipe broke the row
    row = dict(zip(head, first))
    assert "<script>" not in row["slice"] and "<script>" not in row["model"] and "\\|" in row["slice"]
    assert row["add to kolena_stratify"].startswith("`a * ") and "\\|" in row["add to kolena_stratify"]  # code
    page = render_html(document)
    assert "<script>alert(1)" not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page


# --- in the browser ---------------------------------------------------------------------------------------------


def open_page(browser: Any, path: Path) -> Any:
    from selenium.webdriver.support.ui import WebDriverWait

    browser.get("about:blank")
    browser.get_log("browser")  # drop what came before
    browser.get(path.as_uri())
    WebDriverWait(browser, WAIT).until(lambda d: d.execute_script("return document.body.dataset.rendered"))
    return browser


def by_css(driver: Any, selector: str) -> list[Any]:
    from selenium.webdriver.common.by import By

    return driver.find_elements(By.CSS_SELECTOR, selector)


def test_the_html_report_shows_the_found_slices_in_chromium(project, monkeypatch, browser, tmp_path):
    monkeypatch.setenv("PLANT", "0.15")
    paths = reports(project, "--kolena-discover")
    document = json.loads(paths[".json"].read_text())
    page = open_page(browser, paths[".html"])
    (found,) = by_css(page, "#slices")
    assert found.is_displayed()
    assert "Discovered slices" in by_css(found, "h2")[0].text
    assert "candidates tried" in found.text and "false discovery rate 0.025" in found.text
    head = [th.text for th in by_css(found, "table.slices thead th")]
    rows = by_css(found, "table.slices tbody tr")
    assert len(rows) == len(document["slices"]["found"])
    first = dict(zip(head, (td.text for td in by_css(rows[0], "td"))))
    assert first["rank"] == "1" and first["kind"] == "weak" and first["model"] == "m"
    assert first["slice"] == LABEL and first["add to kolena_stratify"] == "a * b"
    assert by_css(rows[0], "code")[-1].text == "a * b"
    assert int(first["n"]) == document["slices"]["found"][0]["size"]
    errors = [entry for entry in page.get_log("browser") if entry["level"] == "SEVERE"]
    assert not errors  # a content security policy violation would be one
    hostile_page = tmp_path / "hostile.html"
    hostile_page.write_text(render_html(hostile(document)), encoding="utf-8")
    page = open_page(browser, hostile_page)
    cells = by_css(page, "table.slices tbody tr:first-child td")
    assert any(cell.text == f"a {HOSTILE}" for cell in cells)  # shown as text, never run
    assert not page.execute_script("return document.querySelectorAll('#slices script').length")
    assert not [entry for entry in page.get_log("browser") if entry["level"] == "SEVERE"]


def _stored_search(p_values: list[float]) -> dict:
    """A run's stored row of one weak search whose screened candidates have these p-values."""
    candidates = [
        {
            "kind": "weak",
            "label": f"c {k}",
            "stratify": "c",
            "size": 100,
            "effect": 0.1,
            "low": 0.01,
            "high": 0.2,
            "p_value": p,
            "slice_mean": 0.3,
            "other_mean": 0.2,
            "versus": "",
        }
        for k, p in enumerate(p_values)
    ]
    search = {"configuration": "", "metric": "error", "kind": "weak", "tried": 40, "screened": len(p_values)}
    values = {"alpha": 0.05, "searches": [search | {"candidates": candidates}]}
    return {"level": "slices", "test": "t.py::t", "suite": "s", "model": "m", "values": values}


def test_near_misses_are_listed_under_verbose_and_in_the_reports():
    """A screened slice significant on the held-out half alone (p <= alpha) but not after the correction is a near
    miss: counted in the summary, listed under -v and in the Markdown and HTML reports, never as found."""
    from pytest_kolena.report.html import render_html
    from pytest_kolena.report.markdown import markdown
    from pytest_kolena.report.slices import discovered, summary_lines

    result = discovered([_stored_search([0.001, 0.03, 0.04, 0.2])])  # BH at 0.05 over 4: only 0.001 is found
    assert [s["label"] for s in result["found"]] == ["c 0"]
    assert [s["label"] for s in result["near_misses"]] == ["c 1", "c 2"]
    quiet, verbose = summary_lines(result), summary_lines(result, verbose=True)
    assert quiet[0].startswith("kolena: 1 slice(s) found among 40 candidates tried (4 screened: tested on the")
    assert "kolena: 2 near miss(es), not significant after the correction: -v lists them" in quiet
    listed = [line for line in verbose if line.startswith("  weak m on s: c ")]
    assert [line.split(":")[1].strip().split(" (")[0] for line in listed] == ["c 1", "c 2"]
    document = {
        "format": "pytest-kolena-report",
        "version": 1,
        "run": {"id": "r", "time": "now", "tag": None, "git_commit": None},
        "totals": {},
        "items": [],
        "models": [],
        "cases": [],
        "suite_metrics": [],
        "suites": [],
        "slices": result,
    }
    text = markdown(document)
    assert "Near misses" in text and "c 1 (n=100)" in text and "c 2 (n=100)" in text
    assert "Near misses" in render_html(document) and "c 2 (n=100)" in render_html(document)
