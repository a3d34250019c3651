"""Group commit over a real store: appends that arrive together share a transaction, one that
cannot be written fails alone, and nothing queued is lost when the writer closes."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Iterator, Sequence
from pathlib import Path

import pytest

from sagebox.config import Settings
from sagebox.services.experiments.metric_writer import MetricWriter
from sagebox.services.platform import Platform
from sagebox.store import MetricPoint


@pytest.fixture
def platform(tmp_path: Path) -> Iterator[Platform]:
    started = Platform(Settings(home=tmp_path / "home"))
    started.start()
    yield started
    started.close()


def _request(name: str, values: Sequence[float]) -> dict[str, object]:
    now = time.time()
    return {
        "TrialComponentName": name,
        "MetricData": [
            {"MetricName": "x", "Value": v, "Step": int(v), "Timestamp": now} for v in values
        ],
    }


def test_concurrent_puts_all_land_and_only_the_bad_one_fails(platform: Platform) -> None:
    components = platform.trial_components
    for name in ("run-a", "run-b"):
        components.create({"TrialComponentName": name})
    start = threading.Barrier(21)
    failures: list[Exception] = []

    def put(index: int) -> None:
        name = "absent" if index == 20 else ("run-a", "run-b")[index % 2]
        start.wait()
        try:
            components.metrics.batch_put(_request(name, [float(index)]))
        except Exception as exc:
            failures.append(exc)

    threads = [threading.Thread(target=put, args=(index,)) for index in range(21)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert [f.code for f in failures] == ["ResourceNotFound"]  # type: ignore[attr-defined]
    # Each point once: the puts written again apart after a combined failure are not written twice.
    for name, parity in (("run-a", 0), ("run-b", 1)):
        arn = components.arn_of(name)
        expected = [float(i) for i in range(20) if i % 2 == parity]
        assert sorted(p.value for p in platform.store.metric_points.series(arn, "x")) == expected
        summary = components.describe(name)["Metrics"][0]
        assert (summary["Count"], summary["Min"], summary["Max"]) == (10, expected[0], expected[-1])


def test_a_component_deleted_and_made_again_is_looked_up_anew(platform: Platform) -> None:
    components = platform.trial_components
    components.create({"TrialComponentName": "again"})
    components.metrics.batch_put(_request("again", [1.0]))
    components.delete("again")
    components.create({"TrialComponentName": "again"})
    components.metrics.batch_put(_request("again", [2.0, 3.0]))
    summary = components.describe("again")["Metrics"][0]
    assert (summary["Count"], summary["Min"], summary["Max"]) == (2, 2.0, 3.0)


def test_batches_form_while_a_write_runs_and_close_writes_what_is_queued() -> None:
    batches: list[list[int]] = []
    release = threading.Event()

    def write(items: Sequence[int]) -> list[int | Exception]:
        release.wait(5)
        batches.append(list(items))
        return [ValueError("odd") if item % 2 else item * 10 for item in items]

    writer: MetricWriter[int, int] = MetricWriter(write)

    async def main() -> list[int | BaseException]:
        first = asyncio.ensure_future(writer.write_async(0))
        await asyncio.sleep(0.05)  # the writer is now held in the first write
        rest = [asyncio.ensure_future(writer.write_async(item)) for item in range(1, 6)]
        await asyncio.sleep(0.05)
        release.set()
        return await asyncio.gather(first, *rest, return_exceptions=True)

    outcomes = asyncio.run(main())
    assert batches == [[0], [1, 2, 3, 4, 5]]  # the five queued behind the first share one write
    assert [o if isinstance(o, int) else str(o) for o in outcomes] == [
        0,
        "odd",
        20,
        "odd",
        40,
        "odd",
    ]
    assert writer.write(8) == 80  # a thread waits the same way
    writer.close()
    assert writer.write(10) == 100  # after close, the caller's thread writes
    assert batches[-1] == [10]


def test_close_flushes_appends_still_queued(platform: Platform) -> None:
    components = platform.trial_components
    components.create({"TrialComponentName": "flushed"})
    arn = components.arn_of("flushed")
    done: list[object] = []
    threads = [
        threading.Thread(
            target=lambda i=i: done.append(components.metrics.batch_put(_request("flushed", [i])))
        )
        for i in range(8)
    ]
    for thread in threads:
        thread.start()
    components.shutdown()  # the writer drains its queue before it stops
    for thread in threads:
        thread.join()
    assert done == [{}] * 8
    assert len(platform.store.metric_points.series(arn, "x")) == 8
    assert all(isinstance(p, MetricPoint) for p in platform.store.metric_points.series(arn, "x"))
