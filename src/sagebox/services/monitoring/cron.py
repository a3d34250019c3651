"""Monitoring schedules' ScheduleExpression: the forms SageMaker accepts, and their run times.

SageMaker Model Monitor accepts exactly these (all times UTC):

- ``cron(0 * ? * * *)``: every hour, on the hour;
- ``cron(0 H ? * * *)``: every day at hour H (0-23);
- ``cron(0 H/N ? * * *)``: every N hours (1-24) of each day, starting at hour H
  (``cron(0 17/12 ? * * *)``: 17:00, then 05:00 and 17:00 every day);
- ``NOW``: one run, at once, over the window DataAnalysisStartTime / DataAnalysisEndTime.

Anything else is refused. `Cron.next_after` gives the first run time after a moment and
`Cron.latest_at_or_before` the last one that was due.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta

from sagebox.services.errors import ValidationError

NOW = "NOW"
_CRON = re.compile(r"^cron\(0 (?P<hours>\*|\d{1,2}(?:/\d{1,2})?) \? \* \* \*\)$")
ALLOWED = (
    "cron(0 * ? * * *) (hourly), cron(0 [00-23] ? * * *) (daily at that hour), "
    "cron(0 [00-23]/[01-24] ? * * *) (every 1 to 24 hours from that hour) or NOW (once, at once)"
)


def refused(expression: str) -> ValidationError:
    return ValidationError(
        f"Invalid ScheduleExpression '{expression}'. Amazon SageMaker Model Monitor supports {ALLOWED}."
    )


@dataclass(frozen=True)
class Cron:
    """The hours of the day a schedule runs at (always at minute 0)."""

    hours: tuple[int, ...]

    @property
    def period(self) -> timedelta:
        """The time between runs, which is each run's default analysis window."""
        if len(self.hours) < 2:
            return timedelta(days=1)
        gaps = [b - a for a, b in zip(self.hours, self.hours[1:], strict=False)] + [self.hours[0] + 24 - self.hours[-1]]
        return timedelta(hours=min(gaps))

    def next_after(self, moment: datetime) -> datetime:
        """The first run time strictly after `moment`."""
        day = moment.replace(hour=0, minute=0, second=0, microsecond=0)
        for offset in range(2):
            for hour in self.hours:
                candidate = day + timedelta(days=offset, hours=hour)
                if candidate > moment:
                    return candidate
        raise AssertionError("unreachable: a schedule runs at least once a day")  # pragma: no cover

    def latest_at_or_before(self, moment: datetime) -> datetime:
        """The last run time at or before `moment`."""
        day = moment.replace(hour=0, minute=0, second=0, microsecond=0)
        for offset in (0, -1):
            for hour in reversed(self.hours):
                candidate = day + timedelta(days=offset, hours=hour)
                if candidate <= moment:
                    return candidate
        raise AssertionError("unreachable: a schedule runs at least once a day")  # pragma: no cover


def parse(expression: str) -> Cron | None:
    """The cron of a schedule expression, None for NOW; ValidationError for any other form."""
    text = expression.strip()
    if text == NOW:
        return None
    match = _CRON.match(text)
    if match is None:
        raise refused(expression)
    hours = match.group("hours")
    if hours == "*":
        return Cron(tuple(range(24)))
    start, _, step = hours.partition("/")
    first = int(start)
    every = int(step) if step else 24
    if not 0 <= first <= 23 or not 1 <= every <= 24:
        raise refused(expression)
    # As SageMaker documents it, the hours wrap around the day: 17/12 runs at 17:00 and 05:00.
    return Cron(tuple(sorted({(first + step) % 24 for step in range(0, 24, every)})))
