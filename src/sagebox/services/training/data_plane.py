"""Who moves a training job's data, and what moves: the channels each host gets, its
checkpoint prefix, the model and output archives.

With an executor whose hosts run on other machines (Ray) and an object store those
machines reach (an S3 server), every host's node moves its own data (runtime/node_data.py):
the API server lists each channel (and reads a ManifestFile), takes each host's
ShardedByS3Key share, and hands the node the object URIs; it never reads the channel
data, the checkpoints or the model. With the local executor, or a local-folder object
store (which only the API server's machine holds), the API server stages and uploads
as before, and a Ray host's workspace travels through Ray's object store.
"""

from __future__ import annotations

from typing import Any

from sagebox.objects import ObjectStore
from sagebox.runtime.executor import SYNC_SECONDS, Executor
from sagebox.runtime.node_data import NodeData, OutputUpload
from sagebox.runtime.training_workspace import TrainingWorkspace
from sagebox.services.training.staging import channel_shares


def artifact_uploads(document: dict[str, Any], name: str) -> tuple[str, list[OutputUpload]]:
    """S3ModelArtifacts, and each workspace folder's upload: model/ as model.tar.gz and
    output/data/ as output.tar.gz below S3OutputPath/<job>/output/ (file by file below
    model/ and data/ with CompressionType NONE)."""
    output = document["OutputDataConfig"]
    base = f"{output['S3OutputPath'].rstrip('/')}/{name}/output"
    if output.get("CompressionType") == "NONE":
        return f"{base}/model/", [
            OutputUpload("model", f"{base}/model", compress=False),
            OutputUpload("output/data", f"{base}/data", compress=False),
        ]
    return f"{base}/model.tar.gz", [
        OutputUpload("model", f"{base}/model.tar.gz"),
        OutputUpload("output/data", f"{base}/output.tar.gz"),
    ]


def nodes_move_data(objects: ObjectStore, executor: Executor) -> bool:
    return executor.moves_data_on_nodes and objects.connection() is not None


def node_data(
    objects: ObjectStore, document: dict[str, Any], name: str, workspaces: list[TrainingWorkspace]
) -> list[NodeData]:
    """Each host's NodeData (algo-1 first): its share of every channel (listed here, a
    ChannelDataError when a channel names nothing), its checkpoint sync, the uploads."""
    store = objects.connection()
    if store is None:
        raise ValueError("the object store is not reachable from other machines")
    downloads: list[list[tuple[str, str]]] = [[] for _ in workspaces]
    for channel in document.get("InputDataConfig", []):
        folders = [
            w.channel_dir(channel["ChannelName"]).relative_to(w.root).as_posix() for w in workspaces
        ]
        for index, share in enumerate(channel_shares(objects, channel, len(workspaces))):
            downloads[index].extend(
                (uri, f"{folders[index]}/{relative}") for uri, relative in share
            )
    checkpoint = document.get("CheckpointConfig")
    _, uploads = artifact_uploads(document, name)
    return [
        NodeData(
            store,
            tuple(mine),
            checkpoint["S3Uri"] if checkpoint else None,
            workspace.checkpoint_folder if checkpoint else None,
            tuple(uploads),
            SYNC_SECONDS,
        )
        for workspace, mine in zip(workspaces, downloads, strict=True)
    ]
