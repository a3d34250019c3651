"""A real Ray cluster of three one-CPU nodes on this machine, for the scale-out tests.

Ray's own multi-node test utility (`ray.cluster_utils.Cluster`) starts a head and two
worker nodes as separate raylets with their own object stores; each job host placed on
it runs in a worker process of one of them. `RAY_ADDRESS` names the cluster, so that
`ray://auto` (this test process, or a `sagebox serve` it starts) joins it as a driver
on this machine. (Ray Client, `ray://HOST:PORT`, works the same way but its proxy on a
loaded 2-CPU machine sometimes fails to start a client's server, a 30 s loss; the
suite stays on `ray://auto`.)
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

NODES = 3
# An ml.m5.xlarge (4 vCPUs, 16 GiB) reserves half a CPU and 2 GiB of a test node.
RESOURCE_SCALE = 0.125
EXECUTOR_URL = f"ray://auto?resource_scale={RESOURCE_SCALE}"
LOSS_TIMEOUT_S = 60
NODE = {"num_cpus": 1, "memory": 4 * 1024**3, "object_store_memory": 100 * 1024**2}


@dataclass(frozen=True)
class RayTestCluster:
    address: str
    """The GCS address (RAY_ADDRESS)."""
    cluster: Any
    """Ray's `Cluster`, to take nodes away and add them back."""

    def worker_node(self, node_id: str) -> Any:
        """The worker node (not the head) of that id, else None."""
        return next((n for n in self.cluster.worker_nodes if n.node_id == node_id), None)

    def lose_node(self, node: Any) -> None:
        """Kills a worker node at once, as a machine lost would be, and adds a fresh one;
        returns once the cluster knows the lost one dead and the fresh one alive (else the
        next placement may still count the dead node, or not yet the fresh one)."""
        lost = node.node_id
        self.cluster.remove_node(node, allow_graceful=False)
        self.cluster.add_node(**NODE)
        deadline = time.time() + LOSS_TIMEOUT_S
        while True:
            alive = self.cluster.global_state._live_node_ids()
            if lost not in alive and len(alive) == len(self.cluster.list_all_nodes()):
                return
            if time.time() > deadline:
                raise TimeoutError(
                    f"the Ray cluster still lists node {lost} alive, or not the fresh one: {alive}"
                )
            time.sleep(0.2)


@contextmanager
def ray_cluster() -> Iterator[RayTestCluster]:
    """Starts the cluster and yields where it is; tears it down after."""
    os.environ.setdefault("RAY_AUTH_MODE", "disabled")
    # A raylet gets 30 s to start by default; on a loaded 2-CPU machine (CI beside other
    # work) that is sometimes too little, and the whole module errors.
    os.environ.setdefault("RAY_raylet_start_wait_time_s", "120")
    import ray
    from ray.cluster_utils import Cluster

    head = {**NODE, "include_dashboard": False}
    cluster = Cluster(initialize_head=True, head_node_args=head)
    saved = os.environ.get("RAY_ADDRESS")
    try:
        for _ in range(NODES - 1):
            cluster.add_node(**NODE)
        cluster.wait_for_nodes()
        os.environ["RAY_ADDRESS"] = cluster.address
        yield RayTestCluster(cluster.address, cluster)
    finally:
        ray.shutdown()
        cluster.shutdown()
        if saved is None:
            os.environ.pop("RAY_ADDRESS", None)
        else:
            os.environ["RAY_ADDRESS"] = saved
