"""A lock shared by the processes of one machine (pytest-xdist workers), so that one of them infers a model on a
suite while the others wait and then read its inferences from the cache."""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import tempfile
from collections.abc import Iterator
from pathlib import Path


@contextlib.contextmanager
def machine_lock(name: str) -> Iterator[None]:
    folder = Path(tempfile.gettempdir()) / "pytest-kolena-locks"
    folder.mkdir(exist_ok=True)
    path = folder / f"{hashlib.sha256(name.encode()).hexdigest()[:24]}.lock"
    with open(path, "a+") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)
