"""Who moves a processing job's data, and what moves: each instance's share of the S3
inputs, and the EndOfJob outputs each instance uploads.

With an executor whose hosts run on other machines (Ray) and an object store those
machines reach (an S3 server), every instance's node moves its own data
(runtime/node_data.py), as for a training job (services/training/data_plane.py): the API
server lists each input's prefix (or reads its ManifestFile), takes each instance's
ShardedByS3Key share, and hands the node the object URIs; each node uploads the files of
its own EndOfJob output folders below the output's S3Uri, as every SageMaker processing
instance does (files of the same name overwrite each other). The API server never reads
those inputs or outputs.

What stays on the API server: S3CompressionType Gzip inputs (decompressed there while
staged; the nodes' transfers copy objects as they are), Continuous outputs (swept while
the job runs from what the hosts send back) and app-managed inputs and outputs; with the
local executor or a local-folder object store, everything, as before.
"""

from __future__ import annotations

import posixpath

from sagebox.objects import ObjectStore
from sagebox.runtime.node_data import NodeData, OutputUpload
from sagebox.runtime.processing_workspace import ProcessingWorkspace
from sagebox.services.processing.inputs import InputDataError, input_entries, instance_share
from sagebox.services.processing.requests import InputSpec, OutputSpec, ProcessingPlan
from sagebox.services.training.data_plane import nodes_move_data

__all__ = ["input_on_node", "node_data", "nodes_move_data", "output_on_node"]


def input_on_node(spec: InputSpec) -> bool:
    """Whether the input's objects go straight from the object store to the nodes."""
    return not spec.app_managed and spec.local_path is not None and spec.compression != "Gzip"


def output_on_node(spec: OutputSpec) -> bool:
    """Whether the output's files go straight from the nodes to the object store."""
    return (
        not spec.app_managed
        and spec.local_path is not None
        and spec.s3_uri is not None
        and spec.upload_mode != "Continuous"
    )


def node_data(
    objects: ObjectStore, plan: ProcessingPlan, workspaces: list[ProcessingWorkspace]
) -> list[NodeData]:
    """Each instance's NodeData (algo-1 first): its share of every input moved on the nodes
    (listed here; an InputDataError when an input names nothing or maps outside its
    LocalPath) and its EndOfJob outputs, uploaded file by file by each instance."""
    store = objects.connection()
    if store is None:
        raise ValueError("the object store is not reachable from other machines")
    count = len(workspaces)
    downloads: list[list[tuple[str, str]]] = [[] for _ in workspaces]
    for spec in plan.inputs:
        if not input_on_node(spec):
            continue
        entries = input_entries(objects, spec)
        for index, workspace in enumerate(workspaces):
            folder = _relative(workspace, spec.local_path or "")
            for uri, relative in instance_share(entries, spec, (index, count)):
                if not _inside(folder, relative):
                    raise InputDataError(
                        f"ClientError: Input '{spec.name}': object {uri} maps outside the input's LocalPath."
                    )
                downloads[index].append((uri, f"{folder}/{relative}"))
    uploads = tuple(
        OutputUpload(
            _relative(workspaces[0], spec.local_path or ""), spec.s3_uri or "", compress=False
        )
        for spec in plan.outputs
        if output_on_node(spec)
    )
    return [NodeData(store, tuple(mine), uploads=uploads, merge_hosts=False) for mine in downloads]


def _relative(workspace: ProcessingWorkspace, local_path: str) -> str:
    return workspace.local(local_path).relative_to(workspace.root).as_posix()


def _inside(folder: str, relative: str) -> bool:
    joined = posixpath.normpath(posixpath.join("/", folder, relative))
    return joined.startswith(f"/{folder.rstrip('/')}/")
