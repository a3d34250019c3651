"""Job log files: the last event's timestamp read from the end of the file, the last events
parsed alone."""

from __future__ import annotations

from pathlib import Path

from sagebox.runtime.logs import LogWriter, last_event_timestamp, read_events, read_last_events


def test_the_last_timestamp_of_a_long_log_is_read_from_its_end(tmp_path: Path) -> None:
    path = tmp_path / "algo-1.jsonl"
    writer = LogWriter(path)
    for step in range(5_000):
        writer.write(
            f"[{step}]#011train-rmse:{1 / (step + 1):.5f} " + "x" * 40,
            timestamp=1_000 + step / 1000,
        )
    writer.close()
    assert path.stat().st_size > 64 * 1024
    assert last_event_timestamp(path) == int(read_events(path)[-1]["timestamp"]) == 1_004_999
    assert last_event_timestamp(path, window=10) == 1_004_999  # a window shorter than a line


def test_an_empty_or_absent_log_has_no_last_timestamp(tmp_path: Path) -> None:
    (tmp_path / "empty.jsonl").write_text("\n")
    assert last_event_timestamp(tmp_path / "empty.jsonl") is None
    assert last_event_timestamp(tmp_path / "absent.jsonl") is None


def test_the_last_events_are_the_tail_of_every_event(tmp_path: Path) -> None:
    path = tmp_path / "algo-1.jsonl"
    writer = LogWriter(path)
    for step in range(1_000):
        writer.write(f"line {step}", timestamp=2_000 + step)
    writer.close()
    every = read_events(path)
    assert read_last_events(path, 200) == (1_000, every[-200:])
    assert read_last_events(path, 5_000) == (1_000, every)
    assert read_last_events(path, 0) == (1_000, [])
    assert read_last_events(tmp_path / "absent.jsonl", 10) == (0, [])
