"""The end of a session as a pipeline: record -> store -> slices -> reports -> baseline files.

Each process writes its part of the run (the model runs it computed, the slices it discovered; the controller also
the item rows it saw); the controller then says where the run is, judges the slices, writes the reports and
rewrites the baseline files if asked.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Sequence
from types import SimpleNamespace
from typing import Any

from ._gc import no_cyclic_gc
from .discover import discover_into
from .links import add_links
from .session import KolenaSession
from .settings import Settings
from .stores import open_store
from .words import FAILING
from .workflow._dataobject import json_default
from .workflow._identity import suite_members, suite_samples


@dataclasses.dataclass
class Finished:
    """What the end of a session says: the summary's closing lines, the discovered slices' section, and whether
    discovery fails the run (a slice significantly worse than the baseline, under --kolena-discover-fail)."""

    lines: list[str] = dataclasses.field(default_factory=list)
    slice_lines: list[str] = dataclasses.field(default_factory=list)
    fails: bool = False


def finish(settings: Settings, session: KolenaSession | None, rows: list[Any]) -> Finished:
    """Write this process's part of the run (the model runs it computed, the slices it discovered; on the
    controller, the item rows it saw); on the controller, say where the run is, judge the slices, write the reports
    and rewrite the baseline files if asked."""
    from .data.suite import with_metadata
    from .store.record import add_items, add_results, add_suite, new_record

    record = new_record(settings.run_id, settings.writer, settings.tag, settings.rootdir, json_default)
    with no_cyclic_gc():
        suites_added = set()
        for test, run in session.computed.values() if session is not None else []:
            add_results(record, test, run)
            add_links(record, test, session.spec_of(test), run)
            if settings.reports and session.baseline() is not None:  # (what a report shows beside each sample)
                add_baseline(record, session, test, run)
            if (test, run.test_suite.name) not in suites_added:
                suites_added.add((test, run.test_suite.name))
                samples = with_metadata(run.test_suite, suite_samples(run.test_suite)) if settings.reports else None
                add_suite(record, test, run, suite_members(run.test_suite), samples)
            if settings.discover:
                discover_into(record, test, session.spec_of(test), run, session.baseline(), settings)
    if not settings.is_worker:
        add_items(record, rows)
    store = open_store(settings, session.storage if session is not None else None)
    if len(record):
        store.write(record)
    if session is not None:
        session.close()
    if settings.is_worker:
        return Finished()
    if not rows:  # a session without kolena items touches no store; its reports say that no kolena item ran
        return Finished(write_empty_reports(settings, record) if settings.reports else [])
    lines = [f"kolena: run {settings.run_id} stored in {settings.store}"]
    if session is not None and session.resolved_baseline is not None:  # (under xdist the workers resolved it)
        lines.append(f"kolena: compared with the baseline {session.resolved_baseline.source}")
    # a report reads the whole run (its samples' values as typed columns); discovery alone its own rows
    stored, blocks = store.read(settings.run_id) if settings.reports else ([], [])
    if settings.discover and not settings.reports:
        stored = store.rows(settings.run_id, ("slices",))
    finished = Finished(lines)
    if settings.discover:
        finished.slice_lines, finished.fails = _slices(settings, stored)
    if settings.reports:
        lines += write_reports(settings, store, stored, blocks)
    if settings.update_baseline:
        failed = sorted({row.verdict for row in rows} & set(FAILING))
        failed += ["regressed slices"] if finished.fails else []
        if failed and not settings.force:
            lines.append(
                f"kolena: baseline NOT rewritten: the run has {' and '.join(failed)} items; fix them, or add "
                "--kolena-force to make this run the baseline anyway"
            )
        else:
            lines += _update_baseline(settings, store)
    return finished


def add_baseline(record: Any, session: KolenaSession, test: str, run: Any) -> None:
    """What a report shows of a model run's baseline: its values of the sample metrics behind the case metrics, and
    its inferences of the samples that got worse the most in a regressed test case (drawn beside the candidate's)."""
    from .judge import baseline_values, worsened_inferences

    spec, suite, model = session.spec_of(test), run.test_suite.name, run.model.name
    for configuration, values in baseline_values(spec, run, session.baseline(), test).items():
        record.add_samples("baseline", test, suite, model, configuration, values)
    record.add_samples("baseline_inference", test, suite, model, None, worsened_inferences(session, spec, test, run))


def _slices(settings: Settings, stored: list[dict[str, Any]]) -> tuple[list[str], bool]:
    """The section of the discovered slices, and whether they fail the run."""
    from .checks.discovery import REGRESSED
    from .report.slices import discovered, summary_lines

    result = discovered(stored)
    if result is None:
        return ["kolena: no slice searched: no model run with a metric that is the mean of a sample metric"], False
    lines = summary_lines(result, settings.verbosity > 0)
    regressed = [s for s in result["found"] if s["kind"] == REGRESSED]
    fails = bool(regressed) and settings.discover_fail
    if fails:
        lines.append(f"kolena: {len(regressed)} slice(s) regressed: the run fails (--kolena-discover-fail)")
    return lines, fails


def write_reports(settings: Settings, store: Any, stored: list[dict[str, Any]], blocks: list[Any]) -> list[str]:
    """The --kolena-report files, from the run as stored (every xdist worker's part included: `stored`, its rows,
    and `blocks`, its samples' typed columns); a report that cannot be written is said, and the others are still
    written."""
    from .report.document import run_document
    from .report.writers import write_step_summary

    document = run_document(store.info(settings.run_id), stored, blocks)
    if settings.compare:
        from .report.comparison import comparison

        document["comparison"] = comparison([document])
    lines = _write_all(document, settings.reports)
    if any(path.lower().endswith(".md") for path in settings.reports):
        summary = write_step_summary(document)
        if summary:
            lines.append(f"kolena: Markdown summary added to $GITHUB_STEP_SUMMARY ({summary})")
    return lines


def write_empty_reports(settings: Settings, record: Any) -> list[str]:
    """The --kolena-report files of a run without kolena items (all deselected or skipped, or a collection error):
    reports that say so, not silence; a report file that exists is kept, an earlier run's report is worth more."""
    from .report.document import run_document

    kept = [path for path in settings.reports if os.path.exists(path)]
    lines = [f"kolena: report {path} kept as it was: no kolena item ran to rewrite it" for path in kept]
    info = SimpleNamespace(run_id=record.run_id, time=record.time, tag=record.tag, git_commit=record.git_commit)
    new = [path for path in settings.reports if path not in kept]
    return lines + _write_all(run_document(info, []), new, " (no kolena items ran)")


def _write_all(document: dict[str, Any], paths: Sequence[str], note: str = "") -> list[str]:
    """Each report file, with a line saying it was written (`note` after its path) or why it was not."""
    from .report.writers import write_report

    lines = []
    for path in paths:
        try:
            write_report(document, path)
            lines.append(f"kolena: report {path}{note}")
        except (ImportError, OSError, ValueError) as error:
            lines.append(f"kolena: report {path} NOT written: {error}")
    return lines


def _update_baseline(settings: Settings, store: Any) -> list[str]:
    from .store.baseline import Baseline, read_file, write_file

    current = Baseline.from_rows(store.rows(settings.run_id), settings.run_id)
    lines = []
    for suite in sorted({key[1] for key in current.entries}):
        # a partial run (-k, --kolena-model) replaces its own entries and keeps the others of the file
        kept = read_file(settings.baseline, [suite], must_exist=False).entries
        entries = {(t, m, c): entry for (t, s, m, c), entry in kept.items() if s == suite}
        entries |= {(t, m, c): entry for (t, s, m, c), entry in current.entries.items() if s == suite}
        lines.append(f"kolena: baseline of {suite} rewritten: {write_file(settings.baseline, suite, entries)}")
    return lines
