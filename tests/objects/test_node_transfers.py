"""What a Ray node does with a job's data, against a real S3 server (moto's): opening the
API server's store from its connection settings, staging a host's inputs, restoring and
syncing checkpoints, uploading merged archives whole with their digest."""

from __future__ import annotations

import hashlib
import io
import tarfile
import uuid
from pathlib import Path

import pytest

from sagebox.objects import S3ObjectStore
from sagebox.runtime.node_data import NodeData, NodeDataError, NodeTransfers, OutputUpload
from tests.objects.conftest import _client


@pytest.fixture
def api_store(moto_endpoint: str) -> S3ObjectStore:
    store = S3ObjectStore(_client(moto_endpoint), bucket_prefix="team-")
    return store


@pytest.fixture
def bucket(api_store: S3ObjectStore) -> str:
    name = f"node-{uuid.uuid4().hex[:12]}"
    api_store.create_bucket(name)
    return name


def test_the_connection_opens_the_same_store_and_never_shows_its_secret(
    api_store: S3ObjectStore, bucket: str
) -> None:
    api_store.put_object(bucket, "a.txt", b"hello")
    connection = api_store.connection()
    assert connection is not None and connection.secret_key == "test"
    assert "test" not in repr(connection) and connection.bucket_prefix == "team-"
    node_store = connection.open()
    assert node_store.read_bytes(f"s3://{bucket}/a.txt") == b"hello"


def test_a_node_stages_syncs_and_uploads_merged_archives(
    api_store: S3ObjectStore, bucket: str, tmp_path: Path
) -> None:
    for key in ("data/part-0.csv", "data/sub/part-1.csv", "ckpt/state.json"):
        api_store.put_object(bucket, key, key.encode())
    connection = api_store.connection()
    assert connection is not None
    data = NodeData(
        connection,
        downloads=(
            (f"s3://{bucket}/data/part-0.csv", "input/data/train/part-0.csv"),
            (f"s3://{bucket}/data/sub/part-1.csv", "input/data/train/sub/part-1.csv"),
        ),
        checkpoint_uri=f"s3://{bucket}/ckpt",
        checkpoint_folder="checkpoints",
        uploads=(OutputUpload("model", f"s3://{bucket}/out/model.tar.gz"),),
        sync_seconds=0.1,
    )
    root, said = tmp_path / "algo-1", []
    transfers = NodeTransfers(data, root, "algo-1", "NODE", said.append)
    transfers.stage()
    assert (root / "input/data/train/sub/part-1.csv").read_bytes() == b"data/sub/part-1.csv"
    assert (root / "checkpoints/state.json").read_bytes() == b"ckpt/state.json"
    assert said[0].startswith(
        "sagebox: algo-1 staged 2 input object(s), 34 bytes, from the object store on Ray node NODE"
    )
    (root / "checkpoints/step-2.json").write_text("2")
    transfers.end()  # the final sync
    assert api_store.read_bytes(f"s3://{bucket}/ckpt/step-2.json") == b"2"

    (root / "model").mkdir()
    (root / "model/weights.bin").write_bytes(b"mine")
    other = tmp_path / "algo-2"
    (other / "model").mkdir(parents=True)
    (other / "model/weights.bin").write_bytes(b"theirs")
    (other / "model/extra.bin").write_bytes(b"extra")
    [uploaded] = transfers.upload([other])
    body = api_store.read_bytes(f"s3://{bucket}/out/model.tar.gz")
    assert (uploaded.size, uploaded.sha256) == (len(body), hashlib.sha256(body).hexdigest())
    with tarfile.open(fileobj=io.BytesIO(body)) as tar:
        members = {m.name: tar.extractfile(m).read() for m in tar.getmembers() if m.isfile()}
    assert members == {"weights.bin": b"mine", "extra.bin": b"extra"}
    assert said[-1] == (
        f"sagebox: algo-1 uploaded s3://{bucket}/out/model.tar.gz ({len(body)} bytes, sha256 "
        f"{uploaded.sha256}) from Ray node NODE"
    )


def test_a_missing_input_fails_the_staging_with_a_client_error(
    api_store: S3ObjectStore, bucket: str, tmp_path: Path
) -> None:
    connection = api_store.connection()
    assert connection is not None
    data = NodeData(
        connection, downloads=((f"s3://{bucket}/gone.csv", "input/data/train/gone.csv"),)
    )
    transfers = NodeTransfers(data, tmp_path, "algo-2", "NODE", lambda _: None)
    with pytest.raises(
        NodeDataError, match=r"^ClientError: Data download failed on host algo-2: NoSuchKey"
    ):
        transfers.stage()
