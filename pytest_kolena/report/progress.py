"""A progress line during inference and evaluation, through pytest's own terminal reporter (its width, its
colours, its capture: the line reaches the terminal while a test's output is captured).

On a terminal the line is rewritten in place, its last state kept when done; with `--kolena-progress on` elsewhere
(a CI log), a line is written every few seconds and at the end. Quiet with -q, when not a terminal (auto), and on
pytest-xdist workers, whose output is not a terminal.
"""

from __future__ import annotations

import contextlib
import shutil
import time
from typing import Any

LOG_EVERY_S = 5.0  # not a terminal: a line at most this often
REDRAW_EVERY_S = 0.1  # a terminal: the line is redrawn at most this often


def duration(seconds: float) -> str:
    """`42 s`, `3 min 05 s`, `1 h 02 min`."""
    seconds = round(seconds)
    if seconds < 60:
        return f"{seconds} s"
    if seconds < 3600:
        return f"{seconds // 60} min {seconds % 60:02d} s"
    return f"{seconds // 3600} h {seconds % 3600 // 60:02d} min"


class ProgressLine:
    """Reports (what, done, total) of one model run: `kolena: lookup on 300-W: inference 4,096/10,000 (41%),
    2,310/s, 3 s left`."""

    def __init__(self, reporter: Any, capture: Any, in_place: bool) -> None:
        self.reporter, self.capture, self.in_place = reporter, capture, in_place
        self.label, self.nodeid = "", ""
        self._started: dict[str, tuple[float, int]] = {}  # per phase: when, and how many were done then
        self._shown = 0.0
        self._open = False  # a line of ours is on the terminal, to rewrite

    @classmethod
    def of(cls, config: Any, mode: str, is_worker: bool) -> ProgressLine | None:
        """The progress line of a session, or None where it stays quiet."""
        reporter = config.pluginmanager.get_plugin("terminalreporter")
        if mode == "off" or reporter is None or is_worker:
            return None
        tty = bool(reporter.isatty)
        if mode == "auto" and (not tty or config.get_verbosity() < 0):
            return None
        return cls(reporter, config.pluginmanager.get_plugin("capturemanager"), in_place=tty)

    def start(self, label: str, nodeid: str = "") -> None:
        """A model run begins, in the setup of the item `nodeid` (whose file name pytest has just written)."""
        self.label, self._started, self.nodeid = label, {}, nodeid

    def __call__(self, what: str, done: int, total: int) -> None:
        now = time.monotonic()
        started, done_then = self._started.setdefault(what, (now, done))  # samples from the cache count no time
        last = done >= total
        if not last and now - self._shown < (REDRAW_EVERY_S if self.in_place else LOG_EVERY_S):
            return
        self._shown = now
        elapsed = now - started
        text = f"kolena: {self.label}: {what} {done:,}/{total:,} ({100 * done // max(total, 1)}%)"
        if elapsed > 0 and done > done_then:
            rate = (done - done_then) / elapsed
            text += f", {rate:,.0f}/s" + (f", {duration((total - done) / rate)} left" if not last else "")
        self._write(text, what, last)

    def _write(self, text: str, what: str, last: bool) -> None:
        with self._uncaptured():
            if not self.in_place:
                self.reporter.ensure_newline()
                self.reporter.write_line(text)
            else:
                if not self._open:
                    self.reporter.ensure_newline()  # pytest's current line stays as it is
                    self._open = True
                self.reporter.rewrite(text[: self._width() - 1], erase=True)
                if last:  # the last state stays on its own line
                    self.reporter.write("\n")
                    self._open = False
            if last and what == "evaluation" and self.nodeid and self.reporter.verbosity <= 0:
                # the run is done (evaluation is its last phase): pytest's line of results starts again (a verbose
                # line writes its own prefix)
                self.reporter.write_fspath_result(self.nodeid, "")

    def _width(self) -> int:
        writer = getattr(self.reporter, "_tw", None)  # pytest's terminal writer knows the terminal's width
        return getattr(writer, "fullwidth", 0) or shutil.get_terminal_size().columns

    def _uncaptured(self) -> Any:
        return self.capture.global_and_fixture_disabled() if self.capture is not None else contextlib.nullcontext()
