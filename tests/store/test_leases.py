"""Leases on both backends: one owner at a time, taken over only once expired."""

from __future__ import annotations

import threading
import time

from sagebox.store import MetadataStore

ARN = "arn:aws:sagemaker:us-east-1:000000000000:hyper-parameter-tuning-job/t"


def test_a_live_lease_is_held_by_one_owner_and_taken_only_once_expired(
    store: MetadataStore,
) -> None:
    leases = store.leases
    assert leases.get(ARN) is None
    assert leases.acquire(ARN, "a", 0.6)
    assert leases.acquire(ARN, "a", 0.6)  # its owner extends it
    assert not leases.acquire(ARN, "b", 5)
    lease = leases.get(ARN)
    assert lease is not None and lease.owner == "a" and 0 < lease.seconds_left <= 0.6
    assert leases.live([ARN, "other"]) == {ARN}
    assert leases.live([ARN], other_than="a") == set()
    time.sleep(0.8)
    assert leases.live([ARN]) == set()
    assert leases.acquire(ARN, "b", 5)
    assert leases.renew([ARN], "a", 5) == set()  # taken: a learns it lost the lease
    assert leases.renew([ARN], "b", 5) == {ARN}
    leases.release(ARN, "a")  # not a's to release
    assert leases.get(ARN).owner == "b"  # type: ignore[union-attr]
    leases.release(ARN, "b")
    assert leases.get(ARN) is None


def test_an_expired_lease_not_taken_is_renewed_by_its_owner(store: MetadataStore) -> None:
    leases = store.leases
    assert leases.acquire(ARN, "a", 0.1)
    time.sleep(0.3)
    assert leases.renew([ARN, "never-acquired"], "a", 5) == {ARN}
    assert not leases.acquire(ARN, "b", 5)
    leases.release_all("a")
    assert leases.get(ARN) is None


def test_racing_owners_never_both_win(store: MetadataStore) -> None:
    leases = store.leases
    arns = [f"{ARN}-{i}" for i in range(20)]
    winners: dict[str, list[str]] = {arn: [] for arn in arns}
    lock = threading.Lock()

    def race(owner: str) -> None:
        for arn in arns:
            if leases.acquire(arn, owner, 30):
                with lock:
                    winners[arn].append(owner)

    threads = [threading.Thread(target=race, args=(f"server-{n}",)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert all(len(owners) == 1 for owners in winners.values()), winners
