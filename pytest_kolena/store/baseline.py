"""Baselines: what a candidate is compared with. From a stored run (by id, tag, model name or git ref) or from a
human-diffable JSON file per suite that a team commits (rewritten by `--kolena-update-baseline`)."""

from __future__ import annotations

import dataclasses
import json
import subprocess
from collections import defaultdict
from pathlib import Path
from typing import Any

from ..options import is_baseline_file
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
            if row["level"] == "inference":  # kept as JSON text: decoded only if a check recomputes a metric
                inferences[(row.get("test") or "", row["suite"], row["model"])][row["sample_id"]] = row["values"]
            if row["level"] not in ("sample", "case", "suite"):
                continue
            key = (row.get("test") or "", row["suite"], row["model"], row["configuration"] or "")
            entry = baseline.entries.setdefault(key, BaselineEntry())
            values = json.loads(row["values"])
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
        must_exist and "://" not in ref and not Path(ref).exists()
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
            data = json.loads(path.read_text())
        except ValueError as error:
            raise BaselineError(f"{path}: not a baseline file: {error}") from None
        tests = data["tests"] if "tests" in data else {"": _first_format(data.get("models", {}))}
        for test, models in tests.items():
            for model, content in models.items():
                for configuration, values in content.get("configurations", {}).items():
                    key = (test, suite, model, configuration if configuration != "-" else "")
                    baseline.entries[key] = BaselineEntry(
                        case_metrics=values.get("test_cases", {}),
                        suite_metrics=values.get("suite_metrics", {}),
                        samples=values.get("samples", {}),
                        inferences=content.get("inferences", {}),
                    )
    return baseline


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


def resolve(ref: str, store: RunStore, suites: list[str], cwd: str | None = None, must_exist: bool = True) -> Baseline:
    """A baseline from a file, a run id, a tag (latest), a model name (latest run with it), or a git ref."""
    if is_baseline_file(ref):
        return read_file(ref, suites, must_exist)
    chosen = find_run(ref, store, cwd, "baseline")
    return Baseline.from_rows(
        store.rows(chosen.run_id), f"run {chosen.run_id}" + (f" (tag {chosen.tag})" if chosen.tag else "")
    )


def find_run(ref: str, store: RunStore, cwd: str | None = None, what: str = "run") -> RunInfo:
    """The run a reference names: a run id, else the latest run with that tag, that model, or that git commit;
    `latest` is the latest run. A BaselineError lists the store's tags when nothing matches."""
    runs = store.runs()
    if ref == "latest" and runs:
        return runs[-1]
    by_id = [r for r in runs if r.run_id == ref]
    by_tag = [r for r in runs if r.tag == ref]
    by_model = [r for r in runs if ref in r.models]
    commit = git_commit(ref, cwd) if not (by_id or by_tag or by_model) else None
    by_commit = [r for r in runs if commit and r.git_commit == commit]
    chosen = (by_id or by_tag or by_model or by_commit or [None])[-1]
    if chosen is None:
        tags = sorted({r.tag for r in runs if r.tag})
        kinds = "baseline file, run id" if what == "baseline" else "run id"
        raise BaselineError(
            f"{what} {ref!r} is no {kinds}, tag, model name or git ref with a run in {store.url}; "
            f"{len(runs)} runs there, tags: {', '.join(tags) or 'none'}"
        )
    return chosen
