"""A host's data moved by its own node: inputs in from the object store, checkpoints kept
in step with CheckpointConfig.S3Uri, model and output archives out.

When the object store is an S3 server that every node reaches, the API server does not
carry a job's data: it lists what each host gets (objects/prefixes.py, the channel's
shard) and hands the host a `NodeData` with the store's address and credentials
(`S3Connection`, secrets never in a repr or a log line), the object URIs and the paths
below the host's workspace they go to, the checkpoint prefix, and the folders to upload.
`HostProcess` (runtime/ray_host.py) runs a `NodeTransfers` over it on the node: it stages
before the command starts, syncs checkpoints while it runs and after it ends, and
uploads when the executor asks (the job succeeded): the first host merging the other
hosts' folders into its upload, or, with `merge_hosts` off, every host its own folders.
The moves themselves are objects/transfers.py's and objects/folder_sync.py's, the same
code the API server runs for the local executor.

Every step writes one line into the host's log, naming the node, so that where the data
moved is visible in the job's log stream.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from sagebox.objects import ObjectStoreError
from sagebox.objects.base import StoreConnection
from sagebox.objects.folder_sync import FolderSync
from sagebox.objects.transfers import Uploaded, download_entries, upload_merged_trees


@dataclass(frozen=True)
class OutputUpload:
    """A folder of the host's workspace (relative to it) uploaded to `uri` as one gzip tar
    (`compress`) or file by file below it; several hosts' folders are merged into one."""

    folder: str
    uri: str
    compress: bool = True


@dataclass(frozen=True)
class NodeData:
    """What one host's node moves between the object store and the host's workspace."""

    store: StoreConnection
    downloads: tuple[tuple[str, str], ...] = ()
    """(object URI, path below the workspace) of every input object of this host."""
    checkpoint_uri: str | None = None
    checkpoint_folder: str | None = None
    """The workspace's folder (relative) kept in step with `checkpoint_uri`."""
    uploads: tuple[OutputUpload, ...] = ()
    sync_seconds: float = 1.0
    merge_hosts: bool = True
    """Whether the first host uploads every host's `uploads` folders merged into one (a
    training job's archives), or each host uploads its own folders' files itself (a
    processing job's outputs, as every SageMaker processing instance does)."""

    def kept_on_node(self) -> tuple[str, ...]:
        """The workspace folders (relative) whose files the node moves to the object store
        itself: what need not travel back to the API server."""
        folders = [upload.folder for upload in self.uploads]
        if self.checkpoint_folder is not None:
            folders.append(self.checkpoint_folder)
        return tuple(folders)


class NodeDataError(OSError):
    """A transfer on the node failed; the message is the job's FailureReason (ClientError: ...)."""


class NodeTransfers:
    """One host's transfers, on its node; `say` writes a line into the host's log."""

    def __init__(
        self, data: NodeData, root: Path, host: str, node: str, say: Callable[[str], None]
    ) -> None:
        self._data = data
        self._root = root
        self._host = host
        self._node = node
        self._say = say
        self._objects = data.store.open()
        self._checkpoints: FolderSync | None = None
        if data.checkpoint_uri is not None and data.checkpoint_folder is not None:
            self._checkpoints = FolderSync(
                self._objects,
                data.checkpoint_uri,
                [root / data.checkpoint_folder],
                data.sync_seconds,
            )

    def stage(self) -> None:
        """Downloads the host's inputs and restores its checkpoints, then starts syncing them."""
        began = time.monotonic()
        try:
            written = download_entries(self._objects, self._data.downloads, self._root)
        except ObjectStoreError as exc:
            raise NodeDataError(
                f"ClientError: Data download failed on host {self._host}: {exc.code}: {exc.message}"
            ) from exc
        except ValueError as exc:
            raise NodeDataError(f"ClientError: {exc}") from exc
        self._say(
            f"sagebox: {self._host} staged {len(self._data.downloads)} input object(s), {written} bytes, "
            f"from the object store on Ray node {self._node} in {time.monotonic() - began:.2f} s"
        )
        if self._checkpoints is None:
            return
        try:
            restored = self._checkpoints.restore()
        except ObjectStoreError as exc:
            raise NodeDataError(
                f"ClientError: could not restore the checkpoints from {self._checkpoints.uri}: {exc.code}: {exc.message}"
            ) from exc
        self._say(
            f"sagebox: {self._host} restored {restored} checkpoint file(s) from {self._checkpoints.uri} on Ray node {self._node}"
        )
        self._checkpoints.start()

    def end(self) -> None:
        """Stops syncing the checkpoints, uploading what changed since the last sync."""
        if self._checkpoints is not None:
            self._checkpoints.stop()
            self._checkpoints = None

    def upload(self, others: Sequence[Path]) -> list[Uploaded]:
        """Uploads every OutputUpload folder, this host's merged with the same folder of each
        of `others` (the other hosts' workspaces, in host order; this host's files win a
        clash). ObjectStoreError when an upload failed (after the store's retries)."""
        done: list[Uploaded] = []
        for upload in self._data.uploads:
            folders = [self._root / upload.folder, *(other / upload.folder for other in others)]
            for uploaded in upload_merged_trees(
                self._objects, folders, upload.uri, compress=upload.compress
            ):
                self._say(
                    f"sagebox: {self._host} uploaded {uploaded.uri} ({uploaded.size} bytes, sha256 "
                    f"{uploaded.sha256}) from Ray node {self._node}"
                )
                done.append(uploaded)
        return done
