"""The pytest plugin: options, the `kolena` marker, fixtures, item generation, verdicts and the summary.

It is loaded in every pytest run where pytest-kolena is installed, so it imports its parts only when a session
uses them: no pandas, numpy or s3fs at import time.
"""

from __future__ import annotations

from collections.abc import Generator
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from .session import ItemResult, KolenaSession

_SESSION = "kolena-session"


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("kolena", "kolena: ML model regression tests")
    group.addoption(
        "--kolena-suite",
        action="append",
        dest="kolena_suite",
        metavar="NAME",
        help="run the kolena tests on this test suite (repeatable; default: the kolena_suite ini key)",
    )
    group.addoption(
        "--kolena-data",
        dest="kolena_data",
        metavar="ROOT",
        help="where suites live, a folder or any fsspec URL such as s3://bucket/prefix; a suite is ROOT/NAME/meta/metadata.csv (default: the kolena_data ini key)",
    )
    group.addoption(
        "--kolena-model",
        action="append",
        dest="kolena_model",
        metavar="NAME",
        help="run only this model among those the markers bind (repeatable)",
    )
    parser.addini("kolena_suite", type="args", help="default test suites (names under the data root)")
    parser.addini("kolena_data", type="string", help="default data root, relative to the ini file or a URL")
    parser.addini(
        "kolena_stratify",
        type="linelist",
        help="stratifications into test cases, one per line: 'column', 'column:width:N', 'column:quantile:N' or 'column:edges:a,b,c'",
    )
    parser.addini(
        "kolena_columns", type="linelist", help="CSV column to workflow field, one per line: 'points=keypoints'"
    )
    parser.addini("kolena_s3_endpoint", type="string", help="S3 endpoint URL (default: AWS_ENDPOINT_URL, else AWS)")
    parser.addini("kolena_s3_anon", type="bool", default=False, help="read S3 anonymously (public buckets)")
    parser.addini("kolena_s3_profile", type="string", help="AWS profile for S3 (default: AWS_PROFILE)")
    group.addoption(
        "--kolena-store",
        dest="kolena_store",
        metavar="URL",
        help="where runs and the inference cache are kept: a folder or an fsspec URL (default: the kolena_store ini key, else .kolena in the rootdir)",
    )
    group.addoption(
        "--kolena-baseline",
        dest="kolena_baseline",
        metavar="REF",
        help="compare with a baseline: a run id, a tag (latest run), a model name (latest run), a git ref, or a baseline file (.json, or a folder/ of them)",
    )
    group.addoption(
        "--kolena-tag",
        dest="kolena_tag",
        metavar="TAG",
        help="name this run in the store (e.g. 'main'), so that later runs can use it as their baseline",
    )
    group.addoption(
        "--kolena-update-baseline",
        dest="kolena_update_baseline",
        action="store_true",
        help="rewrite the --kolena-baseline file(s) with this run's results",
    )
    group.addoption(
        "--kolena-reset",
        dest="kolena_reset",
        action="store_true",
        help="infer again instead of reading the inference cache",
    )
    group.addoption(
        "--kolena-confidence",
        dest="kolena_confidence",
        type=float,
        metavar="LEVEL",
        help="confidence level of the regression intervals (default 0.95)",
    )
    parser.addini("kolena_store", type="string", help="default store (folder or URL)")
    parser.addini("kolena_baseline", type="string", help="default baseline reference")
    parser.addini(
        "kolena_confidence", type="string", default="0.95", help="confidence level of the regression intervals"
    )
    parser.addini("kolena_resamples", type="string", default="1000", help="bootstrap resamples per regression check")
    parser.addini(
        "kolena_min_samples",
        type="string",
        default="20",
        help="test cases with fewer paired samples are not judged as regressions",
    )


def pytest_configure(config: pytest.Config) -> None:
    from .marker import MARKER_HELP
    from .session import KolenaSession

    config.addinivalue_line("markers", MARKER_HELP)
    session = KolenaSession(config)
    config.pluginmanager.register(session, _SESSION)
    if config.pluginmanager.hasplugin("xdist"):
        config.pluginmanager.register(_RunIdToWorkers(session.run_id), "kolena-xdist")


class _RunIdToWorkers:
    """pytest-xdist: every worker writes its part of the run under the controller's run id."""

    def __init__(self, run_id: str) -> None:
        self.run_id = run_id

    def pytest_configure_node(self, node: Any) -> None:
        node.workerinput["kolena_run_id"] = self.run_id


def _session(config: pytest.Config) -> KolenaSession:
    return config.pluginmanager.get_plugin(_SESSION)


def pytest_report_header(config: pytest.Config) -> list[str]:
    from . import __version__

    lines = [f"kolena: pytest-kolena {__version__}"]
    session = _session(config)
    suites = session.suite_names()
    if suites:
        lines.append(f"kolena: suites {', '.join(suites)} from {session.data_root()}; store {session.store_url()}")
    baseline = config.getoption("kolena_baseline") or config.getini("kolena_baseline")
    if baseline:
        lines.append(f"kolena: baseline {baseline}")
    return lines


def _kolena_marker(collector: pytest.Collector, obj: Any) -> Any:
    marks = [m for m in getattr(obj, "pytestmark", []) if m.name == "kolena"]
    return marks[0] if marks else collector.get_closest_marker("kolena")


@pytest.hookimpl(tryfirst=True)
def pytest_pycollect_makeitem(collector: pytest.Collector, name: str, obj: Any) -> None:
    """A kolena test uses the kolena_result fixture even if it does not ask for it: that is where results come from."""
    if callable(obj) and collector.funcnamefilter(name) and _kolena_marker(collector, obj) is not None:
        pytest.mark.usefixtures("kolena_result")(obj)


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    marker = metafunc.definition.get_closest_marker("kolena")
    if marker is None:
        return
    from .data import SuiteError
    from .marker import MarkerError
    from .store.baseline import BaselineError

    session = _session(metafunc.config)
    try:
        spec = session.spec_for(metafunc.definition)
        params = session.params(spec)
        session.baseline()
    except (MarkerError, SuiteError, BaselineError) as error:  # a collection error: its message, no traceback
        raise pytest.Collector.CollectError(f"kolena: {error}") from None
    if params:
        metafunc.parametrize("_kolena_param", params, ids=[p.id for p in params])
        return
    if not session.suite_names():
        reason, label = (
            "no kolena suite selected: give --kolena-suite NAME or set kolena_suite in the pytest config",
            "no-suite",
        )
    else:
        selected = ", ".join(sorted(session.model_filter() or []))
        reason, label = (
            f"--kolena-model {selected} selects none of the models: {', '.join(r.name for r in spec.models)}",
            "no-model",
        )
    metafunc.parametrize("_kolena_param", [pytest.param(None, marks=pytest.mark.skip(reason=reason))], ids=[label])


@pytest.fixture
def _kolena_param(request: pytest.FixtureRequest) -> Any:
    raise pytest.UsageError(
        f"{request.node.nodeid}: kolena_result needs @pytest.mark.kolena(models=..., evaluator=...) on the test"
    )


def _param_of(item: pytest.Item) -> Any:
    callspec = getattr(item, "callspec", None)
    return callspec.params.get("_kolena_param") if callspec is not None else None


@pytest.fixture
def kolena_suite(request: pytest.FixtureRequest) -> Any:
    """The TestSuite of the current kolena item (built once per session)."""
    session = _session(request.config)
    spec, param = session.spec_for(request.node), _param_of(request.node)
    if spec is None or param is None:
        raise pytest.UsageError(
            f"{request.node.nodeid}: kolena_suite needs @pytest.mark.kolena(models=..., evaluator=...) on the test"
        )
    return session.suite(spec, param.suite)


@pytest.fixture
def kolena_result(request: pytest.FixtureRequest, _kolena_param: Any) -> ItemResult:
    """The results of the current item: model, test case, configuration, metrics, samples with their metrics, plots."""
    from .session import ItemError
    from .workflow import Model

    session = _session(request.config)
    param = _kolena_param
    model = param.model.model or request.getfixturevalue(param.model.fixture)
    if not isinstance(model, Model):
        pytest.fail(f"fixture '{param.model.fixture}' returned {type(model).__name__}, not a Model", pytrace=False)
    try:
        result = session.item_result(session.spec_for(request.node), param, model)
    except ItemError as error:
        pytest.fail(str(error), pytrace=False)
    request.node.user_properties.extend(_metric_properties(result.metrics))
    return result


def _metric_properties(metrics: Any) -> list[tuple[str, Any]]:
    import dataclasses

    if metrics is None or not dataclasses.is_dataclass(metrics):
        return []
    values = ((f.name, getattr(metrics, f.name)) for f in dataclasses.fields(metrics))
    return [(f"kolena.metric.{name}", value) for name, value in values if isinstance(value, (int, float, str, bool))]


@pytest.hookimpl(tryfirst=True)
def pytest_pyfunc_call(pyfuncitem: pytest.Function) -> None:
    """Judge the thresholds before the test body runs: a breach fails the item with values and the worst samples."""
    result, param = pyfuncitem.funcargs.get("kolena_result"), _param_of(pyfuncitem)
    if result is None or param is None:
        return
    from .checks import breaches
    from .report.text import failure_text
    from .session import applicable_rules, judge_regression

    session = _session(pyfuncitem.config)
    spec = session.spec_for(pyfuncitem)
    rules = applicable_rules(spec, param, result.metrics)
    pyfuncitem.user_properties.append(("kolena.thresholded", ",".join(r.metric for r in rules)))
    place = param.test_case or f"{param.suite} (suite metrics)"
    title = f"model '{param.model.name}' on {place}" + (f" at {param.configuration}" if param.configuration else "")
    broken = breaches(result.metrics, rules)
    verdict, comparisons = judge_regression(session, spec, param, result)
    pyfuncitem.user_properties += [(f"kolena.delta.{c.metric}", c.short()) for c in comparisons]
    if broken:
        pytest.fail(failure_text(title, broken, len(rules), result.samples, spec.worst), pytrace=False)
    if verdict is not None:
        pyfuncitem.stash[_VERDICT] = verdict
    if verdict == "regressed":
        lines = [f"{title}: regressed against {session.baseline().source}"] + [f"  {c}" for c in comparisons]
        pytest.fail("\n".join(lines), pytrace=False)


_VERDICT: pytest.StashKey[str] = pytest.StashKey()
_WORDS = {
    "regressed": ("failed", "R", "REGRESSED"),
    "improved": ("passed", "I", "IMPROVED"),
    "new": ("passed", "N", "NEW"),
}


def pytest_report_teststatus(report: pytest.TestReport, config: pytest.Config) -> Any:
    """Verdict words: REGRESSED, IMPROVED, NEW (and pytest's own PASSED, FAILED for thresholds)."""
    if report.when != "call":
        return None
    verdict = dict(report.user_properties).get("kolena.verdict")
    return _WORDS.get(verdict)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Generator[None, Any, Any]:
    report = yield
    param = _param_of(item)
    if param is None:
        return report
    if report.when == "setup":
        identity = [
            ("kolena.suite", param.suite),
            ("kolena.model", param.model.name),
            ("kolena.test_case", param.test_case or ""),
            ("kolena.configuration", param.configuration or ""),
            ("kolena.order", param.order),
        ]
        item.user_properties[:0] = identity
        if report.failed or report.skipped:
            item.user_properties.append(("kolena.verdict", "error" if report.failed else "skipped"))
    elif report.when == "call":
        stashed = item.stash.get(_VERDICT, None)
        if report.failed:
            verdict = "regressed" if stashed == "regressed" else "failed"
        else:
            verdict = stashed if report.passed and stashed else report.outcome
        item.user_properties.append(("kolena.verdict", verdict))
        report.user_properties.append(("kolena.verdict", verdict))
        result = getattr(item, "funcargs", {}).get("kolena_result")
        model = result.model.name if result is not None else param.model.name  # a fixture's model has its own name
        _session(item.config).verdicts[(param.suite, model, param.test_case or "", param.configuration or "")] = verdict
    return report


def pytest_sessionfinish(session: pytest.Session) -> None:
    """Write the run to the store (each xdist worker its part); the lines are shown in the terminal summary."""
    _session(session.config).finish_lines = _session(session.config).finish()


def pytest_terminal_summary(terminalreporter: Any, exitstatus: int, config: pytest.Config) -> None:
    from .report.terminal import Row, summary_lines

    rows = [
        r for r in (Row.from_properties(list(rep.user_properties)) for rep in _teardown_reports(terminalreporter)) if r
    ]
    rows.sort(key=lambda row: (row.suite, row.order))
    finish_lines = _session(config).finish_lines
    if not rows and not finish_lines:
        return
    terminalreporter.section("kolena summary")
    for line in [*summary_lines(rows, config.get_verbosity()), *finish_lines]:
        terminalreporter.write_line(line)


def _teardown_reports(terminalreporter: Any) -> list[Any]:
    reports = []
    for key in ("passed", "failed", "error", "skipped", ""):
        reports += [r for r in terminalreporter.stats.get(key, []) if getattr(r, "when", None) == "teardown"]
    return reports
