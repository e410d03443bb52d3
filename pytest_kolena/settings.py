"""Settings: every option and ini key of a session (the table in options.py), read once at configure, typed and
checked; a bad value or a contradiction is a UsageError naming it. The executor and the baseline kind (files or a
stored run) are decided here, once.

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
from .options import OPTIONS, Option, Places


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
    baseline_files: bool = False  # the baseline names baseline files (a .json, or a folder of them), not a stored run
    tag: str | None = None
    update_baseline: bool = False
    reports: tuple[str, ...] = ()  # --kolena-report paths, resolved against the invocation folder
    compare: bool = False  # the reports open with every model side by side
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
    verbosity: int = 0  # pytest's -v / -q

    @property
    def is_worker(self) -> bool:
        return self.writer != "main"

    @property
    def column_map(self) -> dict[str, str]:
        return dict(self.columns)

    @classmethod
    def from_config(cls, config: pytest.Config) -> Settings:
        rootdir = str(config.rootpath)
        inidir = str(config.inipath.parent) if config.inipath else rootdir
        workerinput = getattr(config, "workerinput", None) or {}
        if not workerinput:  # (a worker runs with the controller's options, checked there)
            refuse_space_form(config.invocation_params.args)
        places = Places(rootdir, inidir, config.invocation_params.dir)
        values = {option.field: _read(config, option, places) for option in OPTIONS}
        executor, workers = _executor(values["executor"], values["workers"])
        baseline, baseline_files = _baseline(values["baseline"], rootdir)
        return cls(
            **values
            | {
                "executor": executor,
                "workers": workers,
                "baseline": baseline,
                "baseline_files": baseline_files,
                "discover": values["discover"] or values["discover_fail"],
            },
            rootdir=rootdir,
            run_id=workerinput.get("kolena_run_id") or new_run_id(),
            writer=workerinput.get("workerid", "main"),
            verbosity=config.get_verbosity(),
        )

    def __post_init__(self) -> None:
        for option in OPTIONS:
            value = getattr(self, option.field)
            if option.check and not option.check.ok(value):
                raise pytest.UsageError(f"kolena: {option.where} is {option.check.shown(value)}: {option.check.advice}")
        if self.reports:
            from .report.writers import ReportError, check_path
        for path in self.reports:
            try:
                check_path(path)
            except ReportError as error:
                raise pytest.UsageError(f"kolena: --kolena-{error}") from None
        if self.update_baseline and not self.baseline_files:
            raise pytest.UsageError(
                "kolena: --kolena-update-baseline rewrites baseline files: give --kolena-baseline naming a .json "
                f"file or a folder ending in '/' (got {self.baseline or 'no baseline'})"
            )


def new_run_id() -> str:
    """A run id that sorts by time: `20261128T120102-3fa2b1c9`."""
    return datetime.datetime.now(datetime.UTC).strftime("%Y%m%dT%H%M%S-") + os.urandom(4).hex()


def refuse_space_form(args: Sequence[str]) -> None:
    """A UsageError for an option whose value is a path or URL given as a separate argument (`--kolena-report
    PATH`), on the command line or in PYTEST_ADDOPTS: pytest picks the rootdir and ini file from those arguments
    before it knows the options of plugins, takes an existing path among them for a test path, and the run then
    loses its configuration (on a rerun, once the report exists). Refused whatever the value, so that a command
    that works once works every time; `--kolena-report=PATH` is never mistaken."""
    names_path = {option.flag: option.is_path for option in OPTIONS if option.flag and option.is_path}
    for where, given in (("in PYTEST_ADDOPTS ", shlex.split(os.environ.get("PYTEST_ADDOPTS", ""))), ("", args)):
        for name, value in itertools.pairwise(given):
            if name == "--":
                break
            if name in names_path and names_path[name](value):
                raise pytest.UsageError(
                    f"kolena: {name} {value} {where}as two arguments: give {name}={value} (one argument, with '='); "
                    "pytest takes an existing path given apart for a test path, and then looks for the rootdir and "
                    "the ini file from there"
                )


_EXPECTED = {"int": "an integer", "float": "a number"}  # said when an ini key of pytest's type cannot be read


def _read(config: pytest.Config, option: Option, places: Places) -> Any:
    """The value of one option: the flag's, else the ini key's, else its default; read as the table says."""
    try:
        return option.read(_given(config, option), places)
    except (TypeError, ValueError, pytest.UsageError) as error:  # pytest's own message names no key
        if option.ini_type not in _EXPECTED:
            raise
        raise pytest.UsageError(f"kolena: {option.where}: {error}; expected {_EXPECTED[option.ini_type]}") from None


def _given(config: pytest.Config, option: Option) -> Any:
    """The flag's value, else the ini key's (asked only then), else the default; empty counts as not given."""
    if option.flag and (value := config.getoption(option.dest)) not in (None, "", []):
        return value
    if option.ini and (value := config.getini(option.ini)) not in (None, "", []):
        return value
    return option.default


EXECUTORS = ("serial", "threads", "processes", "dask")


def _executor(given: str, workers: int) -> tuple[str, int]:
    """The executor kind and its number of workers: threads when only workers are given, all CPUs for processes
    and a local Dask cluster unless told."""
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


def _baseline(given: str | None, rootdir: str) -> tuple[str | None, bool]:
    """The baseline reference and whether it names baseline files: files resolved against the rootdir, any other
    reference (a run id, a tag, a model name, a git ref) as given."""
    if given is None:
        return None, False
    local = resolve_location(given, rootdir)
    return (local, True) if is_baseline_file(local) else (given, False)
