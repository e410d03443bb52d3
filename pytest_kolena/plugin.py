"""The pytest plugin: hooks and fixtures only, each a lazy import and one call.

It is loaded in every pytest run where pytest-kolena is installed, so this module and `pytest_configure` import
pytest and the standard library only (`options`, `settings`); the session's work (`session`, `items`) loads when a
kolena test is collected, and the report rows' module when a kolena item reports.
"""

from __future__ import annotations

import copy
from collections.abc import Generator
from typing import TYPE_CHECKING, Any

import pytest

from .options import MARKER_HELP, add_options
from .settings import Settings

if TYPE_CHECKING:
    from .session import KolenaSession
    from .verdict import ItemResult

_SETTINGS: pytest.StashKey[Settings] = pytest.StashKey()
_SESSION: pytest.StashKey[KolenaSession] = pytest.StashKey()
_ROWS = "kolena-rows"
_FACTS = "kolena_selection"


def pytest_addoption(parser: pytest.Parser) -> None:
    add_options(parser)


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", MARKER_HELP)
    settings = config.stash[_SETTINGS] = Settings.from_config(config)
    config.pluginmanager.register(_ItemRows(), _ROWS)
    if config.pluginmanager.hasplugin("xdist"):
        config.pluginmanager.register(_RunIdToWorkers(settings.run_id), "kolena-xdist")


class _RunIdToWorkers:
    """pytest-xdist: every worker writes its part of the run under the controller's run id."""

    def __init__(self, run_id: str) -> None:
        self.run_id = run_id

    def pytest_configure_node(self, node: Any) -> None:
        node.workerinput["kolena_run_id"] = self.run_id

    def pytest_testnodedown(self, node: Any, error: Any) -> None:
        """A worker's selection facts, for the controller to judge with every worker's."""
        facts = getattr(node, "workeroutput", {}).get(_FACTS)
        if facts is not None:
            from .selection import SelectionFacts

            rows = node.config.pluginmanager.get_plugin(_ROWS)
            rows.selection = rows.selection or SelectionFacts()
            rows.selection.merge(SelectionFacts.from_dict(facts))


class _ItemRows:
    """The rows of the kolena items, from their teardown reports: on the xdist controller, every worker's too."""

    def __init__(self) -> None:
        self.rows: list[Any] = []
        self.finish_lines: list[str] = []
        self.slice_lines: list[str] = []
        self.selection: Any = None  # the workers' SelectionFacts, merged on the controller
        self._messages: dict[str, str] = {}  # node id -> the text of its failed setup or call

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        if not report.user_properties:  # (no kolena item: the properties' module is not even loaded)
            return
        from .report.properties import ItemRow, is_kolena_item

        if not is_kolena_item(report.user_properties):
            return
        if report.failed and report.when != "teardown":
            self._messages[report.nodeid] = self.failure_text(report)
        if report.when == "teardown":
            row = ItemRow.from_properties(list(report.user_properties))
            row.message = self._messages.pop(report.nodeid, "")
            self.rows.append(row)

    @staticmethod
    def failure_text(report: pytest.TestReport) -> str:
        """The report's failure text as a serial run shows it: on the xdist controller, without the line that names
        the worker, its platform and its Python (`[gw0] linux -- Python 3.11.7 /path/to/python`)."""
        local = copy.copy(report)
        vars(local).pop("node", None)  # (pytest writes that line for a report that came from a worker node)
        return local.longreprtext


def _session(config: pytest.Config) -> KolenaSession:
    """The session's work, started by the first kolena test collected."""
    if _SESSION not in config.stash:
        from .report.progress import ProgressLine
        from .session import KolenaSession

        settings = config.stash[_SETTINGS]
        progress = ProgressLine.of(config, settings.progress, settings.is_worker)
        session = config.stash[_SESSION] = KolenaSession(settings, progress)
        config.add_cleanup(session.close)  # the executor is shut down even if the session ends on an error
    return config.stash[_SESSION]


def pytest_report_header(config: pytest.Config) -> list[str]:
    from . import __version__

    settings = config.stash[_SETTINGS]
    lines = [f"kolena: pytest-kolena {__version__}"]
    if settings.suites:
        lines.append(f"kolena: suites {', '.join(settings.suites)} from {settings.data_root}; store {settings.store}")
    if settings.baseline:
        lines.append(f"kolena: baseline {settings.baseline}")
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
    if metafunc.definition.get_closest_marker("kolena") is not None:
        from .items import parametrize

        parametrize(_session(metafunc.config), metafunc)


@pytest.fixture
def _kolena_param(request: pytest.FixtureRequest) -> Any:
    raise pytest.UsageError(
        f"{request.node.nodeid}: kolena_result needs @pytest.mark.kolena(models=..., evaluator=...) on the test"
    )


def _raw_param(item: pytest.Item) -> Any:
    """The item's kolena parameter as collection made it: a KolenaParam, a text (no suite selected, or left out by
    the selection), or None for other items."""
    callspec = getattr(item, "callspec", None)
    return callspec.params.get("_kolena_param") if callspec is not None else None


def _param_of(item: pytest.Item) -> Any:
    """The item's KolenaParam; None for other items (and a kolena test's texts)."""
    param = _raw_param(item)
    return None if isinstance(param, str) else param


@pytest.fixture
def kolena_suite(request: pytest.FixtureRequest) -> Any:
    """The TestSuite of the current kolena item (built once per session).

    def test_sizes(kolena_suite, kolena_result): assert len(kolena_suite.test_cases) > 1
    """
    from .verdict import suite_for

    return suite_for(_session(request.config), request.node, _param_of(request.node))


@pytest.fixture
def kolena_result(request: pytest.FixtureRequest, _kolena_param: Any) -> ItemResult:
    """The results of the current item: model, test case, configuration, metrics, samples with their metrics, plots.

    def test_keypoints(kolena_result): assert kolena_result.metrics.mean_nme < 0.2
    """
    from .verdict import result_for

    return result_for(_session(request.config), request, _kolena_param)


@pytest.hookimpl(tryfirst=True)
def pytest_pyfunc_call(pyfuncitem: pytest.Function) -> None:
    """Judge the item before the test body runs: a breach or a regression fails it with the values behind it."""
    result, param = pyfuncitem.funcargs.get("kolena_result"), _param_of(pyfuncitem)
    if result is not None and param is not None:
        from .verdict import verdict_for

        verdict = verdict_for(_session(pyfuncitem.config), pyfuncitem, param, result)
        if verdict.failed:
            pytest.fail(verdict.text, pytrace=False)


def pytest_report_teststatus(report: pytest.TestReport, config: pytest.Config) -> Any:
    """Verdict words: REGRESSED, IMPROVED, NEW (and pytest's own PASSED, FAILED for thresholds)."""
    if report.when != "call" or not report.user_properties:
        return None
    from .report.properties import verdict_of
    from .words import STATUS

    return STATUS.get(verdict_of(report.user_properties))


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Generator[None, Any, Any]:
    """The item's row, written once into its report properties: after the call, or when its setup did not pass."""
    report = yield
    param = _param_of(item)
    if param is not None and (report.when == "call" or (report.when == "setup" and not report.passed)):
        from .verdict import report_row

        properties = report_row(item, param, report).to_properties()
        item.user_properties.extend(properties)
        report.user_properties.extend(properties)
    return report


def pytest_collection_finish(session: pytest.Session) -> None:
    if _SESSION in session.config.stash:
        from .items import note_collected

        note_collected(session.config.stash[_SESSION], [_raw_param(item) for item in session.items])


def pytest_sessionfinish(session: pytest.Session) -> None:
    """Write the run to the store (each xdist worker its part; the controller the item rows); on the controller,
    a session that did not test what was asked exits non-zero."""
    config = session.config
    rows = config.pluginmanager.get_plugin(_ROWS)
    settings = config.stash[_SETTINGS]
    errors = []
    if _SESSION in config.stash or rows.rows or rows.selection is not None:
        from .selection import SelectionFacts, selection_errors

        facts = rows.selection or SelectionFacts()
        if _SESSION in config.stash:
            facts.merge(config.stash[_SESSION].selection)
        if settings.is_worker:
            config.workeroutput[_FACTS] = facts.to_dict()  # type: ignore[attr-defined]
        elif _judged(session):
            errors = selection_errors(settings.models, facts, [row.verdict for row in rows.rows])  # (no item ran)
    elif not settings.is_worker and config.getoption("kolena_suite") and _judged(session):
        suites = ", ".join(config.getoption("kolena_suite"))
        errors = [
            f"kolena: --kolena-suite {suites} given, but no kolena test was collected: are the kolena tests in the "
            "paths given, and marked @pytest.mark.kolena?"
        ]
    if _SESSION in config.stash or rows.rows:
        from .finish import finish

        finished = finish(settings, config.stash.get(_SESSION, None), rows.rows)
        rows.finish_lines, rows.slice_lines = finished.lines, finished.slice_lines
        if finished.fails and session.exitstatus == pytest.ExitCode.OK:
            session.exitstatus = pytest.ExitCode.TESTS_FAILED
    if errors:
        rows.finish_lines = [*rows.finish_lines, *errors]
        if session.exitstatus in (pytest.ExitCode.OK, pytest.ExitCode.NO_TESTS_COLLECTED):
            session.exitstatus = pytest.ExitCode.USAGE_ERROR


def _judged(session: pytest.Session) -> bool:
    """Whether the end of a session judges what it tested: not after a collection error, nor a listing."""
    return session.exitstatus != pytest.ExitCode.INTERRUPTED and not session.config.option.collectonly


def pytest_terminal_summary(terminalreporter: Any, exitstatus: int, config: pytest.Config) -> None:
    rows = config.pluginmanager.get_plugin(_ROWS)
    if rows.rows or rows.finish_lines:
        terminalreporter.section("kolena summary")
        table = []
        if rows.rows:
            from .report.terminal import summary_lines

            table = summary_lines(rows.rows, config.get_verbosity())
        for line in [*table, *rows.finish_lines]:
            terminalreporter.write_line(line)
    if rows.slice_lines:
        terminalreporter.section("kolena slices")
        for line in rows.slice_lines:
            terminalreporter.write_line(line)
