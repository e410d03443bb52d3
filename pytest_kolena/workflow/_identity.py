"""The identity of a test sample, found once per suite: a hashable key for equality, and a stable id for storage.

A sample is its fields but metadata. Its id names it in the run store, baseline files and the inference cache:
the locator relative to the suite's folder, and, when other fields (a face box, a crop) tell apart samples of one
locator, a short digest of those fields (`images/a.jpg#3f2a9c01b7de`). A sample without a locator is a digest.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Iterator
from typing import Any

from ._dataobject import DataObject
from ._lazy import LazyPairs, LazySamples
from .test_sample import METADATA

LOCATOR = "locator"


def sample_key(sample: DataObject) -> tuple:
    """Two test samples with equal fields (metadata aside) are the same sample: inferred once, matched across cases.

    Hashable values (str, numbers, frozen annotations of tuples) stand for themselves; lists and dicts are frozen.
    """
    values: list[Any] = [type(sample)]
    for name, value in sample.__dict__.items():
        if name == METADATA:
            continue
        try:
            hash(value)
        except TypeError:
            value = _frozen(value)
        values.append(value)
    return tuple(values)


def _frozen(value: Any) -> Any:
    if isinstance(value, (list, tuple)):
        return tuple(_frozen(v) for v in value)
    if isinstance(value, DataObject):
        return (type(value), *(_frozen(v) for v in value.__dict__.values()))
    if isinstance(value, dict):
        return tuple(sorted((k, _frozen(v)) for k, v in value.items()))
    return value


def sample_id(sample: DataObject, prefix: str = "") -> str:
    """The stable id of a test sample: its locator without `prefix`, plus a digest of its other fields if any."""
    locator = sample.__dict__.get(LOCATOR)
    others = [(k, v) for k, v in sample.__dict__.items() if k not in (METADATA, LOCATOR) and v is not None]
    head = ""
    if isinstance(locator, str):
        head = locator[len(prefix) :] if prefix and locator.startswith(prefix) else locator
        if not others:
            return head
    # field values are frozen dataclasses, tuples, lists and scalars (test sample fields cannot be dicts): their
    # repr is the same for equal values in any process (floats by their exact repr)
    text = repr(others if head else [(LOCATOR, locator), *others])
    return f"{head}#{hashlib.blake2b(text.encode(), digest_size=6).hexdigest()}"


class SampleIndex:
    """The distinct test samples of a suite in order of first appearance, each with its position and id.

    A sample object is looked up by identity first (a loaded suite shares one object per sample across its test
    cases), then by value, so an evaluator that returns copies of the samples still finds them.
    """

    def __init__(self, test_cases: Iterable[Any], prefix: str = "") -> None:
        self.prefix = prefix
        self.samples: list[Any] = []
        self.ids: list[str] = []
        self._by_object: dict[int, int] = {}
        self._by_key: dict[tuple, int] | None = None
        self._seen: list[Any] = []  # copies whose id() is in _by_object, kept alive so that no id() is reused
        for test_case in test_cases:
            for test_sample, _ in test_case._samples:
                self.add(test_sample)

    @classmethod
    def of_distinct(cls, samples: list[Any], prefix: str = "") -> SampleIndex:
        """An index of samples known to be distinct (a loaded suite checked its rows): no key is computed."""
        index = cls((), prefix)
        index.samples = list(samples)
        index.ids = [sample_id(s, prefix) for s in index.samples]
        index._by_object = {id(s): i for i, s in enumerate(index.samples)}
        return index

    def add(self, test_sample: Any) -> int:
        """The position of a sample, adding it if it is new."""
        position = self._by_object.get(id(test_sample))
        if position is not None:
            return position
        keys = self._keys()
        key = sample_key(test_sample)
        position = keys.get(key)
        if position is None:
            position = keys[key] = len(self.samples)
            self.samples.append(test_sample)
            self.ids.append(sample_id(test_sample, self.prefix))
        self._by_object[id(test_sample)] = position
        if self.samples[position] is not test_sample:
            self._seen.append(test_sample)
        return position

    def position(self, test_sample: Any) -> int | None:
        """The position of a sample of this suite (None if it is not one)."""
        position = self._by_object.get(id(test_sample))
        return position if position is not None else self._keys().get(sample_key(test_sample))

    def _keys(self) -> dict[tuple, int]:
        if self._by_key is None:
            self._by_key = {sample_key(s): i for i, s in enumerate(self.samples)}
        return self._by_key

    def __len__(self) -> int:
        return len(self.samples)

    @classmethod
    def of(cls, test_suite: Any) -> SampleIndex:
        """The index of a suite, built once (again only if its test cases changed since)."""
        index = getattr(test_suite, "_sample_index", None)
        if index is None or index._signature != _signature(test_suite):
            index = cls(test_suite.test_cases).attach(test_suite)
        return index

    def attach(self, test_suite: Any) -> SampleIndex:
        """Keep this index on the suite, valid while its test cases stay as they are."""
        self._signature = _signature(test_suite)
        test_suite._sample_index = self
        return self

    _signature: tuple = ()


class LazyIndex(SampleIndex):
    """The index of a loaded suite: a sample's position is its row, its id computed at load; the samples are made
    when asked for (`LazySamples`), and found by the row they were made for."""

    def __init__(self, pairs: LazyPairs, ids: list[str], prefix: str = "") -> None:
        super().__init__((), prefix)
        self.pairs = pairs
        self.samples = LazySamples(pairs)  # type: ignore[assignment]
        self.ids = ids

    def add(self, test_sample: Any) -> int:
        position = self.position(test_sample)
        if position is None:
            raise ValueError(f"not a test sample of this suite: {test_sample!r}"[:200])
        return position

    def position(self, test_sample: Any) -> int | None:
        row = self.pairs.row_of(test_sample)
        return row if row is not None else self._keys().get(sample_key(test_sample))

    def _keys(self) -> dict[tuple, int]:
        if self._by_key is None:  # (a copy of a sample: every sample made once, for its key)
            made = self.pairs.test_samples(range(len(self.ids)))
            self._by_key = {sample_key(s): i for i, s in enumerate(made)}
        return self._by_key


def _signature(test_suite: Any) -> tuple:
    return tuple((id(tc), tc.version, len(tc)) for tc in test_suite.test_cases)


def suite_members(test_suite: Any) -> list[tuple[str, list[str]]]:
    """Each test case of a suite by name, with its samples' ids (the ids the engine gave them: the suite's sample
    index); a loaded suite's from its rows, making no object."""
    index = SampleIndex.of(test_suite)
    members = []
    for test_case in test_suite.test_cases:
        if isinstance(index, LazyIndex) and test_case._rows is not None and test_case._lazy is index.pairs:
            members.append((test_case.name, [index.ids[row] for row in test_case._rows.tolist()]))
        else:
            members.append((test_case.name, [index.ids[index.add(ts)] for ts, _ in test_case.iter_test_samples()]))
    return members


def suite_samples(test_suite: Any, chunk: int = 20_000) -> Iterator[tuple[list[str], list[Any], list[Any]]]:
    """The distinct samples of a suite in order, `chunk` at a time: their ids, test samples and ground truths (of a
    loaded suite, made for the chunk and let go after it)."""
    index = SampleIndex.of(test_suite)
    if isinstance(index, LazyIndex):
        for start in range(0, len(index.ids), chunk):
            rows = range(start, min(start + chunk, len(index.ids)))
            yield index.ids[start : rows.stop], index.pairs.test_samples(rows), index.pairs.ground_truths(rows)
        return
    truths: dict[int, Any] = {}
    for test_case in test_suite.test_cases:
        for ts, gt in test_case.iter_test_samples():
            truths.setdefault(index.add(ts), gt)
    order = sorted(truths)
    for start in range(0, len(order), chunk):
        part = order[start : start + chunk]
        yield [index.ids[p] for p in part], [index.samples[p] for p in part], [truths[p] for p in part]
