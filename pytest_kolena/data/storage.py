"""Where suites are stored: any fsspec URL (local folder, file://, s3://, ...), with S3 errors made readable.

A data root holds one folder per suite in the layout of the Kolena quickstart: `{root}/{suite}/meta/metadata.csv`.
"""

from __future__ import annotations

import dataclasses
import os
import posixpath
from typing import Any

from ..fs import absolute, join, protocol_of
from .errors import SuiteError

METADATA_PATH = "meta/metadata.csv"


@dataclasses.dataclass(frozen=True)
class StorageOptions:
    """How to reach object storage. Unset values come from the environment (AWS_ENDPOINT_URL, AWS_PROFILE)."""

    endpoint_url: str | None = None
    anonymous: bool = False
    profile: str | None = None
    connect_timeout: float = 3.0
    read_timeout: float = 20.0

    @classmethod
    def from_environment(cls, **overrides: Any) -> StorageOptions:
        values = {
            "endpoint_url": os.environ.get("KOLENA_S3_ENDPOINT") or os.environ.get("AWS_ENDPOINT_URL") or None,
            "anonymous": os.environ.get("KOLENA_S3_ANON", "").lower() in ("1", "true", "yes"),
            "profile": os.environ.get("AWS_PROFILE") or None,
        }
        values.update({k: v for k, v in overrides.items() if v is not None})
        return cls(**values)

    def for_protocol(self, protocol: str) -> dict[str, Any]:
        """fsspec storage options: S3 ones fail within seconds rather than retry for minutes."""
        if protocol not in ("s3", "s3a"):
            return {}
        options: dict[str, Any] = {
            "anon": self.anonymous,
            "config_kwargs": {
                "connect_timeout": self.connect_timeout,
                "read_timeout": self.read_timeout,
                "retries": {"max_attempts": 2, "mode": "standard"},
            },
        }
        if self.endpoint_url:
            options["endpoint_url"] = self.endpoint_url
        if self.profile:
            options["profile"] = self.profile
        return options


class Storage:
    """A data root and the filesystem that reaches it."""

    def __init__(self, root: str, options: StorageOptions | None = None) -> None:
        import fsspec

        self.root = str(root)
        self.root = absolute(self.root)  # locators resolved against it are absolute paths
        self.options = options or StorageOptions.from_environment()
        self.protocol = protocol_of(self.root)
        self.fs = fsspec.filesystem(self.protocol, **self.options.for_protocol(self.protocol))
        if self.protocol in ("s3", "s3a"):
            self.fs.retries = 1  # s3fs retries 5 times with backoff by default
        self.endpoint = self.options.endpoint_url or ("AWS" if self.protocol in ("s3", "s3a") else None)

    def url(self, *parts: str) -> str:
        return join(self.root, *parts)

    def _path(self, url: str) -> str:
        return self.fs._strip_protocol(url)

    def read_bytes(self, url: str) -> bytes:
        try:
            return self.fs.cat_file(self._path(url))
        except Exception as error:
            raise self.reword(error, url) from error

    def exists(self, url: str) -> bool:
        try:
            return self.fs.exists(self._path(url))
        except Exception as error:
            raise self.reword(error, url) from error

    def suites(self) -> list[str]:
        """The names of the folders under the root that hold a metadata CSV."""
        try:
            entries = self.fs.ls(self._path(self.root), detail=True)
        except FileNotFoundError:
            return []
        except Exception as error:
            raise self.reword(error, self.root) from error
        names = []
        for entry in entries:
            if entry.get("type") == "directory":
                name = posixpath.basename(entry["name"].rstrip("/"))
                if self.fs.exists(posixpath.join(entry["name"], METADATA_PATH)):
                    names.append(name)
        return sorted(names)

    def reword(self, error: Exception, url: str) -> Exception:
        """Turn a storage exception into a SuiteError that names the URL and the endpoint, with a hint."""
        if self.protocol not in ("s3", "s3a"):
            if isinstance(error, FileNotFoundError):
                return SuiteError(f"{url}: no such file")
            return SuiteError(f"{url}: {type(error).__name__}: {error}")
        text = f"{type(error).__name__}: {error}"
        endpoint = f"endpoint {self.endpoint}"
        code = _error_code(error)
        if code == "NoSuchBucket" or "bucket does not exist" in text.lower() or "NoSuchBucket" in text:
            bucket = self._path(url).split("/", 1)[0]
            return SuiteError(
                f"{url}: bucket '{bucket}' does not exist at {endpoint} (check the bucket name and the endpoint)"
            )
        if code in ("InvalidAccessKeyId", "SignatureDoesNotMatch", "AccessDenied", "403", "ExpiredToken") or isinstance(
            error, PermissionError
        ):
            return SuiteError(
                f"{url}: access refused by {endpoint} ({code or type(error).__name__}): check the credentials "
                "(AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY or AWS_PROFILE), or set KOLENA_S3_ANON=1 for a public bucket"
            )
        if isinstance(error, FileNotFoundError) or code in ("NoSuchKey", "404"):
            return SuiteError(f"{url}: no such key at {endpoint}")
        if (
            "Could not connect" in text
            or "Connect timeout" in text
            or "EndpointConnectionError" in text
            or (isinstance(error, (ConnectionError, TimeoutError, OSError)) and "connect" in text.lower())
        ):
            return SuiteError(f"{url}: cannot reach {endpoint} ({text}); check the endpoint URL and the network")
        return SuiteError(f"{url}: {endpoint} failed: {text}")


def _error_code(error: BaseException) -> str | None:
    """The S3 error code of a botocore ClientError, found through the exception chain."""
    seen = error
    while seen is not None:
        response = getattr(seen, "response", None)
        if isinstance(response, dict):
            return response.get("Error", {}).get("Code")
        seen = seen.__cause__ or seen.__context__
    return None
