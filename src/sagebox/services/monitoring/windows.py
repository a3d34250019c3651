"""The data an execution analyzes: its window, from the schedule's time and offsets.

Offsets are ISO 8601 durations relative to the run's scheduled time, negative into the
past: ``-PT1H``, ``-P1D``, ``-PT30M``, ``-P1DT6H`` (DataAnalysisStartTime /
DataAnalysisEndTime of the schedule, StartTimeOffset / EndTimeOffset of the job input).
Without them a run analyzes the period since the previous run (the last hour of an hourly
schedule), as SageMaker does.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta

from sagebox.services.errors import ValidationError

MAX_WINDOW = timedelta(hours=24)
_DURATION = re.compile(
    r"^(?P<sign>[-+]?)P(?:(?P<weeks>\d+)W)?(?:(?P<days>\d+)D)?"
    r"(?:T(?:(?P<hours>\d+)H)?(?:(?P<minutes>\d+)M)?(?:(?P<seconds>\d+(?:\.\d+)?)S)?)?$"
)


def offset(text: str, member: str) -> timedelta:
    """An ISO 8601 duration (``-PT1H``) as a signed timedelta; ValidationError naming `member`."""
    match = _DURATION.match(text.strip())
    if match is None or text.strip() in ("P", "-P", "+P") or text.strip().endswith("T"):
        raise ValidationError(
            f"{member} '{text}' is not an ISO 8601 duration: write it as an offset such as -PT1H, -PT30M or -P1D."
        )
    parts = {k: float(v) for k, v in match.groupdict().items() if v and k != "sign"}
    duration = timedelta(
        weeks=parts.get("weeks", 0), days=parts.get("days", 0), hours=parts.get("hours", 0),
        minutes=parts.get("minutes", 0), seconds=parts.get("seconds", 0),
    )
    return -duration if match.group("sign") == "-" else duration


@dataclass(frozen=True)
class Window:
    start: datetime
    end: datetime


def check_data_analysis_times(start: str | None, end: str | None) -> None:
    """DataAnalysisStartTime / DataAnalysisEndTime: durations, start before end, at most 24 h apart."""
    if start is None or end is None:
        return
    begin, finish = offset(start, "DataAnalysisStartTime"), offset(end, "DataAnalysisEndTime")
    if begin >= finish:
        raise ValidationError(
            f"DataAnalysisStartTime '{start}' must come before DataAnalysisEndTime '{end}'."
        )
    if finish - begin > MAX_WINDOW:
        raise ValidationError(
            f"DataAnalysisStartTime '{start}' must not precede DataAnalysisEndTime '{end}' by more than 24 hours."
        )


def window(
    scheduled: datetime,
    period: timedelta,
    schedule_start: str | None = None,
    schedule_end: str | None = None,
    input_start: str | None = None,
    input_end: str | None = None,
) -> Window:
    """The window of the run scheduled at `scheduled`."""
    start = scheduled + offset(schedule_start, "DataAnalysisStartTime") if schedule_start else scheduled - period
    end = scheduled + offset(schedule_end, "DataAnalysisEndTime") if schedule_end else scheduled
    if input_start:
        start = scheduled + offset(input_start, "StartTimeOffset")
    if input_end:
        end = scheduled + offset(input_end, "EndTimeOffset")
    return Window(start, end)
