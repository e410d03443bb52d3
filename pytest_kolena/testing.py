"""A pytester helper for projects with kolena tests (and for pytest-kolena's own tests): a kolena project in a
temporary folder, its runs, its reports, and the gate a CI job relies on, driven end to end.

    pytest_plugins = ["pytester"]

    def test_our_gate(pytester, monkeypatch):
        project = KolenaProject(pytester, data="path/to/data", suite="300-W", stratify=["occlusion"])
        project.module("test_kp", TEST_MODULE)  # a kolena test whose model the environment picks
        project.gate(
            good=lambda: monkeypatch.setenv("MODEL", "champion"),
            bad=lambda: monkeypatch.setenv("MODEL", "degraded"),
        )

`gate` checks, in real pytest runs: tag -> pass -> degrade -> REGRESSED -> update the baseline -> pass.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any

import pytest


class KolenaProject:
    """A project in a pytester folder: an ini file with the kolena keys, test modules, and pytest runs of them. It
    is its pytester too: `project.runpytest(...)`, `project.makepyfile(...)` reach pytester's own."""

    def __init__(
        self,
        pytester: pytest.Pytester,
        data: str | Path,
        suite: str | None = None,
        stratify: Iterable[str] = (),
        store: str | None = None,
        syspath: Iterable[str | Path] = (),
        **ini: str,
    ) -> None:
        """`data`: the data root; `suite`: the default suite (kolena_suite); `stratify`: kolena_stratify lines;
        `store`: kolena_store (default: .kolena in the project); `syspath`: folders the test modules import from
        (added to sys.path, in-process and in subprocesses); `ini`: more ini keys, e.g. kolena_unjudged="pass"."""
        self.pytester = pytester
        self.keys: dict[str, str] = {"kolena_data": str(data)}
        if store is not None:
            self.keys["kolena_store"] = store
        if suite is not None:
            self.keys["kolena_suite"] = suite
        if stratify:
            self.keys["kolena_stratify"] = "\n    " + "\n    ".join(stratify)
        self.keys |= ini
        self.write_ini()
        folders = [str(Path(folder).resolve()) for folder in syspath]
        for folder in folders:
            pytester.syspathinsert(folder)
        if folders:
            lines = "".join(f"sys.path.insert(0, {folder!r})\n" for folder in folders)
            pytester.makeconftest("import sys\n" + lines)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.pytester, name)

    def write_ini(self, **keys: str) -> None:
        """(Re)write the ini file, with `keys` added to or replacing the project's."""
        self.keys |= keys
        lines = [f"{key} = {value}" for key, value in self.keys.items()]
        self.pytester.makeini("\n".join(["[pytest]", *lines]) + "\n")

    def module(self, name: str, source: str) -> Path:
        """A test module of the project (`name` without .py)."""
        return self.pytester.makepyfile(**{name: source})

    def run(self, *args: str, subprocess: bool = False, **kwargs: Any) -> pytest.RunResult:
        """A pytest run of the project (no cache provider: each run stands alone)."""
        runner = self.pytester.runpytest_subprocess if subprocess else self.pytester.runpytest
        return runner("-p", "no:cacheprovider", *args, **kwargs)

    def report(self, name: str) -> dict[str, Any]:
        """A JSON report the project's runs wrote (`--kolena-report=NAME`)."""
        return json.loads((self.path / name).read_text())

    def gate(
        self, good: Callable[[], None], bad: Callable[[], None], tag: str = "main", args: Sequence[str] = ()
    ) -> None:
        """The gate of a CI job, end to end, each step's exit code checked (failing with the run's output): the good
        model stored under `tag`; against it, it passes; the bad model (`bad()` switches to it: an environment
        variable, a file) is REGRESSED and the run exits 1; accepted as the new baseline (stored under `tag`), it
        passes against it."""
        good()
        _expect(self.run(f"--kolena-tag={tag}", *args), pytest.ExitCode.OK, "the good model, stored")
        _expect(self.run(f"--kolena-baseline={tag}", *args), pytest.ExitCode.OK, "the good model against itself")
        bad()
        regressed = self.run(f"--kolena-baseline={tag}", "-v", *args)
        _expect(regressed, pytest.ExitCode.TESTS_FAILED, "the bad model against the good one")
        regressed.stdout.fnmatch_lines(["* REGRESSED*"])
        _expect(self.run(f"--kolena-tag={tag}", *args), pytest.ExitCode.OK, "the bad model accepted as the baseline")
        _expect(self.run(f"--kolena-baseline={tag}", *args), pytest.ExitCode.OK, "the bad model against itself")


def _expect(result: pytest.RunResult, code: pytest.ExitCode, step: str) -> None:
    if result.ret != code:
        output = "\n".join(result.outlines[-60:])
        raise AssertionError(f"{step}: pytest exited {result.ret!r}, expected {code!r}; its output ends:\n{output}")
