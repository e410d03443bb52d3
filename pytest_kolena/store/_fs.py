"""One fsspec filesystem per store URL."""

from __future__ import annotations

import os
import posixpath
from typing import Any


def filesystem(url: str, storage_options: dict[str, Any] | None = None) -> tuple[Any, str]:
    """(filesystem, root path without protocol) for a folder or URL; a local folder is made absolute."""
    import fsspec

    if "://" not in url:
        url = os.path.abspath(url)
    fs, root = fsspec.core.url_to_fs(url, **(storage_options or {}))
    return fs, root.rstrip("/")


def join(*parts: str) -> str:
    return posixpath.join(*parts)
