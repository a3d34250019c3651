"""The objects a transform job reads, where each one's output goes, and their bytes.

An S3Prefix source takes every object under the prefix; a ManifestFile source takes
the objects a manifest lists (`[{"prefix": "s3://bucket/path/"}, "relative/key", ...]`).
Each input's output is `<S3OutputPath>/<its path relative to the input prefix>.out`,
the relative path counting from the prefix's last "/" as SageMaker does.
"""

from __future__ import annotations

import json
import zlib
from collections.abc import Iterator
from dataclasses import dataclass

from sagebox.objects import ObjectStore, ObjectStoreError, parse_s3_uri
from sagebox.services.jobs import JobFailure

READ_CHUNK = 1024 * 1024


class InputDataError(JobFailure):
    """The input cannot be listed or read; the message becomes the FailureReason."""


@dataclass(frozen=True)
class InputObject:
    uri: str
    relative: str

    def output_uri(self, output_path: str) -> str:
        return f"{output_path.rstrip('/')}/{self.relative}.out"


def list_inputs(objects: ObjectStore, source: dict[str, str]) -> list[InputObject]:
    """Every object the data source names, in key order; InputDataError if there are none."""
    uri = source["S3Uri"]
    try:
        if source["S3DataType"] == "ManifestFile":
            found = _manifest_inputs(objects, uri)
        else:
            found = _prefix_inputs(objects, uri)
    except ObjectStoreError as exc:
        raise InputDataError(f"ClientError: could not list the input at {uri}: {exc.code}: {exc.message}") from exc
    if not found:
        raise InputDataError(
            f'ClientError: No S3 objects found under S3 URL "{uri}" given in input data source. '
            "Please ensure that the bucket exists and that objects exist under that S3 prefix."
        )
    return found


def _prefix_inputs(objects: ObjectStore, uri: str) -> list[InputObject]:
    bucket, prefix = parse_s3_uri(uri)
    base = prefix[: prefix.rfind("/") + 1]
    return [
        InputObject(f"s3://{bucket}/{info.key}", info.key[len(base) :])
        for info in objects.iter_objects(uri)
        if not info.key.endswith("/")
    ]


def _manifest_inputs(objects: ObjectStore, uri: str) -> list[InputObject]:
    try:
        manifest = json.loads(objects.read_bytes(uri))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise InputDataError(f"ClientError: the manifest {uri} is not valid JSON: {exc}") from exc
    if not isinstance(manifest, list) or not manifest or not isinstance(manifest[0], dict):
        raise InputDataError(
            f"ClientError: the manifest {uri} must be a JSON list starting with "
            '{"prefix": "s3://bucket/prefix/"} followed by keys relative to that prefix.'
        )
    prefix = manifest[0].get("prefix", "")
    if not isinstance(prefix, str) or not prefix.startswith("s3://"):
        raise InputDataError(f'ClientError: the manifest {uri} has no "prefix": "s3://..." entry first.')
    entries = manifest[1:]
    bad = [e for e in entries if not isinstance(e, str) or not e]
    if bad:
        raise InputDataError(f"ClientError: the manifest {uri} lists {bad[0]!r}, which is not a relative key.")
    return [InputObject(prefix + relative, relative.lstrip("/")) for relative in entries]


def read_chunks(objects: ObjectStore, item: InputObject, gzip: bool) -> Iterator[bytes]:
    """The object's bytes in chunks, decompressed when the input is Gzip."""
    bucket, key = parse_s3_uri(item.uri)
    try:
        _, chunks = objects.get_object(bucket, key)
    except ObjectStoreError as exc:
        raise InputDataError(f"ClientError: could not read {item.uri}: {exc.code}: {exc.message}") from exc
    if not gzip:
        yield from chunks
        return
    inflater = zlib.decompressobj(16 + zlib.MAX_WBITS)
    member_open = False
    try:
        for chunk in chunks:
            while chunk:
                member_open = True
                out = inflater.decompress(chunk)
                if out:
                    yield out
                if inflater.eof:  # a multi-member gzip file: the next member starts here
                    chunk = inflater.unused_data
                    inflater = zlib.decompressobj(16 + zlib.MAX_WBITS)
                    member_open = False
                else:
                    chunk = b""
        tail = inflater.flush()
    except zlib.error as exc:
        raise InputDataError(
            f"ClientError: {item.uri} could not be decompressed with CompressionType Gzip: {exc}"
        ) from exc
    if tail:
        yield tail
    if member_open:
        raise InputDataError(f"ClientError: {item.uri} ends in the middle of a gzip stream (truncated).")
