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


def pytest_configure(config: pytest.Config) -> None:
    from .marker import MARKER_HELP
    from .session import KolenaSession

    config.addinivalue_line("markers", MARKER_HELP)
    config.pluginmanager.register(KolenaSession(config), _SESSION)


def _session(config: pytest.Config) -> KolenaSession:
    return config.pluginmanager.get_plugin(_SESSION)


def pytest_report_header(config: pytest.Config) -> list[str]:
    from . import __version__

    lines = [f"kolena: pytest-kolena {__version__}"]
    suites = _session(config).suite_names()
    if suites:
        lines.append(f"kolena: suites {', '.join(suites)} from {_session(config).data_root()}")
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
    from .marker import MarkerError, read_marker
    from .session import KolenaParam

    session = _session(metafunc.config)
    where = metafunc.definition.nodeid
    try:
        spec = read_marker(marker.args, marker.kwargs, where)
        suites = session.suite_names()
        wanted = session.model_filter()
        params = []
        for suite_name in suites:
            suite = session.suite(spec, suite_name)
            for ref in spec.models:
                if wanted is not None and ref.name not in wanted:
                    continue
                for configuration in spec.configuration_names:
                    for place in [tc.name for tc in suite.test_cases] + [None]:
                        params.append(KolenaParam(suite_name, ref, place, configuration, len(params)))
    except (MarkerError, SuiteError) as error:  # a collection error of the module: its message, no traceback
        raise pytest.Collector.CollectError(f"kolena: {error}") from None
    if not suites:
        reason = "no kolena suite selected: give --kolena-suite NAME or set kolena_suite in the pytest config"
        metafunc.parametrize(
            "_kolena_param", [pytest.param(None, marks=pytest.mark.skip(reason=reason))], ids=["no-suite"]
        )
        return
    if not params:
        reason = f"--kolena-model {', '.join(sorted(wanted or []))} selects none of the models: {', '.join(r.name for r in spec.models)}"
        metafunc.parametrize(
            "_kolena_param", [pytest.param(None, marks=pytest.mark.skip(reason=reason))], ids=["no-model"]
        )
        return
    metafunc.parametrize("_kolena_param", params, ids=[p.id for p in params])


@pytest.fixture
def _kolena_param(request: pytest.FixtureRequest) -> Any:
    raise pytest.UsageError(
        f"{request.node.nodeid}: kolena_result needs @pytest.mark.kolena(models=..., evaluator=...) on the test"
    )


@pytest.fixture
def kolena_suite(request: pytest.FixtureRequest) -> Any:
    """The TestSuite of the current kolena item, or of the first --kolena-suite (built once per session)."""
    param = request.node.callspec.params.get("_kolena_param") if hasattr(request.node, "callspec") else None
    spec = _spec_of(request.node)
    session = _session(request.config)
    if spec is None:
        raise pytest.UsageError("kolena_suite needs @pytest.mark.kolena(models=..., evaluator=...) on the test")
    name = param.suite if param is not None else session.suite_names()[0]
    return session.suite(spec, name)


def _spec_of(item: pytest.Item) -> Any:
    """The item's marker, read once per test function."""
    return _session(item.config).spec_for(item)


@pytest.fixture
def kolena_result(request: pytest.FixtureRequest, _kolena_param: Any) -> ItemResult:
    """The results of the current item: model, test case, configuration, metrics, samples, plots."""
    from .session import ItemResult, case_result

    param = _kolena_param
    spec = _spec_of(request.node)
    session = _session(request.config)
    model = param.model.model or request.getfixturevalue(param.model.fixture)
    from .workflow import Model

    if not isinstance(model, Model):
        pytest.fail(f"fixture '{param.model.fixture}' returned {type(model).__name__}, not a Model", pytrace=False)
    suite = session.suite(spec, param.suite)
    run = session.run(spec, model, suite)
    configuration = next((c for c in spec.configurations if c.display_name() == param.configuration), None)
    properties = request.node.user_properties
    if param.test_case is None:
        if param.configuration in run.suite_errors:
            pytest.fail(
                f"suite metrics of model '{model.name}' on {param.suite}: {run.suite_errors[param.configuration]}",
                pytrace=False,
            )
        metrics = run.suite_metrics.get(param.configuration)
        result = ItemResult(model, suite, configuration, None, metrics, [], [], run)
    else:
        case = case_result(run, param.test_case, param.configuration)
        if case.failures:
            first = case.failures[0]
            pytest.fail(
                f"model '{model.name}': {len(case.failures)} of {len(case.failures) + len(case.samples)} samples of "
                f"{case.name} failed to infer; first, {_sample_label(first.test_sample)}:\n{first.failure.traceback}",
                pytrace=False,
            )
        if case.error is not None:
            pytest.fail(
                f"evaluator on {case.name} ({param.configuration}): {case.error}\n{case.error.traceback}", pytrace=False
            )
        result = ItemResult(model, suite, configuration, case.test_case, case.metrics, case.samples, case.plots, run)
    properties.extend(_metric_properties(result.metrics))
    return result


def _sample_label(test_sample: Any) -> str:
    return str(getattr(test_sample, "locator", None) or repr(test_sample)[:100])


def _metric_properties(metrics: Any) -> list[tuple[str, Any]]:
    import dataclasses

    if metrics is None or not dataclasses.is_dataclass(metrics):
        return []
    out = []
    for field in dataclasses.fields(metrics):
        value = getattr(metrics, field.name)
        if isinstance(value, (int, float, str, bool)):
            out.append((f"kolena.metric.{field.name}", value))
    return out


@pytest.hookimpl(tryfirst=True)
def pytest_pyfunc_call(pyfuncitem: pytest.Function) -> None:
    """Check the thresholds before the test body runs: a breach fails the item with the breach and the worst samples."""
    result = pyfuncitem.funcargs.get("kolena_result")
    param = getattr(pyfuncitem, "callspec", None) and pyfuncitem.callspec.params.get("_kolena_param")
    if result is None or param is None:
        return
    from .checks import breaches
    from .report.text import failure_text

    spec = _spec_of(pyfuncitem)
    place = param.test_case or f"{param.suite} (suite metrics)"
    rules = spec.rules.for_case(place)
    fields = {f for f, _ in _metric_properties(result.metrics)} if result.metrics is not None else set()
    relevant = [
        r
        for r in rules
        if f"kolena.metric.{r.metric}" in fields
        or (param.test_case is not None and not _is_suite_metric(spec, r.metric))
    ]
    pyfuncitem.user_properties.append(("kolena.thresholded", ",".join(r.metric for r in relevant)))
    broken = breaches(result.metrics, relevant)
    if broken:
        title = f"model '{param.model.name}' on {place}" + (f" at {param.configuration}" if param.configuration else "")
        pytest.fail(failure_text(title, broken, len(relevant), result.samples, spec.worst), pytrace=False)


def _is_suite_metric(spec: Any, metric: str) -> bool:
    from .marker import _return_fields

    suite_fields = (
        _return_fields(spec.evaluator.compute_test_suite_metrics)
        if hasattr(spec.evaluator, "compute_test_suite_metrics")
        else None
    )
    case_fields = (
        _return_fields(spec.evaluator.compute_test_case_metrics)
        if hasattr(spec.evaluator, "compute_test_case_metrics")
        else None
    )
    return bool(suite_fields and metric in suite_fields and not (case_fields and metric in case_fields))


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Generator[None, Any, Any]:
    report = yield
    param = getattr(item, "callspec", None) and item.callspec.params.get("_kolena_param")
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
        item.user_properties.append(("kolena.verdict", report.outcome))
    return report


def pytest_terminal_summary(terminalreporter: Any, exitstatus: int, config: pytest.Config) -> None:
    from .report.terminal import Row, summary_lines

    rows = [
        r for r in (Row.from_properties(list(rep.user_properties)) for rep in _teardown_reports(terminalreporter)) if r
    ]
    rows.sort(key=lambda row: (row.suite, row.order))
    if not rows:
        return
    terminalreporter.section("kolena summary")
    for line in summary_lines(rows, config.get_verbosity()):
        terminalreporter.write_line(line)


def _teardown_reports(terminalreporter: Any) -> list[Any]:
    reports = []
    for key in ("passed", "failed", "error", "skipped", ""):
        reports += [r for r in terminalreporter.stats.get(key, []) if getattr(r, "when", None) == "teardown"]
    return reports
