"""Load a test suite from `{root}/{suite}/meta/metadata.csv`: the complete test case plus stratified ones."""

from __future__ import annotations

import csv
import dataclasses
import io
from collections.abc import Iterable, Iterator, Sequence
from typing import Any

import numpy as np
import pandas as pd

from .._gc import no_cyclic_gc
from ..workflow._identity import LazyIndex, SampleIndex, sample_id
from ..workflow._lazy import LazyPairs
from ..workflow.test_sample import METADATA
from .errors import SuiteError, located
from .storage import METADATA_PATH, Storage, StorageOptions
from .stratify import Stratify
from .typed import ColumnMap, locator_prefix, plan, row_makers


def read_table(storage: Storage, url: str, encoding: str = "utf-8") -> pd.DataFrame:
    """The metadata CSV as a DataFrame; an empty, undecodable or malformed file, or one whose header repeats a
    column, is a SuiteError naming it."""
    data = storage.read_bytes(url)
    if not data.strip():
        raise located(url, "the file is empty")
    try:
        data.decode(encoding)  # (checked whole, not kept: pandas reads the bytes)
    except UnicodeDecodeError as error:
        line = data[: error.start].count(b"\n") + 1
        raise located(
            url,
            f"line {line} is not {encoding} (byte 0x{data[error.start]:02x}): save the file as UTF-8, or give its "
            "encoding with the kolena_encoding ini key (e.g. kolena_encoding = latin-1)",
        ) from None
    except LookupError:
        raise located(url, f"unknown encoding {encoding!r} (kolena_encoding)") from None
    header = next(csv.reader(io.StringIO(_first_line(data, encoding))), [])
    repeated = sorted({name for name in header if header.count(name) > 1})
    if repeated:
        raise located(url, f"the header repeats column(s) {', '.join(map(repr, repeated))}: each column needs one name")
    try:  # (from the bytes: a text copy in a StringIO takes four bytes a character, 0.8 GB for a 0.2 GB file)
        frame = pd.read_csv(io.BytesIO(data), encoding=encoding)
    except pd.errors.EmptyDataError:
        raise located(url, "the file is empty") from None
    except pd.errors.ParserError as error:
        raise located(url, f"not a readable CSV: {error}") from None
    if frame.empty:
        raise located(url, f"a header ({', '.join(frame.columns)}) but no rows")
    return frame


def _first_line(data: bytes, encoding: str) -> str:
    """The header line of a CSV's bytes (decoded from its start; from the whole file where the line is longer)."""
    start = data[: 1 << 16].decode(encoding, errors="ignore")
    return (start if "\n" in start else data.decode(encoding)).split("\n", 1)[0]


def _check_unique(frame: pd.DataFrame, sample_columns: list[str], url: str) -> None:
    duplicated = frame.duplicated(subset=sample_columns, keep=False).to_numpy()
    if duplicated.any():
        rows = frame.index[duplicated][:2].tolist()
        shown = ", ".join(f"{c} {frame.iloc[rows[0]][c]!r}" for c in sample_columns)
        first, second = rows[0] + 1, rows[1] + 1
        raise located(
            url, f"rows {first} and {second} (lines {first + 1} and {second + 1}) hold the same test sample ({shown})"
        )


def load_suite(
    workflow: Any,
    name: str,
    root: str,
    *,
    columns: ColumnMap | None = None,
    stratify: Sequence[Stratify | str] = (),
    options: StorageOptions | None = None,
    encoding: str = "utf-8",
) -> Any:
    """Build the workflow's TestSuite `name` from the metadata CSV under `root` (a folder or any fsspec URL).

    Test cases: "{name} :: basic" with every row, then one per stratum of each `stratify` entry.
    """
    storage = Storage(root, options)
    url = storage.url(name, METADATA_PATH)
    if not storage.exists(url):
        available = storage.suites()
        listing = ", ".join(available) if available else "none"
        raise SuiteError(f"suite '{name}' not found: {url} does not exist; suites under {storage.root}: {listing}")
    frame = read_table(storage, url, encoding)
    header = [str(c) for c in frame.columns]
    sources = plan(workflow.test_sample_type, workflow.ground_truth_type, header, dict(columns or {}), url)
    sample_columns = sorted({c for s in sources if s.owner is workflow.test_sample_type for c in s.columns})
    if sample_columns:
        _check_unique(frame, sample_columns, url)
    specs = [Stratify.parse(spec) if isinstance(spec, str) else spec for spec in stratify]
    with no_cyclic_gc():
        make_samples, make_truths = row_makers(
            workflow.test_sample_type, workflow.ground_truth_type, frame, sources, url, storage.url(name)
        )
        pairs = LazyPairs(make_samples, make_truths, len(frame))
        test_case = workflow.test_case_type
        cases = [test_case._of_rows(f"{name} :: basic", pairs, np.arange(len(frame)))]  # rows checked distinct
        for spec in specs:
            for label, rows in spec.split(frame, url):
                cases.append(test_case._of_rows(f"{name} :: {label}", pairs, np.asarray(rows, dtype=np.int64)))
        suite = workflow.test_suite_type(name, test_cases=cases)
        prefix = locator_prefix(storage.url(name))
        LazyIndex(pairs, sample_ids(pairs, prefix), prefix).attach(suite)
    used = {c for s in sources for c in s.columns}
    suite._metadata_table = MetadataTable(frame, url, [c for c in header if c not in used])
    return suite


def sample_ids(pairs: LazyPairs, prefix: str) -> list[str]:
    """The id of every row's test sample (`sample_id`): each made here (so a test sample its type refuses is an error
    naming its row at load) and held until the first run takes them. Ground truths are made when an evaluator asks
    for them: their columns were checked as they were parsed."""
    samples = pairs.test_samples(range(pairs.n_rows))
    pairs.hold(samples)
    return [sample_id(sample, prefix) for sample in samples]


@dataclasses.dataclass(frozen=True)
class MetadataTable:
    """The metadata CSV a suite was loaded from, its rows in the suite's sample order, and the columns that feed no
    field of the test sample or ground truth (what slice discovery searches)."""

    frame: pd.DataFrame
    url: str
    metadata_columns: list[str]


def metadata_table(suite: Any) -> MetadataTable | None:
    """The table a loaded suite came from (None for a suite built in Python)."""
    return getattr(suite, "_metadata_table", None)


def list_suites(root: str, options: StorageOptions | None = None) -> list[str]:
    """The suites under a data root: folders holding `meta/metadata.csv`."""
    return Storage(root, options).suites()


def with_metadata(suite: Any, chunks: Iterable[tuple[list[str], list[Any], list[Any]]]) -> Iterator[tuple[Any, ...]]:
    """The chunks of a loaded suite's samples in row order (`suite_samples`), each with its rows' metadata (the
    columns that feed no field, a dict per row) where the test sample keeps no `metadata` field of its own; other
    chunks as they are."""
    table = metadata_table(suite)
    kept = table is not None and table.metadata_columns and METADATA not in _fields(suite.workflow.test_sample_type)
    kept = kept and isinstance(SampleIndex.of(suite), LazyIndex)  # (its samples are the table's rows, in order)
    start = 0
    for chunk in chunks:
        if not kept:
            yield chunk
            continue
        rows = table.frame.iloc[start : start + len(chunk[0])][table.metadata_columns]  # type: ignore[union-attr]
        yield (*chunk, rows.to_dict("records"))
        start += len(chunk[0])


def _fields(kind: type) -> set[str]:
    return {f.name for f in dataclasses.fields(kind)} if dataclasses.is_dataclass(kind) else set()
