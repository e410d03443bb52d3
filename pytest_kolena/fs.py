"""URLs and filesystems: the one place that knows "://". A location is a local path or an fsspec URL (`s3://bucket/
prefix`); fsspec itself is imported only when a filesystem is opened, so that the options can use this module in
every pytest run."""

from __future__ import annotations

import os
import posixpath
from pathlib import Path
from typing import Any


def is_url(location: str) -> bool:
    """Whether a location names its protocol (`s3://...`, `file://...`) rather than being a local path."""
    return "://" in location


def protocol_of(location: str) -> str:
    """`s3` of `s3://bucket/key`; `file` of a local path."""
    return location.split("://", 1)[0] if is_url(location) else "file"


def address_of(location: str) -> str:
    """What follows the protocol: `bucket/key` of `s3://bucket/key`; a local path as it is."""
    return location.split("://", 1)[1] if is_url(location) else location


def join(root: str, *parts: str) -> str:
    """Parts joined onto a root that is a local path (the platform's separator) or a URL (`/`)."""
    if not is_url(root):
        return os.path.join(root, *parts)
    return posixpath.join(root.rstrip("/"), *parts)


def absolute(location: str) -> str:
    """A URL as it is; a local path made absolute."""
    return location if is_url(location) else os.path.abspath(location)


def resolve_location(value: str, base: str | Path) -> str:
    """A URL or an absolute path as it is; a relative path joined to `base` (a trailing '/' kept)."""
    if is_url(value) or os.path.isabs(value):
        return value
    joined = os.path.join(str(base), value)
    return joined + os.sep if value.endswith(("/", os.sep)) and not joined.endswith(os.sep) else joined


def is_baseline_file(ref: str) -> bool:
    """A baseline reference that names files (a .json file, or a folder of them) rather than a stored run."""
    return ref.endswith(".json") or ref.endswith(("/", os.sep)) or os.path.isdir(ref)


def filesystem(location: str, storage_options: dict[str, Any] | None = None) -> tuple[Any, str]:
    """(fsspec filesystem, root path without its protocol) of a folder or URL; a local folder made absolute."""
    import fsspec

    fs, root = fsspec.core.url_to_fs(absolute(location), **(storage_options or {}))
    return fs, root.rstrip("/")


def join_path(*parts: str) -> str:
    """Parts of a path inside a filesystem (no protocol): always `/`."""
    return posixpath.join(*parts)
