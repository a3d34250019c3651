"""Routes to the instances another server records for an endpoint (services/hosting/routes.py):
built from the record's serving deployment, kept while the record is unchanged, their fleets'
instance lists swapped in place when the owner replaces instances (so a request waiting on a
fleet finds the new ones), dropped when the endpoint goes out of service or away."""

from __future__ import annotations

import copy
from typing import Any

from sagebox.services.hosting.routes import RouteTable, recorded_tokens

CONFIG = {
    "EndpointConfigName": "config-a",
    "ProductionVariants": [
        {
            "VariantName": "A",
            "ModelName": "m",
            "InitialInstanceCount": 2,
            "InitialVariantWeight": 1.0,
        },
        {
            "VariantName": "B",
            "ModelName": "m",
            "InitialInstanceCount": 1,
            "InitialVariantWeight": 0.0,
        },
    ],
}


def instance(instance_id: str, port: int) -> dict[str, Any]:
    token = {"executor": "ray", "marker": f"marker-{instance_id}", "hosts": ["model-server"]}
    return {
        "id": instance_id,
        "servers": [{"url": f"http://10.0.0.1:{port}", "node": "n1", "token": token}],
    }


def state(serving: str, ports: dict[str, list[int]]) -> dict[str, Any]:
    entry = {
        "ProductionVariants": {
            variant: [instance(f"{variant}{port}", port) for port in numbers]
            for variant, numbers in ports.items()
        }
    }
    return {
        "config": copy.deepcopy(CONFIG),
        "serving": serving,
        "instances": {serving: entry, "old": {"ProductionVariants": {"A": [instance("x", 1)]}}},
        "capacities": {"B": {"weight": 0.25}},
    }


class Records:
    """What the store holds, as the table reads it; counts the reads."""

    def __init__(self) -> None:
        self.current: tuple[str, dict[str, Any]] | None = None
        self.reads = 0

    def read(self, name: str) -> tuple[str, dict[str, Any]] | None:
        self.reads += 1
        return copy.deepcopy(self.current)


def urls(fleet: Any) -> list[str]:
    return [server.url for i in fleet.instances for server in i.servers]


def test_a_route_follows_the_record_and_keeps_its_fleets() -> None:
    records = Records()
    table = RouteTable(records.read)
    assert table.load("ep") is None and table.get("ep") is None

    records.current = ("InService", state("d1", {"A": [8001, 8002], "B": [8003]}))
    status, route = table.load("ep")
    assert status == "InService" and route is table.get("ep")
    fleet = route.variants["A"]
    assert urls(fleet) == ["http://10.0.0.1:8001", "http://10.0.0.1:8002"]
    assert route.variants["B"].weight == 0.25  # capacities override the configuration
    assert {fleet.pick().id, fleet.pick().id} == {"A8001", "A8002"}  # round robin

    # Unchanged record: the same route; an unreachable instance is re-admitted at the next read.
    fleet.instances[0].healthy = False
    assert table.load("ep")[1] is route
    assert all(i.healthy for i in route.variants["A"].instances)

    # The owner replaced an instance: the same fleet object, the new list.
    records.current = ("InService", state("d1", {"A": [8001, 8009], "B": [8003]}))
    table.refresh()
    assert table.get("ep") is route and route.variants["A"] is fleet
    assert urls(fleet) == ["http://10.0.0.1:8001", "http://10.0.0.1:8009"]

    # Gone out of service, then deleted: no route.
    records.current = ("Deleting", records.current[1])
    assert table.load("ep") == ("Deleting", None) and table.get("ep") is None
    records.current = None
    assert table.load("ep") is None


def test_a_stale_route_is_read_again_once_and_tokens_cover_every_deployment() -> None:
    records = Records()
    table = RouteTable(records.read)
    table.stale("unknown")  # not routed here: nothing to read
    assert records.reads == 0
    records.current = ("InService", state("d1", {"A": [8001], "B": []}))
    table.load("ep")
    assert records.reads == 1
    assert sorted(t["marker"] for t in recorded_tokens(records.current[1])) == [
        "marker-A8001",
        "marker-x",
    ]
    assert [t["marker"] for t in recorded_tokens(records.current[1], except_deployment="old")] == [
        "marker-A8001"
    ]
