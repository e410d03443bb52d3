"""The run store: every run's results as Parquet, one file per run and per writer (xdist worker), append-only.

Layout: `{store}/runs/{run_id}/{writer}.parquet`. A row is one result of one test function at one level: `model`
(its metadata), `inference` (a sample's inference), `sample` (sample metrics), `case` (case metrics, plots), `suite`
(suite metrics), `item` (what an item showed: its verdict, metrics and deltas, the rows of the terminal summary);
and, once per test function and suite, under model "": `membership` (a test case's sample ids), `types` (the
workflow's data types, `module:qualname`) and, in runs that write reports, `test_sample` (a sample's test sample
and ground truth). The run's tag, time, git commit and models sit in the file's metadata, with the versions. Values
are JSON text: nothing is pickled.

A run is complete when every file of it reads and its controller's part (`main.parquet`, written last: after every
xdist worker wrote its own) is there; a file that does not read is named, and left as it is.
"""

from __future__ import annotations

import dataclasses
import json
import posixpath
from typing import Any

from ..fs import filesystem
from ..fs import join_path as join
from .damage import StoreError, read

SUITE_ROWS = ""  # the model of a suite's rows (membership, types, test samples): no model of the run
CONTROLLER = "main"  # the writer of the item rows, last of a run's writers (xdist workers are "gw0", "gw1", ...)
COLUMNS = ("level", "test", "suite", "model", "configuration", "test_case", "sample_id", "values", "extra")


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

    def __len__(self) -> int:
        return len(self.columns["level"])

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
        self, level: str, test: str, suite: str, model: str, configuration: str | None, values: dict[str, Any]
    ) -> None:
        """Rows of one level for many samples at once: `values` maps sample id -> a data object (or plain values)."""
        n = len(values)
        for name, value in (("level", level), ("test", test), ("suite", suite), ("model", model)):
            self.columns[name].extend([value] * n)
        self.columns["configuration"].extend([configuration] * n)
        self.columns["test_case"].extend([None] * n)
        self.columns["sample_id"].extend(values)
        dumps = json.JSONEncoder(default=_record_default(self.encode or _unknown)).encode
        self.columns["values"].extend([dumps(v) for v in values.values()])
        self.columns["extra"].extend([None] * n)

    def meta(self) -> dict[str, Any]:
        models = sorted(set(self.columns["model"]) - {SUITE_ROWS})
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
        """Write one writer's part of a run to its own new file; returns the file's path."""
        import pyarrow as pa
        import pyarrow.parquet as pq

        table = pa.table(record.columns, schema=pa.schema([(name, pa.string()) for name in COLUMNS]))
        table = table.replace_schema_metadata({"kolena.run": json.dumps(record.meta())})
        folder = join(self.folder, record.run_id)
        self.fs.makedirs(folder, exist_ok=True)
        path = join(folder, f"{record.writer}.parquet")
        with self.fs.open(path, "wb") as handle:
            pq.write_table(table, handle)
        return path

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
                metas.append(self._meta(path))
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
        from all its writers; a result that two writers computed counts once."""
        import pyarrow.parquet as pq

        filters = [("level", "in", list(levels))] if levels is not None else None
        seen, rows = set(), []
        for path in self._files(run_id):
            for row in read(self.fs, path, lambda handle: pq.read_table(handle, filters=filters)).to_pylist():
                row["test"] = row.get("test") or ""  # runs stored before test functions named runs
                key = tuple(row[c] for c in COLUMNS[:7])
                if key not in seen:
                    seen.add(key)
                    rows.append(row)
        return rows


def _info(run_id: str, metas: list[dict[str, Any]], problems: list[str], folder: str) -> RunInfo:
    """One run from the metadata of its files that read, and what is wrong with the others."""
    if not problems and CONTROLLER not in {meta.get("writer") for meta in metas}:
        problems = [
            f"{join(folder, CONTROLLER)}.parquet is missing: the run did not end (stopped, or crashed, before its "
            "controller wrote its part)"
        ]
    models = set().union(*(meta["models"] for meta in metas)) - {SUITE_ROWS}  # (runs written before it was left out)
    first = metas[0] if metas else {}
    time = min((meta["time"] for meta in metas), default="")
    return RunInfo(run_id, time, first.get("tag"), first.get("git_commit"), tuple(sorted(models)), "; ".join(problems))
