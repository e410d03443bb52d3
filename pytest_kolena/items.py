"""From a marker and the settings to pytest items: what each item checks, and its id.

An item is a model on a test case (or on the whole suite) at one configuration, within one test function.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest

from .marker import KolenaSpec, ModelRef
from .report.properties import ItemRow

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

    def row(self, model_name: str | None = None, verdict: str = "error") -> ItemRow:
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
