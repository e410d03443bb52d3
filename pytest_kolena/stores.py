"""The places of a session's settings: S3 access for suites, the run store, and a model run's inference cache."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

from .data import StorageOptions
from .fs import is_url, protocol_of
from .settings import Settings


def storage_of(settings: Settings) -> StorageOptions:
    """S3 access from the ini keys, else from the environment."""
    anonymous = True if settings.s3_anon else None
    return StorageOptions.from_environment(
        endpoint_url=settings.s3_endpoint, anonymous=anonymous, profile=settings.s3_profile
    )


def store_options(settings: Settings, storage: StorageOptions | None = None) -> dict[str, Any]:
    """fsspec options of the store's URL (S3 access from the ini keys and the environment)."""
    if not is_url(settings.store):
        return {}
    return (storage or storage_of(settings)).for_protocol(protocol_of(settings.store))


def open_store(settings: Settings, storage: StorageOptions | None = None) -> Any:
    from .store import RunStore

    return RunStore(settings.store, store_options(settings, storage))


@contextlib.contextmanager
def inference_cache(settings: Settings, storage: StorageOptions, run: Any, model: Any, suite: Any) -> Iterator[None]:
    """The store's inference cache for a model run (one process of a machine infers at a time); none for a model
    without a version: it is inferred on every run, since stale inferences are worse."""
    version = model.metadata.get("version")
    if version is None:
        yield
        return
    from .store import InferenceCache
    from .store.cache import code_fingerprint
    from .store.lock import machine_lock
    from .workflow._dataobject import json_default

    with machine_lock(f"{settings.store}|{model.name}|{version}|{suite.name}"):
        decode = model.workflow.inference_type.from_dict
        options = store_options(settings, storage)
        code = code_fingerprint(model.infer) + code_fingerprint(model.infer_batch)
        run.cache = InferenceCache(
            settings.store,
            model.name,
            str(version),
            suite.name,
            decode,
            options,
            code=code,
            encode=json_default,
            kind=model.workflow.inference_type,
        )
        yield
