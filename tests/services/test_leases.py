"""services/leases.py over a real store: claims, adoption after expiry, loss, release.

Two `Leases` on one SQLite store stand for two servers (the statements are the same on
PostgreSQL; tests/store/test_leases.py runs them on both, tests/scale_out/test_two_servers.py
runs two real servers)."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from sagebox.services.leases import Leases
from sagebox.store import MetadataStore

ARN = "arn:aws:sagemaker:us-east-1:000000000000:training-job/j"


@pytest.fixture()
def store(tmp_path: Path) -> Iterator[MetadataStore]:
    opened = MetadataStore(f"sqlite:///{tmp_path / 'sagebox.db'}")
    yield opened
    opened.close()


def test_embedded_every_lease_is_ours_and_nothing_is_written(store: MetadataStore) -> None:
    leases = Leases(None)
    assert not leases.shared
    assert leases.claim(ARN) and leases.holds(ARN)
    assert not leases.adopt(ARN)  # held already: nothing to adopt
    assert leases.orphans([ARN, "other"]) == ["other"]
    leases.start()  # no thread without a shared store
    leases.release(ARN)
    assert not leases.holds(ARN) and store.leases.get(ARN) is None


def test_a_dead_servers_lease_is_adopted_and_the_stale_owner_learns_it_lost_it(
    store: MetadataStore,
) -> None:
    first = Leases(store.leases, server_id="first", seconds=0.6)
    second = Leases(store.leases, server_id="second", seconds=0.6)
    lost: list[str] = []
    assert first.claim(ARN, on_lost=lambda: lost.append(ARN))
    assert second.orphans([ARN]) == []  # a live lease: not an orphan
    assert not second.adopt(ARN)
    time.sleep(0.8)  # first stops renewing, as a dead or stalled server would
    assert second.orphans([ARN]) == [ARN]
    assert second.adopt(ARN)
    first.renew()
    assert lost == [ARN] and not first.holds(ARN)
    second.renew()
    assert second.holds(ARN) and store.leases.get(ARN).owner == "second"  # type: ignore[union-attr]


def test_a_server_restarted_under_its_id_takes_its_own_leases_back_at_once(
    store: MetadataStore,
) -> None:
    before = Leases(store.leases, server_id="fixed", seconds=30)
    assert before.claim(ARN)
    after = Leases(store.leases, server_id="fixed", seconds=30)  # the same server, restarted
    assert after.orphans([ARN]) == [ARN] and after.adopt(ARN)
    assert Leases(store.leases, server_id="another", seconds=30).orphans([ARN]) == []


def test_the_renewer_keeps_leases_alive_and_shutdown_hands_them_back(store: MetadataStore) -> None:
    owner = Leases(store.leases, server_id="owner", seconds=0.6, scan_seconds=0.05)
    other = Leases(store.leases, server_id="other", seconds=0.6)
    watched: list[float] = []
    owner.watch(lambda: watched.append(time.time()))
    assert owner.claim(ARN)
    owner.start()
    try:
        time.sleep(1.5)  # more than two lease periods
        assert not other.adopt(ARN)
        assert len(watched) >= 5
    finally:
        owner.stop()
    owner.release_all()
    assert store.leases.get(ARN) is None
    assert other.adopt(ARN)
