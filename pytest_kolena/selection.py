"""Whether a session tested what was asked: every --kolena-model name matched a model, and the kolena selection
(--kolena-suite, --kolena-model, the markers' `suites=`) left some kolena item to run.

Each process gathers its facts (the models its kolena tests bind, the items the selection left out); an xdist worker
sends them to the controller, which judges them once with the item rows. Standard library only: the controller
reads them without loading the rest of the plugin.
"""

from __future__ import annotations

import dataclasses
import difflib
from collections.abc import Iterable
from typing import Any


class Unselected(str):
    """The parameter of a kolena test that the selection leaves out: the reason, and the models the test binds."""

    models: tuple[str, ...]

    def __new__(cls, reason: str, models: Iterable[str] = ()) -> Unselected:
        self = super().__new__(cls, reason)
        self.models = tuple(models)
        return self


def did_you_mean(name: str, known: Iterable[str]) -> str:
    """'; did you mean 'X'?' for the nearest known name (the same name in another case first), or ''."""
    names = sorted(set(known))
    same = [n for n in names if n.lower() == name.lower()]
    close = same or difflib.get_close_matches(name, names, n=1, cutoff=0.6)
    return f"; did you mean {close[0]!r}?" if close else ""


@dataclasses.dataclass
class SelectionFacts:
    """What one process saw: the names of the models its kolena tests bind, and why items were left out."""

    models: set[str] = dataclasses.field(default_factory=set)
    unselected: list[str] = dataclasses.field(default_factory=list)  # the reasons, each once

    def add_models(self, names: Iterable[str]) -> None:
        self.models.update(n for n in names if n)

    def leave_out(self, reason: str, models: Iterable[str] = ()) -> None:
        self.add_models(models)
        if reason not in self.unselected:
            self.unselected.append(reason)

    def merge(self, other: SelectionFacts) -> None:
        self.add_models(other.models)
        for reason in other.unselected:
            self.leave_out(reason)

    def to_dict(self) -> dict[str, Any]:
        return {"models": sorted(self.models), "unselected": list(self.unselected)}

    @classmethod
    def from_dict(cls, values: dict[str, Any]) -> SelectionFacts:
        return cls(set(values.get("models", ())), list(values.get("unselected", ())))


def selection_errors(wanted: Iterable[str] | None, facts: SelectionFacts, verdicts: Iterable[str]) -> list[str]:
    """Why the session did not test what was asked (empty when it did): a --kolena-model name that matched no
    model, or kolena tests of which the selection left no item to run (`verdicts`: of the kolena items reported)."""
    errors = []
    for name in sorted(set(wanted or ()) - facts.models):
        known = ", ".join(sorted(facts.models)) or "none"
        errors.append(
            f"kolena: --kolena-model {name!r} matches no model of the kolena tests{did_you_mean(name, facts.models)} "
            f"(models: {known})"
        )
    ran = any(verdict != "skipped" for verdict in verdicts)
    if facts.unselected and not ran:
        errors.append(
            "kolena: no kolena item ran: " + "; ".join(facts.unselected) + ' (to run without them: -m "not kolena")'
        )
    return errors
