"""One contract, every backend: local folder, moto's S3 server, sagebox's own S3 edge."""

from __future__ import annotations

import hashlib
import io
import uuid
import zlib
from base64 import b64encode
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from sagebox.objects import (
    MIN_PART_SIZE,
    BadDigest,
    BucketAlreadyOwnedByYou,
    BucketNotEmpty,
    EntityTooSmall,
    InvalidBucketName,
    InvalidPart,
    InvalidPartOrder,
    InvalidRange,
    InvalidRequest,
    NoSuchBucket,
    NoSuchKey,
    NoSuchUpload,
    ObjectStore,
    ObjectStoreError,
)


def crc32(data: bytes) -> str:
    return b64encode(zlib.crc32(data).to_bytes(4, "big")).decode()


def md5_etag(data: bytes) -> str:
    return f'"{hashlib.md5(data).hexdigest()}"'


def read(store: ObjectStore, bucket: str, key: str) -> bytes:
    return b"".join(store.get_object(bucket, key)[1])


def all_keys(store: ObjectStore, bucket: str, prefix: str = "") -> list[str]:
    return [info.key for info in store.iter_objects(f"s3://{bucket}/{prefix}")]


# buckets


def test_bucket_lifecycle(store: ObjectStore) -> None:
    name = f"contract-{uuid.uuid4().hex[:16]}"
    store.create_bucket(name)
    info = store.head_bucket(name)
    assert info.name == name
    assert info.creation_date.tzinfo is not None
    assert abs(info.creation_date - datetime.now(UTC)) < timedelta(minutes=5)
    assert name in [item.name for item in store.list_buckets()]
    with pytest.raises(BucketAlreadyOwnedByYou) as caught:
        store.create_bucket(name)
    assert caught.value.code == "BucketAlreadyOwnedByYou" and caught.value.status == 409
    store.delete_bucket(name)
    assert name not in [item.name for item in store.list_buckets()]
    with pytest.raises(NoSuchBucket):
        store.head_bucket(name)


def test_list_buckets_is_sorted(store: ObjectStore) -> None:
    stem = uuid.uuid4().hex[:12]
    for suffix in ("b", "a", "c"):
        store.create_bucket(f"sorted-{stem}-{suffix}")
    names = [info.name for info in store.list_buckets() if info.name.startswith(f"sorted-{stem}")]
    assert names == [f"sorted-{stem}-a", f"sorted-{stem}-b", f"sorted-{stem}-c"]


@pytest.mark.parametrize(
    "name",
    [
        "ab",
        "a" * 64,
        "Upper-case",
        "under_score",
        "-leading",
        "trailing-",
        "two..dots",
        "192.168.1.1",
        "xn--punycode",
    ],
)
def test_invalid_bucket_names(store: ObjectStore, name: str) -> None:
    with pytest.raises(InvalidBucketName) as caught:
        store.create_bucket(name)
    assert caught.value.code == "InvalidBucketName" and caught.value.status == 400


def test_missing_bucket(store: ObjectStore) -> None:
    missing = f"missing-{uuid.uuid4().hex[:12]}"
    for action in (
        lambda: store.head_bucket(missing),
        lambda: store.delete_bucket(missing),
        lambda: store.put_object(missing, "k", b"x"),
        lambda: store.get_object(missing, "k"),
        lambda: store.head_object(missing, "k"),
        lambda: store.list_objects(missing),
        lambda: list(store.iter_objects(f"s3://{missing}/prefix")),
        lambda: store.create_multipart_upload(missing, "k"),
    ):
        with pytest.raises(NoSuchBucket) as caught:
            action()
        assert caught.value.code == "NoSuchBucket" and caught.value.status == 404


def test_delete_bucket_that_holds_objects(store: ObjectStore, bucket: str) -> None:
    store.put_object(bucket, "deep/inside/key", b"x")
    with pytest.raises(BucketNotEmpty) as caught:
        store.delete_bucket(bucket)
    assert caught.value.status == 409
    store.delete_object(bucket, "deep/inside/key")
    store.delete_bucket(bucket)


# objects


def test_put_get_head(store: ObjectStore, bucket: str) -> None:
    data = b"hello object store"
    stored = store.put_object(
        bucket, "greeting.txt", data, content_type="text/plain", metadata={"owner": "me", "n": "1"}
    )
    assert stored.etag == md5_etag(data) and stored.size == len(data)
    info, chunks = store.get_object(bucket, "greeting.txt")
    assert b"".join(chunks) == data
    head = store.head_object(bucket, "greeting.txt")
    for described in (info, head):
        assert described.key == "greeting.txt" and described.bucket == bucket
        assert described.size == len(data)
        assert described.etag == md5_etag(data)
        assert described.content_type == "text/plain"
        assert described.metadata == {"owner": "me", "n": "1"}
        assert described.last_modified.tzinfo is not None
        assert abs(described.last_modified - datetime.now(UTC)) < timedelta(minutes=5)
        assert described.parts_count is None


def test_put_streams_a_file_object_and_defaults(store: ObjectStore, bucket: str) -> None:
    data = bytes(range(256)) * 5000
    info = store.put_object(bucket, "stream.bin", io.BytesIO(data))
    assert info.etag == md5_etag(data)
    assert store.head_object(bucket, "stream.bin").content_type == "binary/octet-stream"
    assert read(store, bucket, "stream.bin") == data


def test_empty_object(store: ObjectStore, bucket: str) -> None:
    store.put_object(bucket, "empty", b"")
    assert read(store, bucket, "empty") == b""
    assert store.head_object(bucket, "empty").etag == md5_etag(b"")


def test_overwrite_replaces_bytes_and_metadata(store: ObjectStore, bucket: str) -> None:
    store.put_object(bucket, "k", b"first", metadata={"v": "1"})
    store.put_object(bucket, "k", b"second!", content_type="text/plain")
    head = store.head_object(bucket, "k")
    assert (head.size, head.metadata, head.content_type) == (7, {}, "text/plain")
    assert read(store, bucket, "k") == b"second!"


def test_missing_key(store: ObjectStore, bucket: str) -> None:
    for action in (
        lambda: store.get_object(bucket, "nope"),
        lambda: store.head_object(bucket, "nope"),
        lambda: store.read_bytes(f"s3://{bucket}/nope"),
    ):
        with pytest.raises(NoSuchKey) as caught:
            action()
        assert caught.value.code == "NoSuchKey" and caught.value.status == 404


def test_delete_object(store: ObjectStore, bucket: str) -> None:
    store.put_object(bucket, "gone", b"x")
    store.delete_object(bucket, "gone")
    with pytest.raises(NoSuchKey):
        store.head_object(bucket, "gone")
    store.delete_object(bucket, "gone")  # deleting a missing key is not an error
    store.delete_object(bucket, "never/was/here")


def skip_without_checksums(backend: str) -> None:
    if backend == "moto":
        pytest.skip("moto's S3 server neither verifies nor keeps flexible checksums")


def test_checksums_are_verified_and_kept(store: ObjectStore, bucket: str, backend: str) -> None:
    skip_without_checksums(backend)
    data = b"checksummed bytes"
    sha256 = b64encode(hashlib.sha256(data).digest()).decode()
    info = store.put_object(bucket, "crc", data, checksums={"CRC32": crc32(data)})
    assert store.head_object(bucket, "crc").checksums.get("CRC32") == crc32(data)
    assert info.etag == md5_etag(data)
    store.put_object(bucket, "sha", data, checksums={"SHA256": sha256})
    assert store.head_object(bucket, "sha").checksums.get("SHA256") == sha256
    with pytest.raises(BadDigest) as caught:
        store.put_object(bucket, "bad", data, checksums={"CRC32": crc32(b"other bytes")})
    assert caught.value.status == 400
    with pytest.raises(NoSuchKey):
        store.head_object(bucket, "bad")


def test_range_reads(store: ObjectStore, bucket: str) -> None:
    data = b"0123456789abcdef"
    store.put_object(bucket, "digits", data)

    def ranged(byte_range: tuple[int, int | None]) -> bytes:
        info, chunks = store.get_object(bucket, "digits", byte_range=byte_range)
        assert info.size == len(data)
        return b"".join(chunks)

    assert ranged((0, 4)) == b"01234"
    assert ranged((10, None)) == b"abcdef"
    assert ranged((-3, None)) == b"def"
    assert ranged((14, 100)) == b"ef"
    assert ranged((15, 15)) == b"f"
    with pytest.raises(InvalidRange) as caught:
        store.get_object(bucket, "digits", byte_range=(16, None))
    assert caught.value.status == 416


def test_large_object_streams_in_chunks(store: ObjectStore, bucket: str) -> None:
    data = b"x" * (3 * 1024 * 1024 + 5)
    store.put_object(bucket, "large", data)
    _, chunks = store.get_object(bucket, "large")
    pieces = list(chunks)
    assert len(pieces) > 1 and b"".join(pieces) == data


@pytest.mark.parametrize(
    "key",
    [
        "with space/and more spaces.txt",
        "ünïcödé/中文/ファイル.csv",
        "symbols/a+b=c&d?e#f%g~h!i'j(k)l;m,n$o@p",
        "emoji-🙂.json",
        ".hidden",
        "trailing.dot.",
    ],
)
def test_unusual_keys(store: ObjectStore, bucket: str, key: str) -> None:
    store.put_object(bucket, key, key.encode())
    assert read(store, bucket, key) == key.encode()
    assert all_keys(store, bucket) == [key]
    store.delete_object(bucket, key)
    assert all_keys(store, bucket) == []


def test_folder_markers_and_keys_that_are_folders(store: ObjectStore, bucket: str) -> None:
    for key, value in [("a", b"file a"), ("a/", b""), ("a/b", b"file a/b"), ("a/b/c", b"deep")]:
        store.put_object(bucket, key, value)
    assert all_keys(store, bucket) == ["a", "a/", "a/b", "a/b/c"]
    assert read(store, bucket, "a") == b"file a"
    assert read(store, bucket, "a/") == b""
    assert read(store, bucket, "a/b") == b"file a/b"
    page = store.list_objects(bucket, delimiter="/")
    assert [info.key for info in page.objects] == ["a"]
    assert page.common_prefixes == ["a/"]
    page = store.list_objects(bucket, prefix="a/", delimiter="/")
    assert [info.key for info in page.objects] == ["a/", "a/b"]
    assert page.common_prefixes == ["a/b/"]
    store.delete_object(bucket, "a/b/c")
    store.delete_object(bucket, "a/")
    assert all_keys(store, bucket) == ["a", "a/b"]
    store.delete_object(bucket, "a/b")
    assert all_keys(store, bucket) == ["a"]
    assert read(store, bucket, "a") == b"file a"
    store.put_object(bucket, "x/y/z", b"z")
    store.put_object(bucket, "x/y", b"y")  # a key over an existing folder
    assert read(store, bucket, "x/y") == b"y" and read(store, bucket, "x/y/z") == b"z"


def test_keys_with_odd_segments(store: ObjectStore, bucket: str) -> None:
    keys = ["dots/./here", "dots/../there", "double//slash", ".sagebox-object", "n/.sagebox-folder"]
    for key in keys:
        store.put_object(bucket, key, key.encode())
    for key in keys:
        assert read(store, bucket, key) == key.encode()
    assert all_keys(store, bucket) == sorted(keys)


# listing


def test_listing_order_is_utf8_byte_order(store: ObjectStore, bucket: str) -> None:
    keys = ["b", "B", "a", "a!", "a/x", "a0", "é", "z", "~", "中", "Z/y", "😀"]
    for key in keys:
        store.put_object(bucket, key, b".")
    expected = sorted(keys, key=lambda key: key.encode("utf-8"))
    assert [info.key for info in store.list_objects(bucket).objects] == expected
    assert all_keys(store, bucket) == expected


def test_listing_with_prefix_and_delimiter(store: ObjectStore, bucket: str) -> None:
    keys = [
        "data/train/1.csv",
        "data/train/2.csv",
        "data/test/1.csv",
        "data/readme",
        "logs/x",
        "top",
    ]
    for key in keys:
        store.put_object(bucket, key, b".")
    page = store.list_objects(bucket, prefix="data/")
    assert [info.key for info in page.objects] == sorted(k for k in keys if k.startswith("data/"))
    assert not page.is_truncated and page.next_continuation is None
    page = store.list_objects(bucket, prefix="data/", delimiter="/")
    assert [info.key for info in page.objects] == ["data/readme"]
    assert page.common_prefixes == ["data/test/", "data/train/"]
    page = store.list_objects(bucket, delimiter="/")
    assert [info.key for info in page.objects] == ["top"]
    assert page.common_prefixes == ["data/", "logs/"]
    page = store.list_objects(bucket, prefix="data/tr", delimiter="/")
    assert page.objects == [] and page.common_prefixes == ["data/train/"]
    page = store.list_objects(bucket, prefix="data/train/1")
    assert [info.key for info in page.objects] == ["data/train/1.csv"]
    page = store.list_objects(bucket, delimiter=".")
    assert page.common_prefixes == ["data/test/1.", "data/train/1.", "data/train/2."]
    assert store.list_objects(bucket, prefix="nothing/").objects == []


def test_listed_objects_are_described(store: ObjectStore, bucket: str) -> None:
    store.put_object(bucket, "k", b"12345")
    (info,) = store.list_objects(bucket).objects
    assert (info.bucket, info.key, info.size, info.etag) == (bucket, "k", 5, md5_etag(b"12345"))
    assert info.last_modified.tzinfo is not None


def test_pagination_across_pages(store: ObjectStore, bucket: str) -> None:
    keys = [f"p/{index:02d}" for index in range(7)]
    for key in keys:
        store.put_object(bucket, key, b".")
    seen, after, pages = [], None, 0
    while True:
        page = store.list_objects(bucket, prefix="p/", max_keys=3, start_after=after)
        pages += 1
        seen += [info.key for info in page.objects]
        if not page.is_truncated:
            break
        assert page.next_continuation == seen[-1]
        after = page.next_continuation
    assert seen == keys and pages == 3
    page = store.list_objects(bucket, start_after="p/04")
    assert [info.key for info in page.objects] == ["p/05", "p/06"]


def test_pagination_over_common_prefixes(store: ObjectStore, bucket: str) -> None:
    keys = ["a/1", "a/2", "b", "c/1", "c/2/3", "d", "e/1"]
    for key in keys:
        store.put_object(bucket, key, b".")
    names, after = [], None
    while True:
        page = store.list_objects(bucket, delimiter="/", max_keys=2, start_after=after)
        names += [info.key for info in page.objects] + page.common_prefixes
        if not page.is_truncated:
            break
        after = page.next_continuation
    assert sorted(names) == ["a/", "b", "c/", "d", "e/"]
    assert len(names) == len(set(names))


def test_iter_objects_reads_every_page(store: ObjectStore, bucket: str) -> None:
    keys = [f"many/{index:03d}" for index in range(11)]
    for key in keys:
        store.put_object(bucket, key, b".")
    store.put_object(bucket, "other", b".")
    store.list_page_size = 4
    assert [info.key for info in store.iter_objects(f"s3://{bucket}/many/")] == keys
    assert len(list(store.iter_objects(f"s3://{bucket}"))) == 12


# copies


def test_copy_keeps_or_replaces_metadata(store: ObjectStore, bucket: str) -> None:
    other = f"contract-{uuid.uuid4().hex[:16]}"
    store.create_bucket(other)
    data = b"copy me"
    store.put_object(bucket, "src", data, content_type="text/plain", metadata={"a": "1"})
    copied = store.copy_object(bucket, "src", other, "dst")
    assert copied.etag == md5_etag(data)
    head = store.head_object(other, "dst")
    assert (head.content_type, head.metadata) == ("text/plain", {"a": "1"})
    assert read(store, other, "dst") == data
    store.copy_object(bucket, "src", bucket, "src", metadata={"b": "2"}, content_type="text/csv")
    head = store.head_object(bucket, "src")
    assert (head.content_type, head.metadata) == ("text/csv", {"b": "2"})
    assert read(store, bucket, "src") == data


def test_copy_errors(store: ObjectStore, bucket: str) -> None:
    with pytest.raises(NoSuchKey):
        store.copy_object(bucket, "missing", bucket, "dst")
    store.put_object(bucket, "src", b"x")
    with pytest.raises(InvalidRequest):
        store.copy_object(bucket, "src", bucket, "src")


# multipart uploads


def _part(seed: int, size: int = MIN_PART_SIZE) -> bytes:
    return bytes([seed % 256]) * size


def test_multipart_upload(store: ObjectStore, bucket: str) -> None:
    upload = store.create_multipart_upload(
        bucket, "mp", content_type="text/csv", metadata={"m": "1"}
    )
    parts = [_part(1), _part(2), b"tail"]
    etags = [
        store.upload_part(bucket, "mp", upload, number, body)
        for number, body in enumerate(parts, 1)
    ]
    assert etags == [md5_etag(body) for body in parts]
    info = store.complete_multipart_upload(bucket, "mp", upload, list(enumerate(etags, 1)))
    digests = b"".join(hashlib.md5(body).digest() for body in parts)
    assert info.etag == f'"{hashlib.md5(digests).hexdigest()}-3"'
    head = store.head_object(bucket, "mp")
    assert head.etag == info.etag and head.size == sum(map(len, parts))
    assert (head.content_type, head.metadata) == ("text/csv", {"m": "1"})
    assert read(store, bucket, "mp") == b"".join(parts)


def test_multipart_with_a_composite_checksum(store: ObjectStore, bucket: str, backend: str) -> None:
    skip_without_checksums(backend)
    upload = store.create_multipart_upload(bucket, "mpc", checksum_algorithm="CRC32")
    parts = [_part(3), b"end"]
    etags = [
        store.upload_part(bucket, "mpc", upload, number, body, checksums={"CRC32": crc32(body)})
        for number, body in enumerate(parts, 1)
    ]
    store.complete_multipart_upload(bucket, "mpc", upload, list(enumerate(etags, 1)))
    raw = b"".join(zlib.crc32(body).to_bytes(4, "big") for body in parts)
    assert store.head_object(bucket, "mpc").checksums.get("CRC32") == f"{crc32(raw)}-2"


def test_multipart_errors(store: ObjectStore, bucket: str, backend: str) -> None:
    upload = store.create_multipart_upload(bucket, "bad")
    etags = [store.upload_part(bucket, "bad", upload, number, _part(number)) for number in (1, 2)]
    with pytest.raises(InvalidPart):
        store.complete_multipart_upload(bucket, "bad", upload, [(1, md5_etag(b"other"))])
    with pytest.raises(InvalidPart):
        store.complete_multipart_upload(bucket, "bad", upload, [(1, etags[0]), (7, etags[1])])
    with pytest.raises(NoSuchKey):
        store.head_object(bucket, "bad")
    store.abort_multipart_upload(bucket, "bad", upload)
    bogus = "0" * 32
    actions = [lambda: store.abort_multipart_upload(bucket, "bad", bogus)]
    if backend != "moto":  # moto's server answers 500 for parts of unknown uploads
        actions.append(
            lambda: store.complete_multipart_upload(bucket, "bad", upload, [(1, etags[0])])
        )
        actions.append(lambda: store.upload_part(bucket, "bad", upload, 1, b"x"))
        actions.append(lambda: store.upload_part(bucket, "bad", bogus, 1, b"x"))
    for action in actions:
        with pytest.raises(NoSuchUpload) as caught:
            action()
        assert caught.value.status == 404


def test_parts_must_be_in_order(store: ObjectStore, bucket: str, backend: str) -> None:
    if backend == "moto":
        pytest.skip("moto's S3 server accepts parts listed out of order")
    upload = store.create_multipart_upload(bucket, "order")
    etags = [store.upload_part(bucket, "order", upload, number, _part(number)) for number in (1, 2)]
    with pytest.raises(InvalidPartOrder) as wrong_order:
        store.complete_multipart_upload(bucket, "order", upload, [(2, etags[1]), (1, etags[0])])
    assert wrong_order.value.status == 400
    with pytest.raises(InvalidPartOrder):
        store.complete_multipart_upload(bucket, "order", upload, [(1, etags[0]), (1, etags[0])])


def test_parts_must_be_large_enough(store: ObjectStore, bucket: str) -> None:
    upload = store.create_multipart_upload(bucket, "small")
    small = [store.upload_part(bucket, "small", upload, number, b"tiny") for number in (1, 2)]
    with pytest.raises(EntityTooSmall) as too_small:
        store.complete_multipart_upload(bucket, "small", upload, list(enumerate(small, 1)))
    assert too_small.value.status == 400
    only = store.complete_multipart_upload(bucket, "small", upload, [(1, small[0])])
    assert only.size == 4 and only.etag.endswith('-1"')


def test_concurrent_part_uploads(store: ObjectStore, bucket: str) -> None:
    upload = store.create_multipart_upload(bucket, "parallel")
    bodies = {number: _part(number) for number in range(1, 7)}
    with ThreadPoolExecutor(max_workers=6) as pool:
        futures = {
            number: pool.submit(store.upload_part, bucket, "parallel", upload, number, body)
            for number, body in bodies.items()
        }
        etags = {number: future.result() for number, future in futures.items()}
    info = store.complete_multipart_upload(bucket, "parallel", upload, sorted(etags.items()))
    assert info.etag.endswith('-6"')
    assert read(store, bucket, "parallel") == b"".join(bodies[n] for n in sorted(bodies))


def test_list_parts_pages_in_number_order(store: ObjectStore, bucket: str, backend: str) -> None:
    upload = store.create_multipart_upload(bucket, "listed")
    bodies = {number: f"part {number}".encode() for number in (3, 1, 7, 2)}
    etags = {n: store.upload_part(bucket, "listed", upload, n, body) for n, body in bodies.items()}
    first = store.list_parts(bucket, "listed", upload, max_parts=3)
    assert [part.number for part in first.parts] == [1, 2, 3]
    assert [part.etag for part in first.parts] == [etags[1], etags[2], etags[3]]
    assert [part.size for part in first.parts] == [6, 6, 6]
    assert first.is_truncated and first.next_marker == 3
    assert all(part.last_modified.tzinfo is not None for part in first.parts)
    rest = store.list_parts(bucket, "listed", upload, part_number_marker=first.next_marker)
    assert [part.number for part in rest.parts] == [7] and not rest.is_truncated
    with pytest.raises(NoSuchUpload):
        store.list_parts(bucket, "listed", "0" * 32)
    if backend != "moto":  # moto lists the parts of any upload id under any key
        with pytest.raises(NoSuchUpload):
            store.list_parts(bucket, "other-key", upload)
    store.abort_multipart_upload(bucket, "listed", upload)


def test_list_multipart_uploads(store: ObjectStore, bucket: str, backend: str) -> None:
    if backend == "moto":
        pytest.skip("moto's S3 server lists uploads in creation order, not by key")
    uploads = {
        key: store.create_multipart_upload(bucket, key) for key in ("b/2", "a/1", "b/1", "c")
    }
    second = store.create_multipart_upload(bucket, "b/1")
    page = store.list_multipart_uploads(bucket)
    assert [upload.key for upload in page.uploads] == ["a/1", "b/1", "b/1", "b/2", "c"]
    assert {u.upload_id for u in page.uploads if u.key == "b/1"} == {uploads["b/1"], second}
    assert not page.is_truncated
    under_b = store.list_multipart_uploads(bucket, prefix="b/", max_uploads=2)
    assert [upload.key for upload in under_b.uploads] == ["b/1", "b/1"]
    assert under_b.is_truncated and under_b.next_key_marker == "b/1"
    following = store.list_multipart_uploads(
        bucket,
        prefix="b/",
        key_marker=under_b.next_key_marker,
        upload_id_marker=under_b.next_upload_id_marker,
    )
    assert [upload.key for upload in following.uploads] == ["b/2"]
    after_key = store.list_multipart_uploads(bucket, key_marker="b/1")
    assert [upload.key for upload in after_key.uploads] == ["b/2", "c"]
    for key, upload in [*uploads.items(), ("b/1", second)]:
        store.abort_multipart_upload(bucket, key, upload)
    assert store.list_multipart_uploads(bucket).uploads == []


# atomicity


class _BrokenStream(io.BytesIO):
    """Gives some bytes, then fails, as a dropped connection would."""

    def __init__(self) -> None:
        super().__init__(b"z" * (4 * 1024 * 1024))

    def read(self, size: int | None = -1) -> bytes:
        if self.tell() >= 2 * 1024 * 1024:
            raise OSError("connection lost")
        return super().read(min(256 * 1024, size if size is not None and size >= 0 else 1 << 30))


def test_failed_put_leaves_no_partial_object(store: ObjectStore, bucket: str) -> None:
    with pytest.raises(OSError, match="connection lost"):
        store.put_object(bucket, "atomic", _BrokenStream())
    with pytest.raises(NoSuchKey):
        store.head_object(bucket, "atomic")
    store.put_object(bucket, "atomic", b"original")
    with pytest.raises(OSError, match="connection lost"):
        store.put_object(bucket, "atomic", _BrokenStream())
    assert read(store, bucket, "atomic") == b"original"


# conveniences over s3:// URIs


def test_file_conveniences(store: ObjectStore, bucket: str, tmp_path: Path) -> None:
    source = tmp_path / "source.bin"
    data = bytes(range(256)) * 4096
    source.write_bytes(data)
    info = store.upload_file(
        source, f"s3://{bucket}/files/source.bin", content_type="application/x-test"
    )
    assert info.etag == md5_etag(data) and info.size == len(data)
    assert store.head_object(bucket, "files/source.bin").content_type == "application/x-test"
    assert store.read_bytes(f"s3://{bucket}/files/source.bin") == data
    target = tmp_path / "deep" / "folders" / "copy.bin"
    store.download_file(f"s3://{bucket}/files/source.bin", target)
    assert target.read_bytes() == data
    assert [item.key for item in store.iter_objects(f"s3://{bucket}/files/")] == [
        "files/source.bin"
    ]
    missing = tmp_path / "missing" / "file.bin"
    with pytest.raises(NoSuchKey):
        store.download_file(f"s3://{bucket}/files/nothing", missing)
    assert not missing.exists()
    assert list(tmp_path.rglob("*.part")) == []


def test_errors_are_object_store_errors(store: ObjectStore, bucket: str) -> None:
    with pytest.raises(ObjectStoreError) as caught:
        store.get_object(bucket, "missing")
    error = caught.value
    assert (error.code, error.status) == ("NoSuchKey", 404)
    assert error.message
