"""Stored files that do not read: named with what is wrong, and never rewritten or deleted."""

from __future__ import annotations

import re
import warnings
from collections.abc import Callable
from typing import Any, TypeVar

T = TypeVar("T")
_WARNED: set[str] = set()


class StoreError(Exception):
    """A stored file that cannot be read: the message names it and says what is wrong."""


class StoreWarning(UserWarning):
    """A damaged stored file that a run can do without: it is left as it is, and said once."""


def is_damage(error: BaseException) -> bool:
    """Whether a reader's error is about the file's content (pyarrow's own errors), not about reaching it (a
    missing file, a permission, the network: those are subclasses of OSError and propagate)."""
    import pyarrow as pa

    return isinstance(error, pa.ArrowException | ValueError | KeyError) or type(error) is OSError


def read(fs: Any, path: str, reader: Callable[[Any], T]) -> T:
    """`reader(handle)` of a stored file; a StoreError naming the file and its size when its content is damaged."""
    try:
        with fs.open(path, "rb") as handle:
            return reader(handle)
    except Exception as error:
        if not is_damage(error):
            raise
        raise StoreError(damaged(fs, path, error)) from None


def damaged(fs: Any, path: str, error: BaseException | str) -> str:
    """`{path} ({size} bytes) is damaged: {what the reader said}`."""
    try:
        size = f"{fs.size(path):,} bytes"
    except Exception:  # (what matters is the path and the reader's words)
        size = "size unknown"
    said = re.sub(r"^Could not open Parquet input source '.*?': ", "", str(error).strip())  # (pyarrow's buffer)
    return f"{path} ({size}) is damaged: {said or type(error).__name__}"


def warn_once(message: str) -> None:
    """A StoreWarning, once per process for a given message."""
    if message not in _WARNED:
        _WARNED.add(message)
        warnings.warn(StoreWarning(message), stacklevel=3)
