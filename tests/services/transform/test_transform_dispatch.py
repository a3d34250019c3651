"""The dispatcher: batches through instances in parallel, outputs in order, failures named."""

from __future__ import annotations

import gzip
import threading
from pathlib import Path
from typing import Any

import pytest

from sagebox.objects import LocalObjectStore
from sagebox.services.transform.data_processing import DataProcessing
from sagebox.services.transform.dispatch import Dispatcher, JobFailure, TransformOptions
from sagebox.services.transform.inputs import list_inputs
from tests.services.transform.stand_in import SummingInstance


@pytest.fixture
def objects(tmp_path: Path) -> LocalObjectStore:
    store = LocalObjectStore(tmp_path / "objects")
    store.create_bucket("data")
    return store


def options(**overrides: Any) -> TransformOptions:
    values: dict[str, Any] = {
        "split_type": "Line", "multi_record": True, "payload_limit": 64, "content_type": "text/csv",
        "accept": "text/csv", "assemble_lines": True, "gzip": False, "timeout": 10.0, "retries": 0,
        "output_path": "s3://data/out", "processing": DataProcessing.from_config(None, "text/csv"),
        "concurrency": 3,
    }
    values.update(overrides)
    return TransformOptions(**values)


def rows(count: int, offset: int = 0) -> list[tuple[float, float]]:
    return [(float(i + offset), float(i) / 4) for i in range(count)]


def as_csv(values: list[tuple[float, float]]) -> bytes:
    return "".join(f"{a!r},{b!r}\n" for a, b in values).encode()


def run(objects: LocalObjectStore, tmp_path: Path, opts: TransformOptions, instances: list[Any],
        stop: threading.Event | None = None) -> None:
    inputs = list_inputs(objects, {"S3DataType": "S3Prefix", "S3Uri": "s3://data/in/"})
    Dispatcher(opts, objects, instances, tmp_path / "scratch", stop or threading.Event()).run(inputs)


def test_outputs_keep_input_order_across_parallel_instances(objects: LocalObjectStore, tmp_path: Path) -> None:
    files = {f"in/part-{n}.csv": rows(40 + n * 7, offset=n * 100) for n in range(3)}
    for key, values in files.items():
        objects.put_object("data", key, as_csv(values))
    instances = [SummingInstance(delay=0.01), SummingInstance(delay=0.01)]
    run(objects, tmp_path, options(), instances)
    for key, values in files.items():
        out = objects.read_bytes(f"s3://data/out/{key.removeprefix('in/')}.out").decode().splitlines()
        assert [float(v) for v in out] == [a + b for a, b in values]
    assert all(instance.requests for instance in instances)
    assert max(len(r) for i in instances for r in i.requests) <= 64
    assert not (tmp_path / "scratch" / "0.out").exists()


def test_single_record_gzip_and_assemble_none(objects: LocalObjectStore, tmp_path: Path) -> None:
    objects.put_object("data", "in/a.csv.gz", gzip.compress(as_csv(rows(5))))
    instance = SummingInstance()
    run(objects, tmp_path, options(multi_record=False, gzip=True, assemble_lines=False), [instance])
    assert len(instance.requests) == 5
    assert objects.read_bytes("s3://data/out/a.csv.gz.out") == b"0.01.252.53.755.0"


def test_a_failing_row_is_found_inside_its_batch(objects: LocalObjectStore, tmp_path: Path) -> None:
    data = as_csv(rows(3)) + b"1,abc\n" + as_csv(rows(20))
    objects.put_object("data", "in/bad.csv", data)
    objects.put_object("data", "in/good.csv", as_csv(rows(2)))
    with pytest.raises(JobFailure) as caught:
        run(objects, tmp_path, options(payload_limit=1000), [SummingInstance()])
    assert caught.value.reason.startswith("ClientError: s3://data/in/bad.csv, line 4: the model answered 400")
    with pytest.raises(Exception, match="NoSuchKey"):
        objects.read_bytes("s3://data/out/bad.csv.out")


def test_join_with_input_records(objects: LocalObjectStore, tmp_path: Path) -> None:
    objects.put_object("data", "in/ids.csv", b"id-1,1,2\nid-2,3,4\n\nid-3,5,6\n")
    processing = DataProcessing.from_config(
        {"InputFilter": "$[1:]", "JoinSource": "Input", "OutputFilter": "$[0,-1]"}, "text/csv"
    )
    run(objects, tmp_path, options(processing=processing), [SummingInstance()])
    assert objects.read_bytes("s3://data/out/ids.csv.out") == b"id-1,3.0\nid-2,7.0\nid-3,11.0\n"


def test_stop_leaves_unfinished_outputs_unwritten(objects: LocalObjectStore, tmp_path: Path) -> None:
    objects.put_object("data", "in/big.csv", as_csv(rows(400)))
    stop = threading.Event()

    class Stopping(SummingInstance):
        def invoke(self, *args: Any, **kwargs: Any) -> Any:
            stop.set()
            return super().invoke(*args, **kwargs)

    run(objects, tmp_path, options(), [Stopping()], stop=stop)
    with pytest.raises(Exception, match="NoSuchKey"):
        objects.read_bytes("s3://data/out/big.csv.out")


def test_a_vanished_instances_batches_go_to_the_others(objects: LocalObjectStore, tmp_path: Path) -> None:
    files = {f"in/part-{n}.csv": rows(60, offset=n * 100) for n in range(4)}
    for key, values in files.items():
        objects.put_object("data", key, as_csv(values))
    vanishing = SummingInstance(delay=0.01, index=2, vanishes_after=3)
    instances = [SummingInstance(delay=0.01, index=1), vanishing, SummingInstance(delay=0.01, index=3)]
    run(objects, tmp_path, options(retries=1), instances)
    for key, values in files.items():
        out = objects.read_bytes(f"s3://data/out/{key.removeprefix('in/')}.out").decode().splitlines()
        assert [float(v) for v in out] == [a + b for a, b in values]
    assert vanishing.lost and len(vanishing.requests) == 3
    assert not instances[0].lost and not instances[2].lost
    (note,) = vanishing.notes
    assert note.startswith("sagebox: transform instance 2 on 10.0.0.2 stopped answering (")
    assert note.endswith("its batches go to instance(s) 1, 3")


def test_the_job_fails_naming_every_instance_once_all_vanished(
    objects: LocalObjectStore, tmp_path: Path
) -> None:
    for n in range(3):  # more batches than the queue holds: none is left waiting on it
        objects.put_object("data", f"in/part-{n}.csv", as_csv(rows(300)))
    instances = [SummingInstance(index=1, vanishes_after=2), SummingInstance(index=2, vanishes_after=4)]
    with pytest.raises(JobFailure) as caught:
        run(objects, tmp_path, options(), instances)
    assert caught.value.reason == (
        "ClientError: every instance of the transform job was lost: "
        "instance 1 on 10.0.0.1; instance 2 on 10.0.0.2. "
        "The last one: the model could not be reached: refused"
    )
    assert all(instance.lost for instance in instances)
