"""The candidate slices of a suite for slice discovery: each metadata column cut as `kolena_stratify` would cut it,
so that a slice found is a test case of the printed stratify line, label for label."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from ..checks.discovery import Grouping
from . import columns as col
from .stratify import Stratify

NUMERIC_LEVELS = 10  # a numeric column with more distinct values is cut into quantile bins
FINE_BINS = 10  # ... and, alone (not paired), into this many: a weak tenth is not blurred into a quarter


def groupings(
    frame: pd.DataFrame, url: str, columns: Sequence[str], bins: int = 4, max_levels: int = 20
) -> tuple[list[Grouping], dict[str, str]]:
    """The groupings of `columns` (rows of `frame` in the suite's sample order) and the columns left out, with why.

    A column with few values gives a slice per value (`column`); a numeric one with more than NUMERIC_LEVELS
    values, `bins` equal-height bins (`column:quantile:bins`) and, searched alone, FINE_BINS of them (a weak
    region off the coarse bins' edges is found at its own size; a coarse bin that is weak only through a finer one
    inside it is not reported: `discovery.echoes`); a text column with more than `max_levels` values (an
    identifier, a free text) and a column with one value are left out."""
    found, skipped = [], {}
    for name in columns:
        if name not in frame.columns:
            skipped[name] = f"no column {name!r} in {url}"
            continue
        series = frame[name]
        present = series[~col.blank_rows(series)]
        distinct = present.nunique()
        if distinct < 2:
            skipped[name] = "one value"
            continue
        if distinct > NUMERIC_LEVELS and _numeric(present):
            spec, text = Stratify.quantiles(name, bins), f"{name}:quantile:{bins}"
        elif distinct <= max_levels:
            spec, text = Stratify.categorical(name), name
        else:
            skipped[name] = f"{distinct} distinct values (an identifier?)"
            continue
        found.append(_grouping(frame, url, name, spec, text))
        if text.endswith(f":quantile:{bins}") and bins < FINE_BINS <= distinct:
            fine = Stratify.quantiles(name, FINE_BINS)
            found.append(_grouping(frame, url, name, fine, f"{name}:quantile:{FINE_BINS}", pairs=False))
    return found, skipped


def _grouping(frame: pd.DataFrame, url: str, name: str, spec: Stratify, text: str, pairs: bool = True) -> Grouping:
    strata = spec.split(frame, url)
    codes = np.full(len(frame), -1, dtype=np.int64)
    for code, (_, rows) in enumerate(strata):
        codes[rows] = code
    return Grouping((name,), text, tuple(label for label, _ in strata), codes, pairs)


def _numeric(values: pd.Series) -> bool:
    if pd.api.types.is_bool_dtype(values):
        return False
    return bool(pd.to_numeric(values, errors="coerce").notna().all())
