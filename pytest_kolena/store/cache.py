"""The inference cache: inferences kept per model name, version and suite, keyed by the test sample's id, each
with a fingerprint of the model's infer code: an inference made by other code is not served (a model whose code
changed while its `version` did not is inferred again, and the run says so).

Each writer appends its own Parquet chunks (flushed every few seconds and at the end, also on Ctrl-C), so that
concurrent writers never touch one file and an interrupted run keeps what it inferred. A chunk that does not read is
said once and its samples are inferred again. A chunk's inferences are typed columns (`columns.py`), read back in
bulk (`get_many`) as a run asks for all its samples at once; chunks written before hold JSON text, read the same.
"""

from __future__ import annotations

import hashlib
import json
import time
import uuid
from typing import Any

from ..fs import filesystem
from ..fs import join_path as join
from .columns import decode as plain_values
from .columns import encode
from .damage import StoreError, damaged, read, warn


def code_fingerprint(function: Any) -> str:
    """A digest of the code of `function` (and of the functions and lambdas it defines): its bytecode, constants
    and names. What a closure captured (weights, a shape) is not code: give the model a new `version` for that."""
    code = getattr(function, "__code__", None) or getattr(type(function).__call__, "__code__", None)
    if code is None:
        return ""
    digest = hashlib.blake2b(digest_size=8)

    def add(code: Any) -> None:
        digest.update(code.co_code)
        digest.update(repr(code.co_names).encode())
        for constant in code.co_consts:
            if hasattr(constant, "co_code"):
                add(constant)
            else:
                digest.update(repr(constant).encode())

    add(code)
    return digest.hexdigest()


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
        code: str = "",
        encode: Any = None,
        kind: type | None = None,
    ) -> None:
        """`decode`: a plain dict -> an Inference; `encode`: JSON's `default` for what it does not know (the
        workflow's data objects); `kind`: the inference type, whose `_from_column` makes a typed chunk's inferences
        from its columns directly."""
        self.fs, root = filesystem(store_url, storage_options)
        self.folder = join(root, "cache", model_key(model_name, version, suite))
        self.decode = decode  # plain dict -> Inference
        self.kind = kind
        self.encode = encode
        self.code = code  # the fingerprint of the model's infer code; other code's inferences are not served
        self.ignored = 0  # cached inferences made by other code
        self.flush_seconds = flush_seconds
        self._chunks: list[tuple[Any, Any]] = []  # (the inference column, its field) of each chunk read
        self._where: dict[str, tuple[int, int]] = {}  # sample id -> (chunk, row), served first
        self._fresh: dict[str, Any] = {}  # inferences put by this process
        self._pending: list[tuple[str, Any]] = []
        self._read: set[str] = set()  # the chunks read (a later reload reads only the new ones)
        self._last_flush = time.monotonic()
        self.reload()

    def reload(self) -> None:
        """Read every chunk written so far (by this process or any other)."""
        import pyarrow.parquet as pq

        if not self.fs.exists(self.folder):
            return
        for path in sorted(self.fs.ls(self.folder, detail=False)):
            if not path.endswith(".parquet") or path in self._read:
                continue
            self._read.add(path)
            try:
                table = read(self.fs, path, pq.read_table)
                if not {"sample", "inference"} <= set(table.column_names):
                    raise StoreError(damaged(self.fs, path, f"no sample and inference columns: {table.column_names}"))
            except StoreError as error:  # its samples are inferred again, into new chunks
                warn(
                    f"kolena: inference cache file {error}; its inferences are made again (the file is left "
                    "as it is: delete it to stop this warning)"
                )
                continue
            chunk = len(self._chunks)
            self._chunks.append((table.column("inference"), table.schema.field("inference")))
            codes = table.column("code").to_pylist() if "code" in table.column_names else [""] * table.num_rows
            for row, (sample, code) in enumerate(zip(table.column("sample").to_pylist(), codes)):
                if code == self.code:
                    self._where.setdefault(sample, (chunk, row))
                else:
                    self.ignored += 1

    def get(self, sample_id: str) -> Any | None:
        return self.get_many([sample_id])[0]

    def get_many(self, sample_ids: list[str]) -> list[Any | None]:
        """The cached inference of each sample (None where there is none), each chunk's read at once."""
        out: list[Any] = [self._fresh.get(sample_id) for sample_id in sample_ids]
        for chunk, places in self._by_chunk(sample_ids).items():
            column, field = self._chunks[chunk]
            taken = column.take([row for _, row in places]).combine_chunks()
            if _json_text(field):  # (a chunk written before the typed columns)
                made = [self.decode(None if text is None else json.loads(text)) for text in taken.to_pylist()]
            else:
                made = (
                    self.kind._from_column(taken, field)
                    if self.kind is not None
                    else [self.decode(value) for value in plain_values(taken, field)]
                )
            for (index, _), inference in zip(places, made):
                out[index] = inference
        return out

    def get_encoded(self, sample_ids: list[str]) -> list[tuple[list[int], Any, Any]]:
        """The cached inferences of typed chunks as they are stored, each chunk's at once: (the indexes into
        `sample_ids` found, their column, its field metadata); for a holder of inferences as columns (no object
        made and encoded again). Inferences put by this process, and chunks of JSON text, are left to `get_many`."""
        if self.kind is None:
            return []
        out = []
        for chunk, places in self._by_chunk(sample_ids).items():
            column, field = self._chunks[chunk]
            if field.metadata is None and _is_struct(field):
                taken = column.take([row for _, row in places]).combine_chunks()
                out.append(([index for index, _ in places], taken, None))
        return out

    def _by_chunk(self, sample_ids: list[str]) -> dict[int, list[tuple[int, int]]]:
        """The samples served from read or written chunks (not those put and not yet written), by chunk: (index
        into `sample_ids`, row)."""
        wanted: dict[int, list[tuple[int, int]]] = {}
        for index, sample_id in enumerate(sample_ids):
            where = self._where.get(sample_id) if sample_id not in self._fresh else None
            if where is not None:
                wanted.setdefault(where[0], []).append((index, where[1]))
        return wanted

    def put(self, sample_id: str, inference: Any) -> None:
        self._fresh[sample_id] = inference
        self._pending.append((sample_id, inference))
        if time.monotonic() - self._last_flush >= self.flush_seconds:
            self.flush()

    def flush(self) -> None:
        """Write the pending inferences as a new chunk."""
        if not self._pending:
            return
        import pyarrow as pa
        import pyarrow.parquet as pq

        samples, inferences = zip(*self._pending)
        column, metadata = encode(list(inferences), self.encode)
        table = pa.Table.from_arrays(
            [pa.array(samples, pa.string()), column, pa.array([self.code] * len(samples), pa.string())],
            schema=pa.schema(
                [("sample", pa.string()), pa.field("inference", column.type, metadata=metadata), ("code", pa.string())]
            ),
        )
        self.fs.makedirs(self.folder, exist_ok=True)
        path = join(self.folder, f"{time.time_ns()}-{uuid.uuid4().hex[:12]}.parquet")
        with self.fs.open(path, "wb") as handle:
            pq.write_table(table, handle)
        self._read.add(path)
        chunk = len(self._chunks)  # served from the written column from now on, not kept as objects
        self._chunks.append((table.column("inference"), table.schema.field("inference")))
        for row, sample_id in enumerate(samples):
            self._where[sample_id] = (chunk, row)
            self._fresh.pop(sample_id, None)
        self._pending.clear()
        self._last_flush = time.monotonic()

    def __len__(self) -> int:
        return len(self._where.keys() | self._fresh.keys())


def _is_struct(field: Any) -> bool:
    import pyarrow as pa

    return pa.types.is_struct(field.type)


def _json_text(field: Any) -> bool:
    """Whether a chunk's inference column is JSON text without a mark: a chunk written before the typed columns."""
    import pyarrow as pa

    return pa.types.is_string(field.type) and not field.metadata
