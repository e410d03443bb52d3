"""The run store's typed columns: inferences, sample and case metrics as Arrow types that pandas and DuckDB read
without parsing text; values Arrow cannot type kept exactly as JSON text; runs stored before, as JSON text, read
the same."""

from __future__ import annotations

import dataclasses
import io
import json
import re
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from pytest_kolena.store import RunRecord, RunStore
from pytest_kolena.store.baseline import Baseline
from pytest_kolena.store.columns import decode, encode
from pytest_kolena.workflow import annotation as ann
from pytest_kolena.workflow._dataobject import json_default
from pytest_kolena.workflow.test_sample import Image, Metadata
from tests.keypoints import ROOT, keypoints_project, report_of, write_tests

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")


@pytest.fixture
def project(pytester):
    project = keypoints_project(pytester)
    project.write_ini(kolena_suite="300-W")
    write_tests(pytester, {"models": "mean_shape_model"})
    return project


def blocks(project, level: str) -> list[Path]:
    return sorted((project.path / ".kolena" / "runs").glob(f"*/main.{level}.*.parquet"))


def test_inferences_and_metrics_are_stored_as_typed_columns(project):
    assert project.run().ret == 0
    (samples,) = blocks(project, "sample")
    value = pq.read_schema(samples).field("value").type
    assert value.field("normalized_mean_error").type == pa.float64()
    assert value.field("alignment_failure").type == pa.bool_()
    (inferences,) = blocks(project, "inference")
    keypoints = pq.read_schema(inferences).field("value").type.field("keypoints").type
    assert keypoints.field("points").type == pa.list_(pa.list_(pa.float64()))
    table = pq.read_table(samples)
    assert set(table.column("level").to_pylist()) == {"sample"} and table.num_rows == 300


def test_the_readme_query_gives_the_mean_nme_per_test_case_of_the_last_two_runs(project, monkeypatch):
    """The README's DuckDB query, run as written on the store of two runs of the mean shape."""
    duckdb = pytest.importorskip("duckdb")
    assert project.run("--kolena-report=first.json").ret == 0
    assert project.run("--kolena-report=second.json").ret == 0
    readme = (ROOT / "README.md").read_text()
    (code,) = [block for block in re.findall(r"```python\n(.*?)```", readme, re.S) if "duckdb" in block]
    shown = []
    monkeypatch.chdir(project.path)
    exec(code, {"print": shown.append, "__name__": "readme"})
    rows = shown[0].fetchall()
    runs = [report_of(project, name)["run"]["id"] for name in ("first.json", "second.json")]
    expected = sorted(
        (item["test_case"], run, round(item["metrics"]["mean_nme"], 4))
        for name, run in zip(("first.json", "second.json"), runs)
        for item in report_of(project, name)["items"]
        if item["test_case"]
    )
    assert rows == expected and len(rows) == 6  # 3 test cases, 2 runs
    assert duckdb.__version__


def test_a_run_whose_rows_file_is_missing_is_incomplete_though_its_blocks_are_there(project):
    assert project.run().ret == 0
    (rows,) = (project.path / ".kolena" / "runs").glob("*/main.parquet")
    rows.unlink()
    (info,) = RunStore(str(project.path / ".kolena")).runs()
    assert not info.complete and "main.parquet is missing" in info.problem


@dataclasses.dataclass(frozen=True)
class Scored(Image):
    """A test sample with a union field and a list of data objects: what Arrow keeps as JSON text."""

    shape: ann.BoundingBox | ann.Keypoints | None = None
    boxes: list[ann.BoundingBox] = dataclasses.field(default_factory=list)
    metadata: Metadata = dataclasses.field(default_factory=dict)


def round_trip(values: list) -> list:
    array, metadata = encode(values, json_default)
    buffer = io.BytesIO()
    pq.write_table(
        pa.table({"value": array}).cast(pa.schema([pa.field("value", array.type, metadata=metadata)])), buffer
    )
    table = pq.read_table(io.BytesIO(buffer.getvalue()))
    return decode(table.column("value"), table.schema.field("value"))


def test_values_read_back_as_json_gives_them_whatever_arrow_can_type():
    values = [
        Scored("a.jpg", shape=ann.BoundingBox((0, 0), (1, 2)), boxes=[ann.BoundingBox((1, 1), (2, 2))]),
        Scored("b.jpg", shape=ann.Keypoints([(0.5, 1.5)]), boxes=[]),
        None,
        Scored("c.jpg", metadata={"mirrored": True, "roll": float("nan")}),
    ]
    expected = [json.loads(json.dumps(v, default=json_default)) if v is not None else None for v in values]
    got = round_trip(values)
    assert repr(got) == repr(expected)  # (repr: NaN != NaN)
    mixed = [{"n": 1}, {"n": True}, {"n": 2.5}, {"n": None}]  # a bool beside numbers stays a bool
    assert round_trip(mixed) == mixed
    keys = [{"a": 1}, {"b": [1, 2]}, {}]  # dicts of other keys: not given each other's keys
    assert round_trip(keys) == keys


def test_a_run_stored_before_typed_columns_reads_as_the_same_baseline(tmp_path):
    metrics = {"s1": {"nme": 0.1, "failed": False}, "s2": {"nme": 0.3, "failed": True}}
    inferences = {"s1": {"points": [[1.0, 2.0]]}, "s2": {"points": [[3.0, 4.0]]}}
    old = RunRecord(run_id="old", writer="main", time="2026-01-01T00:00:00")  # every value a JSON row
    new = RunRecord(run_id="new", writer="main", time="2026-01-02T00:00:00")
    for sample_id, value in metrics.items():
        old.add("sample", "t", "s", "m", value, "c", sample_id=sample_id)
        old.add("inference", "t", "s", "m", inferences[sample_id], sample_id=sample_id)
    old.add("case", "t", "s", "m", {"mean_nme": 0.2}, "c", "s :: basic", extra={"plots": []})
    new.add_samples("sample", "t", "s", "m", "c", metrics)
    new.add_samples("inference", "t", "s", "m", None, inferences)
    new.add_cases("t", "s", "m", "c", {"s :: basic": {"mean_nme": 0.2}}, [{"plots": []}])
    store = RunStore(str(tmp_path / "store"))
    store.write(old)
    store.write(new)
    assert len(list((tmp_path / "store" / "runs" / "new").glob("*.parquet"))) == 4  # rows, 3 blocks
    entries = [Baseline.from_rows(store.rows(run), run).entries for run in ("old", "new")]
    assert entries[0] == entries[1] and entries[0][("t", "s", "m", "c")].samples == metrics


def test_the_inference_cache_keeps_typed_columns_and_serves_chunks_written_as_json_text(tmp_path):
    from examples.facial_keypoints.workflow import Inference
    from pytest_kolena.store import InferenceCache
    from pytest_kolena.workflow.annotation import Keypoints

    def cache(kind: type | None = Inference) -> InferenceCache:
        """(With the inference type, a typed chunk's inferences are made from its columns; without, by from_dict.)"""
        return InferenceCache(
            str(tmp_path), "m", "1", "s", Inference.from_dict, code="c", encode=json_default, kind=kind
        )

    made = Inference(Keypoints([(1.0, 2.0), (3.0, 4.5)]), 0.5)
    first = cache()
    first.put("a.jpg", made)
    first.flush()
    (chunk,) = (tmp_path / "cache").glob("*/*.parquet")
    keypoints = pq.read_schema(chunk).field("inference").type.field("keypoints").type
    assert keypoints.field("points").type == pa.list_(pa.list_(pa.float64()))
    old = pa.table({"sample": ["b.jpg"], "inference": [json.dumps(made, default=json_default)], "code": ["c"]})
    pq.write_table(old, chunk.parent / "0-old.parquet")  # a chunk of the JSON-text format, sorted first
    assert cache().get_many(["a.jpg", "b.jpg", "c.jpg"]) == [made, made, None]
    assert cache(kind=None).get_many(["a.jpg", "b.jpg"]) == [made, made]


def test_the_inference_cache_keeps_what_it_wrote_as_columns_not_objects(tmp_path):
    """Once written, a chunk's inferences are served from its column: the cache holds no object per sample."""
    import gc
    import weakref

    from examples.facial_keypoints.workflow import Inference
    from pytest_kolena.store import InferenceCache
    from pytest_kolena.workflow.annotation import Keypoints

    cache = InferenceCache(
        str(tmp_path), "m", "1", "s", Inference.from_dict, code="c", encode=json_default, kind=Inference
    )
    made = [Inference(Keypoints([(float(k), 2.0), (3.0, 4.5)]), 0.5) for k in range(3)]
    values = [inference.to_dict() for inference in made]
    for k, inference in enumerate(made):
        cache.put(f"{k}.jpg", inference)
    cache.flush()
    refs = [weakref.ref(inference) for inference in made]
    del made, inference
    gc.collect()
    assert all(ref() is None for ref in refs)
    assert [i.to_dict() for i in cache.get_many(["0.jpg", "1.jpg", "2.jpg"])] == values and len(cache) == 3
    assert len(list((tmp_path / "cache").glob("*/*.parquet"))) == 1


def test_a_runs_inferences_kept_as_columns_are_stored_in_one_file_and_read_back_equal(tmp_path, monkeypatch):
    """The inferences a run kept as typed columns (a block of BLOCK at a time) are stored as they are, joined into
    one file, each under its sample's id."""
    import pytest_kolena.workflow._inferences as held
    from examples.facial_keypoints.workflow import Inference, KeypointsEvaluator, mean_shape_model, wf
    from pytest_kolena.data import load_suite
    from pytest_kolena.store.record import add_results
    from pytest_kolena.workflow import test
    from tests.keypoints import DATA

    monkeypatch.setattr(held, "BLOCK", 50)
    run = test(
        mean_shape_model, load_suite(wf, "300-W", str(DATA), columns={"points": "keypoints"}), KeypointsEvaluator()
    )
    record = RunRecord("r", "main", "t", encode=json_default)
    add_results(record, "t", run)
    store = RunStore(str(tmp_path))
    store.write(record)
    assert len(list((tmp_path / "runs" / "r").glob("main.inference.*.parquet"))) == 1
    _, blocks = store.read("r")
    (block,) = [b for b in blocks if b.place["level"] == "inference"]
    stored = {i: Inference.from_dict(row["values"]) for i, row in zip(block.ids, block.rows())}
    made = {s.sample_id: s.inference for s in run.case("300-W :: basic").samples}
    assert len(stored) == 300 and stored == made


def test_a_warm_run_takes_the_cached_chunks_as_they_are_stored(tmp_path):
    """Inferences served by the cache to a run that keeps them as columns are taken as stored (no object made and
    encoded again), and read back equal to what was put; nothing is inferred again."""
    from examples.facial_keypoints.workflow import Inference
    from pytest_kolena.engine.inference import infer_distinct
    from pytest_kolena.store import InferenceCache
    from pytest_kolena.workflow._inferences import InferenceColumns
    from pytest_kolena.workflow.annotation import Keypoints

    def cache() -> InferenceCache:
        return InferenceCache(
            str(tmp_path), "m", "1", "s", Inference.from_dict, code="c", encode=json_default, kind=Inference
        )

    made = [Inference(Keypoints([(float(k), 2.0), (3.0, 4.5)]), 0.5) for k in range(3)]
    first = cache()
    for k, inference in enumerate(made):
        first.put(f"{k}.jpg", inference)
    first.flush()

    def never(samples):
        raise AssertionError("inferred again")

    held = InferenceColumns(Inference, json_default, 4)
    inferred = infer_distinct(never, ["a", "b", "c"], ["2.jpg", "0.jpg", "1.jpg"], cache(), inferences=held)
    assert inferred.from_cache == 3 and not inferred.failures
    assert not held._pending and len(held._blocks) == 1  # (the chunk as stored: no inference made to be encoded)
    assert held.take([0, 1, 2]) == [made[2], made[0], made[1]] and len(held) == 3 and 3 not in held


def test_a_cached_chunk_the_inference_type_no_longer_reads_fails_when_it_is_read(tmp_path):
    """A chunk written by an Inference class of other fields (the class changed, the model's version did not) is an
    error when the cache serves it, as it was when cached inferences were objects: not later, inside an evaluator."""
    from examples.facial_keypoints.workflow import Inference
    from pytest_kolena.engine.inference import infer_distinct
    from pytest_kolena.store import InferenceCache
    from pytest_kolena.workflow import Inference as BaseInference
    from pytest_kolena.workflow._inferences import InferenceColumns

    class Older(BaseInference):
        score: float

    def cache(kind: type) -> InferenceCache:
        return InferenceCache(str(tmp_path), "m", "1", "s", kind.from_dict, code="c", encode=json_default, kind=kind)

    older = cache(Older)
    older.put("0.jpg", Older(0.5))
    older.flush()
    with pytest.raises((TypeError, ValueError)):
        infer_distinct(
            lambda s: None, ["a"], ["0.jpg"], cache(Inference), inferences=InferenceColumns(Inference, json_default, 1)
        )
