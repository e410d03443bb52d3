"""Options and ini keys, read once at configure into a frozen Settings; a bad value is a UsageError naming it.

Loaded in every pytest run of an environment where pytest-kolena is installed: pytest and the standard library only.
"""

from __future__ import annotations

import dataclasses
import datetime
import itertools
import os
import shlex
from collections.abc import Sequence
from typing import Any

import pytest

from .fs import is_baseline_file, resolve_location

MARKER_HELP = (
    "kolena(models, evaluator, thresholds=None, regression=None, better=None, baseline_models=None, "
    "configurations=None, workflow=None, columns=None, stratify=None, suites=None, worst=5): expand the test into one item per "
    "model x test case x configuration of each --kolena-suite (plus one per model x configuration for suite "
    "metrics); an item fails when a metric breaches its threshold (e.g. thresholds={'mean_nme': '<= 0.08'}) or, "
    "against --kolena-baseline, worsens beyond its allowance (e.g. regression={'mean_nme': '+2%'}). models: Model "
    "objects or fixture names; baseline_models: {'challenger': 'champion'} compares a model with another's run; "
    "suites: the suites the test runs on (others selected are skipped for it)."
)


def add_options(parser: pytest.Parser) -> None:
    """Every command-line option and ini key of the plugin."""
    group = parser.getgroup("kolena", "kolena: ML model regression tests")
    option = group.addoption
    option(
        "--kolena-suite",
        action="append",
        dest="kolena_suite",
        metavar="NAME",
        help="run the kolena tests on this test suite (repeatable; default: the kolena_suite ini key)",
    )
    option(
        "--kolena-data",
        dest="kolena_data",
        metavar="ROOT",
        help="where suites live, a folder or any fsspec URL such as s3://bucket/prefix; a suite is "
        "ROOT/NAME/meta/metadata.csv (default: the kolena_data ini key)",
    )
    option(
        "--kolena-model",
        action="append",
        dest="kolena_model",
        metavar="NAME",
        help="run only this model among those the markers bind (repeatable)",
    )
    option(
        "--kolena-store",
        dest="kolena_store",
        metavar="URL",
        help="where runs and the inference cache are kept: a folder or an fsspec URL (default: the kolena_store "
        "ini key, else .kolena in the rootdir)",
    )
    option(
        "--kolena-baseline",
        dest="kolena_baseline",
        metavar="REF",
        help="compare with a baseline: a run id, a tag (latest run), a model name (latest run), a git ref, or a "
        "baseline file (.json, or a folder/ of them)",
    )
    option(
        "--kolena-tag",
        dest="kolena_tag",
        metavar="TAG",
        help="name this run in the store (e.g. 'main'), so that later runs can use it as their baseline",
    )
    option(
        "--kolena-discover",
        dest="kolena_discover",
        action="store_true",
        default=None,
        help="after the run, search the metadata columns for slices where a model is worst or got worse than the "
        "baseline, significant only (default: the kolena_discover ini key)",
    )
    option(
        "--kolena-discover-fail",
        dest="kolena_discover_fail",
        action="store_true",
        default=None,
        help="fail the run when discovery finds a slice significantly worse than the baseline (default: report only; "
        "the kolena_discover_fail ini key); implies --kolena-discover",
    )
    option(
        "--kolena-report",
        dest="kolena_report",
        action="append",
        default=[],
        metavar="PATH",
        help="write a report of the run after it, in the format of the suffix: .md (also to $GITHUB_STEP_SUMMARY "
        "when set), .json (with the sample metrics), .html (self-contained; extra 'html'); repeatable",
    )
    option(
        "--kolena-update-baseline",
        dest="kolena_update_baseline",
        action="store_true",
        help="rewrite the --kolena-baseline file(s) with this run's results (not from a run that failed)",
    )
    option(
        "--kolena-force",
        dest="kolena_force",
        action="store_true",
        help="with --kolena-update-baseline: rewrite the baseline even from a run with failures or regressions",
    )
    option(
        "--kolena-reset",
        dest="kolena_reset",
        action="store_true",
        help="infer again instead of reading the inference cache",
    )
    option(
        "--kolena-confidence",
        dest="kolena_confidence",
        metavar="LEVEL",
        help="confidence level of the regression intervals (default: the kolena_confidence ini key, 0.95)",
    )
    option(
        "--kolena-executor",
        dest="kolena_executor",
        metavar="KIND",
        help="where inference runs: serial, threads, processes, dask (a local cluster) or dask://HOST:PORT (an "
        "existing cluster); default: the kolena_executor ini key, else threads with --kolena-workers above 1, else "
        "serial",
    )
    option(
        "--kolena-workers",
        dest="kolena_workers",
        metavar="N",
        help="threads or processes that infer at once (default: the kolena_workers ini key; 1 for serial and "
        "threads, the CPU count for processes and dask)",
    )
    option(
        "--kolena-batch-size",
        dest="kolena_batch_size",
        metavar="N",
        help="samples per call of a model's infer_batch, and per task sent to a worker (default: the "
        "kolena_batch_size ini key, 32)",
    )
    option(
        "--kolena-stall-timeout",
        dest="kolena_stall_timeout",
        metavar="SECONDS",
        help="give up inference on threads, processes or Dask when no task finished for this long (a cluster "
        "without workers, a stuck task): its items error (default: the kolena_stall_timeout ini key, 120)",
    )
    option(
        "--kolena-progress",
        dest="kolena_progress",
        metavar="WHEN",
        help="a progress line during inference and evaluation: auto (on a terminal, not with -q), on or off",
    )
    ini = parser.addini
    ini("kolena_suite", type="args", help="default test suites (names under the data root)")
    ini("kolena_data", type="string", help="default data root, relative to the ini file or a URL")
    ini(
        "kolena_stratify",
        type="linelist",
        help="stratifications into test cases, one per line: 'column', 'column:width:N', 'column:quantile:N' or "
        "'column:edges:a,b,c'",
    )
    ini("kolena_encoding", type="string", default="utf-8", help="text encoding of the metadata CSVs (utf-8)")
    ini("kolena_columns", type="linelist", help="CSV column to workflow field, one per line: 'points=keypoints'")
    ini("kolena_s3_endpoint", type="string", help="S3 endpoint URL (default: AWS_ENDPOINT_URL, else AWS)")
    ini("kolena_s3_anon", type="bool", default=False, help="read S3 anonymously (public buckets)")
    ini("kolena_s3_profile", type="string", help="AWS profile for S3 (default: AWS_PROFILE)")
    ini("kolena_store", type="string", help="default store (folder or URL)")
    ini("kolena_baseline", type="string", help="default baseline reference")
    ini("kolena_confidence", type="float", default=0.95, help="confidence level of the regression intervals")
    ini(
        "kolena_resamples",
        type="int",
        default=200,
        help="bootstrap resamples of a regression check on a metric that is not a mean of a sample metric",
    )
    ini(
        "kolena_error_control",
        type="string",
        default="bh",
        help="correction over all regression checks of a run: bh (Benjamini-Hochberg), holm, or none",
    )
    ini(
        "kolena_unjudged",
        type="string",
        default="fail",
        help="a model run that the baseline holds nothing of (a renamed test or model): fail its items, or pass "
        "them as new",
    )
    ini(
        "kolena_min_samples",
        type="int",
        default=20,
        help="test cases with fewer paired samples are not judged as regressions",
    )
    ini("kolena_discover", type="bool", default=False, help="default of --kolena-discover")
    ini("kolena_discover_fail", type="bool", default=False, help="default of --kolena-discover-fail")
    ini(
        "kolena_discover_min_size",
        type="int",
        default=30,
        help="slice discovery: the fewest samples of a slice (30)",
    )
    ini(
        "kolena_discover_columns",
        type="linelist",
        help="slice discovery: the metadata columns searched, one per line (default: the CSV columns that feed no field)",
    )
    ini("kolena_discover_bins", type="int", default=4, help="slice discovery: quantile bins of a numeric column (4)")
    ini("kolena_executor", type="string", help="default of --kolena-executor")
    ini("kolena_workers", type="int", default=0, help="default of --kolena-workers (0: by executor)")
    ini("kolena_batch_size", type="int", default=32, help="default of --kolena-batch-size (32)")
    ini(
        "kolena_stall_timeout",
        type="float",
        default=120.0,
        help="default of --kolena-stall-timeout: seconds without a finished task before inference is given up (120)",
    )
    ini("kolena_progress", type="string", default="auto", help="default of --kolena-progress: auto, on or off")


PATH_OPTIONS = ("--kolena-report", "--kolena-data", "--kolena-store")  # and --kolena-baseline naming files


def refuse_space_form(args: Sequence[str]) -> None:
    """A UsageError for an option whose value is a path or URL given as a separate argument (`--kolena-report
    PATH`), on the command line or in PYTEST_ADDOPTS: pytest picks the rootdir and ini file from those arguments
    before it knows the options of plugins, takes an existing path among them for a test path, and the run then
    loses its configuration (on a rerun, once the report exists). Refused whatever the value, so that a command
    that works once works every time; `--kolena-report=PATH` is never mistaken."""
    for where, given in (("in PYTEST_ADDOPTS ", shlex.split(os.environ.get("PYTEST_ADDOPTS", ""))), ("", args)):
        for name, value in itertools.pairwise(given):
            if name == "--":
                break
            if name in PATH_OPTIONS or (name == "--kolena-baseline" and names_files(value)):
                raise pytest.UsageError(
                    f"kolena: {name} {value} {where}as two arguments: give {name}={value} (one argument, with '='); "
                    "pytest takes an existing path given apart for a test path, and then looks for the rootdir and "
                    "the ini file from there"
                )


def names_files(ref: str) -> bool:
    """A baseline reference that is, or may be taken for, a path: a baseline file or folder, or any existing path."""
    return is_baseline_file(ref) or os.path.exists(ref)


@dataclasses.dataclass(frozen=True)
class Settings:
    """Every option and ini key of a session, typed, with folders resolved: read once, at configure."""

    suites: tuple[str, ...] = ()
    data_root: str | None = None
    models: frozenset[str] | None = None
    stratify: tuple[str, ...] = ()
    columns: tuple[tuple[str, str], ...] = ()
    encoding: str = "utf-8"
    s3_endpoint: str | None = None
    s3_anon: bool = False
    s3_profile: str | None = None
    store: str = ".kolena"
    baseline: str | None = None
    tag: str | None = None
    update_baseline: bool = False
    reports: tuple[str, ...] = ()  # --kolena-report paths, resolved against the invocation folder
    reset: bool = False
    confidence: float = 0.95
    resamples: int = 200
    min_samples: int = 20
    error_control: str = "bh"
    unjudged: str = "fail"  # a model run the baseline holds nothing of: "fail" or "pass"
    force: bool = False
    discover: bool = False
    discover_fail: bool = False
    discover_min_size: int = 30
    discover_columns: tuple[str, ...] = ()  # empty: the CSV columns that feed no field
    discover_bins: int = 4
    executor: str = "serial"  # serial, threads, processes, dask, or dask://HOST:PORT
    workers: int = 1
    batch_size: int = 32
    stall_timeout: float = 120.0  # seconds without a finished task before an executor is given up
    progress: str = "auto"
    rootdir: str = "."
    run_id: str = ""
    writer: str = "main"  # "main", or the xdist worker id ("gw0", ...)

    @property
    def is_worker(self) -> bool:
        return self.writer != "main"

    @classmethod
    def from_config(cls, config: pytest.Config) -> Settings:
        option, ini = config.getoption, config.getini
        rootdir = str(config.rootpath)
        inidir = str(config.inipath.parent) if config.inipath else rootdir
        workerinput = getattr(config, "workerinput", None) or {}
        if not workerinput:  # (a worker runs with the controller's options, checked there)
            refuse_space_form(config.invocation_params.args)
        data_root = option("kolena_data") or ini("kolena_data") or None
        baseline = option("kolena_baseline") or ini("kolena_baseline") or None
        if baseline is not None:
            local = resolve_location(baseline, rootdir)
            baseline = local if is_baseline_file(local) else baseline
        executor, workers = _executor(config)
        settings = cls(
            suites=tuple(option("kolena_suite") or ini("kolena_suite") or ()),
            data_root=resolve_location(data_root, inidir) if data_root else None,
            models=frozenset(option("kolena_model")) if option("kolena_model") else None,
            stratify=tuple(ini("kolena_stratify")),
            columns=_columns(ini("kolena_columns")),
            encoding=str(ini("kolena_encoding") or "utf-8").strip(),
            s3_endpoint=ini("kolena_s3_endpoint") or None,
            s3_anon=bool(ini("kolena_s3_anon")),
            s3_profile=ini("kolena_s3_profile") or None,
            store=resolve_location(option("kolena_store") or ini("kolena_store") or ".kolena", rootdir),
            baseline=baseline,
            tag=option("kolena_tag") or None,
            update_baseline=bool(option("kolena_update_baseline")),
            reports=tuple(str(config.invocation_params.dir / path) for path in option("kolena_report") or ()),
            reset=bool(option("kolena_reset")),
            confidence=_number(config, "kolena_confidence", float),
            resamples=_number(config, "kolena_resamples", int),
            min_samples=_number(config, "kolena_min_samples", int),
            error_control=str(ini("kolena_error_control") or "bh").strip().lower(),
            unjudged=str(ini("kolena_unjudged") or "fail").strip().lower(),
            force=bool(option("kolena_force")),
            discover=bool(option("kolena_discover") or option("kolena_discover_fail") or ini("kolena_discover"))
            or bool(ini("kolena_discover_fail")),
            discover_fail=bool(option("kolena_discover_fail") or ini("kolena_discover_fail")),
            discover_min_size=_number(config, "kolena_discover_min_size", int),
            discover_columns=tuple(c.strip() for c in ini("kolena_discover_columns") if c.strip()),
            discover_bins=_number(config, "kolena_discover_bins", int),
            executor=executor,
            workers=workers,
            batch_size=_number(config, "kolena_batch_size", int),
            stall_timeout=_number(config, "kolena_stall_timeout", float),
            progress=str(option("kolena_progress") or ini("kolena_progress") or "auto").strip().lower(),
            rootdir=rootdir,
            run_id=workerinput.get("kolena_run_id") or new_run_id(),
            writer=workerinput.get("workerid", "main"),
        )
        settings._check()
        return settings

    def _check(self) -> None:
        if not 0.5 <= self.confidence < 1:
            raise pytest.UsageError(
                f"kolena: --kolena-confidence / kolena_confidence is {self.confidence}: give a level in [0.5, 1), "
                "e.g. 0.95"
            )
        if self.resamples < 100:
            raise pytest.UsageError(f"kolena: kolena_resamples is {self.resamples}: give at least 100, e.g. 1000")
        if self.error_control not in ("bh", "holm", "none"):
            raise pytest.UsageError(
                f"kolena: kolena_error_control is {self.error_control!r}: give bh (Benjamini-Hochberg), holm or none"
            )
        if self.unjudged not in ("fail", "pass"):
            raise pytest.UsageError(f"kolena: kolena_unjudged is {self.unjudged!r}: give fail or pass")
        if self.min_samples < 2:
            raise pytest.UsageError(f"kolena: kolena_min_samples is {self.min_samples}: give at least 2, e.g. 20")
        if self.discover_min_size < 4:
            raise pytest.UsageError(
                f"kolena: kolena_discover_min_size is {self.discover_min_size}: give at least 4, e.g. 30"
            )
        if self.discover_bins < 2:
            raise pytest.UsageError(f"kolena: kolena_discover_bins is {self.discover_bins}: give at least 2, e.g. 4")
        if self.batch_size < 1:
            raise pytest.UsageError(
                f"kolena: --kolena-batch-size / kolena_batch_size is {self.batch_size}: give 1 or more"
            )
        if not 0 < self.stall_timeout < float("inf"):
            raise pytest.UsageError(
                f"kolena: --kolena-stall-timeout / kolena_stall_timeout is {self.stall_timeout:g}: give the seconds "
                "without a finished task before inference is given up, more than 0, e.g. 120"
            )
        if self.progress not in ("auto", "on", "off"):
            raise pytest.UsageError(
                f"kolena: --kolena-progress / kolena_progress is {self.progress!r}: give auto, on or off"
            )
        if self.reports:
            from .report.writers import ReportError, check_path
        for path in self.reports:
            try:
                check_path(path)
            except ReportError as error:
                raise pytest.UsageError(f"kolena: --kolena-{error}") from None
        if self.update_baseline and not (self.baseline and is_baseline_file(self.baseline)):
            raise pytest.UsageError(
                "kolena: --kolena-update-baseline rewrites baseline files: give --kolena-baseline naming a .json "
                f"file or a folder ending in '/' (got {self.baseline or 'no baseline'})"
            )

    @property
    def column_map(self) -> dict[str, str]:
        return dict(self.columns)


def new_run_id() -> str:
    """A run id that sorts by time: `20261128T120102-3fa2b1c9`."""
    return datetime.datetime.now(datetime.UTC).strftime("%Y%m%dT%H%M%S-") + os.urandom(4).hex()


_WITH_OPTION = ("kolena_confidence", "kolena_workers", "kolena_batch_size", "kolena_stall_timeout")
EXECUTORS = ("serial", "threads", "processes", "dask")


def _executor(config: pytest.Config) -> tuple[str, int]:
    """The executor kind and its number of workers: threads when only workers are given, all CPUs for processes
    and a local Dask cluster unless told."""
    given = str(config.getoption("kolena_executor") or config.getini("kolena_executor") or "").strip()
    workers = _number(config, "kolena_workers", int)
    if workers < 0:
        raise pytest.UsageError(f"kolena: --kolena-workers / kolena_workers is {workers}: give 1 or more")
    kind = given.lower() or ("threads" if workers > 1 else "serial")
    if kind not in EXECUTORS and not kind.startswith("dask://"):
        raise pytest.UsageError(
            f"kolena: --kolena-executor / kolena_executor is {given!r}: give serial, threads, processes, dask or "
            "dask://HOST:PORT"
        )
    if kind == "serial" and workers > 1:
        raise pytest.UsageError(
            f"kolena: --kolena-workers {workers} with the serial executor: give --kolena-executor threads, processes "
            "or dask, or leave the executor out (workers alone mean threads)"
        )
    if kind.startswith("dask://") and not kind[len("dask://") :].strip("/"):
        raise pytest.UsageError(f"kolena: --kolena-executor {given!r} names no scheduler: give dask://HOST:PORT")
    default = (os.cpu_count() or 1) if kind in ("processes", "dask") else 1
    return (given if kind.startswith("dask://") else kind), (workers or default)


def _number(config: pytest.Config, name: str, kind: type) -> Any:
    """An ini key of pytest's int or float type (the option of the same name first, where there is one)."""
    where = f"--{name.replace('_', '-')} / {name}" if name in _WITH_OPTION else name
    try:
        value = config.getoption(name, None) if name in _WITH_OPTION else None
        value = config.getini(name) if value is None else value
        return kind(value)
    except (TypeError, ValueError, pytest.UsageError) as error:  # pytest's own message names no key
        raise pytest.UsageError(
            f"kolena: {where}: {error}; expected a{'n integer' if kind is int else ' number'}"
        ) from None


def _columns(lines: list[str]) -> tuple[tuple[str, str], ...]:
    mapping = []
    for line in lines:
        column, _, field = line.partition("=")
        if not field.strip() or not column.strip():
            raise pytest.UsageError(f"kolena_columns: {line!r} should read 'column=field', e.g. 'points=keypoints'")
        mapping.append((column.strip(), field.strip()))
    return tuple(mapping)
