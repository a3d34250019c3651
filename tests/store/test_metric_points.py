"""Metric points beside their resource: one transaction with the summary, on every backend."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from sagebox.store import MetadataStore, MetricPoint, NotFound, PointsAppend, ResourceRecord

KIND = "TrialComponent"
ARN = "arn:aws:sagemaker:us-east-1:000000000000:experiment-trial-component/run"


def _create(store: MetadataStore) -> None:
    moment = datetime(2025, 1, 1, tzinfo=UTC)
    store.resources(KIND).create(ResourceRecord(KIND, "run", ARN, "", moment, moment, {"Metrics": []}))


def _count_points(record: ResourceRecord) -> None:
    record.document["points"] = record.document.get("points", 0) + 1


def test_points_are_appended_with_the_records_change(store: MetadataStore) -> None:
    _create(store)
    repository = store.resources(KIND)
    points = store.metric_points
    first = [MetricPoint("loss", 100.0 + i, 1.0 / (i + 1), i) for i in range(5)]
    points.append(repository, "run", first, _count_points)
    points.append(repository, "run", [MetricPoint("acc", 200.0, 0.5)], _count_points)
    assert points.series(ARN, "loss") == first
    assert points.series(ARN, "acc") == [MetricPoint("acc", 200.0, 0.5, None)]
    assert points.series(ARN, "loss", start=101.0, end=103.0) == first[1:3]
    assert points.count(ARN) == 6
    stored = repository.get("run")
    assert stored is not None and stored.document["points"] == 2


def test_a_change_that_fails_writes_no_point(store: MetadataStore) -> None:
    _create(store)

    def refuse(record: ResourceRecord) -> None:
        raise ValueError("no")

    with pytest.raises(ValueError, match="no"):
        store.metric_points.append(store.resources(KIND), "run", [MetricPoint("loss", 1.0, 1.0)], refuse)
    assert store.metric_points.count(ARN) == 0
    with pytest.raises(NotFound):
        store.metric_points.append(store.resources(KIND), "absent", [MetricPoint("x", 1.0, 1.0)], _count_points)


def test_replacing_a_series_and_forgetting_a_resource(store: MetadataStore) -> None:
    _create(store)
    repository, points = store.resources(KIND), store.metric_points
    points.append(repository, "run", [MetricPoint("loss", 1.0, 9.0), MetricPoint("acc", 1.0, 0.1)], _count_points)
    again = [MetricPoint("loss", 2.0, 1.0, 0), MetricPoint("loss", 3.0, 0.5, 1)]
    points.append(repository, "run", again, _count_points, replacing=["loss"])
    assert points.series(ARN, "loss") == again
    assert points.series(ARN, "acc") == [MetricPoint("acc", 1.0, 0.1)]
    points.delete_all(ARN)
    assert points.count(ARN) == 0


def test_appends_in_one_transaction_are_written_all_or_none(store: MetadataStore) -> None:
    _create(store)
    repository, points = store.resources(KIND), store.metric_points
    first = PointsAppend("run", [MetricPoint("loss", 1.0, 1.0)], _count_points)
    second = PointsAppend("run", [MetricPoint("loss", 2.0, 2.0)], _count_points)
    records = points.append_each(repository, [first, second])
    # One change of the record: the second append's change sees the first's, and both are
    # answered with the record as the two left it.
    assert [r.document["points"] for r in records] == [2, 2]
    with pytest.raises(NotFound):
        points.append_each(repository, [first, PointsAppend("absent", [MetricPoint("x", 1.0, 1.0)], _count_points)])
    assert [p.value for p in points.series(ARN, "loss")] == [1.0, 2.0]
    stored = repository.get("run")
    assert stored is not None and stored.document["points"] == 2


def test_appends_to_one_record_keep_their_order_around_a_replacement(store: MetadataStore) -> None:
    _create(store)
    repository, points = store.resources(KIND), store.metric_points
    appends = [
        PointsAppend("run", [MetricPoint("loss", 1.0, 1.0), MetricPoint("acc", 1.0, 0.5)], _count_points),
        PointsAppend("run", [MetricPoint("loss", 2.0, 9.0)], _count_points, ("loss",)),
        PointsAppend("run", [MetricPoint("loss", 3.0, 3.0)], _count_points),
    ]
    points.append_each(repository, appends)
    # The replacement drops the loss point queued before it in the same transaction, not the later one.
    assert [p.value for p in points.series(ARN, "loss")] == [9.0, 3.0]
    assert [p.value for p in points.series(ARN, "acc")] == [0.5]
