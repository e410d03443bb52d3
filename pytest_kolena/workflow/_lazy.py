"""The (test sample, ground truth) pairs of a loaded suite, made from its columns when code asks for them.

A loaded suite keeps its fields as columns (`data/typed.py`), not as an object per sample: its test samples are
made for inference a batch at a time, its ground truths for evaluation, and both are let go once nobody holds them.
While one is held, asking for its row again gives the same object (a weak reference per row), so that the samples
of two test cases, a run's results and an evaluator's answer still match by identity.
"""

from __future__ import annotations

import itertools
import weakref
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from typing import TYPE_CHECKING, Any

from ..engine.failure import RowsRefusedError

if TYPE_CHECKING:
    import numpy as np

Maker = Callable[["np.ndarray"], list[Any]]  # rows -> their objects
BLOCK = 1024  # a row asked for alone is made with the rows of its block, kept made for the next ones asked
KEPT_BLOCKS = 4  # blocks kept so, per kind


class LazyPairs:
    """The test samples and ground truths of a table's rows, made by `make_samples` / `make_truths` when asked for."""

    def __init__(self, make_samples: Maker, make_truths: Maker, n_rows: int) -> None:
        self._makers = (make_samples, make_truths)
        self._alive: tuple[list[Any], list[Any]] = ([None] * n_rows, [None] * n_rows)  # weak references, by row
        self._row_of: dict[int, int] = {}  # id() of a test sample made here -> its row (checked against _alive)
        self._made_id: list[int | None] = [None] * n_rows  # the id() of each row's last test sample (one entry a row)
        self._held: list[Any] | None = None  # test samples kept made until a run takes them (`hold`)
        self._recent: tuple[deque, deque] = (deque(maxlen=KEPT_BLOCKS), deque(maxlen=KEPT_BLOCKS))
        self.n_rows = n_rows

    def hold(self, test_samples: list[Any]) -> None:
        """Keep these test samples (made at load for their ids) made until the first run takes them: one run of a
        loaded suite makes each test sample once."""
        self._held = test_samples

    def release(self) -> None:
        self._held = None

    def prune(self) -> None:
        """Forget the objects made here that are gone (their weak references and id entries, an object or two per
        row made): between runs a suite keeps its columns and what is still held."""
        for refs in self._alive:
            refs[:] = [ref if ref is not None and ref() is not None else None for ref in refs]
        alive, made = self._alive[0], self._made_id
        self._made_id = [m if ref is not None else None for m, ref in zip(made, alive)]
        self._row_of = {m: row for row, m in enumerate(self._made_id) if m is not None}

    def test_samples(self, rows: Sequence[int] | np.ndarray) -> list[Any]:
        return self._take(0, rows)

    def ground_truths(self, rows: Sequence[int] | np.ndarray) -> list[Any]:
        return self._take(1, rows)

    def pairs(self, rows: Sequence[int] | np.ndarray) -> list[tuple[Any, Any]]:
        return list(zip(self.test_samples(rows), self.ground_truths(rows)))

    def row_of(self, test_sample: Any) -> int | None:
        """The row of a test sample made here and still alive (None for any other object)."""
        row = self._row_of.get(id(test_sample))
        if row is None:
            return None
        ref = self._alive[0][row]
        return row if ref is not None and ref() is test_sample else None

    def _take(self, which: int, rows: Sequence[int] | np.ndarray) -> list[Any]:
        rows = rows.tolist() if hasattr(rows, "tolist") else list(rows)
        refs = self._alive[which]
        out = [ref() if (ref := refs[row]) is not None else None for row in rows]
        missing = [k for k, found in enumerate(out) if found is None]
        if missing:
            import numpy as np  # (not at import: the plugin loads without NumPy)

            wanted = [rows[k] for k in missing]
            if len(rows) == 1:  # (one at a time, as a loop over a run's results asks: its block at once)
                start = rows[0] - rows[0] % BLOCK
                wanted = [r for r in range(start, min(start + BLOCK, self.n_rows)) if _dead(refs[r])]
            made = self._makers[which](np.array(wanted, dtype=np.int64))
            by_row = dict(zip(wanted, made))
            for row, obj in by_row.items():
                refs[row] = weakref.ref(obj)
                if which == 0:
                    self._remember(row, obj)
            for k in missing:
                out[k] = by_row[rows[k]]
            if len(rows) == 1:
                self._recent[which].append(made)
        return out

    def _remember(self, row: int, test_sample: Any) -> None:
        """Map the new test sample's id to its row, dropping the entry of the row's earlier one (if still its):
        one entry a row, however often a row is made again."""
        earlier = self._made_id[row]
        if earlier is not None and self._row_of.get(earlier) == row:
            del self._row_of[earlier]
        self._row_of[id(test_sample)] = row
        self._made_id[row] = id(test_sample)


def _dead(ref: Any) -> bool:
    return ref is None or ref() is None


class LazySamples(Sequence):
    """The test samples of a loaded suite by position (its rows), for inference: `take` makes a batch at once."""

    def __init__(self, pairs: LazyPairs) -> None:
        self.pairs = pairs

    def __len__(self) -> int:
        return self.pairs.n_rows

    def __getitem__(self, position: int | slice) -> Any:  # type: ignore[override]
        if isinstance(position, slice):
            return self.take(range(*position.indices(len(self))))
        return self.pairs.test_samples([position])[0]

    def take(self, positions: Sequence[int]) -> list[Any]:
        return self.pairs.test_samples(positions)


class RowSource:
    """Makes the (test sample, ground truth, inference) rows of a loaded suite's run, and keeps the first `keep` rows
    it made for the test cases evaluated after: an evaluator that reads every test case's rows (the seed's
    `compute_test_sample_metrics`, called per test case) makes a sample in four test cases once, not four times,
    up to that many rows; beyond, rows are made again (memory bounded at any suite size)."""

    def __init__(self, pairs: LazyPairs, inferences: Any, keep: int = 0) -> None:
        self.pairs = pairs
        self.inferences = inferences  # by row (a mapping, or columns with `take`)
        self.keep = keep
        self.kept: dict[int, tuple[Any, Any, Any]] = {}

    def inference_column(self, rows: Sequence[int]) -> tuple[Any, type] | None:
        """The inferences of `rows` as one typed Arrow column and their type, where the run holds them so (no
        object made); else None."""
        column = getattr(self.inferences, "column", None)
        found = column(rows) if column is not None else None
        return None if found is None else (found, self.inferences.kind)

    def pairs_of(self, rows: Sequence[int]) -> list[tuple[Any, Any, None]]:
        """The (test sample, ground truth, None) rows: for a reader that takes the inferences as a column."""
        samples, truths = self._made_pairs(rows)
        return list(zip(samples, truths, [None] * len(rows)))

    def _made_pairs(self, rows: Sequence[int]) -> tuple[list[Any], list[Any]]:
        try:
            return self.pairs.test_samples(rows), self.pairs.ground_truths(rows)
        except Exception as error:  # (a ground truth its type refuses: the suite's error, not the evaluator's)
            raise RowsRefusedError(error) from error

    def rows(self, rows: Sequence[int]) -> list[tuple[Any, Any, Any]]:
        kept = self.kept
        missing = [r for r in rows if r not in kept] if kept else list(rows)
        if not missing:
            return [kept[r] for r in rows]
        samples, truths = self._made_pairs(missing)
        inferences = self.inferences
        take = getattr(inferences, "take", None)
        made = dict(
            zip(missing, zip(samples, truths, take(missing) if take is not None else map(inferences.get, missing)))
        )
        room = self.keep - len(kept)
        if room > 0:
            kept.update(itertools.islice(made.items(), room))
        return [made[r] if r in made else kept[r] for r in rows]


class LazyRows(Sequence):
    """The (test sample, ground truth, inference) rows of a loaded suite's test case, as an evaluator gets them: made
    a block at a time as code walks them and let go after unless it (or the RowSource) keeps them. An evaluator
    that reads only the sample metrics (most `compute_test_case_metrics`) makes none; `list(rows)` makes them all
    at once."""

    def __init__(self, source: RowSource, positions: Sequence[int]) -> None:
        self.source = source
        self.positions = positions  # rows of the suite's table

    def __len__(self) -> int:
        return len(self.positions)

    def __getitem__(self, index: int | slice) -> Any:  # type: ignore[override]
        if isinstance(index, slice):
            return self.source.rows(self.positions[index])
        return self.source.rows([self.positions[index]])[0]

    def __iter__(self) -> Iterator[tuple[Any, Any, Any]]:
        for start in range(0, len(self.positions), BLOCK):
            yield from self.source.rows(self.positions[start : start + BLOCK])

    def inference_column(self, start: int, stop: int) -> tuple[Any, type] | None:
        """The inferences of rows `start` to `stop` as one typed Arrow column, with their type, for the suite's
        DataFrame (no inference made); None where the run does not hold them so."""
        return self.source.inference_column(self.positions[start:stop])

    def pairs(self, start: int, stop: int) -> list[tuple[Any, Any, None]]:
        """Rows `start` to `stop` without their inferences: (test sample, ground truth, None)."""
        return self.source.pairs_of(self.positions[start:stop])

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Sequence) and len(other) == len(self) and list(self) == list(other)

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"<{len(self)} (test sample, ground truth, inference) rows, made as they are read>"
