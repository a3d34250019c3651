"""Group commit over a real store: appends that arrive together share a transaction, and one
that cannot be written fails alone."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from sagebox.services.experiments.metric_writer import MetricWriter
from sagebox.store import MetadataStore, MetricPoint, NotFound, PointsAppend, ResourceRecord

KIND = "TrialComponent"
ARN = "arn:aws:sagemaker:us-east-1:000000000000:experiment-trial-component/run"


@pytest.fixture
def store(tmp_path: Path) -> Iterator[MetadataStore]:
    opened = MetadataStore(f"sqlite:///{tmp_path / 'sagebox.db'}")
    moment = datetime(2025, 1, 1, tzinfo=UTC)
    opened.resources(KIND).create(ResourceRecord(KIND, "run", ARN, "", moment, moment, {"count": 0}))
    yield opened
    opened.close()


def _counting(record: ResourceRecord) -> None:
    record.document["count"] += 1


def test_concurrent_appends_all_land_and_only_the_bad_one_fails(store: MetadataStore) -> None:
    repository = store.resources(KIND)
    transactions: list[int] = []

    def write(appends: list[PointsAppend]) -> list[ResourceRecord]:
        transactions.append(len(appends))
        return store.metric_points.append_each(repository, appends)

    writer = MetricWriter(write)
    start = threading.Barrier(21)
    failures: list[Exception] = []

    def append(index: int) -> None:
        name = "absent" if index == 20 else "run"
        start.wait()
        try:
            writer.append(PointsAppend(name, [MetricPoint("x", float(index), float(index), index)], _counting))
        except NotFound as exc:
            failures.append(exc)

    threads = [threading.Thread(target=append, args=(index,)) for index in range(21)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert [type(f) for f in failures] == [NotFound]
    # Each point once: the appends retried alone after a combined failure are not written twice.
    assert sorted(p.value for p in store.metric_points.series(ARN, "x")) == [float(i) for i in range(20)]
    stored = repository.get("run")
    assert stored is not None and stored.document["count"] == 20
    assert max(transactions) <= 21
