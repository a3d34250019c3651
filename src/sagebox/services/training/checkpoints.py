"""CheckpointConfig: each host's checkpoint folder restored from S3Uri at the start of every
attempt of the job, and synced to S3Uri while it runs and when it ends.

As on SageMaker, every host of a job syncs its LocalPath to the same S3Uri (a file's key
is S3Uri/<its path below LocalPath>; hosts that must not overwrite each other write
files of their own names) and every host gets all of S3Uri back at the start. Files are
uploaded when they appear or change, never deleted from S3Uri (objects/folder_sync.py).

Where the sync runs: with the local executor, or a local-folder object store, here on the
API server over its copy of each host's workspace (an executor whose hosts run on other
nodes brings those folders back while they run, HostCommand.synced, so that the last
checkpoint outlives a lost node). With the Ray executor and an S3 server each node
restores and syncs its own host's folder (runtime/node_data.py) and this class is unused.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from sagebox.objects import ObjectStore, ObjectStoreError
from sagebox.objects.folder_sync import FolderSync
from sagebox.runtime.executor import SYNC_SECONDS
from sagebox.services.jobs import JobFailure


class CheckpointSync(FolderSync):
    """Syncs the checkpoint folders of one job's hosts with its CheckpointConfig.S3Uri."""

    def __init__(self, objects: ObjectStore, s3_uri: str, folders: Sequence[Path]) -> None:
        super().__init__(objects, s3_uri, folders, interval=SYNC_SECONDS)

    def restore(self) -> int:
        """Downloads every object under S3Uri into every host's folder; the file count
        (JobFailure when S3Uri cannot be read)."""
        try:
            return super().restore()
        except ObjectStoreError as exc:
            raise JobFailure(
                f"ClientError: could not restore the checkpoints from {self.uri}: {exc.code}: {exc.message}"
            ) from exc
