"""The local-folder backend: buckets are folders, objects are files you can browse.

Layout under the root folder:

    <bucket>/<key>                      the object's bytes (see local_keys for odd keys)
    .meta/<bucket>.bucket.json          the bucket's creation date
    .meta/<bucket>/<key>.json           content type, user metadata, ETag, checksums
    .uploads/<upload id>/               in-progress multipart uploads
    .tmp/                               files being written, renamed into place when whole

Bucket names cannot start with ".", so the reserved folders never clash with a bucket.
A sidecar records the size and modification time of the bytes it describes; a file
without a matching sidecar (copied in by hand) is still an object: its ETag is computed
on first sight and a sidecar written. Every write goes to .tmp first and is renamed over
its target, so readers see the old object or the new one, never a part.
"""

from __future__ import annotations

import os
import shutil
import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, BinaryIO

from sagebox.objects import local_keys
from sagebox.objects.base import (
    DEFAULT_CONTENT_TYPE,
    MAX_KEYS,
    Body,
    BucketInfo,
    ByteRange,
    ListPage,
    ObjectInfo,
    ObjectStore,
    PartsPage,
    UploadsPage,
    atomic_file,
    require_key,
    resolve_range,
    stored_headers,
)
from sagebox.objects.checksums import CHUNK_SIZE, FULL_OBJECT_CAPABLE, StreamDigest
from sagebox.objects.checksums import normalize_algorithm as _algorithm
from sagebox.objects.errors import (
    BucketAlreadyOwnedByYou,
    BucketNotEmpty,
    InvalidArgument,
    InvalidRequest,
    NoSuchBucket,
    NoSuchKey,
    NoSuchUpload,
)
from sagebox.objects.local_files import copy_file, read_json, stream_into, write_json
from sagebox.objects.local_keys import KeyPath, key_path
from sagebox.objects.local_listing import has_keys, list_entries, page_of
from sagebox.objects.local_multipart import UploadArea
from sagebox.objects.uris import bucket_name_problem, parse_s3_uri, validate_bucket_name


class LocalObjectStore(ObjectStore):
    """Buckets as folders under `root`; safe to share between threads."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root).resolve()
        self._meta = self.root / ".meta"
        self._scratch = self.root / ".tmp"
        for folder in (self.root, self._meta, self._scratch):
            folder.mkdir(parents=True, exist_ok=True)
        self._uploads = UploadArea(self.root / ".uploads")
        self._lock = threading.RLock()

    # buckets

    def create_bucket(self, bucket: str) -> None:
        validate_bucket_name(bucket)
        with self._lock:
            folder = self.root / bucket
            if folder.exists():
                raise BucketAlreadyOwnedByYou(resource=bucket)
            folder.mkdir()
            created = datetime.now(UTC).isoformat()
            write_json(self._meta / f"{bucket}.bucket.json", {"creation_date": created})

    def head_bucket(self, bucket: str) -> BucketInfo:
        folder = self._bucket_folder(bucket)
        record = read_json(self._meta / f"{bucket}.bucket.json") or {}
        try:
            created = datetime.fromisoformat(record["creation_date"])
        except (KeyError, TypeError, ValueError):
            created = datetime.fromtimestamp(int(folder.stat().st_mtime), UTC)
        return BucketInfo(bucket, created)

    def list_buckets(self) -> list[BucketInfo]:
        names = sorted(
            entry.name
            for entry in os.scandir(self.root)
            if entry.is_dir() and bucket_name_problem(entry.name) is None
        )
        found = []
        for name in names:
            try:
                found.append(self.head_bucket(name))
            except NoSuchBucket:
                continue
        return found

    def delete_bucket(self, bucket: str) -> None:
        with self._lock:
            folder = self._bucket_folder(bucket)
            if has_keys(folder):
                raise BucketNotEmpty(resource=bucket)
            shutil.rmtree(folder)
            shutil.rmtree(self._meta / bucket, ignore_errors=True)
            (self._meta / f"{bucket}.bucket.json").unlink(missing_ok=True)

    def _bucket_folder(self, bucket: str) -> Path:
        folder = self.root / bucket
        if bucket_name_problem(bucket) is not None or not folder.is_dir():
            raise NoSuchBucket(resource=bucket)
        return folder

    # objects

    def put_object(
        self,
        bucket: str,
        key: str,
        body: Body,
        *,
        content_type: str | None = None,
        metadata: dict[str, str] | None = None,
        checksums: dict[str, str] | None = None,
        headers: dict[str, str] | None = None,
    ) -> ObjectInfo:
        self._bucket_folder(bucket)
        path = key_path(key)
        expected = {_algorithm(name): value for name, value in (checksums or {}).items()}
        with self._scratch_file() as (temp, out):
            digest = StreamDigest(expected)
            stream_into(body, out, digest)
            out.close()
            digest.verify(expected)
            record = _record(digest.etag, content_type, metadata, digest.checksums(), None, headers)
            return self._commit(bucket, key, path, temp, record)

    def get_object(
        self, bucket: str, key: str, *, byte_range: ByteRange | None = None
    ) -> tuple[ObjectInfo, Iterator[bytes]]:
        data, source = self._open(bucket, key)
        try:
            info = self._describe(bucket, key, data, os.fstat(source.fileno()), source)
            first, last = (
                (0, info.size - 1) if byte_range is None else resolve_range(byte_range, info.size)
            )
            source.seek(first)
        except BaseException:
            source.close()
            raise
        return info, _read_chunks(source, last - first + 1)

    def download_file(self, uri: str, path: Path) -> None:
        """Writes one object to `path` atomically, copying its file inside the kernel."""
        bucket, key = parse_s3_uri(uri)
        require_key(key)
        _, source = self._open(bucket, key)
        with source, atomic_file(Path(path)) as out:
            copy_file(source, out)

    def head_object(self, bucket: str, key: str) -> ObjectInfo:
        path = key_path(key)
        with self._lock:
            data = local_keys.locate(self._bucket_folder(bucket), path)
            try:
                stat = os.stat(data) if data is not None else None
            except FileNotFoundError:
                stat = None
        if data is None or stat is None:
            raise NoSuchKey(resource=key)
        return self._describe(bucket, key, data, stat)

    def delete_object(self, bucket: str, key: str) -> None:
        path = key_path(key)
        with self._lock:
            folder = self._bucket_folder(bucket)
            data = local_keys.locate(folder, path)
            if data is not None:
                data.unlink()
                local_keys.prune(folder, data, self._scratch)
            meta_folder = self._meta / bucket
            sidecar = local_keys.locate(meta_folder, _sidecar_path(path))
            if sidecar is not None:
                sidecar.unlink()
                local_keys.prune(meta_folder, sidecar, self._scratch)

    def list_objects(
        self,
        bucket: str,
        *,
        prefix: str = "",
        delimiter: str | None = None,
        max_keys: int = MAX_KEYS,
        start_after: str | None = None,
    ) -> ListPage:
        if max_keys < 0:
            raise InvalidArgument(
                "max-keys must be a non-negative integer.", resource=str(max_keys)
            )
        folder = self._bucket_folder(bucket)
        entries = list_entries(folder, prefix=prefix, delimiter=delimiter, start_after=start_after)
        chosen, truncated = page_of(entries, prefix, delimiter, start_after, max_keys)
        objects, prefixes = [], []
        for entry in chosen:
            if entry.path is None:
                prefixes.append(entry.name)
                continue
            try:
                stat = os.stat(entry.path)
                objects.append(self._describe(bucket, entry.name, entry.path, stat))
            except (FileNotFoundError, IsADirectoryError):
                continue
        last = chosen[-1].name if chosen else None
        return ListPage(objects, prefixes, truncated, last if truncated else None)

    def copy_object(
        self,
        src_bucket: str,
        src_key: str,
        dst_bucket: str,
        dst_key: str,
        *,
        metadata: dict[str, str] | None = None,
        content_type: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> ObjectInfo:
        replace = metadata is not None or content_type is not None or headers is not None
        if (src_bucket, src_key) == (dst_bucket, dst_key) and not replace:
            raise InvalidRequest(
                "This copy request is illegal because it is trying to copy an object to itself "
                "without changing the object's metadata, storage class, website redirect "
                "location or encryption attributes.",
                resource=dst_key,
            )
        self._bucket_folder(dst_bucket)
        path = key_path(dst_key)
        data, source = self._open(src_bucket, src_key)
        with source:
            original = self._describe(src_bucket, src_key, data, os.fstat(source.fileno()), source)
            algorithms = list(original.checksums)
            with self._scratch_file() as (temp, out):
                digest = StreamDigest(algorithms)
                stream_into(source, out, digest)
                out.close()
                if replace:
                    record = _record(
                        digest.etag, content_type, metadata, digest.checksums(), None, headers
                    )
                else:
                    record = _record(
                        digest.etag,
                        original.content_type,
                        original.metadata,
                        digest.checksums(),
                        None,
                        original.headers,
                    )
                return self._commit(dst_bucket, dst_key, path, temp, record)

    # multipart uploads

    def create_multipart_upload(
        self,
        bucket: str,
        key: str,
        *,
        content_type: str | None = None,
        metadata: dict[str, str] | None = None,
        checksum_algorithm: str | None = None,
        checksum_type: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> str:
        self._bucket_folder(bucket)
        key_path(key)
        algorithm = _algorithm(checksum_algorithm) if checksum_algorithm else None
        kind = (checksum_type or "COMPOSITE").upper()
        if kind not in ("COMPOSITE", "FULL_OBJECT"):
            raise InvalidRequest(
                f"Value for x-amz-checksum-type header is invalid: {checksum_type}"
            )
        if algorithm and kind == "FULL_OBJECT" and algorithm not in FULL_OBJECT_CAPABLE:
            raise InvalidRequest(
                f"The FULL_OBJECT checksum type cannot be used with the {algorithm} checksum algorithm."
            )
        if algorithm:
            StreamDigest([algorithm])  # NotImplemented now rather than at the first part
        settings = {
            "content_type": content_type or DEFAULT_CONTENT_TYPE,
            "metadata": dict(metadata or {}),
            "headers": stored_headers(headers),
            "checksum_algorithm": algorithm,
            "checksum_type": kind if algorithm else None,
        }
        return self._uploads.create(bucket, key, settings)

    def upload_part(
        self,
        bucket: str,
        key: str,
        upload_id: str,
        part_number: int,
        body: Body,
        *,
        checksums: dict[str, str] | None = None,
    ) -> str:
        self._bucket_folder(bucket)
        record = self._uploads.load(bucket, key, upload_id)
        expected = {_algorithm(name): value for name, value in (checksums or {}).items()}
        return self._uploads.write_part(upload_id, record, part_number, body, expected)

    def complete_multipart_upload(
        self, bucket: str, key: str, upload_id: str, parts: list[tuple[int, str]]
    ) -> ObjectInfo:
        self._bucket_folder(bucket)
        record = self._uploads.load(bucket, key, upload_id)
        path = key_path(key)
        with self._scratch_file() as (temp, out):
            try:
                result = self._uploads.assemble(upload_id, record, parts, out)
            except FileNotFoundError as exc:  # aborted while being completed
                raise NoSuchUpload(resource=upload_id) from exc
            out.close()
            document = _record(
                result["etag"],
                record.get("content_type"),
                record.get("metadata"),
                result["checksums"],
                result["parts_count"],
                record.get("headers"),
            )
            info = self._commit(bucket, key, path, temp, document)
        self._uploads.discard(upload_id)
        return info

    def abort_multipart_upload(self, bucket: str, key: str, upload_id: str) -> None:
        self._bucket_folder(bucket)
        self._uploads.load(bucket, key, upload_id)
        self._uploads.discard(upload_id)

    def list_parts(
        self,
        bucket: str,
        key: str,
        upload_id: str,
        *,
        max_parts: int = MAX_KEYS,
        part_number_marker: int = 0,
    ) -> PartsPage:
        self._bucket_folder(bucket)
        record = self._uploads.load(bucket, key, upload_id)
        return self._uploads.list_parts(upload_id, record, max_parts, part_number_marker)

    def list_multipart_uploads(
        self,
        bucket: str,
        *,
        prefix: str = "",
        max_uploads: int = MAX_KEYS,
        key_marker: str = "",
        upload_id_marker: str = "",
    ) -> UploadsPage:
        self._bucket_folder(bucket)
        return self._uploads.list_uploads(bucket, prefix, max_uploads, key_marker, upload_id_marker)

    # internals

    @contextmanager
    def _scratch_file(self) -> Iterator[tuple[Path, BinaryIO]]:
        """A temporary file under the root, removed unless it was renamed into place."""
        temp = self._scratch / f"{uuid.uuid4().hex}.tmp"
        out = open(temp, "wb")  # noqa: SIM115 - closed here and by the caller
        try:
            yield temp, out
        finally:
            out.close()
            temp.unlink(missing_ok=True)

    def _commit(
        self, bucket: str, key: str, path: KeyPath, temp: Path, record: dict[str, Any]
    ) -> ObjectInfo:
        """Renames the finished `temp` into place as `key` and writes its sidecar."""
        stat = os.stat(temp)
        record = {**record, "size": stat.st_size, "mtime_ns": stat.st_mtime_ns}
        with self._lock:
            folder = self._bucket_folder(bucket)
            target = local_keys.prepare(folder, path, self._scratch)
            os.replace(temp, target)
            self._write_sidecar(bucket, path, record)
        return _info(bucket, key, record)

    def _write_sidecar(self, bucket: str, path: KeyPath, record: dict[str, Any]) -> None:
        folder = self._meta / bucket
        folder.mkdir(exist_ok=True)
        sidecar = local_keys.prepare(folder, _sidecar_path(path), self._scratch)
        temp = self._scratch / f"{uuid.uuid4().hex}.json"
        write_json(temp, record)
        os.replace(temp, sidecar)

    def _open(self, bucket: str, key: str) -> tuple[Path, BinaryIO]:
        """The file holding the key's bytes, opened; NoSuchBucket or NoSuchKey."""
        path = key_path(key)
        with self._lock:
            folder = self._bucket_folder(bucket)
            data = local_keys.locate(folder, path)
            if data is None:
                raise NoSuchKey(resource=key)
            try:
                return data, open(data, "rb")  # noqa: SIM115 - the caller closes it
            except FileNotFoundError as exc:  # removed by hand a moment ago
                raise NoSuchKey(resource=key) from exc

    def _describe(
        self,
        bucket: str,
        key: str,
        data: Path,
        stat: os.stat_result,
        source: BinaryIO | None = None,
    ) -> ObjectInfo:
        """The object whose file had `stat`; files without a valid sidecar are adopted:
        their ETag is computed (from `source` when open) and a sidecar written."""
        path = key_path(key)
        sidecar = local_keys.locate(self._meta / bucket, _sidecar_path(path))
        record = read_json(sidecar) if sidecar is not None else None
        if record is not None and _describes(record, stat):
            return _info(bucket, key, record)
        digest = StreamDigest()
        if source is None:
            with open(data, "rb") as opened:
                _feed(digest, opened)
        else:
            position = source.tell()
            source.seek(0)
            _feed(digest, source)
            source.seek(position)
        record = _record(digest.etag, None, None, {}, None)
        record.update(size=stat.st_size, mtime_ns=stat.st_mtime_ns)
        with self._lock:
            try:
                current = os.stat(data)
            except FileNotFoundError:
                current = None
            if current is not None and _same_file(current, stat):
                self._write_sidecar(bucket, path, record)
        return _info(bucket, key, record)


def _feed(digest: StreamDigest, source: BinaryIO) -> None:
    for chunk in iter(lambda: source.read(CHUNK_SIZE), b""):
        digest.update(chunk)


def _sidecar_path(path: KeyPath) -> KeyPath:
    """Where a key's sidecar lives in the .meta tree: its file name plus ".json"."""
    return KeyPath(path.folders, f"{path.leaf or ''}.json")


def _record(
    etag: str,
    content_type: str | None,
    metadata: dict[str, str] | None,
    checksums: dict[str, str],
    parts_count: int | None,
    headers: dict[str, str] | None = None,
) -> dict[str, Any]:
    return {
        "etag": etag,
        "content_type": content_type or DEFAULT_CONTENT_TYPE,
        "metadata": dict(metadata or {}),
        "checksums": dict(checksums),
        "parts_count": parts_count,
        "headers": stored_headers(headers),
    }


def _describes(record: dict[str, Any], stat: os.stat_result) -> bool:
    return record.get("size") == stat.st_size and record.get("mtime_ns") == stat.st_mtime_ns


def _same_file(current: os.stat_result, seen: os.stat_result) -> bool:
    return (current.st_ino, current.st_size, current.st_mtime_ns) == (
        seen.st_ino,
        seen.st_size,
        seen.st_mtime_ns,
    )


def _info(bucket: str, key: str, record: dict[str, Any]) -> ObjectInfo:
    modified = datetime.fromtimestamp(record["mtime_ns"] // 1_000_000_000, UTC)
    return ObjectInfo(
        bucket=bucket,
        key=key,
        size=record["size"],
        etag=record["etag"],
        last_modified=modified,
        content_type=record.get("content_type") or DEFAULT_CONTENT_TYPE,
        metadata=dict(record.get("metadata") or {}),
        checksums=dict(record.get("checksums") or {}),
        parts_count=record.get("parts_count"),
        headers=dict(record.get("headers") or {}),
    )


def _read_chunks(source: BinaryIO, remaining: int) -> Iterator[bytes]:
    with source:
        while remaining > 0:
            chunk = source.read(min(CHUNK_SIZE, remaining))
            if not chunk:
                return
            remaining -= len(chunk)
            yield chunk
