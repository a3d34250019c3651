"""Moving a training job's data: channels in from the object store, artifacts out."""

from __future__ import annotations

import json
import tempfile
from pathlib import Path
from typing import Any

from sagebox.objects import ObjectStore, ObjectStoreError, parse_s3_uri
from sagebox.objects.archives import pack_folder


class ChannelDataError(Exception):
    """A channel's data could not be staged; the message becomes the FailureReason."""


def stage_channel(objects: ObjectStore, channel: dict[str, Any], destination: Path) -> int:
    """Copies one channel's S3Prefix or ManifestFile data into `destination`; returns the file count."""
    name = channel["ChannelName"]
    source = channel["DataSource"]["S3DataSource"]
    uri, data_type = source["S3Uri"], source["S3DataType"]
    try:
        if data_type == "ManifestFile":
            pairs = _manifest_entries(objects, uri, name)
        else:
            pairs = _prefix_entries(objects, uri)
        if not pairs:
            raise ChannelDataError(
                f"ClientError: No data found in channel '{name}': no S3 objects under {uri}."
            )
        for source_uri, relative in pairs:
            target = destination / relative
            if destination.resolve() not in target.resolve().parents:
                raise ChannelDataError(
                    f"ClientError: Channel '{name}': object {source_uri} maps outside the channel folder."
                )
            objects.download_file(source_uri, target)
    except ObjectStoreError as exc:
        raise ChannelDataError(
            f"ClientError: Data download failed for channel '{name}' from {uri}: {exc.code}: {exc.message}"
        ) from exc
    return len(pairs)


def _prefix_entries(objects: ObjectStore, uri: str) -> list[tuple[str, str]]:
    bucket, prefix = parse_s3_uri(uri)
    # Files keep their path below the prefix's last "/" (a prefix may name a single file).
    base = prefix[: prefix.rfind("/") + 1]
    entries = []
    for info in objects.iter_objects(uri):
        if info.key.endswith("/"):
            continue
        entries.append((f"s3://{bucket}/{info.key}", info.key[len(base) :]))
    return entries


def _manifest_entries(objects: ObjectStore, uri: str, name: str) -> list[tuple[str, str]]:
    try:
        manifest = json.loads(objects.read_bytes(uri))
    except json.JSONDecodeError as exc:
        raise ChannelDataError(
            f"ClientError: Channel '{name}': manifest {uri} is not valid JSON: {exc}"
        ) from exc
    if not isinstance(manifest, list) or not manifest or not isinstance(manifest[0], dict):
        raise ChannelDataError(
            f"ClientError: Channel '{name}': manifest {uri} must be a JSON list starting with "
            '{"prefix": "s3://bucket/prefix/"} followed by relative keys.'
        )
    prefix = manifest[0].get("prefix", "")
    if not prefix.startswith("s3://"):
        raise ChannelDataError(f"ClientError: Channel '{name}': manifest {uri} has no s3:// prefix entry.")
    return [(prefix + relative, relative) for relative in manifest[1:] if isinstance(relative, str)]


def upload_tree_as_tarball(objects: ObjectStore, folder: Path, uri: str) -> None:
    """Packs `folder`'s contents as a gzip tar (paths relative to it) and uploads it to `uri`."""
    with tempfile.TemporaryDirectory(prefix="sagebox-artifact-") as scratch:
        archive = pack_folder(folder, Path(scratch) / "artifact.tar.gz")
        objects.upload_file(archive, uri, content_type="application/x-tar")


def upload_tree(objects: ObjectStore, folder: Path, uri_prefix: str) -> None:
    """Uploads every file of `folder` below `uri_prefix` (OutputDataConfig CompressionType NONE)."""
    for path in sorted(folder.rglob("*")):
        if path.is_file():
            objects.upload_file(path, f"{uri_prefix.rstrip('/')}/{path.relative_to(folder)}")
