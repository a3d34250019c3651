"""Metric curves re-read from a job's log: read in pieces, they are the curves of one full read."""

from __future__ import annotations

from typing import Any

from sagebox.services.training.metric_history import MetricHistories, history_key

DEFINITIONS = [
    {"Name": "train:loss", "Regex": r"train_loss=([0-9.]+)"},
    {"Name": "validation:loss", "Regex": r"valid_loss=([0-9.]+)"},
]


def _events(count: int) -> list[dict[str, Any]]:
    # Two lines share each millisecond, so reads that start at a timestamp overlap.
    return [
        {
            "timestamp": 1_000 + i // 2,
            "message": f"epoch {i} train_loss={1 / (i + 1):.4f} valid_loss={2 / (i + 1):.4f}",
        }
        for i in range(count)
    ]


def _since(events: list[dict[str, Any]], start: int | None) -> list[dict[str, Any]]:
    return [e for e in events if start is None or e["timestamp"] >= start]


def test_reading_in_pieces_gives_the_curves_of_one_read() -> None:
    events = _events(101)
    whole = MetricHistories().advance("job", "k", DEFINITIONS, events)
    pieces = MetricHistories(tail=5)
    for end in (1, 2, 3, 40, 41, 101, 101):
        start = pieces.since("job", "k")
        history = pieces.advance("job", "k", DEFINITIONS, _since(events[:end], start))
    assert history.curves == whole.curves
    assert len(history.curves["train:loss"]) == 101
    assert history.curves["validation:loss"][-1][1] == 0.0198
    assert history.events == 101
    assert history.tail == [e["message"] for e in events[-5:]]


def test_other_definitions_or_another_job_of_the_name_start_over() -> None:
    histories = MetricHistories()
    events = _events(10)
    first = histories.advance("job", history_key(1.0, DEFINITIONS), DEFINITIONS, events)
    assert histories.since("job", history_key(2.0, DEFINITIONS)) is None
    again = histories.advance("job", history_key(2.0, DEFINITIONS[:1]), DEFINITIONS[:1], events)
    assert (
        set(again.curves) == {"train:loss"}
        and again.curves["train:loss"] == first.curves["train:loss"]
    )


def test_only_the_most_recent_jobs_are_kept() -> None:
    histories = MetricHistories(capacity=2)
    for job in ("a", "b", "c"):
        histories.advance(job, "k", DEFINITIONS, _events(3))
    assert histories.since("a", "k") is None
    assert histories.since("c", "k") == 1_001
