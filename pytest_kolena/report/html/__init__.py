"""The HTML report: one self-contained file (no network, opens from file://) rendering a report document.

`write_html(document, path)` writes it. The page is assembled from four parts, each a module of this package:

- `page` and `case`, the page's static HTML: header, totals, the item table (failures first), the test cases, and per
  test case a hidden section with its metrics, regression checks and failure texts; every user string through
  `html.escape` (`text`);
- `charts`: the evaluator's plots drawn by matplotlib, one image per (test case, configuration, plot title) with one
  series per model (a confusion matrix: one panel per model), as small palette PNGs;
- `samples`: per test function and suite, a columnar table (sample ids, scalar ground truth and inference fields,
  sample metrics per model and configuration) and per test case its members as a bitset, embedded as JSON in a
  `<script type="application/json">` block that `assets/report.js` renders page by page; a suite of more than
  `TABLE_LIMIT` samples keeps the `KEPT_PER_CASE` worst of each test case per model, and the page says so;
- `thumbnails`: for the `THUMBNAILS` worst samples per model and test case only (by the sample metric behind a case
  metric whose direction is known, chosen in `run`), ground truth and inference drawn over the image by Pillow, as
  WebP data URIs; so the file grows with the number of test cases, not with the number of samples.

`assembly` fills the template of `assets/` with them. matplotlib and Pillow are the optional extra `html`, imported
when a report is written (`dependencies`).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from .assembly import _assemble, script_json
from .case import _case_section
from .charts import _Charts
from .dependencies import HtmlDependencyError, _require
from .page import _header, _overview
from .run import _Run
from .samples import _page_data
from .thumbnails import _Thumbnails

__all__ = ["HtmlDependencyError", "render_html", "script_json", "write_html"]


def write_html(document: dict[str, Any], path: str | Path) -> None:
    """Write the report of `document` (see `document.run_document`) to `path`, as one self-contained HTML file."""
    Path(path).write_text(render_html(document), encoding="utf-8")


def render_html(document: dict[str, Any]) -> str:
    """The whole report page."""
    libraries = _require()
    run = _Run(document)
    data = _page_data(run, _Thumbnails(libraries))
    images = {table["group"] for table in data["suites"] if table["thumbnails"]}
    with libraries.style.context("default"):  # the charts look the same whatever the user's matplotlibrc
        charts = _Charts(libraries, run)
        sections = [_case_section(run, k, charts, run.cases[k].group in images) for k in range(len(run.cases))]
    body = "\n".join([_header(document), _overview(run), *sections])
    return _assemble(str(document["run"].get("id", "")), body, data, run.first_case())
