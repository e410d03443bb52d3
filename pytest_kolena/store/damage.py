"""Stored files that do not read: named with what is wrong, and never rewritten or deleted."""

from __future__ import annotations

import re
import warnings
from collections.abc import Callable
from typing import Any, TypeVar

T = TypeVar("T")


class StoreError(Exception):
    """A stored file that cannot be read: the message names it and says what is wrong."""


class StoreWarning(UserWarning):
    """A damaged stored file that a run can do without: it is left as it is, and said."""


def is_damage(error: BaseException) -> bool:
    """Whether a reader's error is about the file's content (pyarrow's own errors), not about reaching it (a
    missing file, a permission, the network: those are subclasses of OSError and propagate)."""
    import pyarrow as pa

    return isinstance(error, pa.ArrowException) or type(error) is OSError  # (pyarrow's IO errors are plain OSErrors)


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


def warn(message: str) -> None:
    """A StoreWarning: pytest shows it once in its warnings summary, however many xdist workers said it."""
    warnings.warn(StoreWarning(message), stacklevel=3)
