"""`sagebox ls`, `sagebox logs`, `sagebox wait` and `sagebox open`: what people reach for in a
terminal, over the HTTP API (boto3, as any client).

The server is AWS_ENDPOINT_URL, or --endpoint-url, or http://127.0.0.1:8080; the
credentials are the usual AWS ones (`eval "$(sagebox env)"` sets them), or dummy ones
when none are set (a server without --auth takes any).
"""

from __future__ import annotations

import os
import sys
import time
import webbrowser
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TextIO

DEFAULT_ENDPOINT = "http://127.0.0.1:8080"
TERMINAL = ("Completed", "Failed", "Stopped")
POLL_SECONDS = 1.0


@dataclass(frozen=True)
class Kind:
    """A resource kind as the commands name it: its List call and its console page."""

    name: str  # training-jobs
    operation: str  # list_training_jobs
    member: str  # TrainingJobSummaries
    name_member: str  # TrainingJobName
    status_member: str | None  # TrainingJobStatus
    page: str  # /ui/training-jobs

    def row(self, summary: dict[str, Any]) -> tuple[str, str, str]:
        status = summary.get(self.status_member, "") if self.status_member else ""
        created = summary.get("CreationTime")
        when = created.strftime("%Y-%m-%d %H:%M:%S") if isinstance(created, datetime) else ""
        return str(summary.get(self.name_member, "")), str(status), when


def _job(name: str, kind: str, page: str) -> Kind:
    return Kind(
        name,
        f"list_{kind}s",
        f"{_camel(kind)}Summaries",
        f"{_camel(kind)}Name",
        f"{_camel(kind)}Status",
        page,
    )


def _camel(snake: str) -> str:
    return "".join(part.capitalize() for part in snake.split("_"))


KINDS = {
    k.name: k
    for k in (
        _job("training-jobs", "training_job", "/ui/training-jobs"),
        Kind(
            "tuning-jobs", "list_hyper_parameter_tuning_jobs", "HyperParameterTuningJobSummaries",
            "HyperParameterTuningJobName", "HyperParameterTuningJobStatus", "/ui/tuning-jobs",
        ),
        _job("processing-jobs", "processing_job", "/ui/processing-jobs"),
        _job("transform-jobs", "transform_job", "/ui/transform-jobs"),
        Kind("models", "list_models", "Models", "ModelName", None, "/ui/models"),
        Kind("endpoint-configs", "list_endpoint_configs", "EndpointConfigs", "EndpointConfigName", None, "/ui/endpoint-configs"),
        Kind("endpoints", "list_endpoints", "Endpoints", "EndpointName", "EndpointStatus", "/ui/endpoints"),
        Kind(
            "model-package-groups", "list_model_package_groups", "ModelPackageGroupSummaryList",
            "ModelPackageGroupName", "ModelPackageGroupStatus", "/ui/model-package-groups",
        ),
        Kind("pipelines", "list_pipelines", "PipelineSummaries", "PipelineName", None, "/ui/pipelines"),
    )
}  # fmt: skip
# The jobs `logs` and `wait` follow: (describe call, name member, status member, log group).
JOBS = {
    "training": (
        "describe_training_job",
        "TrainingJobName",
        "TrainingJobStatus",
        "/aws/sagemaker/TrainingJobs",
    ),
    "processing": (
        "describe_processing_job",
        "ProcessingJobName",
        "ProcessingJobStatus",
        "/aws/sagemaker/ProcessingJobs",
    ),
    "transform": (
        "describe_transform_job",
        "TransformJobName",
        "TransformJobStatus",
        "/aws/sagemaker/TransformJobs",
    ),
}


class CommandError(Exception):
    """The command cannot go on; the message says why."""


def endpoint_url(given: str | None) -> str:
    return (given or os.environ.get("AWS_ENDPOINT_URL") or DEFAULT_ENDPOINT).rstrip("/")


def _client(service: str, url: str) -> Any:
    import boto3

    session = boto3.Session()
    if session.get_credentials() is None:  # a server without --auth takes any credentials
        session = boto3.Session(aws_access_key_id="sagebox", aws_secret_access_key="sagebox-secret")
    return session.client(service, endpoint_url=url, region_name=session.region_name or "us-east-1")


def ls(
    url: str,
    kind: str | None,
    name_contains: str | None,
    status: str | None,
    limit: int,
    out: TextIO,
) -> int:
    """A kind's resources, newest first; without a kind, what is running now."""
    sagemaker = _client("sagemaker", url)
    if kind is None:
        rows = []
        for job in ("training-jobs", "tuning-jobs", "processing-jobs", "transform-jobs"):
            spec = KINDS[job]
            answer = getattr(sagemaker, spec.operation)(StatusEquals="InProgress", MaxResults=100)
            rows += [(job, *spec.row(s)) for s in answer[spec.member]]
        _table(["KIND", "NAME", "STATUS", "CREATED"], rows, out)
        if not rows:
            print("nothing is running", file=out)
        return 0
    spec = KINDS.get(kind)
    if spec is None:
        raise CommandError(f"unknown kind {kind!r}; choose from {', '.join(KINDS)}")
    request: dict[str, Any] = {"MaxResults": min(limit, 100)}
    if name_contains:
        request["PipelineNamePrefix" if kind == "pipelines" else "NameContains"] = name_contains
    if status:
        request["StatusEquals"] = status
    rows, token = [], None
    while len(rows) < limit:
        answer = getattr(sagemaker, spec.operation)(
            **request, **({"NextToken": token} if token else {})
        )
        rows += [spec.row(s) for s in answer[spec.member]]
        token = answer.get("NextToken")
        if not token:
            break
    _table(["NAME", "STATUS", "CREATED"], rows[:limit], out)
    return 0


def _table(headers: list[str], rows: list[tuple[str, ...]], out: TextIO) -> None:
    if not rows:
        return
    widths = [max(len(h), *(len(r[i]) for r in rows)) for i, h in enumerate(headers)]
    for line in [tuple(headers), *rows]:
        print(
            "  ".join(cell.ljust(width) for cell, width in zip(line, widths, strict=True)).rstrip(),
            file=out,
        )


def _describe(sagemaker: Any, job: str, kind: str) -> dict[str, Any]:
    from botocore.exceptions import ClientError

    describe, member, _, _ = JOBS[kind]
    try:
        return getattr(sagemaker, describe)(**{member: job})
    except ClientError as exc:
        raise CommandError(f"{kind} job {job}: {exc.response['Error'].get('Message', exc)}") from exc


def logs(url: str, job: str, kind: str, follow: bool, out: TextIO) -> int:
    """A job's log lines; with `follow`, new ones as they come until the job ends."""
    sagemaker, client = _client("sagemaker", url), _client("logs", url)
    _, _, status_member, group = JOBS[kind]
    described = _describe(sagemaker, job, kind)
    printed: dict[str, int] = {}  # stream -> events printed
    while True:
        streams = client.describe_log_streams(logGroupName=group, logStreamNamePrefix=f"{job}/")[
            "logStreams"
        ]
        for stream in streams:
            name = stream["logStreamName"]
            events = client.get_log_events(
                logGroupName=group, logStreamName=name, startFromHead=True
            )["events"]
            prefix = f"[{name.split('/', 1)[1]}] " if len(streams) > 1 else ""
            for event in events[printed.get(name, 0) :]:
                print(prefix + event["message"], file=out, flush=True)
            printed[name] = len(events)
        if not follow or described[status_member] in TERMINAL:
            return 0
        time.sleep(POLL_SECONDS)
        described = _describe(sagemaker, job, kind)


def wait(url: str, job: str, kind: str, timeout: float, out: TextIO) -> int:
    """Prints each status change until the job ends; 0 when it Completed."""
    sagemaker = _client("sagemaker", url)
    _, _, status_member, _ = JOBS[kind]
    started, seen, last = time.time(), 0, None
    while True:
        described = _describe(sagemaker, job, kind)
        transitions = described.get("SecondaryStatusTransitions", [])
        for transition in transitions[seen:]:
            # seconds since the job was created, as SageMaker's console shows the timeline
            at = (transition["StartTime"] - described["CreationTime"]).total_seconds()
            message = transition.get("StatusMessage", "")
            print(f"{at:6.1f}s  {transition['Status']:<12} {message}", file=out, flush=True)
        seen = len(transitions)
        status = described[status_member]
        if status != last and not transitions:
            print(f"{time.time() - started:6.1f}s  {status}", file=out, flush=True)
        last = status
        if status in TERMINAL:
            reason = described.get("FailureReason")
            print(f"{job}: {status}" + (f": {reason}" if reason else ""), file=out, flush=True)
            return 0 if status == "Completed" else 1
        if time.time() - started > timeout:
            print(f"{job}: still {status} after {timeout:.0f} s", file=out, flush=True)
            return 3
        time.sleep(POLL_SECONDS)


def console_url(url: str, resource: str | None) -> str:
    """The console page of `kind/name` (or of a kind, or the overview)."""
    if not resource:
        return f"{url}/ui/"
    kind, _, name = resource.partition("/")
    spec = KINDS.get(kind)
    if spec is None:
        raise CommandError(f"unknown kind {kind!r} in {resource!r}; choose from {', '.join(KINDS)}")
    return f"{url}{spec.page}/{name}" if name else f"{url}{spec.page}"


def open_page(url: str, resource: str | None, print_only: bool, out: TextIO) -> int:
    target = console_url(url, resource)
    print(target, file=out)
    if not print_only:
        webbrowser.open(target)
    return 0


def run(args: Any, out: TextIO = sys.stdout) -> int:
    url = endpoint_url(args.endpoint_url)
    try:
        if args.command == "ls":
            return ls(url, args.kind, args.name_contains, args.status, args.max, out)
        if args.command == "logs":
            return logs(url, args.job, args.kind, args.follow, out)
        if args.command == "wait":
            return wait(url, args.job, args.kind, args.timeout, out)
        return open_page(url, args.resource, args.print_only, out)
    except CommandError as exc:
        print(f"sagebox {args.command}: {exc}", file=sys.stderr)
        return 2
