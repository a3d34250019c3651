"""What only the local backend promises: a browsable layout that never leaves its root."""

from __future__ import annotations

import hashlib
import io
import json
import os
import threading
from pathlib import Path

import pytest

from sagebox.objects import (
    InvalidArgument,
    KeyTooLongError,
    LocalObjectStore,
    NoSuchKey,
    open_object_store,
)


@pytest.fixture
def root(tmp_path: Path) -> Path:
    return tmp_path / "root" / "objects"


@pytest.fixture
def store(root: Path) -> LocalObjectStore:
    store = LocalObjectStore(root)
    store.create_bucket("data")
    return store


def files_under(folder: Path) -> set[str]:
    return {str(path.relative_to(folder)) for path in folder.rglob("*") if path.is_file()}


def test_open_object_store_by_url(tmp_path: Path) -> None:
    store = open_object_store(f"file://{tmp_path}/store")
    assert isinstance(store, LocalObjectStore) and store.root == (tmp_path / "store").resolve()
    for bad in ("file://relative/path", "ftp://x", "s3://prefix/with/slash", "s3://p?endpoint=http://x"):
        with pytest.raises(ValueError):
            open_object_store(bad)


def test_an_s3_url_names_its_server() -> None:
    store = open_object_store("s3://team-?endpoint_url=http://127.0.0.1:8333", s3_endpoint_url="http://other:1")
    assert store.bucket_prefix == "team-"
    assert store.client.meta.endpoint_url == "http://127.0.0.1:8333"
    assert open_object_store("s3://", s3_endpoint_url="http://other:1").client.meta.endpoint_url == "http://other:1"


def test_layout_is_browsable(store: LocalObjectStore, root: Path) -> None:
    store.put_object(
        "data", "train/part-1.csv", b"1,2\n", content_type="text/csv", metadata={"k": "v"}
    )
    assert (root / "data" / "train" / "part-1.csv").read_bytes() == b"1,2\n"
    sidecar = json.loads((root / ".meta" / "data" / "train" / "part-1.csv.json").read_text())
    assert sidecar["content_type"] == "text/csv" and sidecar["metadata"] == {"k": "v"}
    assert json.loads((root / ".meta" / "data.bucket.json").read_text())["creation_date"]


def test_keys_that_are_also_folders(store: LocalObjectStore, root: Path) -> None:
    store.put_object("data", "a", b"object a")
    store.put_object("data", "a/b", b"object a/b")
    store.put_object("data", "a/", b"marker")
    bucket = root / "data"
    assert files_under(bucket) == {"a/.sagebox-object", "a/b", "a/.sagebox-folder"}
    store.delete_object("data", "a/b")
    store.delete_object("data", "a/")
    assert files_under(bucket) == {"a"}
    assert (bucket / "a").read_bytes() == b"object a"
    assert store.head_object("data", "a").etag == store.put_object("data", "z", b"object a").etag


@pytest.mark.parametrize(
    "key",
    ["../../outside", "/etc/passwd", "a/../../../b", "..", ".", "./x", "//double", "a/./b/../c"],
)
def test_keys_never_escape_the_root(store: LocalObjectStore, root: Path, key: str) -> None:
    before = files_under(root.parent.parent)
    store.put_object("data", key, b"payload")
    assert store.read_bytes(f"s3://data/{key}") == b"payload"
    created = files_under(root.parent.parent) - before
    assert created and all(name.startswith("root/objects/") for name in created)
    assert [info.key for info in store.iter_objects("s3://data/")] == [key]
    store.delete_object("data", key)
    assert files_under(root / "data") == set()


def test_keys_too_long_or_unstorable(store: LocalObjectStore) -> None:
    with pytest.raises(KeyTooLongError) as too_long:
        store.put_object("data", "k" * 1025, b"x")
    assert too_long.value.code == "KeyTooLongError" and too_long.value.status == 400
    with pytest.raises(KeyTooLongError):
        store.put_object("data", "folder/" + "s" * 251, b"x")
    store.put_object("data", "folder/" + "s" * 250, b"fits")
    with pytest.raises(InvalidArgument):
        store.put_object("data", "nul\x00byte", b"x")
    with pytest.raises(InvalidArgument):
        store.put_object("data", "", b"x")


@pytest.mark.parametrize("unit", ["../", "./", "/", "a/../"])
def test_keys_whose_encoded_path_is_too_long_make_no_folders(store: LocalObjectStore, root: Path, unit: str) -> None:
    key = (unit * 1024)[:1024]  # S3's 1,024 bytes, but each segment encodes to 12-16 bytes of folder names
    with pytest.raises(KeyTooLongError) as refused:
        store.put_object("data", key, b"x")
    assert len(refused.value.resource) <= 203
    assert list((root / "data").iterdir()) == []
    assert list((root / ".meta").rglob("*")) == [root / ".meta" / "data.bucket.json"]
    short = unit * 20  # well within the limit: stored and read back
    store.put_object("data", short, b"fits")
    assert store.read_bytes(f"s3://data/{short}") == b"fits"


def test_files_placed_by_hand_are_objects(store: LocalObjectStore, root: Path) -> None:
    (root / "data" / "hand").mkdir()
    (root / "data" / "hand" / "made.txt").write_bytes(b"by hand")
    info = store.head_object("data", "hand/made.txt")
    assert info.etag == f'"{hashlib.md5(b"by hand").hexdigest()}"'
    assert info.content_type == "binary/octet-stream"
    assert store.read_bytes("s3://data/hand/made.txt") == b"by hand"
    (root / "data" / "hand" / "made.txt").write_bytes(b"changed by hand")
    assert store.head_object("data", "hand/made.txt").size == len(b"changed by hand")
    assert store.read_bytes("s3://data/hand/made.txt") == b"changed by hand"
    (root / "byhand").mkdir()
    (root / "byhand" / "file").write_bytes(b"x")
    assert "byhand" in [bucket.name for bucket in store.list_buckets()]
    assert [info.key for info in store.iter_objects("s3://byhand")] == ["file"]


def test_failed_writes_leave_nothing_behind(store: LocalObjectStore, root: Path) -> None:
    class Failing(io.RawIOBase):
        def readable(self) -> bool:
            return True

        def readinto(self, buffer) -> int:  # noqa: ANN001
            raise OSError("disk on fire")

    with pytest.raises(OSError):
        store.put_object("data", "k", Failing())
    assert files_under(root / "data") == set()
    assert list((root / ".tmp").iterdir()) == []


def test_state_survives_a_new_store(store: LocalObjectStore, root: Path) -> None:
    store.put_object("data", "kept", b"bytes", metadata={"m": "1"}, checksums=None)
    upload = store.create_multipart_upload("data", "later")
    reopened = LocalObjectStore(root)
    assert reopened.head_object("data", "kept").metadata == {"m": "1"}
    etag = reopened.upload_part("data", "later", upload, 1, b"part")
    assert reopened.complete_multipart_upload("data", "later", upload, [(1, etag)]).size == 4
    assert not (root / ".uploads" / upload).exists()


def test_aborted_upload_is_removed(store: LocalObjectStore, root: Path) -> None:
    upload = store.create_multipart_upload("data", "gone")
    store.upload_part("data", "gone", upload, 1, b"part")
    assert (root / ".uploads" / upload).is_dir()
    store.abort_multipart_upload("data", "gone", upload)
    assert not (root / ".uploads" / upload).exists()


def test_concurrent_writers_of_nested_keys(store: LocalObjectStore) -> None:
    keys = [
        "n",
        *[f"n/{index}" for index in range(20)],
        *[f"n/{index}/deeper" for index in range(20)],
    ]
    errors: list[BaseException] = []

    def write(key: str) -> None:
        try:
            for _ in range(3):
                store.put_object("data", key, key.encode())
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=write, args=(key,)) for key in keys]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    for key in keys:
        assert store.read_bytes(f"s3://data/{key}") == key.encode()
    assert sorted(info.key for info in store.iter_objects("s3://data/")) == sorted(keys)


def test_readers_keep_their_bytes_while_a_writer_replaces_them(store: LocalObjectStore) -> None:
    store.put_object("data", "k", b"old" * 1000)
    _, chunks = store.get_object("data", "k")
    store.put_object("data", "k", b"new")
    assert b"".join(chunks) == b"old" * 1000
    store.delete_object("data", "k")
    with pytest.raises(NoSuchKey):
        store.head_object("data", "k")


def test_permissions_of_written_files(store: LocalObjectStore, root: Path) -> None:
    store.put_object("data", "perm", b"x")
    mode = os.stat(root / "data" / "perm").st_mode & 0o777
    assert mode & 0o600 == 0o600
