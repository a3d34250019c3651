"""Downloading a processing job's S3 inputs into their LocalPath folders (File mode).

Which file goes where: for an `S3Prefix` input, a key below the prefix keeps its path
relative to the prefix when the prefix ends at a folder boundary (`s3://b/data` or
`s3://b/data/` gives `data/x.csv` -> `<LocalPath>/x.csv`); a URI naming one object gives
`<LocalPath>/<its file name>`; a prefix ending inside a name (`s3://b/data/part`) keeps
the path relative to the prefix's folder (`<LocalPath>/part-0.csv`). A `ManifestFile`
input is a JSON list `[{"prefix": "s3://bucket/prefix/"}, "relative/key", ...]`.

`S3CompressionType` Gzip: SageMaker streams gzip data decompressed into Pipe mode;
sagebox has File mode only, so it writes every object decompressed instead (dropping
a `.gz` suffix from the file name): the script reads the same bytes.
`S3DataDistributionType` ShardedByS3Key on one instance gives that instance every object.
"""

from __future__ import annotations

import gzip
import json
import shutil
import tempfile
import zlib
from collections.abc import Callable
from pathlib import Path

from sagebox.objects import ObjectStore, ObjectStoreError
from sagebox.objects.prefixes import prefix_entries
from sagebox.services.jobs import JobFailure
from sagebox.services.processing.requests import InputSpec


class InputDataError(JobFailure):
    """An input could not be downloaded; the message becomes the FailureReason."""


def _manifest_entries(objects: ObjectStore, uri: str, name: str) -> list[tuple[str, str]]:
    try:
        manifest = json.loads(objects.read_bytes(uri))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise InputDataError(f"ClientError: Input '{name}': the manifest file {uri} is not valid JSON: {exc}") from exc
    if not isinstance(manifest, list) or not manifest or not isinstance(manifest[0], dict):
        raise InputDataError(
            f"ClientError: Input '{name}': the manifest file {uri} must be a JSON list starting with "
            '{"prefix": "s3://bucket/prefix/"} followed by keys relative to that prefix.'
        )
    prefix = manifest[0].get("prefix", "")
    if not isinstance(prefix, str) or not prefix.startswith("s3://"):
        raise InputDataError(f"ClientError: Input '{name}': the manifest file {uri} has no s3:// prefix entry.")
    return [(prefix + relative, relative) for relative in manifest[1:] if isinstance(relative, str)]


def input_entries(objects: ObjectStore, spec: InputSpec) -> list[tuple[str, str]]:
    """(object URI, path below LocalPath) of every object of the input, from listing its
    prefix or reading its manifest (no object of the data is read); an InputDataError
    when the input names no object."""
    try:
        if spec.data_type == "ManifestFile":
            entries = _manifest_entries(objects, spec.s3_uri, spec.name)
        else:
            entries = prefix_entries(objects, spec.s3_uri)
    except ObjectStoreError as exc:
        raise _download_failed(spec, exc) from exc
    if not entries:
        raise InputDataError(
            f"ClientError: Failed to download data for input '{spec.name}': no S3 objects found "
            f"under {spec.s3_uri}. Check that the bucket exists and that objects exist under that prefix."
        )
    return entries


def instance_share(
    entries: list[tuple[str, str]], spec: InputSpec, shard: tuple[int, int]
) -> list[tuple[str, str]]:
    """The entries instance `shard[0]` of `shard[1]` gets: with ShardedByS3Key, the objects
    at positions i, i+N, ... of the input's keys in order (about 1/N each, as SageMaker
    documents), possibly none; FullyReplicated gives every instance all."""
    index, count = shard
    if spec.distribution == "ShardedByS3Key" and count > 1:
        return sorted(entries)[index::count]
    return entries


def stage_input(
    objects: ObjectStore,
    spec: InputSpec,
    destination: Path,
    should_stop: Callable[[], bool] = lambda: False,
    shard: tuple[int, int] = (0, 1),
) -> int:
    """Downloads one input into `destination`; returns the number of files written.

    `shard` is (this instance's position, the number of instances): see `instance_share`;
    an instance left without objects gets an empty folder.
    """
    entries = instance_share(input_entries(objects, spec), spec, shard)
    destination.mkdir(parents=True, exist_ok=True)
    try:
        root = destination.resolve()
        written = 0
        for source, relative in entries:
            if should_stop():
                break
            gunzip = spec.compression == "Gzip"
            if gunzip and relative.endswith(".gz"):
                relative = relative[: -len(".gz")]
            target = destination / relative
            if root not in target.resolve().parents:
                raise InputDataError(
                    f"ClientError: Input '{spec.name}': object {source} maps outside the input's LocalPath."
                )
            if gunzip:
                _download_decompressed(objects, source, target, spec.name)
            else:
                objects.download_file(source, target)
            written += 1
        return written
    except ObjectStoreError as exc:
        raise _download_failed(spec, exc) from exc


def _download_failed(spec: InputSpec, exc: ObjectStoreError) -> InputDataError:
    return InputDataError(
        f"ClientError: Failed to download data for input '{spec.name}' from {spec.s3_uri}: "
        f"{exc.code}: {exc.message}"
    )


def _download_decompressed(objects: ObjectStore, source: str, target: Path, name: str) -> None:
    with tempfile.TemporaryDirectory(prefix="sagebox-input-") as scratch:
        compressed = Path(scratch) / "object.gz"
        objects.download_file(source, compressed)
        target.parent.mkdir(parents=True, exist_ok=True)
        partial = target.with_name(f".{target.name}.part")
        try:
            with gzip.open(compressed, "rb") as reader, partial.open("wb") as writer:
                shutil.copyfileobj(reader, writer)
        except (OSError, EOFError, zlib.error) as exc:
            partial.unlink(missing_ok=True)
            raise InputDataError(
                f"ClientError: Input '{name}' has S3CompressionType Gzip, but {source} is not gzip data: {exc}"
            ) from exc
        partial.replace(target)
