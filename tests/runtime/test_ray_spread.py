"""Where the Ray executor sends a variant's instances: apart, and never to a node that just
lost one (its bookkeeping alone; tests/scale_out places real instances)."""

from __future__ import annotations

import pytest

ray_executor = pytest.importorskip(
    "sagebox.runtime.ray_executor", reason="the Ray executor needs the 'ray' extra"
)


def test_hosts_of_one_key_go_to_different_nodes_least_busy_first() -> None:
    spread = ray_executor._Spread()
    spread.placed("other", "x", "b")  # another variant's instance makes b the busier node
    assert spread.choose("variant", "m1", ["a", "b", "c"]) == "a"
    assert spread.choose("variant", "m2", ["a", "b", "c"]) == "c"
    assert spread.choose("variant", "m3", ["a", "b", "c"]) == "b"
    assert spread.choose("variant", "m4", ["a", "b", "c"]) is None  # each holds one: Ray's SPREAD
    spread.release("variant", "m2")
    assert spread.choose("variant", "m5", ["a", "b", "c"]) == "c"


def test_a_node_that_lost_a_host_gets_no_replacement() -> None:
    spread = ray_executor._Spread()
    assert spread.choose("variant", "m1", ["a", "b", "c"]) == "a"
    assert spread.choose("variant", "m2", ["a", "b", "c"]) == "b"
    spread.lost("a")  # a's node died; Ray may still list it alive for a few seconds
    spread.release("variant", "m1")
    assert spread.choose("variant", "m3", ["a", "b", "c"]) == "c"
