"""Baselines: what a candidate is compared with. From a stored run (by id, tag, model name or git ref) or from a
human-diffable JSON file per suite that a team commits (rewritten by `--kolena-update-baseline`)."""

from __future__ import annotations

import dataclasses
import json
import subprocess
from collections import defaultdict
from pathlib import Path
from typing import Any

from ..fs import is_url
from .damage import StoreError, warn
from .runs import RunInfo, RunStore


class BaselineError(ValueError):
    """A baseline reference that resolves to nothing; the message lists what exists."""


@dataclasses.dataclass
class BaselineEntry:
    """One model at one configuration on one suite."""

    case_metrics: dict[str, dict[str, Any]] = dataclasses.field(default_factory=dict)
    suite_metrics: dict[str, Any] = dataclasses.field(default_factory=dict)
    samples: dict[str, dict[str, Any]] = dataclasses.field(default_factory=dict)  # sample id -> sample metrics
    inferences: dict[str, Any] = dataclasses.field(default_factory=dict)  # sample id -> inference (dict or JSON text)


EntryKey = tuple[str, str, str, str]  # (test function, suite, model, configuration)


@dataclasses.dataclass
class Baseline:
    """Entries by (test function, suite, model, configuration); `source` says where they came from."""

    source: str
    entries: dict[EntryKey, BaselineEntry] = dataclasses.field(default_factory=dict)

    def entry(self, test: str, suite: str, model: str, configuration: str | None) -> BaselineEntry | None:
        """The entry of a test function's model; a legacy entry (stored before runs named their test function)
        stands for any test function."""
        key = (test, suite, model, configuration or "")
        return self.entries.get(key) or self.entries.get(("", *key[1:]))

    @classmethod
    def from_rows(cls, rows: list[dict[str, Any]], source: str) -> Baseline:
        baseline = cls(source)
        inferences: dict[tuple[str, str, str], dict[str, Any]] = defaultdict(dict)
        for row in rows:
            if row["level"] == "inference":
                inferences[(row.get("test") or "", row["suite"], row["model"])][row["sample_id"]] = row["values"]
            if row["level"] not in ("sample", "case", "suite"):
                continue
            key = (row.get("test") or "", row["suite"], row["model"], row["configuration"] or "")
            entry = baseline.entries.setdefault(key, BaselineEntry())
            values = row["values"]
            if row["level"] == "sample":
                entry.samples[row["sample_id"]] = values
            elif row["level"] == "case":
                entry.case_metrics[row["test_case"]] = values
            else:
                entry.suite_metrics = values
        for (test, suite, model, _), entry in baseline.entries.items():  # one model's inferences, every configuration
            entry.inferences = inferences.get((test, suite, model), {})
        return baseline


def baseline_file_path(ref: str, suite: str) -> Path:
    """A baseline file reference: a .json file, or a folder holding one `{suite}.json` per suite."""
    path = Path(ref)
    return path if path.suffix == ".json" else path / f"{suite}.json"


def read_file(ref: str, suites: list[str], must_exist: bool = True) -> Baseline:
    """The baseline files of the suites; a suite without a file has no baseline (its items are "new").

    `{"suite", "format": 2, "tests": {test: {model: {"inferences": {sample: inference}, "configurations":
    {configuration: {"test_cases", "suite_metrics", "samples"}}}}}}`; a file of the first format (`"models"` at the
    top) holds entries for any test function."""
    baseline = Baseline(ref)
    if (
        must_exist and not is_url(ref) and not Path(ref).exists()
    ):  # a mistyped path must not turn the gate off: every item "new"
        raise BaselineError(
            f"baseline {ref} does not exist: give an existing baseline file or folder, or add "
            "--kolena-update-baseline to write it from this run"
        )
    for suite in suites:
        path = baseline_file_path(ref, suite)
        if not path.exists():
            continue
        try:
            baseline.entries |= _file_entries(suite, json.loads(path.read_text()))
        except (ValueError, AttributeError, TypeError) as error:  # cut short, or not the shape of a baseline file
            raise BaselineError(
                f"{path} ({path.stat().st_size:,} bytes) is damaged: not a baseline file: {error}; fix or delete "
                "it (or rewrite it with --kolena-update-baseline)"
            ) from None
    return baseline


def _file_entries(suite: str, data: dict[str, Any]) -> dict[EntryKey, BaselineEntry]:
    """The entries of one suite's baseline file."""
    entries = {}
    tests = data["tests"] if "tests" in data else {"": _first_format(data.get("models", {}))}
    for test, models in tests.items():
        for model, content in models.items():
            for configuration, values in content.get("configurations", {}).items():
                entries[(test, suite, model, configuration if configuration != "-" else "")] = BaselineEntry(
                    case_metrics=values.get("test_cases", {}),
                    suite_metrics=values.get("suite_metrics", {}),
                    samples=values.get("samples", {}),
                    inferences=content.get("inferences", {}),
                )
    return entries


def _first_format(models: dict[str, Any]) -> dict[str, Any]:
    """A file of the first format (`{"models": {model: {configuration: entry}}}`) in today's shape."""
    return {model: {"configurations": configurations} for model, configurations in models.items()}


def write_file(ref: str, suite: str, entries: dict[tuple[str, str, str], BaselineEntry]) -> Path:
    """Rewrite one suite's baseline file from entries by (test, model, configuration): sorted keys, one value per
    line, so that a diff reads well."""
    tests: dict[str, dict[str, dict[str, Any]]] = defaultdict(dict)
    for (test, model, configuration), entry in sorted(entries.items()):
        inferences = {k: json.loads(v) if isinstance(v, str) else v for k, v in entry.inferences.items()}
        content = tests[test].setdefault(model, {"inferences": inferences, "configurations": {}})
        content["configurations"][configuration or "-"] = {
            "test_cases": entry.case_metrics,
            "suite_metrics": entry.suite_metrics,
            "samples": entry.samples,
        }
    path = baseline_file_path(ref, suite)
    path.parent.mkdir(parents=True, exist_ok=True)
    content = {"suite": suite, "format": 2, "tests": tests}
    path.write_text(json.dumps(content, indent=1, sort_keys=True, default=str) + "\n")
    return path


def git_commit(ref: str = "HEAD", cwd: str | None = None) -> str | None:
    try:
        result = subprocess.run(
            ["git", "rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}"],
            cwd=cwd,
            capture_output=True,
            text=True,
            timeout=10,
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    return result.stdout.strip() or None if result.returncode == 0 else None


def resolve(
    ref: str, store: RunStore, suites: list[str], cwd: str | None = None, must_exist: bool = True, files: bool = False
) -> Baseline:
    """A baseline from files (`files`: the reference names them, as the settings decided), else from a run id, a tag
    (latest), a model name (latest run with it), or a git ref."""
    if files:
        return read_file(ref, suites, must_exist)
    chosen = find_run(ref, store, cwd, "baseline")
    try:
        rows = store.rows(chosen.run_id)
    except StoreError as error:
        raise BaselineError(f"baseline run {chosen.run_id}: {error}") from None
    return Baseline.from_rows(rows, f"run {chosen.run_id}" + (f" (tag {chosen.tag})" if chosen.tag else ""))


def find_run(ref: str, store: RunStore, cwd: str | None = None, what: str = "run") -> RunInfo:
    """The complete run a reference names: a run id, else the latest complete run with that tag, that model, or
    that git commit; `latest` is the latest complete run. Incomplete runs it would have taken are said in a StoreWarning (or in the
    BaselineError when nothing is left); a BaselineError lists the store's tags when nothing matches."""
    runs = store.runs()
    kind, matched = _matching(ref, runs, cwd)
    unread = [r for r in runs if not r.time and r not in matched and kind != "run id"]  # tag, models: unknown
    candidates = [r for r in matched if r.complete]
    chosen = candidates[-1] if candidates else None
    skipped = [
        r for r in [*matched, *unread] if not r.complete and (chosen is None or not r.time or r.time >= chosen.time)
    ]
    if chosen is None and matched:
        raise BaselineError(f"{what} {ref!r}: no complete run{_by(kind)} in {store.url}; {_skipped(skipped)}")
    if chosen is None:
        tags = sorted({r.tag for r in runs if r.tag})
        kinds = "baseline file, run id" if what == "baseline" else "run id"
        raise BaselineError(
            f"{what} {ref!r} is no {kinds}, tag, model name or git ref with a run in {store.url}; "
            f"{len(runs)} runs there, tags: {', '.join(tags) or 'none'}" + (f"; {_skipped(skipped)}" if skipped else "")
        )
    if skipped:
        warn(f"kolena: {what} {ref!r} is run {chosen.run_id} of {chosen.time}; {_skipped(skipped)}")
    return chosen


def _matching(ref: str, runs: list[RunInfo], cwd: str | None) -> tuple[str, list[RunInfo]]:
    """What kind of reference `ref` is, and the runs it names, oldest first (incomplete ones included)."""
    if ref == "latest":
        return "latest", runs
    for kind, names in (
        ("run id", lambda r: r.run_id == ref),
        ("tag", lambda r: r.tag == ref),
        ("model", lambda r: ref in r.models),
    ):
        found = [r for r in runs if names(r)]
        if found:
            return kind, found
    commit = git_commit(ref, cwd)
    found = [r for r in runs if commit and r.git_commit == commit]
    return ("git ref" if found else ""), found


def _by(kind: str) -> str:
    return "" if kind == "latest" else f" with that {kind.replace('run ', '')}"


def _skipped(runs: list[RunInfo], most: int = 5) -> str:
    """`skipped 2 incomplete runs: run X (tag main): why; ...`."""
    named = [f"run {r.run_id}" + (f" (tag {r.tag})" if r.tag else "") + f": {r.problem}" for r in runs[-most:]]
    more = f"; and {len(runs) - most} more" if len(runs) > most else ""
    return f"skipped {len(runs)} incomplete run{'s' if len(runs) != 1 else ''}: " + "; ".join(reversed(named)) + more
