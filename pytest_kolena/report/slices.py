"""The slices discovery found in a run, judged together: the stored searches of every model run (and every xdist
worker), one Benjamini-Hochberg family over all their confirmed candidates, ranked by effect."""

from __future__ import annotations

import json
import math
from typing import Any

from .. import numbers
from ..checks.discovery import REGRESSED, detectable_effect, detected_share, echoes, found

LEVEL = "slices"  # the run store's rows of discovery


def discovered(rows: list[dict[str, Any]]) -> dict[str, Any] | None:
    """What discovery found in a run, from its stored rows (None: the run did not search).

    {"tried", "screened", "alpha", "searches": [...], "found": [...], "near_misses": [...]}: each found slice with its
    place (test, suite, model, configuration, metric, kind), effect, interval, raw and adjusted p-values, stratify
    line; regressions first, then by effect size (the effect in standard deviations of its metric over the suite),
    largest first. Near misses: screened slices significant on the held-out half alone (p <= alpha) but not after
    the run's correction, smallest p first: worth a look, not a finding. Words: a candidate is *tried* (scored on
    the proposal half), *screened* (worse there, so tested on the held-out half), *found* (significant after the
    correction)."""
    stored = [(row, _values(row)) for row in rows if row.get("level") == LEVEL]
    if not stored:
        return None
    searches, candidates = [], []
    for row, values in stored:
        for search in values["searches"]:
            place = {key: row.get(key) or "" for key in ("test", "suite", "model")}
            summary = {k: v for k, v in search.items() if k != "candidates"}
            searches.append(place | summary)
            candidates += [place | summary | c for c in search["candidates"] if c.get("p_value") is not None]
    alpha = min(values["alpha"] for _, values in stored)
    adjusted, reject = found([c["p_value"] for c in candidates], alpha)
    judged = [c | {"p_adjusted": float(p), "effect_size": _standardised(c)} for c, p in zip(candidates, adjusted)]
    threshold = alpha * int(reject.sum()) / max(len(candidates), 1)  # (what Benjamini-Hochberg rejected at)
    echo = echoes([_echo_key(c) for c in candidates], list(reject), threshold)
    kept = [c for c, r, e in zip(judged, reject, echo) if r and not e]
    echoed = [c for c, e in zip(judged, echo) if e]
    kept.sort(key=lambda c: (c["kind"] != REGRESSED, -c["effect_size"]))
    for rank, slice_ in enumerate(kept, start=1):
        slice_["rank"] = rank
    near = sorted((c for c, r in zip(judged, reject) if not r and c["p_value"] <= alpha), key=lambda c: c["p_value"])
    return {
        "errors": [values["error"] for _, values in stored if values.get("error")],
        "tried": sum(s["tried"] for s in searches),
        "screened": sum(s["screened"] for s in searches),
        "alpha": alpha,
        "searches": searches,
        "found": kept,
        "near_misses": near,
        "echoes": echoed,
        "detectable": _detectable(searches, alpha),
    }


def _echo_key(candidate: dict[str, Any]) -> tuple[Any, str, tuple[str, ...], float]:
    """A stored candidate as `discovery.echoes` reads it: its search, label, the slices it holds, outside p-value."""
    search = tuple(candidate.get(k) for k in ("test", "suite", "model", "configuration", "metric", "kind"))
    outside = candidate.get("outside_p")
    holds = tuple(candidate.get("holds") or ())
    return search, candidate["label"], holds, math.nan if outside is None else outside


def _detectable(searches: list[dict[str, Any]], alpha: float) -> dict[str, Any] | None:
    """How large a weakness the run's search would find 80% of the time: a slice of a tenth of the samples (the
    fewest any weak search had), worse than the rest by `effect` standard deviations; per metric in its units.
    None for runs stored before searches counted their samples."""
    weak = [s for s in searches if s["kind"] != REGRESSED and s.get("samples")]
    if not weak:
        return None
    samples = min(s["samples"] for s in weak)
    screened, tried = sum(s["screened"] for s in searches), sum(s["tried"] for s in searches)
    effect = detectable_effect(samples, screened, tried, alpha)
    if effect != effect:  # (NaN: a tenth of the samples is below the smallest slice searched)
        return None
    units = {s["metric"]: effect * s["spread"] for s in weak if s.get("spread")}
    return {"share": detected_share(samples), "samples": samples, "effect": effect, "by_metric": units}


def _standardised(candidate: dict[str, Any]) -> float:
    """The effect in standard deviations of the search's scores (what ranks slices of different metrics); the raw
    effect where the spread is unknown."""
    spread = candidate.get("spread")
    return candidate["effect"] / spread if spread else candidate["effect"]


def _values(row: dict[str, Any]) -> dict[str, Any]:
    values = row.get("values")
    return json.loads(values) if isinstance(values, str) else values


def describe(slice_: dict[str, Any]) -> str:
    """One line of a found slice: where it is worse, by how much, with its interval and adjusted p-value."""
    metric, effect = slice_["metric"], slice_["effect"]
    signed = numbers.signed
    interval = f"[{signed(slice_['low'])}, {signed(slice_['high'])}]" if slice_["low"] is not None else ""
    if slice_["kind"] == REGRESSED:
        change = f"{metric} worse than the baseline by {numbers.general(effect)} {interval}"
    else:
        other = f"the rest of {slice_['versus']}" if slice_["versus"] else "the rest of the suite"
        means = f"{numbers.general(slice_['slice_mean'])} vs {numbers.general(slice_['other_mean'])}"
        change = f"{metric} {means} in {other} ({signed(effect)} {interval})"
    return f"{slice_['label']} (n={slice_['size']}): {change}, p_adj={numbers.p_value(slice_['p_adjusted'])}"


def screened_words(result: dict[str, Any]) -> str:
    """How a report counts a search: `found among 421 candidates tried (7 screened: tested on the held-out half)`."""
    return (
        f"found among {result['tried']} candidates tried ({result['screened']} screened: tested on the held-out half)"
    )


def detectable_words(detectable: dict[str, Any]) -> str:
    """`at 2,000 samples, a slice of 10% is found 80% of the time when worse than the rest by 0.40 standard
    deviations or more (normalized_mean_error 0.031); a smaller or subtler one can be missed`."""
    units = ", ".join(f"{metric} {numbers.general(value)}" for metric, value in detectable["by_metric"].items())
    return (
        f"at {detectable['samples']:,} samples, a slice of {detectable['share']:.0%} of them is found 80% of the "
        f"time when worse than the rest by {detectable['effect']:.2f} standard deviations or more"
        + (f" ({units})" if units else "")
        + "; a smaller or subtler one can be missed"
    )


def summary_lines(result: dict[str, Any] | None, verbose: bool = False) -> list[str]:
    """The terminal's section of discovery; `verbose` (-v): the near misses too."""
    if result is None:
        return []
    found_ = result["found"]
    head = (
        f"kolena: {len(found_)} slice(s) {screened_words(result)}; false discovery rate {result['alpha']:g}, "
        "Benjamini-Hochberg"
    )
    lines = [head]
    detectable = result.get("detectable")
    if detectable:
        lines.append(f"kolena: {detectable_words(detectable)}")
    skipped = {
        f"{column} ({why})" for s in result["searches"] for column, why in (s.get("skipped_columns") or {}).items()
    }
    if skipped:
        lines.append(f"kolena: columns not searched: {', '.join(sorted(skipped))}")
    lines += [f"kolena: discovery FAILED on {error}" for error in result.get("errors", [])]
    for slice_ in found_:
        word = "REGRESSED" if slice_["kind"] == REGRESSED else "weak"
        where = f"{slice_['model']} on {slice_['suite']}" + (
            f" ({slice_['configuration']})" if slice_["configuration"] else ""
        )
        lines.append(f"{slice_['rank']:>3}. {word} {where}: {describe(slice_)}")
        lines.append(f"     add to kolena_stratify: {slice_['stratify']}")
    echoed = result.get("echoes", [])
    if echoed:
        lines.append(
            f"kolena: {len(echoed)} slice(s) not reported: weak only through a found slice inside them"
            + ("" if verbose else " (-v lists them)")
        )
        if verbose:
            lines += [f"  {s['kind']} {s['model']} on {s['suite']}: {describe(s)}" for s in echoed]
    near = result.get("near_misses", [])
    if near and verbose:
        lines.append(
            f"kolena: {len(near)} near miss(es): p <= {result['alpha']:g} on the held-out half, not after the correction"
        )
        lines += [
            f"  {s['kind']} {s['model']} on {s['suite']}: {describe(s)} (p={numbers.p_value(s['p_value'])})"
            for s in near
        ]
    elif near:
        lines.append(f"kolena: {len(near)} near miss(es), not significant after the correction: -v lists them")
    return lines
