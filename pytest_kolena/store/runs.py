"""The run store: every run's results as Parquet, one file per run and per writer (xdist worker), append-only.

Layout: `{store}/runs/{run_id}/{writer}.parquet` and, for what is kept per sample or test case, one file per block:
`{writer}.{level}.{k}.parquet`. A row is one result of one test function at one level: `model` (its metadata),
`inference` (a sample's inference), `sample` (sample metrics), `case` (case metrics, plots), `suite` (suite
metrics), `item` (what an item showed: its verdict, metrics and deltas, the rows of the terminal summary); and, once
per test function and suite, under model "": `membership` (a test case's sample ids), `types` (the workflow's data
types, `module:qualname`) and, in runs that write reports, `test_sample` (a sample's test sample and ground truth).
The run's tag, time, git commit and models sit in every file's metadata, with the versions. Nothing is pickled.

The per-sample levels (inference, sample, test_sample) and the case metrics are typed columns (`columns.py`: a
keypoint's points a `list<list<double>>`, a metric a `double`) in a `value` column keyed by `sample_id` or
`test_case`, a block per test function, model and configuration, beside constant columns naming it (`run_id`,
`level`, `test`, `suite`, `model`, `configuration`), so that pandas or DuckDB read a run without parsing text; the
other rows hold their values as JSON text. Runs stored before blocks (every row JSON text) read the same.

A run is complete when every file of it reads and its controller's part (`main.parquet`, written last: after every
xdist worker wrote its own) is there; a file that does not read is named, and left as it is.
"""

from __future__ import annotations

import dataclasses
import json
import posixpath
from collections.abc import Iterable
from typing import Any

from ..fs import filesystem
from ..fs import join_path as join
from .columns import decode, encode
from .damage import StoreError, read

SUITE_ROWS = ""  # the model of a suite's rows (membership, types, test samples): no model of the run
CONTROLLER = "main"  # the writer of the item rows, last of a run's writers (xdist workers are "gw0", "gw1", ...)
COLUMNS = ("level", "test", "suite", "model", "configuration", "test_case", "sample_id", "values", "extra")
PLACE = ("level", "test", "suite", "model", "configuration")  # what names a block
SAMPLE_LEVELS = (
    "test_sample",
    "inference",
    "sample",
    "baseline",
    "baseline_inference",
)  # the levels of a value per sample


def _unknown(value: Any) -> Any:
    raise TypeError(type(value).__name__)


def _record_default(default: Any) -> Any:
    """What the run record writes of a value JSON does not know: a data object's fields, else its text (as rows
    written one by one do, with default=str)."""

    def encode(value: Any) -> Any:
        try:
            return default(value)
        except TypeError:
            return str(value)

    return encode


@dataclasses.dataclass
class Block:
    """The values of one level for many samples (or test cases), of one test function, suite, model and
    configuration; `extra`, per value, what else a row keeps (JSON text)."""

    place: tuple[str, str, str, str, str | None]  # PLACE
    ids: list[str]
    values: list[Any]  # (or, encoded already, the column and its field's metadata)
    key: str = "sample_id"  # or "test_case"
    extra: list[Any] | None = None


@dataclasses.dataclass
class TypedBlock:
    """A block as read: what names it (PLACE), its sample ids (or test cases: `key`), its `value` column and that
    column's field, and what else each row keeps (`extras`, JSON text)."""

    place: dict[str, Any]
    ids: list[str]
    column: Any  # pyarrow Array
    field: Any  # pyarrow Field
    key: str = "sample_id"
    extras: list[str | None] | None = None

    def rows(self) -> list[dict[str, Any]]:
        """The block as rows, their values decoded."""
        values = decode(self.column, self.field)
        extras = self.extras or [None] * len(values)
        return [
            self.place
            | {"test_case": None, "sample_id": None, self.key: name, "values": value}
            | {"extra": json.loads(extra) if extra else None}
            for name, value, extra in zip(self.ids, values, extras)
        ]


@dataclasses.dataclass
class RunRecord:
    """One writer's part of a run."""

    run_id: str
    writer: str
    time: str
    tag: str | None = None
    git_commit: str | None = None
    versions: dict[str, str] = dataclasses.field(default_factory=dict)
    columns: dict[str, list[Any]] = dataclasses.field(default_factory=lambda: {name: [] for name in COLUMNS})
    encode: Any = None  # JSON's `default` for the values it does not know (the workflow's data objects): handed in
    blocks: list[Block] = dataclasses.field(default_factory=list)

    def __len__(self) -> int:
        return len(self.columns["level"]) + sum(len(block.ids) for block in self.blocks)

    def add(
        self,
        level: str,
        test: str,
        suite: str,
        model: str,
        values: Any,
        configuration: str | None = None,
        test_case: str | None = None,
        sample_id: str | None = None,
        extra: Any = None,
    ) -> None:
        extra_text = json.dumps(extra, default=str) if extra is not None else None
        row = (
            level,
            test,
            suite,
            model,
            configuration,
            test_case,
            sample_id,
            json.dumps(values, default=str),
            extra_text,
        )
        for name, value in zip(COLUMNS, row):
            self.columns[name].append(value)

    def add_samples(
        self,
        level: str,
        test: str,
        suite: str,
        model: str,
        configuration: str | None,
        values: dict[str, Any],
        encoded: bool = False,
    ) -> None:
        """Rows of one level for many samples at once: `values` maps sample id -> a data object (or plain values);
        stored as typed columns, `encoded` now (the values need not be held until the record is written)."""
        if values:
            self.add_block((level, test, suite, model, configuration), list(values), list(values.values()), encoded)

    def add_block(
        self, place: tuple[str, str, str, str, str | None], ids: list[str], values: Any, encode_now: bool = False
    ) -> None:
        """A block of rows (PLACE: level, test, suite, model, configuration): the samples' ids and their values, or
        their column encoded already (a tuple: the column and its field's metadata)."""
        if ids:
            block = Block(place, ids, values)
            if encode_now and not isinstance(values, tuple):
                block.values = encode(values, self.default())  # type: ignore[assignment]
            self.blocks.append(block)

    def add_cases(
        self, test: str, suite: str, model: str, configuration: str, metrics: dict[str, Any], extra: list[Any]
    ) -> None:
        """The case metrics of one configuration, by test case, and each case's `extra` (its plots)."""
        place = ("case", test, suite, model, configuration)
        self.blocks.append(Block(place, list(metrics), list(metrics.values()), "test_case", extra))

    def default(self) -> Any:
        """JSON's `default` for what the columns keep as text."""
        return _record_default(self.encode or _unknown)

    def meta(self) -> dict[str, Any]:
        models = sorted((set(self.columns["model"]) | {block.place[3] for block in self.blocks}) - {SUITE_ROWS})
        return {
            "run_id": self.run_id,
            "writer": self.writer,
            "time": self.time,
            "tag": self.tag,
            "git_commit": self.git_commit,
            "versions": self.versions,
            "models": models,
        }


@dataclasses.dataclass(frozen=True)
class RunInfo:
    """A stored run's metadata; `problem` says why it is incomplete (a file that does not read, no controller's
    part), empty when it is complete. What its files do not tell (all damaged) is empty."""

    run_id: str
    time: str
    tag: str | None
    git_commit: str | None
    models: tuple[str, ...]
    problem: str = ""

    @property
    def complete(self) -> bool:
        return not self.problem


class RunStore:
    """Runs under `{store}/runs/`."""

    def __init__(self, url: str, storage_options: dict | None = None) -> None:
        self.url = url
        self.fs, root = filesystem(url, storage_options)
        self.folder = join(root, "runs")

    def write(self, record: RunRecord) -> str:
        """Write one writer's part of a run to new files of its own: its blocks of samples, then its rows (the file
        that says the part is there); returns the rows file's path."""
        import pyarrow as pa

        folder = join(self.folder, record.run_id)
        self.fs.makedirs(folder, exist_ok=True)
        meta = {b"kolena.run": json.dumps(record.meta()).encode()}
        default = record.default()
        for k, block in enumerate(record.blocks):
            value, metadata = block.values if isinstance(block.values, tuple) else encode(block.values, default)
            n = len(block.ids)
            constants = dict(zip(PLACE, block.place)) | {"run_id": record.run_id}
            columns = {name: _constant(text, n) for name, text in constants.items()}
            fields = [pa.field(name, column.type) for name, column in columns.items()]
            columns |= {block.key: pa.array(block.ids, pa.string()), "value": value}
            fields += [pa.field(block.key, pa.string()), pa.field("value", value.type, metadata=metadata)]
            if block.extra is not None:
                columns["extra"] = pa.array([json.dumps(e, default=default) for e in block.extra], pa.string())
                fields.append(pa.field("extra", pa.string()))
            table = pa.Table.from_arrays(list(columns.values()), schema=pa.schema(fields, metadata=meta))
            self._put(join(folder, f"{record.writer}.{block.place[0]}.{k}.parquet"), table)
        table = pa.table(record.columns, schema=pa.schema([(name, pa.string()) for name in COLUMNS]))
        path = join(folder, f"{record.writer}.parquet")
        self._put(path, table.replace_schema_metadata(meta))
        return path

    def _put(self, path: str, table: Any) -> None:
        import pyarrow.parquet as pq

        with self.fs.open(path, "wb") as handle:
            pq.write_table(table, handle)

    def has(self, run_id: str) -> bool:
        return bool(self._files(run_id))

    def _files(self, run_id: str | None = None) -> list[str]:
        folder = self.folder if run_id is None else join(self.folder, run_id)
        if not self.fs.exists(folder):
            return []
        pattern = join(folder, "*.parquet") if run_id else join(folder, "*", "*.parquet")
        return sorted(self.fs.glob(pattern))

    def info(self, run_id: str) -> RunInfo:
        """One run's metadata (its files only); a KeyError naming the store if it has no such run."""
        found = self._infos(self._files(run_id))
        if not found:
            raise KeyError(f"no run {run_id!r} in the store {self.url}")
        return found[0]

    def runs(self) -> list[RunInfo]:
        """Every run in the store, oldest first."""
        return self._infos(self._files())

    def _infos(self, paths: list[str]) -> list[RunInfo]:
        """The runs of the files, each from the metadata of its files that read; unknown times sort first."""
        found: dict[str, tuple[list[dict[str, Any]], list[str]]] = {}
        for path in paths:
            metas, problems = found.setdefault(posixpath.basename(posixpath.dirname(path)), ([], []))
            try:
                metas.append(self._meta(path) | {"rows": not _is_block(path)})
            except StoreError as error:
                problems.append(str(error))
        infos = [
            _info(run_id, metas, problems, join(self.folder, run_id)) for run_id, (metas, problems) in found.items()
        ]
        return sorted(infos, key=lambda info: info.time)

    def _meta(self, path: str) -> dict[str, Any]:
        """The run metadata of one file (a StoreError when the file is damaged)."""
        import pyarrow.parquet as pq

        metadata = read(self.fs, path, pq.read_schema).metadata or {}
        try:
            return json.loads(metadata[b"kolena.run"])
        except (KeyError, ValueError) as error:
            problem = "no kolena.run metadata" if isinstance(error, KeyError) else f"its kolena.run metadata: {error}"
            raise StoreError(f"{path} is no run file of pytest-kolena: {problem}") from None

    def rows(self, run_id: str, levels: tuple[str, ...] | None = None) -> list[dict[str, Any]]:
        """The rows of a run (of the given `levels` only: e.g. `("slices",)`, without reading the others' values),
        from all its writers, their `values` and `extra` decoded; a result that two writers computed counts once."""
        return _once(row for path in self._files(run_id) for row in self._read_rows(path, levels))

    def read(self, run_id: str) -> tuple[list[dict[str, Any]], list[TypedBlock]]:
        """A run's rows, but those of its samples' blocks, and those blocks as typed columns (a run stored before
        blocks: every row, and no block)."""
        paths = self._files(run_id)
        samples = [path for path in paths if _level_of(path) in SAMPLE_LEVELS]
        rows = _once(row for path in paths if path not in samples for row in self._read_rows(path, None))
        return rows, [self._block(path) for path in samples]

    def _block(self, path: str) -> TypedBlock:
        import pyarrow.parquet as pq

        table = read(self.fs, path, pq.read_table)
        key = "test_case" if "test_case" in table.column_names else "sample_id"
        return TypedBlock(
            {c: table.column(c)[0].as_py() if table.num_rows else None for c in PLACE},
            table.column(key).to_pylist(),
            table.column("value").combine_chunks(),
            table.schema.field("value"),
            key,
            table.column("extra").to_pylist() if "extra" in table.column_names else None,
        )

    def _read_rows(self, path: str, levels: tuple[str, ...] | None) -> list[dict[str, Any]]:
        import pyarrow.parquet as pq

        if _is_block(path):
            return self._block(path).rows() if levels is None or _level_of(path) in levels else []
        filters = [("level", "in", list(levels))] if levels is not None else None
        rows = read(self.fs, path, lambda handle: pq.read_table(handle, filters=filters)).to_pylist()
        for row in rows:
            row["test"] = row.get("test") or ""  # runs stored before test functions named runs
            row["values"] = json.loads(row["values"]) if row["values"] else None
            row["extra"] = json.loads(row["extra"]) if row["extra"] else None
        return rows


def _once(rows: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    """The rows, a result that two writers computed once (by level, test, suite, model, configuration, test case
    and sample)."""
    seen, kept = set(), []
    for row in rows:
        key = tuple(row[c] for c in COLUMNS[:7])
        if key not in seen:
            seen.add(key)
            kept.append(row)
    return kept


def _level_of(path: str) -> str | None:
    """The level of a block's file (None for a writer's rows)."""
    return posixpath.basename(path).split(".")[1] if _is_block(path) else None


def _is_block(path: str) -> bool:
    """Whether a run's file is a block of samples (`{writer}.{level}.{k}.parquet`), not a writer's rows."""
    return posixpath.basename(path).count(".") == 3


def _constant(text: str | None, n: int) -> Any:
    """A column of one value, dictionary-encoded (a few bytes in the file whatever `n`)."""
    import numpy as np
    import pyarrow as pa

    indices = pa.array(np.zeros(n, np.int32), mask=np.full(n, text is None))
    return pa.DictionaryArray.from_arrays(indices, pa.array([text or ""], pa.string()))


def _info(run_id: str, metas: list[dict[str, Any]], problems: list[str], folder: str) -> RunInfo:
    """One run from the metadata of its files that read, and what is wrong with the others."""
    if not problems and CONTROLLER not in {meta.get("writer") for meta in metas if meta["rows"]}:
        problems = [
            f"{join(folder, CONTROLLER)}.parquet is missing: the run did not end (stopped, or crashed, before its "
            "controller wrote its part)"
        ]
    models = set().union(*(meta["models"] for meta in metas)) - {SUITE_ROWS}  # (runs written before it was left out)
    first = metas[0] if metas else {}
    time = min((meta["time"] for meta in metas), default="")
    return RunInfo(run_id, time, first.get("tag"), first.get("git_commit"), tuple(sorted(models)), "; ".join(problems))
