"""The inference cache: inferences kept per model name, version and suite, keyed by the test sample's id.

Each writer appends its own Parquet chunks (flushed every few seconds and at the end, also on Ctrl-C), so that
concurrent writers never touch one file and an interrupted run keeps what it inferred.
"""

from __future__ import annotations

import hashlib
import json
import time
import uuid
from typing import Any

from ._fs import filesystem, join


def model_key(name: str, version: str, suite: str) -> str:
    return hashlib.sha256(json.dumps([name, version, suite]).encode()).hexdigest()[:16]


class InferenceCache:
    """Inferences of one model version on one suite in a store: read once, then appended to in chunks."""

    def __init__(
        self,
        store_url: str,
        model_name: str,
        version: str,
        suite: str,
        decode: Any,
        storage_options: dict | None = None,
        flush_seconds: float = 2.0,
    ) -> None:
        self.fs, root = filesystem(store_url, storage_options)
        self.folder = join(root, "cache", model_key(model_name, version, suite))
        self.decode = decode  # plain dict -> Inference
        self.flush_seconds = flush_seconds
        self._known: dict[str, Any] = {}
        self._pending: list[tuple[str, str]] = []
        self._last_flush = time.monotonic()
        self.reload()

    def reload(self) -> None:
        """Read every chunk written so far (by this process or any other)."""
        import pyarrow.parquet as pq

        if not self.fs.exists(self.folder):
            return
        for path in sorted(self.fs.ls(self.folder, detail=False)):
            if not path.endswith(".parquet"):
                continue
            with self.fs.open(path, "rb") as handle:
                table = pq.read_table(handle)
            for digest, text in zip(table.column("sample").to_pylist(), table.column("inference").to_pylist()):
                self._known.setdefault(digest, text)

    def get(self, sample_id: str) -> Any | None:
        text = self._known.get(sample_id)
        return None if text is None else self.decode(json.loads(text))

    def put(self, sample_id: str, inference: Any) -> None:
        text = json.dumps(inference.to_dict())
        self._known[sample_id] = text
        self._pending.append((sample_id, text))
        if time.monotonic() - self._last_flush >= self.flush_seconds:
            self.flush()

    def flush(self) -> None:
        """Write the pending inferences as a new chunk."""
        if not self._pending:
            return
        import pyarrow as pa
        import pyarrow.parquet as pq

        digests, texts = zip(*self._pending)
        table = pa.table({"sample": list(digests), "inference": list(texts)})
        self.fs.makedirs(self.folder, exist_ok=True)
        path = join(self.folder, f"{time.time_ns()}-{uuid.uuid4().hex[:12]}.parquet")
        with self.fs.open(path, "wb") as handle:
            pq.write_table(table, handle)
        self._pending.clear()
        self._last_flush = time.monotonic()

    def __len__(self) -> int:
        return len(self._known)
