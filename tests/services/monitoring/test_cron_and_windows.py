"""Schedule expressions' run times and the windows of data runs analyze."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from sagebox.services.errors import ValidationError
from sagebox.services.monitoring import cron, windows

T = datetime(2026, 3, 10, 14, 25, tzinfo=UTC)


def at(hour: int, day: int = 10) -> datetime:
    return datetime(2026, 3, day, hour, tzinfo=UTC)


@pytest.mark.parametrize(("expression", "after", "latest", "period"), [
    ("cron(0 * ? * * *)", at(15), at(14), timedelta(hours=1)),
    ("cron(0 12 ? * * *)", at(12, 11), at(12), timedelta(days=1)),
    ("cron(0 03 ? * * *)", at(3, 11), at(3), timedelta(days=1)),
    ("cron(0 17/12 ? * * *)", at(17), at(5), timedelta(hours=12)),
    ("cron(0 0/2 ? * * *)", at(16), at(14), timedelta(hours=2)),
    ("cron(0 1/24 ? * * *)", at(1, 11), at(1), timedelta(days=1)),
])
def test_run_times(expression: str, after: datetime, latest: datetime, period: timedelta) -> None:
    schedule = cron.parse(expression)
    assert schedule is not None
    assert (schedule.next_after(T), schedule.latest_at_or_before(T), schedule.period) == (after, latest, period)
    assert schedule.next_after(after) > after and schedule.latest_at_or_before(latest) == latest


def test_now_and_refusals() -> None:
    assert cron.parse("NOW") is None
    for expression in ("cron(0 * * * ? *)", "cron(5 * ? * * *)", "cron(0 24 ? * * *)", "cron(0 3/0 ? * * *)", "daily"):
        with pytest.raises(ValidationError, match="Invalid ScheduleExpression"):
            cron.parse(expression)


def test_offsets_and_windows() -> None:
    assert windows.offset("-PT1H", "x") == timedelta(hours=-1)
    assert windows.offset("-P1DT6H30M", "x") == -timedelta(days=1, hours=6, minutes=30)
    assert windows.offset("PT0H", "x") == timedelta(0)
    for bad in ("1H", "-P", "-PT", "PT1X"):
        with pytest.raises(ValidationError, match="is not an ISO 8601 duration"):
            windows.offset(bad, "StartTimeOffset")
    hourly = windows.window(at(14), timedelta(hours=1))
    assert (hourly.start, hourly.end) == (at(13), at(14))
    given = windows.window(at(14), timedelta(hours=1), "-PT5H", "-PT1H")
    assert (given.start, given.end) == (at(9), at(13))
    delayed = windows.window(at(14), timedelta(hours=1), input_start="-P2D", input_end="-P1D")
    assert (delayed.start, delayed.end) == (at(14, 8), at(14, 9))
    with pytest.raises(ValidationError, match="more than 24 hours"):
        windows.check_data_analysis_times("-P2D", "PT0H")
    with pytest.raises(ValidationError, match="must come before"):
        windows.check_data_analysis_times("-PT1H", "-PT2H")
