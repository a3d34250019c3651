"""Channel staging on several hosts: FullyReplicated copies all, ShardedByS3Key deals keys out."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from sagebox.objects import LocalObjectStore
from sagebox.services.training.staging import merge_folders, shard, stage_channel_on_hosts


def _channel(uri: str, distribution: str, data_type: str = "S3Prefix") -> dict[str, Any]:
    source = {"S3DataType": data_type, "S3Uri": uri, "S3DataDistributionType": distribution}
    return {"ChannelName": "train", "DataSource": {"S3DataSource": source}}


def _store(tmp_path: Path, keys: list[str]) -> LocalObjectStore:
    store = LocalObjectStore(tmp_path / "objects")
    store.create_bucket("data")
    for key in keys:
        store.put_object("data", key, key.encode())
    return store


def _files(folder: Path) -> list[str]:
    return sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file())


def test_sharding_deals_sorted_keys_round_robin() -> None:
    pairs = [(f"s3://b/p/{n}", n) for n in ("e", "a", "d", "b", "c")]
    assert [relative for _, relative in shard(pairs, 0, 2)] == ["a", "c", "e"]
    assert [relative for _, relative in shard(pairs, 1, 2)] == ["b", "d"]
    assert shard(pairs, 5, 6) == []


def test_fully_replicated_and_sharded_prefixes(tmp_path: Path) -> None:
    keys = [f"train/part-{i}.csv" for i in range(5)] + ["train/sub/extra.csv"]
    store = _store(tmp_path, keys)
    hosts = [tmp_path / "algo-1", tmp_path / "algo-2"]
    assert stage_channel_on_hosts(
        store, _channel("s3://data/train/", "FullyReplicated"), hosts
    ) == [6, 6]
    assert _files(hosts[0]) == _files(hosts[1]) == sorted(k.removeprefix("train/") for k in keys)

    hosts = [tmp_path / f"sharded-{i}" for i in range(3)]
    counts = stage_channel_on_hosts(store, _channel("s3://data/train/", "ShardedByS3Key"), hosts)
    assert counts == [2, 2, 2]
    assert _files(hosts[0]) == ["part-0.csv", "part-3.csv"]
    assert _files(hosts[1]) == ["part-1.csv", "part-4.csv"]
    assert _files(hosts[2]) == ["part-2.csv", "sub/extra.csv"]


def test_a_host_beyond_the_objects_gets_an_empty_channel(tmp_path: Path) -> None:
    store = _store(tmp_path, ["one/only.csv"])
    hosts = [tmp_path / "algo-1", tmp_path / "algo-2"]
    assert stage_channel_on_hosts(store, _channel("s3://data/one/", "ShardedByS3Key"), hosts) == [
        1,
        0,
    ]
    assert _files(hosts[0]) == ["only.csv"]
    assert hosts[1].is_dir() and _files(hosts[1]) == []


def test_manifest_entries_are_sharded_too(tmp_path: Path) -> None:
    store = _store(tmp_path, ["m/a.csv", "m/b.csv", "m/c.csv"])
    manifest = [{"prefix": "s3://data/m/"}, "c.csv", "a.csv", "b.csv"]
    store.put_object("data", "manifest.json", json.dumps(manifest).encode())
    hosts = [tmp_path / "algo-1", tmp_path / "algo-2"]
    channel = _channel("s3://data/manifest.json", "ShardedByS3Key", "ManifestFile")
    assert stage_channel_on_hosts(store, channel, hosts) == [2, 1]
    assert _files(hosts[0]) == ["a.csv", "c.csv"] and _files(hosts[1]) == ["b.csv"]


def test_merged_model_folders_keep_the_lower_hosts_file_on_a_clash(tmp_path: Path) -> None:
    first, second = tmp_path / "algo-1", tmp_path / "algo-2"
    for folder, text in ((first, "leader"), (second, "worker")):
        (folder / "nested").mkdir(parents=True)
        (folder / "model.pt").write_text(text)
        (folder / "nested" / f"{folder.name}.txt").write_text(text)
    merged = merge_folders([first, second], tmp_path / "merged")
    assert _files(merged) == ["model.pt", "nested/algo-1.txt", "nested/algo-2.txt"]
    assert (merged / "model.pt").read_text() == "leader"
