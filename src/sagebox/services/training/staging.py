"""Moving a training job's data: which objects each host's channels hold, staged from the
object store; the artifacts' uploads are objects/transfers.py's (re-exported here)."""

from __future__ import annotations

import json
import posixpath
import shutil
from pathlib import Path
from typing import Any

from sagebox.objects import ObjectStore, ObjectStoreError
from sagebox.objects.prefixes import prefix_entries
from sagebox.objects.transfers import (
    OutsideFolderError,
    download_entries,
    merge_folders,
    upload_merged_trees,
    upload_tree,
    upload_tree_as_tarball,
)
from sagebox.services.jobs import JobFailure


class ChannelDataError(JobFailure):
    """A channel's data could not be staged; the message becomes the FailureReason."""


def stage_channel(objects: ObjectStore, channel: dict[str, Any], destination: Path) -> int:
    """Copies one channel's S3Prefix or ManifestFile data into `destination`; returns the file count."""
    return stage_channel_on_hosts(objects, channel, [destination])[0]


def stage_channel_on_hosts(objects: ObjectStore, channel: dict[str, Any], destinations: list[Path]) -> list[int]:
    """Copies a channel to every host's folder (`destinations`, algo-1 first); the count each got.

    FullyReplicated gives every host every object; a FullyReplicated channel is downloaded
    once and copied to the other hosts' folders. ShardedByS3Key: see `channel_shares`.
    """
    shares = channel_shares(objects, channel, len(destinations))
    sharded = channel["DataSource"]["S3DataSource"].get("S3DataDistributionType") == "ShardedByS3Key"
    try:
        for index, (share, destination) in enumerate(zip(shares, destinations, strict=True)):
            destination.mkdir(parents=True, exist_ok=True)
            if sharded or index == 0:
                _download(objects, channel["ChannelName"], share, destination)
            else:  # every host gets its own copy, downloaded once
                shutil.copytree(destinations[0], destination, dirs_exist_ok=True)
    except ObjectStoreError as exc:
        raise _download_failed(channel, exc) from exc
    return [len(share) for share in shares]


def channel_shares(objects: ObjectStore, channel: dict[str, Any], hosts: int) -> list[list[tuple[str, str]]]:
    """(object URI, path below the channel folder) of the objects each of `hosts` hosts gets
    (algo-1 first), from listing the channel's prefix or reading its manifest: no object
    of the channel's data is read. A channel naming no object is a ChannelDataError.

    FullyReplicated gives every host every object. ShardedByS3Key gives host i (0-based)
    of N the objects at positions i, i+N, i+2N, ... of the channel's keys in sorted order,
    about 1/N each as SageMaker documents; a host left without objects gets an empty folder.
    """
    source = channel["DataSource"]["S3DataSource"]
    try:
        pairs = _channel_entries(objects, channel)
    except ObjectStoreError as exc:
        raise _download_failed(channel, exc) from exc
    for uri, relative in pairs:
        if not posixpath.normpath(posixpath.join("/channel", relative)).startswith("/channel/"):
            raise ChannelDataError(
                f"ClientError: Channel '{channel['ChannelName']}': object {uri} maps outside the channel folder."
            )
    if source.get("S3DataDistributionType") == "ShardedByS3Key":
        return [shard(pairs, index, hosts) for index in range(hosts)]
    return [pairs] * hosts


def _download_failed(channel: dict[str, Any], exc: ObjectStoreError) -> ChannelDataError:
    uri = channel["DataSource"]["S3DataSource"]["S3Uri"]
    return ChannelDataError(
        f"ClientError: Data download failed for channel '{channel['ChannelName']}' from {uri}: "
        f"{exc.code}: {exc.message}"
    )


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
    try:
        download_entries(objects, pairs, destination)
    except OutsideFolderError as exc:
        raise ChannelDataError(
            f"ClientError: Channel '{name}': object {exc.uri} maps outside the channel folder."
        ) from exc


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


__all__ = [
    "ChannelDataError",
    "channel_shares",
    "merge_folders",
    "shard",
    "stage_channel",
    "stage_channel_on_hosts",
    "upload_merged_trees",
    "upload_tree",
    "upload_tree_as_tarball",
]
