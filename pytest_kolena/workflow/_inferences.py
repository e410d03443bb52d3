"""A run's inferences of a loaded suite, by sample position, kept as typed Arrow columns (`store/columns.py`) a
block at a time rather than as an object per sample, and made into objects again when code asks for them (the rows
an evaluator reads, a result's `inference`).

An inference of another class than the workflow's (a subclass), or a block whose first or last inference does not
come back equal from its columns (a NaN, a value the columns do not keep), is kept as it was made.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Iterator, Sequence
from typing import Any

import numpy as np

from .annotation import coordinates_checked

BLOCK = 8192  # inferences encoded together
KEPT_BLOCKS = 4  # blocks kept made for inferences asked for one at a time


class InferenceColumns:
    """Inferences by position (0 to `size`), set as they come (in any order), read back a batch at a time."""

    def __init__(self, kind: type, default: Callable[[Any], Any], size: int) -> None:
        self.kind = kind
        self._default = default  # JSON's default for the leaves that go to text
        self._block = np.full(size, -1, dtype=np.int32)  # each position's block (-1: none)
        self._row = np.zeros(size, dtype=np.int32)  # its row in the block
        self._blocks: list[tuple[Any, Any]] = []  # (column, field metadata), or (None, objects) for a kept block
        self._pending: dict[int, Any] = {}  # set, not yet encoded
        self._objects: dict[int, Any] = {}  # kept as made (another class)
        self._recent: OrderedDict[int, list[Any]] = OrderedDict()  # block -> its objects, for single reads

    def __setitem__(self, position: int, inference: Any) -> None:
        if type(inference) is not self.kind:
            self._objects[position] = inference
            return
        self._pending[position] = inference
        if len(self._pending) >= BLOCK:
            self.seal()

    def seal(self) -> None:
        """Encode the inferences set so far into a block."""
        if not self._pending:
            return
        positions, made = list(self._pending), list(self._pending.values())
        self._pending = {}
        from ..store.columns import encode  # (pyarrow loads when the first block is sealed)

        block = len(self._blocks)
        try:
            column, metadata = encode(made, self._default)
            back = self._made(column, metadata, [0, len(made) - 1])
            kept = (column, metadata) if back == [made[0], made[-1]] else (None, made)
        except Exception:  # (a value the columns cannot hold: kept as made)
            kept = (None, made)
        self._blocks.append(kept)
        self._block[positions] = block
        self._row[positions] = np.arange(len(positions), dtype=np.int32)

    def add_encoded(self, positions: list[int], column: Any, metadata: Any) -> None:
        """A block encoded already (an inference cache's chunk, as stored), its rows at `positions`; its first row is
        made now, so that a chunk the inference type no longer reads fails here, as a cached object would."""
        self._made(column, metadata, [0])
        self._block[positions] = len(self._blocks)
        self._row[positions] = np.arange(len(positions), dtype=np.int32)
        self._blocks.append((column, metadata))

    def __contains__(self, position: object) -> bool:
        return isinstance(position, int) and (
            position in self._pending or position in self._objects or self._block[position] >= 0
        )

    def __len__(self) -> int:
        return int((self._block >= 0).sum()) + len(self._pending) + len(self._objects)

    def __getitem__(self, position: int) -> Any:
        found = self._pending.get(position, self._objects.get(position))
        if found is not None:
            return found
        block = int(self._block[position])
        if block < 0:
            raise KeyError(position)
        made = self._recent.get(block)
        if made is None:
            column, metadata = self._blocks[block]
            made = metadata if column is None else self._made(column, metadata, range(len(column)))
            self._recent[block] = made
            if len(self._recent) > KEPT_BLOCKS:
                self._recent.popitem(last=False)
        return made[int(self._row[position])]

    def take(self, positions: Sequence[int]) -> list[Any]:
        """The inferences at `positions`, each block's made at once (one alone: its block, kept for the next)."""
        if len(positions) == 1:
            return [self[positions[0]]]
        out: list[Any] = [None] * len(positions)
        wanted: dict[int, list[int]] = {}  # block -> indexes into out
        for k, position in enumerate(positions):
            found = self._pending.get(position, self._objects.get(position))
            if found is not None:
                out[k] = found
                continue
            block = int(self._block[position])
            if block < 0:
                raise KeyError(position)
            wanted.setdefault(block, []).append(k)
        for block, indexes in wanted.items():
            column, metadata = self._blocks[block]
            rows = [int(self._row[positions[k]]) for k in indexes]
            made = [metadata[r] for r in rows] if column is None else self._made(column, metadata, rows)
            for k, inference in zip(indexes, made):
                out[k] = inference
        return out

    def column(self, positions: Sequence[int]) -> Any | None:
        """The inferences at `positions` as one typed Arrow column, in their order, without an object made; None
        where one is not held encoded (kept as made, set and not yet sealed) or the blocks differ in type."""
        import pyarrow as pa

        if self._pending:
            self.seal()
        where = self._block[np.asarray(positions, dtype=np.int64)]
        if len(where) == 0 or (where < 0).any():
            return None
        used = np.unique(where)
        columns = [self._blocks[int(k)] for k in used]
        if any(column is None or metadata is not None for column, metadata in columns):
            return None  # (kept as objects, or a field kept as text)
        if len({column.type for column, _ in columns}) != 1:
            return None
        offsets = np.zeros(int(used.max()) + 1, dtype=np.int64)
        offsets[used] = np.cumsum([0, *(len(column) for column, _ in columns[:-1])])
        joined = columns[0][0] if len(columns) == 1 else pa.concat_arrays([column for column, _ in columns])
        rows = offsets[where] + self._row[np.asarray(positions, dtype=np.int64)]
        return joined.take(pa.array(rows, pa.int64()))

    def _made(self, column: Any, metadata: Any, rows: Sequence[int]) -> list[Any]:
        import pyarrow as pa

        from ._columns import objects_from

        taken = column.take(pa.array(rows, pa.int64()))
        with coordinates_checked():  # (checked when they were made)
            return objects_from(
                self.kind, taken, pa.field("inference", taken.type, metadata=metadata), self.kind.from_dict
            )

    def blocks(self) -> Iterator[tuple[list[int], Any]]:
        """The inferences held, a block at a time: its positions and either its encoded column (column, field
        metadata: a tuple) or its objects (a list), for a writer that stores them without making them again."""
        self.seal()
        order = np.argsort(self._block, kind="stable")
        counts = np.bincount(self._block[self._block >= 0], minlength=len(self._blocks))
        start = int((self._block < 0).sum())
        for block, count in enumerate(counts.tolist()):
            positions = order[start : start + count]
            start += count
            positions = positions[np.argsort(self._row[positions])].tolist()
            column, metadata = self._blocks[block]
            yield positions, (metadata if column is None else (column, metadata))
        if self._objects:
            yield list(self._objects), list(self._objects.values())
