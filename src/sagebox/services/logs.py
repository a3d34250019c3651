"""CloudWatch Logs, read-only, over the log files sagebox's jobs and endpoints write.

Every process sagebox runs logs to a JSON Lines file of ``{"timestamp", "message"}``
events. They appear in the log groups and under the stream names SageMaker uses:

=====================================  ==========================================
log group                              stream
=====================================  ==========================================
``/aws/sagemaker/TrainingJobs``        ``<job>/algo-1-<epoch seconds>``
``/aws/sagemaker/TransformJobs``       ``<job>/instance-1-container-1-<epoch seconds>``
``/aws/sagemaker/ProcessingJobs``      ``<job>/algo-1-<epoch seconds>``
``/aws/sagemaker/Endpoints/<name>``    ``<variant>/<instance id>``
``/aws/sagemaker/Pipelines/``          ``<queue name>`` (the messages of pipeline
``CallbackMessages``                   callback steps, as their SQS queue would get them)
=====================================  ==========================================

The epoch in a job's stream name is its first event's time, so a stream exists once
its process has logged something, as in CloudWatch. Event tokens are ``f/<n>`` and
``b/<n>``: the index of the next event forwards, or one past the last backwards.
"""

from __future__ import annotations

import json
import shlex
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sagebox.config import Settings
from sagebox.runtime.logs import last_event_timestamp, read_events, read_last_events
from sagebox.services.errors import ServiceError

TRAINING_GROUP = "/aws/sagemaker/TrainingJobs"
TRANSFORM_GROUP = "/aws/sagemaker/TransformJobs"
PROCESSING_GROUP = "/aws/sagemaker/ProcessingJobs"
ENDPOINT_GROUP_PREFIX = "/aws/sagemaker/Endpoints/"
CALLBACK_MESSAGES_GROUP = "/aws/sagemaker/Pipelines/CallbackMessages"
DEFAULT_EVENT_LIMIT = 10_000
DEFAULT_STREAM_LIMIT = 50
DEFAULT_FILTER_LIMIT = 10_000


class LogsResourceNotFound(ServiceError):
    code = "ResourceNotFoundException"


class InvalidParameter(ServiceError):
    code = "InvalidParameterException"


@dataclass(frozen=True)
class Stream:
    group: str
    name: str
    path: Path
    first_timestamp: int | None

    def events(self) -> list[dict[str, Any]]:
        return read_events(self.path)


def _unbounded(request: dict[str, Any]) -> bool:
    return request.get("startTime") is None and request.get("endTime") is None


def _first_timestamp(path: Path) -> int | None:
    try:
        with path.open(encoding="utf-8") as handle:
            for line in handle:
                if line.strip():
                    return int(json.loads(line)["timestamp"])
    except (OSError, ValueError, KeyError):
        return None
    return None


class LogService:
    """DescribeLogGroups, DescribeLogStreams, GetLogEvents and FilterLogEvents."""

    def __init__(self, settings: Settings) -> None:
        self._settings = settings

    # -- where the files are -----------------------------------------------------------

    def _group_streams(self, group: str) -> Iterator[Stream]:
        home = self._settings.home
        if group == TRAINING_GROUP:
            for path in sorted((self._settings.jobs_dir / "training").glob("*/logs/*.jsonl")):
                yield from self._job_stream(group, path.parent.parent.name, path)
        elif group == TRANSFORM_GROUP:
            for path in sorted((self._settings.jobs_dir / "transform").glob("*/logs/*.jsonl")):
                yield from self._job_stream(group, path.parent.parent.name, path)
        elif group == PROCESSING_GROUP:
            for path in sorted((self._settings.jobs_dir / "processing").glob("*/logs/*.jsonl")):
                yield from self._job_stream(group, path.parent.parent.name, path)
        elif group == CALLBACK_MESSAGES_GROUP:
            for path in sorted((home / "pipelines" / "callback-messages").glob("*.jsonl")):
                yield Stream(group, path.stem, path, _first_timestamp(path))
        elif group.startswith(ENDPOINT_GROUP_PREFIX):
            endpoint = group.removeprefix(ENDPOINT_GROUP_PREFIX)
            folder = home / "endpoints" / endpoint / "logs"
            for path in sorted(folder.glob("**/*.jsonl")) if endpoint else []:
                variant, _, instance = path.stem.rpartition("-")
                yield Stream(group, f"{variant}/{instance}", path, _first_timestamp(path))

    @staticmethod
    def _job_stream(group: str, job: str, path: Path) -> Iterator[Stream]:
        first = _first_timestamp(path)
        if first is not None:
            yield Stream(group, f"{job}/{path.stem}-{first // 1000}", path, first)

    def _groups(self) -> list[str]:
        groups = []
        if any((self._settings.jobs_dir / "training").glob("*/logs/*.jsonl")):
            groups.append(TRAINING_GROUP)
        if any((self._settings.jobs_dir / "transform").glob("*/logs/*.jsonl")):
            groups.append(TRANSFORM_GROUP)
        if any((self._settings.jobs_dir / "processing").glob("*/logs/*.jsonl")):
            groups.append(PROCESSING_GROUP)
        if any((self._settings.home / "pipelines" / "callback-messages").glob("*.jsonl")):
            groups.append(CALLBACK_MESSAGES_GROUP)
        endpoints = self._settings.home / "endpoints"
        if endpoints.is_dir():
            groups += [
                ENDPOINT_GROUP_PREFIX + folder.name
                for folder in sorted(endpoints.iterdir())
                if folder.is_dir() and any((folder / "logs").glob("**/*.jsonl"))
            ]
        return sorted(groups)

    def _streams(self, group: str) -> list[Stream]:
        """The group's streams; the job groups always exist, an endpoint's while it has logs."""
        streams = list(self._group_streams(group))
        if not streams and group not in (TRAINING_GROUP, TRANSFORM_GROUP, PROCESSING_GROUP):
            raise LogsResourceNotFound("The specified log group does not exist.")
        return streams

    def _stream(self, group: str, name: str) -> Stream:
        for stream in self._streams(group):
            if stream.name == name:
                return stream
        raise LogsResourceNotFound("The specified log stream does not exist.")

    # -- API ---------------------------------------------------------------------------

    def describe_log_groups(self, request: dict[str, Any]) -> dict[str, Any]:
        prefix = request.get("logGroupNamePrefix") or ""
        limit = request.get("limit") or 50
        names = [g for g in self._groups() if g.startswith(prefix)][:limit]
        arn = self._settings.account_id
        return {
            "logGroups": [
                {
                    "logGroupName": name,
                    "arn": f"arn:aws:logs:{self._settings.region}:{arn}:log-group:{name}:*",
                    "storedBytes": 0,
                }
                for name in names
            ]
        }

    def describe_log_streams(self, request: dict[str, Any]) -> dict[str, Any]:
        group = request.get("logGroupName") or _group_of_arn(request.get("logGroupIdentifier"))
        if not group:
            raise InvalidParameter("Either logGroupName or logGroupIdentifier is required.")
        prefix = request.get("logStreamNamePrefix") or ""
        order_by = request.get("orderBy") or "LogStreamName"
        if prefix and order_by == "LastEventTime":
            raise InvalidParameter("Cannot order by LastEventTime with a logStreamNamePrefix.")
        streams = [s for s in self._streams(group) if s.name.startswith(prefix)]
        described = [self._describe(s) for s in streams]
        key = "logStreamName" if order_by == "LogStreamName" else "lastEventTimestamp"
        described.sort(key=lambda d: (d.get(key) or 0, d["logStreamName"]), reverse=bool(request.get("descending")))
        # No nextToken: the SageMaker SDK asks again for as long as one is present.
        return {"logStreams": described[: request.get("limit") or DEFAULT_STREAM_LIMIT]}

    def _describe(self, stream: Stream) -> dict[str, Any]:
        last = last_event_timestamp(stream.path)
        size = stream.path.stat().st_size if stream.path.exists() else 0
        item = {
            "logStreamName": stream.name,
            "creationTime": stream.first_timestamp or int(stream.path.stat().st_mtime * 1000),
            "firstEventTimestamp": stream.first_timestamp,
            "lastEventTimestamp": last,
            "lastIngestionTime": last,
            "uploadSequenceToken": "0",
            "arn": (
                f"arn:aws:logs:{self._settings.region}:{self._settings.account_id}:log-group:"
                f"{stream.group}:log-stream:{stream.name}"
            ),
            "storedBytes": size,
        }
        return {k: v for k, v in item.items() if v is not None}

    def get_log_events(self, request: dict[str, Any]) -> dict[str, Any]:
        group = request.get("logGroupName") or _group_of_arn(request.get("logGroupIdentifier"))
        if not group:
            raise InvalidParameter("Either logGroupName or logGroupIdentifier is required.")
        stream = self._stream(group, request["logStreamName"])
        limit = min(request.get("limit") or DEFAULT_EVENT_LIMIT, DEFAULT_EVENT_LIMIT)
        token = request.get("nextToken")
        if not token and not request.get("startFromHead") and _unbounded(request):
            # The newest events (a log's tail): only they are read, not the whole log.
            total, chosen = read_last_events(stream.path, limit)
            start = total - len(chosen)
            return {
                "events": [_event(e) for e in chosen],
                "nextForwardToken": f"f/{total:020d}",
                "nextBackwardToken": f"b/{start:020d}",
            }
        events = [
            e
            for e in stream.events()
            if _in_window(int(e["timestamp"]), request.get("startTime"), request.get("endTime"))
        ]
        if token:
            direction, position = _read_token(token, len(events))
        else:
            direction = "f" if request.get("startFromHead") else "b"
            position = 0 if direction == "f" else len(events)
        if direction == "f":
            start, stop = position, min(len(events), position + limit)
        else:
            start, stop = max(0, position - limit), position
        chosen = events[start:stop]
        return {
            "events": [_event(e) for e in chosen],
            "nextForwardToken": f"f/{stop:020d}",
            "nextBackwardToken": f"b/{start:020d}",
        }

    def filter_log_events(self, request: dict[str, Any]) -> dict[str, Any]:
        group = request.get("logGroupName") or _group_of_arn(request.get("logGroupIdentifier"))
        if not group:
            raise InvalidParameter("Either logGroupName or logGroupIdentifier is required.")
        names = request.get("logStreamNames")
        prefix = request.get("logStreamNamePrefix")
        if names and prefix:
            raise InvalidParameter("logStreamNames and logStreamNamePrefix cannot both be given.")
        streams = self._streams(group)
        if names:
            streams = [s for s in streams if s.name in names]
        elif prefix:
            streams = [s for s in streams if s.name.startswith(prefix)]
        matches = _pattern(request.get("filterPattern"))
        found = []
        for stream in streams:
            for index, event in enumerate(stream.events()):
                timestamp = int(event["timestamp"])
                if not _in_window(timestamp, request.get("startTime"), request.get("endTime")):
                    continue
                if not matches(str(event["message"])):
                    continue
                item = _event(event)
                item["logStreamName"] = stream.name
                item["eventId"] = f"{timestamp:020d}{abs(hash(stream.name)) % 10**8:08d}{index:010d}"
                found.append(item)
        found.sort(key=lambda e: (e["timestamp"], e["logStreamName"]))
        start = 0
        if request.get("nextToken"):
            try:
                start = int(request["nextToken"])
            except ValueError:
                raise InvalidParameter(f"The nextToken '{request['nextToken']}' is not valid.") from None
        limit = request.get("limit") or DEFAULT_FILTER_LIMIT
        page = found[start : start + limit]
        response: dict[str, Any] = {
            "events": page,
            "searchedLogStreams": [{"logStreamName": s.name, "searchedCompletely": True} for s in streams],
        }
        if start + limit < len(found):
            response["nextToken"] = str(start + limit)
        return response


def _group_of_arn(identifier: str | None) -> str | None:
    if not identifier:
        return None
    if identifier.startswith("arn:"):
        return identifier.split(":log-group:", 1)[-1].removesuffix(":*")
    return identifier


def _in_window(timestamp: int, start: int | None, end: int | None) -> bool:
    return (start is None or timestamp >= start) and (end is None or timestamp < end)


def _event(event: dict[str, Any]) -> dict[str, Any]:
    timestamp = int(event["timestamp"])
    return {"timestamp": timestamp, "message": str(event["message"]), "ingestionTime": timestamp}


def _read_token(token: str, count: int) -> tuple[str, int]:
    direction, _, number = token.partition("/")
    if direction not in ("f", "b") or not number.isdigit():
        raise InvalidParameter(f"The specified nextToken is invalid: '{token}'.")
    return direction, min(int(number), count)


def _pattern(text: str | None):  # noqa: ANN202 - returns a predicate
    """CloudWatch's plain-text filter patterns: every term (or "quoted phrase") must appear;
    a term starting with ``-`` must not. An empty pattern matches everything."""
    if not text or not text.strip():
        return lambda message: True
    if text.strip().startswith(("{", "[")):
        raise InvalidParameter(
            f"filterPattern '{text}': JSON and space-delimited patterns are not supported by sagebox; "
            "use terms and quoted phrases."
        )
    try:
        terms = shlex.split(text)
    except ValueError:
        raise InvalidParameter(f"filterPattern '{text}' has an unbalanced quote.") from None
    required = [t for t in terms if not t.startswith("-")]
    excluded = [t[1:] for t in terms if t.startswith("-") and len(t) > 1]
    return lambda message: all(t in message for t in required) and not any(t in message for t in excluded)
