"""Moving a training job's data: channels in from the object store, artifacts out."""

from __future__ import annotations

import json
import shutil
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from sagebox.objects import ObjectStore, ObjectStoreError
from sagebox.objects.archives import pack_folder
from sagebox.objects.prefixes import prefix_entries
from sagebox.services.jobs import JobFailure


class ChannelDataError(JobFailure):
    """A channel's data could not be staged; the message becomes the FailureReason."""


def stage_channel(objects: ObjectStore, channel: dict[str, Any], destination: Path) -> int:
    """Copies one channel's S3Prefix or ManifestFile data into `destination`; returns the file count."""
    return stage_channel_on_hosts(objects, channel, [destination])[0]


def stage_channel_on_hosts(objects: ObjectStore, channel: dict[str, Any], destinations: list[Path]) -> list[int]:
    """Copies a channel to every host's folder (`destinations`, algo-1 first); the count each got.

    FullyReplicated gives every host every object. ShardedByS3Key gives host i (0-based)
    of N the objects at positions i, i+N, i+2N, ... of the channel's keys in sorted order,
    about 1/N each as SageMaker documents; a host left without objects gets an empty folder.
    """
    name = channel["ChannelName"]
    source = channel["DataSource"]["S3DataSource"]
    uri = source["S3Uri"]
    try:
        pairs = _channel_entries(objects, channel)
        sharded = source.get("S3DataDistributionType") == "ShardedByS3Key"
        counts = []
        for index, destination in enumerate(destinations):
            share = shard(pairs, index, len(destinations)) if sharded else pairs
            destination.mkdir(parents=True, exist_ok=True)
            if sharded or index == 0:
                _download(objects, name, share, destination)
            else:  # every host gets its own copy, downloaded once
                shutil.copytree(destinations[0], destination, dirs_exist_ok=True)
            counts.append(len(share))
    except ObjectStoreError as exc:
        raise ChannelDataError(
            f"ClientError: Data download failed for channel '{name}' from {uri}: {exc.code}: {exc.message}"
        ) from exc
    return counts


def shard(pairs: list[tuple[str, str]], index: int, count: int) -> list[tuple[str, str]]:
    """Host `index` of `count`'s share of a channel under ShardedByS3Key: every count-th key, sorted."""
    return sorted(pairs)[index::count]


def _channel_entries(objects: ObjectStore, channel: dict[str, Any]) -> list[tuple[str, str]]:
    """(object URI, path in the channel folder) of every object the channel names; none is an error."""
    name = channel["ChannelName"]
    source = channel["DataSource"]["S3DataSource"]
    uri, data_type = source["S3Uri"], source["S3DataType"]
    if data_type == "ManifestFile":
        pairs = _manifest_entries(objects, uri, name)
    else:
        pairs = _prefix_entries(objects, uri)
    if not pairs:
        raise ChannelDataError(f"ClientError: No data found in channel '{name}': no S3 objects under {uri}.")
    return pairs


def _download(objects: ObjectStore, name: str, pairs: list[tuple[str, str]], destination: Path) -> None:
    for source_uri, relative in pairs:
        target = destination / relative
        if destination.resolve() not in target.resolve().parents:
            raise ChannelDataError(
                f"ClientError: Channel '{name}': object {source_uri} maps outside the channel folder."
            )
        objects.download_file(source_uri, target)


def _prefix_entries(objects: ObjectStore, uri: str) -> list[tuple[str, str]]:
    """Objects under an S3Prefix, each with its path below the channel folder (as processing inputs)."""
    return prefix_entries(objects, uri)


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


def merge_folders(folders: Sequence[Path], destination: Path) -> Path:
    """Copies every folder's files into `destination`; on a name clash the earlier folder's file stays."""
    destination.mkdir(parents=True, exist_ok=True)
    for folder in folders:
        for path in sorted(folder.rglob("*")) if folder.is_dir() else []:
            target = destination / path.relative_to(folder)
            if path.is_dir() or target.exists():
                continue
            try:
                target.parent.mkdir(parents=True, exist_ok=True)
            except (FileExistsError, NotADirectoryError):
                continue  # an earlier folder has a file where this one has a folder
            shutil.copy2(path, target)
    return destination


def upload_merged_trees(objects: ObjectStore, folders: Sequence[Path], uri: str, *, compress: bool) -> None:
    """Uploads several hosts' folders as one tree: a gzip tar at `uri`, or files below it."""
    if len(folders) == 1:
        if compress:
            upload_tree_as_tarball(objects, folders[0], uri)
        else:
            upload_tree(objects, folders[0], uri)
        return
    with tempfile.TemporaryDirectory(prefix="sagebox-merged-") as scratch:
        merged = merge_folders(folders, Path(scratch) / "merged")
        if compress:
            upload_tree_as_tarball(objects, merged, uri)
        else:
            upload_tree(objects, merged, uri)
