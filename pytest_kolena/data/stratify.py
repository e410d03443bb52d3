"""Test cases from metadata columns: one per category, or one per numeric bin (equal width or equal height), or one
per combination of two such splits (`occlusion * roll_deg:quantile:4`)."""

from __future__ import annotations

import dataclasses
import itertools
from typing import Literal

import numpy as np
import pandas as pd

from . import columns as col
from .errors import SuiteError, located

Kind = Literal["categorical", "width", "quantile", "edges"]


@dataclasses.dataclass(frozen=True)
class Stratify:
    """How to split a suite into test cases by one column.

    `Stratify.categorical("occlusion")`, `Stratify.equal_width("rotation", 4)`, `Stratify.quantiles("rotation", 4)`,
    `Stratify.edges("rotation", [-45, -15, 15, 45])`; in pytest config, one per line: `occlusion`,
    `rotation:width:4`, `rotation:quantile:4`, `rotation:edges:-45,-15,15,45`; two of them joined by ` * ` split by
    both columns at once (`Cross`).
    """

    column: str
    kind: Kind = "categorical"
    bins: int = 0
    bin_edges: tuple[float, ...] = ()
    label: str | None = None

    @classmethod
    def categorical(cls, column: str, label: str | None = None) -> Stratify:
        return cls(column, "categorical", label=label)

    @classmethod
    def equal_width(cls, column: str, bins: int, label: str | None = None) -> Stratify:
        return cls._checked(cls(column, "width", bins=bins, label=label))

    @classmethod
    def quantiles(cls, column: str, bins: int, label: str | None = None) -> Stratify:
        return cls._checked(cls(column, "quantile", bins=bins, label=label))

    @classmethod
    def edges(cls, column: str, edges: list[float], label: str | None = None) -> Stratify:
        return cls._checked(cls(column, "edges", bin_edges=tuple(float(e) for e in edges), label=label))

    @classmethod
    def _checked(cls, spec: Stratify) -> Stratify:
        if spec.kind in ("width", "quantile") and spec.bins < 1:
            raise SuiteError(f"stratification of '{spec.column}': bins must be at least 1, got {spec.bins}")
        if spec.kind == "edges" and (
            len(spec.bin_edges) < 2 or any(b <= a for a, b in zip(spec.bin_edges, spec.bin_edges[1:]))
        ):
            raise SuiteError(
                f"stratification of '{spec.column}': edges must be two or more increasing numbers, got {list(spec.bin_edges)}"
            )
        return spec

    @classmethod
    def parse(cls, text: str) -> Stratify | Cross:
        """Read `column`, `column:width:N`, `column:quantile:N` or `column:edges:a,b,c`, or two of them joined by
        ` * `."""
        if "*" in text:
            halves = text.split("*")
            if len(halves) != 2 or not all(h.strip() for h in halves):
                raise SuiteError(f"stratification {text!r}: a cross is two stratifications joined by ' * '")
            first, second = (cls.parse(h) for h in halves)
            return Cross(first, second)  # type: ignore[arg-type]
        parts = [p.strip() for p in text.strip().split(":")]
        try:
            if len(parts) == 1 and parts[0]:
                return cls.categorical(parts[0])
            if len(parts) == 3 and parts[1] in ("width", "quantile"):
                maker = cls.equal_width if parts[1] == "width" else cls.quantiles
                return maker(parts[0], int(parts[2]))
            if len(parts) == 3 and parts[1] == "edges":
                return cls.edges(parts[0], [float(e) for e in parts[2].split(",")])
        except ValueError as error:
            raise SuiteError(f"stratification {text!r}: {error}") from None
        raise SuiteError(
            f"stratification {text!r}: expected 'column', 'column:width:N', 'column:quantile:N' or 'column:edges:a,b,...'"
        )

    def split(self, frame: pd.DataFrame, url: str) -> list[tuple[str, np.ndarray]]:
        """(label, row indices) per non-empty stratum, in a stable order."""
        if self.column not in frame.columns:
            raise located(
                url, f"cannot stratify by missing column '{self.column}'; columns: {', '.join(frame.columns)}"
            )
        series = frame[self.column]
        label = self.label or self.column
        if self.kind == "categorical":
            present = ~col.blank_rows(series)
            groups = pd.Series(np.flatnonzero(present)).groupby(series[present].astype(str).to_numpy(), sort=True)
            return [(f"{label} {value}", indices.to_numpy()) for value, indices in groups]
        values = col.parse_floats(series, lambda row, message: located(url, message, row=row, column=self.column))
        edges = self._edges(values[~np.isnan(values)])
        out = []
        for i, (low, high) in enumerate(itertools.pairwise(edges)):
            last = i == len(edges) - 2
            inside = (values >= low) & ((values <= high) if last else (values < high))
            if inside.any():
                out.append((f"{label} {low:g} to {high:g}", np.flatnonzero(inside)))
        return out

    def _edges(self, values: np.ndarray) -> np.ndarray:
        if self.kind == "edges":
            return np.asarray(self.bin_edges)
        if len(values) == 0:
            return np.zeros(0)
        if self.kind == "width":
            return np.linspace(values.min(), values.max(), self.bins + 1)
        return np.unique(np.quantile(values, np.linspace(0, 1, self.bins + 1)))


@dataclasses.dataclass(frozen=True)
class Cross:
    """A test case per combination of two stratifications' strata ("occlusion nose & roll_deg 0 to 6.775")."""

    first: Stratify
    second: Stratify

    def split(self, frame: pd.DataFrame, url: str) -> list[tuple[str, np.ndarray]]:
        """(label, row indices) per non-empty combination, in a stable order."""
        out = []
        for (label_a, rows_a), (label_b, rows_b) in itertools.product(
            self.first.split(frame, url), self.second.split(frame, url)
        ):
            rows = np.intersect1d(rows_a, rows_b, assume_unique=True)
            if len(rows):
                out.append((f"{label_a} & {label_b}", rows))
        return out
