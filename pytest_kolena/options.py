"""Every command-line option and ini key of the plugin, in one table: `add_options` declares them from it, and
`Settings.from_config` (settings.py) reads them from it.

Loaded in every pytest run of an environment where pytest-kolena is installed: pytest and the standard library only.
"""

from __future__ import annotations

import dataclasses
import math
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any, NamedTuple

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


class Places(NamedTuple):  # (a NamedTuple, as Check: cheaper to define than a dataclass, in every pytest run)
    """The folders relative locations are read against."""

    rootdir: str
    inidir: str  # the ini file's folder (the rootdir without one)
    invocation: Path  # where pytest was started


Read = Callable[[Any, Places], Any]  # a given value (or the default) -> the Settings field's value


def as_given(value: Any, _: Places) -> Any:
    return value


class Check(NamedTuple):
    """A bad value is a UsageError: `kolena: {option} is {shown value}: {advice}`."""

    ok: Callable[[Any], bool]
    advice: str
    shown: Callable[[Any], str] = str


@dataclasses.dataclass(frozen=True, eq=False)  # (no comparisons: cheaper to define, in every pytest run)
class Option:
    """One setting: its command-line flag and/or ini key, the Settings field it fills, and how it is read.

    The flag wins over the ini key; a value that is absent, empty or an empty list counts as not given, and then
    `default` applies (it is also the ini key's declared default, unless None)."""

    field: str
    flag: str | None = None
    help: str = ""  # the flag's
    metavar: str | None = None
    action: str = "store"  # the flag's: store, append or store_true
    ini: str | None = None
    ini_type: str = "string"
    ini_help: str = ""
    default: Any = None
    read: Read = as_given
    check: Check | None = None
    is_path: Callable[[str], bool] | None = None  # a value naming a path, refused as a separate argument

    @property
    def where(self) -> str:
        """How messages name it: `--kolena-workers / kolena_workers`, `kolena_resamples`."""
        return " / ".join(name for name in (self.flag, self.ini) if name)

    @property
    def dest(self) -> str | None:
        return self.flag[2:].replace("-", "_") if self.flag else None


def _text(value: Any, _: Places) -> str:
    return str(value).strip()


def _word(value: Any, _: Places) -> str:
    return str(value).strip().lower()


def _boolean(value: Any, _: Places) -> bool:
    return bool(value)


def _integer(value: Any, _: Places) -> int:
    return int(value)


def _number(value: Any, _: Places) -> float:
    return float(value)


def _names(value: Any, _: Places) -> tuple[str, ...]:
    return tuple(value or ())


def _stripped_names(value: Any, _: Places) -> tuple[str, ...]:
    return tuple(name.strip() for name in value or () if name.strip())


def _model_names(value: Any, _: Places) -> frozenset[str] | None:
    return frozenset(value) if value else None


def _columns(lines: Any, _: Places) -> tuple[tuple[str, str], ...]:
    mapping = []
    for line in lines or ():
        column, _equals, field = line.partition("=")
        if not field.strip() or not column.strip():
            raise pytest.UsageError(f"kolena_columns: {line!r} should read 'column=field', e.g. 'points=keypoints'")
        mapping.append((column.strip(), field.strip()))
    return tuple(mapping)


def _data_root(value: Any, places: Places) -> str | None:
    return resolve_location(value, places.inidir) if value else None


def _store(value: Any, places: Places) -> str:
    return resolve_location(value, places.rootdir)


def _reports(value: Any, places: Places) -> tuple[str, ...]:
    return tuple(str(places.invocation / path) for path in value or ())


def names_files(ref: str) -> bool:
    """A baseline reference that is, or may be taken for, a path: a baseline file or folder, or any existing path."""
    return is_baseline_file(ref) or os.path.exists(ref)


def _any_path(_: str) -> bool:
    return True


def _at_least(low: int, example: int) -> Check:
    return Check(lambda value: value >= low, f"give at least {low}, e.g. {example}")


def _one_of(*words: str, advice: str = "") -> Check:
    return Check(lambda value: value in words, advice or f"give {', '.join(words[:-1])} or {words[-1]}", repr)


def _ini_count(field: str, ini_help: str, default: int, low: int, example: int) -> Option:
    """An integer ini key `kolena_{field}` with no flag, at least `low`."""
    return Option(
        field,
        ini=f"kolena_{field}",
        ini_type="int",
        ini_help=ini_help,
        default=default,
        read=_integer,
        check=_at_least(low, example),
    )


def _switch(field: str, text: str) -> Option:
    """A flag `--kolena-{field}` (dashes for underscores) whose default is the bool ini key `kolena_{field}`."""
    flag = "--kolena-" + field.replace("_", "-")
    return Option(
        field,
        flag,
        text,
        action="store_true",
        ini=f"kolena_{field}",
        ini_type="bool",
        ini_help=f"default of {flag}",
        default=False,
        read=_boolean,
    )


_ONE_OR_MORE = "give 1 or more"

OPTIONS: tuple[Option, ...] = (
    Option(
        "suites",
        "--kolena-suite",
        "run the kolena tests on this test suite (repeatable; default: the kolena_suite ini key)",
        "NAME",
        action="append",
        ini="kolena_suite",
        ini_type="args",
        ini_help="default test suites (names under the data root)",
        read=_names,
    ),
    Option(
        "data_root",
        "--kolena-data",
        "where suites live, a folder or any fsspec URL such as s3://bucket/prefix; a suite is "
        "ROOT/NAME/meta/metadata.csv (default: the kolena_data ini key)",
        "ROOT",
        ini="kolena_data",
        ini_help="default data root, relative to the ini file or a URL",
        read=_data_root,
        is_path=_any_path,
    ),
    Option(
        "stratify",
        ini="kolena_stratify",
        ini_type="linelist",
        ini_help="stratifications into test cases, one per line: 'column', 'column:width:N', 'column:quantile:N' or "
        "'column:edges:a,b,c'",
        read=_names,
    ),
    Option(
        "encoding",
        ini="kolena_encoding",
        ini_help="text encoding of the metadata CSVs (utf-8)",
        default="utf-8",
        read=_text,
    ),
    Option(
        "columns",
        ini="kolena_columns",
        ini_type="linelist",
        ini_help="CSV column to workflow field, one per line: 'points=keypoints'",
        read=_columns,
    ),
    Option("s3_endpoint", ini="kolena_s3_endpoint", ini_help="S3 endpoint URL (default: AWS_ENDPOINT_URL, else AWS)"),
    Option(
        "s3_anon",
        ini="kolena_s3_anon",
        ini_type="bool",
        ini_help="read S3 anonymously (public buckets)",
        default=False,
        read=_boolean,
    ),
    Option("s3_profile", ini="kolena_s3_profile", ini_help="AWS profile for S3 (default: AWS_PROFILE)"),
    Option(
        "models",
        "--kolena-model",
        "run only this model among those the markers bind (repeatable)",
        "NAME",
        action="append",
        read=_model_names,
    ),
    Option(
        "store",
        "--kolena-store",
        "where runs and the inference cache are kept: a folder or an fsspec URL (default: the kolena_store ini key, "
        "else .kolena in the rootdir)",
        "URL",
        ini="kolena_store",
        ini_help="default store (folder or URL)",
        default=".kolena",
        read=_store,
        is_path=_any_path,
    ),
    Option(
        "baseline",  # as given: settings.py decides whether it names files or a stored run
        "--kolena-baseline",
        "compare with a baseline: a run id, a tag (latest run), a model name (latest run), a git ref, or a "
        "baseline file (.json, or a folder/ of them)",
        "REF",
        ini="kolena_baseline",
        ini_help="default baseline reference",
        is_path=names_files,
    ),
    Option(
        "tag",
        "--kolena-tag",
        "name this run in the store (e.g. 'main'), so that later runs can use it as their baseline",
        "TAG",
    ),
    _ini_count(
        "resamples",
        "bootstrap resamples of a regression check on a metric that is not a mean of a sample metric",
        200,
        100,
        1000,
    ),
    Option(
        "error_control",
        ini="kolena_error_control",
        ini_help="correction over all regression checks of a run: bh (Benjamini-Hochberg), holm, or none",
        default="bh",
        read=_word,
        check=_one_of("bh", "holm", "none", advice="give bh (Benjamini-Hochberg), holm or none"),
    ),
    Option(
        "unjudged",
        ini="kolena_unjudged",
        ini_help="a model run that the baseline holds nothing of (a renamed test or model): fail its items, or pass "
        "them as new",
        default="fail",
        read=_word,
        check=_one_of("fail", "pass"),
    ),
    _ini_count("min_samples", "test cases with fewer paired samples are not judged as regressions", 20, 2, 20),
    _switch(  # (or discover_fail: settings.py)
        "discover",
        "after the run, search the metadata columns for slices where a model is worst or got worse than the "
        "baseline, significant only (default: the kolena_discover ini key)",
    ),
    _switch(
        "discover_fail",
        "fail the run when discovery finds a slice significantly worse than the baseline (default: report only; "
        "the kolena_discover_fail ini key); implies --kolena-discover",
    ),
    Option(
        "reports",
        "--kolena-report",
        "write a report of the run after it, in the format of the suffix: .md (also to $GITHUB_STEP_SUMMARY "
        "when set), .json (with the sample metrics), .html (self-contained; extra 'html'); repeatable",
        "PATH",
        action="append",
        read=_reports,
        is_path=_any_path,
    ),
    _switch(
        "compare",
        "open the reports with a side-by-side table of every model of the run per test case, the best of each row "
        "marked and each model checked against the first (default: the kolena_compare ini key)",
    ),
    Option(
        "update_baseline",
        "--kolena-update-baseline",
        "rewrite the --kolena-baseline file(s) with this run's results (not from a run that failed)",
        action="store_true",
        read=_boolean,
    ),
    Option(
        "force",
        "--kolena-force",
        "with --kolena-update-baseline: rewrite the baseline even from a run with failures or regressions",
        action="store_true",
        read=_boolean,
    ),
    Option(
        "reset",
        "--kolena-reset",
        "infer again instead of reading the inference cache",
        action="store_true",
        read=_boolean,
    ),
    Option(
        "confidence",
        "--kolena-confidence",
        "confidence level of the regression intervals (default: the kolena_confidence ini key, 0.95)",
        "LEVEL",
        ini="kolena_confidence",
        ini_type="float",
        ini_help="confidence level of the regression intervals",
        default=0.95,
        read=_number,
        check=Check(lambda level: 0.5 <= level < 1, "give a level in [0.5, 1), e.g. 0.95"),
    ),
    _ini_count("discover_min_size", "slice discovery: the fewest samples of a slice (30)", 30, 4, 30),
    Option(
        "discover_columns",
        ini="kolena_discover_columns",
        ini_type="linelist",
        ini_help="slice discovery: the metadata columns searched, one per line (default: the CSV columns that feed "
        "no field)",
        read=_stripped_names,
    ),
    _ini_count("discover_bins", "slice discovery: quantile bins of a numeric column (4)", 4, 2, 4),
    Option(
        "executor",  # as given: settings.py decides the kind and the workers together
        "--kolena-executor",
        "where inference runs: serial, threads, processes, dask (a local cluster) or dask://HOST:PORT (an "
        "existing cluster); default: the kolena_executor ini key, else threads with --kolena-workers above 1, else "
        "serial",
        "KIND",
        ini="kolena_executor",
        ini_help="default of --kolena-executor",
        default="",
        read=_text,
    ),
    Option(
        "workers",
        "--kolena-workers",
        "threads or processes that infer at once (default: the kolena_workers ini key; 1 for serial and "
        "threads, the CPU count for processes and dask)",
        "N",
        ini="kolena_workers",
        ini_type="int",
        ini_help="default of --kolena-workers (0: by executor)",
        default=0,
        read=_integer,
        check=Check(lambda workers: workers >= 0, _ONE_OR_MORE),
    ),
    Option(
        "batch_size",
        "--kolena-batch-size",
        "samples per call of a model's infer_batch, and per task sent to a worker (default: the "
        "kolena_batch_size ini key, 32)",
        "N",
        ini="kolena_batch_size",
        ini_type="int",
        ini_help="default of --kolena-batch-size (32)",
        default=32,
        read=_integer,
        check=Check(lambda size: size >= 1, _ONE_OR_MORE),
    ),
    Option(
        "stall_timeout",
        "--kolena-stall-timeout",
        "give up inference on threads, processes or Dask when no task finished for this long (a cluster "
        "without workers, a stuck task): its items error (default: the kolena_stall_timeout ini key, 120)",
        "SECONDS",
        ini="kolena_stall_timeout",
        ini_type="float",
        ini_help="default of --kolena-stall-timeout: seconds without a finished task before inference is given up "
        "(120)",
        default=120.0,
        read=_number,
        check=Check(
            lambda seconds: 0 < seconds < math.inf,
            "give the seconds without a finished task before inference is given up, more than 0, e.g. 120",
            lambda seconds: f"{seconds:g}",
        ),
    ),
    Option(
        "progress",
        "--kolena-progress",
        "a progress line during inference and evaluation: auto (on a terminal, not with -q), on or off",
        "WHEN",
        ini="kolena_progress",
        ini_help="default of --kolena-progress: auto, on or off",
        default="auto",
        read=_word,
        check=_one_of("auto", "on", "off"),
    ),
)


def add_options(parser: pytest.Parser) -> None:
    """Every command-line option and ini key of the plugin, from OPTIONS."""
    group = parser.getgroup("kolena", "kolena: ML model regression tests")
    for option in OPTIONS:
        if option.flag:
            shown = {} if option.action == "store_true" else {"metavar": option.metavar}
            group.addoption(
                option.flag, dest=option.dest, action=option.action, default=None, help=option.help, **shown
            )
    for option in OPTIONS:
        if option.ini:
            default = {} if option.default is None else {"default": option.default}
            parser.addini(option.ini, type=option.ini_type, help=option.ini_help, **default)
