"""From a marker and the settings to pytest items: what each item checks, and its id.

An item is a model on a test case (or on the whole suite) at one configuration, within one test function.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import Any

import pytest

from .data import SuiteError, list_suites
from .marker import KolenaSpec, MarkerError, ModelRef
from .report.properties import ItemRow
from .selection import Unselected, did_you_mean
from .session import KolenaSession, function_id
from .settings import Settings
from .words import ERROR

SUITE_ITEM = "suite"
MODEL_NAME: pytest.StashKey[str] = pytest.StashKey()  # Model.name of an item's model, once its fixture resolved


@dataclasses.dataclass(frozen=True)
class KolenaParam:
    """What one pytest item checks: a model on a test case (or on the whole suite) at one configuration."""

    test: str  # the test function, "path/test_x.py::test_fn"
    suite: str
    model: ModelRef
    test_case: str | None  # None: the suite-level item
    configuration: str | None
    order: int = 0  # position among the items of its test function, for the summary

    @property
    def id(self) -> str:
        """A readable pytest id without spaces or '::' (which pytest would split node ids on)."""
        place = self.suite if self.test_case is None else self.test_case.replace(" :: ", ":")
        parts = [self.model.name, place] + ([self.configuration] if self.configuration else [])
        return "-".join(parts).replace(" ", "_")

    @property
    def place(self) -> str:
        return self.test_case or f"{self.suite} (suite metrics)"

    def row(self, model_name: str | None = None, verdict: str = ERROR) -> ItemRow:
        """The report row of this item, before its results are known."""
        return ItemRow(
            self.test,
            self.suite,
            model_name or self.model.name,
            self.test_case or "",
            self.configuration or "",
            self.order,
            verdict,
        )


def expand(test: str, spec: KolenaSpec, suite_names: list[str], test_cases_of: Any, wanted: Any) -> list[KolenaParam]:
    """One item per suite x model x configuration x test case, then the suite-level item of each."""
    params: list[KolenaParam] = []
    for suite_name in suite_names:
        cases = test_cases_of(suite_name)
        for ref in spec.models:
            if wanted is not None and ref.model is not None and ref.name not in wanted:
                continue  # a fixture's Model.name is known when it runs: selected (or skipped) then
            for configuration in spec.configuration_names:
                for place in [*cases, None]:
                    params.append(KolenaParam(test, suite_name, ref, place, configuration, len(params)))
    return params


class NoSuite(str):
    """The parameter of a kolena test when no suite is selected: its message, the item's error."""


def parametrize(session: KolenaSession, metafunc: pytest.Metafunc) -> None:
    """One item per model x test case x configuration of the selected suites; a marker, suite or baseline
    that cannot be used is a collection error with its message and no traceback."""
    from .store.baseline import BaselineError

    test = function_id(metafunc.definition)
    try:
        spec = session.spec_for(metafunc.definition)
        params = _params(session, test, spec)
    except (MarkerError, SuiteError, BaselineError) as error:
        raise pytest.Collector.CollectError(f"kolena: {error}") from None
    if params:
        metafunc.parametrize("_kolena_param", params, ids=[p.id for p in params])
        return
    if not session.settings.suites:  # an error when the item runs: `-m "not kolena"` deselects it first
        problem = NoSuite(
            "no kolena suite selected: give --kolena-suite NAME or set kolena_suite in the pytest config; "
            'to run the other tests only, deselect the kolena tests with -m "not kolena"'
        )
        metafunc.parametrize("_kolena_param", [problem], ids=["no-suite"])
        return
    if not suites_of(session.settings, spec):
        selected = ", ".join(session.settings.suites)
        reason = f"{test} runs on suites {', '.join(spec.suites or ())}; --kolena-suite selects {selected}"
        skip_id = "other-suite"
    else:
        selected = ", ".join(sorted(session.settings.models or []))
        reason = f"--kolena-model {selected} selects none of the models of {test}: " + ", ".join(
            r.name for r in spec.models
        )
        skip_id = "no-model"
    unselected = Unselected(reason, [r.name for r in spec.models])
    metafunc.parametrize(
        "_kolena_param", [pytest.param(unselected, marks=pytest.mark.skip(reason=reason))], ids=[skip_id]
    )


def note_collected(session: KolenaSession, params: Sequence[Any]) -> None:
    """The selection's facts of the collected items (after -k and -m; `params`: their kolena parameters): the models
    of every kolena test, and the kolena items that the selection left out."""
    for spec in session.specs.values():
        session.selection.add_models(ref.name for ref in spec.models)
    for param in params:
        if isinstance(param, Unselected):
            session.selection.leave_out(str(param), param.models)


def suites_of(settings: Settings, spec: KolenaSpec) -> list[str]:
    """The selected suites a test runs on: all of them, or those its marker's `suites=` names."""
    selected = list(settings.suites)
    return selected if spec.suites is None else [name for name in selected if name in spec.suites]


def _params(session: KolenaSession, test: str, spec: KolenaSpec) -> list[KolenaParam]:
    """The items of a test function; loading its suites (and the baseline) here makes their errors collection
    errors."""
    check_selected_suites(session)
    check_marker_suites(session, test, spec)
    session.baseline()

    def test_cases_of(suite_name: str) -> list[str]:
        return [tc.name for tc in session.suite(spec, suite_name).test_cases]

    params = expand(test, spec, suites_of(session.settings, spec), test_cases_of, session.settings.models)
    places = [p.place for p in params]
    for kind, rules in (("thresholds", spec.rules), ("regression", spec.regression)):
        unmatched = rules.unmatched(places)
        if unmatched and params:
            cases = ", ".join(dict.fromkeys(places))
            raise MarkerError(
                f"{test}: the {kind} pattern {unmatched[0]!r} matches no test case of the selected suites; "
                f"test cases: {cases}"
            )
    return params


def check_selected_suites(session: KolenaSession) -> None:
    """A selected suite that is not at the data root (a typo, another case) is an error of every kolena test,
    never a test skipped for it: names match exactly."""
    root = session.settings.data_root
    unknown = [name for name in session.settings.suites if root is not None and not session.suite_exists(name)]
    if unknown:
        from .data.storage import METADATA_PATH, Storage

        name, found = unknown[0], list_suites(root, session.storage)
        url = Storage(root, session.storage).url(name, METADATA_PATH)
        raise SuiteError(
            f"--kolena-suite {name!r}: suite not found: {url} does not exist{did_you_mean(name, found)}; "
            f"suites under {root}: {', '.join(found) or 'none'}"
        )


def check_marker_suites(session: KolenaSession, test: str, spec: KolenaSpec) -> None:
    """A `suites=` name that is no suite at the data root (a typo) is a collection error, not a test skipped
    on every run; without a data root there is nothing to check against."""
    root = session.settings.data_root
    if spec.suites is None or root is None:
        return
    unknown = [name for name in spec.suites if not session.suite_exists(name)]
    if unknown:
        found = ", ".join(list_suites(root, session.storage)) or "none"
        raise MarkerError(f"{test}: suites= names {unknown[0]!r}, no suite under {root}; suites there: {found}")
