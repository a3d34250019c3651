"""AutoML (Autopilot): the list, a job's page with its leaderboard (live while it runs),
Stop, Deploy a candidate, and a Canvas-style no-code path: upload a CSV, pick the target
column from its header, start CreateAutoMLJobV2.

Every step is an operation any client could make: the upload is a PutObject into the
object store the S3 API serves (as the S3 browser's upload), the header is read back from
the stored object, the job is CreateAutoMLJobV2, Deploy is CreateModel (the candidate's
InferenceContainers), CreateEndpointConfig and CreateEndpoint.
"""

from __future__ import annotations

import codecs
import csv
import re
import time
from typing import Any
from urllib.parse import quote

from starlette.responses import Response

from sagebox.edge.ui.calls import ApiFailure
from sagebox.edge.ui.pages import Column, FamilyPages, ListPage, PageContext, PageRoute, model_enum
from sagebox.edge.ui.pages.s3 import _objects, _store_call

RUNNING = ("InProgress", "Stopping")
CANVAS_BUCKET = "sagebox-canvas"
HEADER_BYTES = 64 * 1024  # the first line of an uploaded table is read from this much
MAX_COLUMNS = 2000
DEPLOY_INSTANCE = "ml.m5.large"
# Objectives where smaller is better: their leaderboard ranks ascending.
MINIMIZED = ("MSE", "RMSE", "MAE", "MAPE", "MASE", "WAPE", "AverageWeightedQuantileLoss")
CANDIDATE_SORTS = model_enum("ListCandidatesForAutoMLJob", "SortBy")
ORDERS = ("Ascending", "Descending")
NAME = re.compile(r"^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,31}$")
STEP_PAGES = {
    "AWS::SageMaker::TrainingJob": "/ui/training-jobs/",
    "AWS::SageMaker::ProcessingJob": "/ui/processing-jobs/",
    "AWS::SageMaker::TransformJob": "/ui/transform-jobs/",
}

LIST = ListPage(
    path="/ui/automl-jobs",
    title="AutoML jobs",
    operation="ListAutoMLJobs",
    member="AutoMLJobSummaries",
    columns=(
        Column("Name", "AutoMLJobName", link="/ui/automl-jobs/{AutoMLJobName}"),
        Column("Status", "AutoMLJobStatus", "status"),
        Column("Secondary status", "AutoMLJobSecondaryStatus"),
        Column("Created", "CreationTime", "time"),
        Column("Ended", "EndTime", "time"),
    ),
    statuses=model_enum("ListAutoMLJobs", "StatusEquals"),
    sorts=model_enum("ListAutoMLJobs", "SortBy"),
    intro="Autopilot jobs: start one from a CSV file, read its leaderboard, deploy its best candidate.",
    links=(("New AutoML job", "/ui/automl/new"),),
)


def _objective(described: dict[str, Any]) -> str | None:
    given = (described.get("AutoMLJobObjective") or {}).get("MetricName")
    resolved = ((described.get("ResolvedAttributes") or {}).get("AutoMLJobObjective") or {}).get(
        "MetricName"
    )
    return resolved or given


def step_page(step: dict[str, Any]) -> str | None:
    path = STEP_PAGES.get(step.get("CandidateStepType", ""))
    name = step.get("CandidateStepName") or step.get("CandidateStepArn", "").rsplit("/", 1)[-1]
    return path + quote(name, safe="") if path and name else None


async def job_page(ctx: PageContext) -> Response:
    name = ctx.params["name"]
    described = await ctx.api("DescribeAutoMLJobV2", AutoMLJobName=name)
    objective = _objective(described)
    best_first = "Ascending" if objective in MINIMIZED else "Descending"
    sort = ctx.query("sort")
    sort = sort if sort in CANDIDATE_SORTS else "FinalObjectiveMetricValue"
    order = ctx.query("order")
    order = order if order in ORDERS else best_first
    answer = await ctx.api(
        "ListCandidatesForAutoMLJob",
        AutoMLJobName=name,
        SortBy=sort,
        SortOrder=order,
        MaxResults=100,
    )
    candidates = answer.get("Candidates", [])
    for candidate in candidates:
        candidate["steps"] = [
            (s.get("CandidateStepType", "").rsplit("::", 1)[-1], s.get("CandidateStepName"), step_page(s))
            for s in candidate.get("CandidateSteps", [])
        ]  # fmt: skip
    best = (described.get("BestCandidate") or {}).get("CandidateName")
    status = described["AutoMLJobStatus"]
    return ctx.render(
        "automl_job.html",
        job=described,
        name=name,
        job_status=status,
        running=status in RUNNING,
        candidates=candidates,
        best=best,
        objective=objective,
        sort=sort,
        order=order,
        flip={"Ascending": "Descending", "Descending": "Ascending"}[order],
        deployed=(described.get("ModelDeployResult") or {}).get("EndpointName"),
    )


async def stop(ctx: PageContext) -> Response:
    name = ctx.params["name"]
    await ctx.api("StopAutoMLJob", AutoMLJobName=name)
    return ctx.redirect(f"/ui/automl-jobs/{quote(name)}", msg=f"StopAutoMLJob sent for {name}.")


async def deploy(ctx: PageContext) -> Response:
    """A candidate (the best one unless the form names another) behind a new endpoint:
    CreateModel, CreateEndpointConfig, CreateEndpoint."""
    name = ctx.params["name"]
    described = await ctx.api("DescribeAutoMLJobV2", AutoMLJobName=name)
    wanted = ctx.form.get("candidate") or (described.get("BestCandidate") or {}).get(
        "CandidateName"
    )
    if not wanted:
        raise ApiFailure(
            "ValidationException", f"AutoML job {name} has no candidate to deploy yet."
        )
    found = await ctx.api(
        "ListCandidatesForAutoMLJob", AutoMLJobName=name, CandidateNameEquals=wanted
    )
    matches = found.get("Candidates", [])
    if not matches or not matches[0].get("InferenceContainers"):
        raise ApiFailure(
            "ValidationException",
            f"Candidate {wanted!r} of AutoML job {name} has no inference containers to deploy.",
        )
    endpoint = (ctx.form.get("endpoint") or "").strip() or f"{name[:40]}-{int(time.time())}"
    await ctx.api(
        "CreateModel",
        ModelName=endpoint,
        Containers=matches[0]["InferenceContainers"],
        ExecutionRoleArn=described["RoleArn"],
    )
    variant = {
        "VariantName": "AllTraffic",
        "ModelName": endpoint,
        "InitialInstanceCount": 1,
        "InstanceType": DEPLOY_INSTANCE,
        "InitialVariantWeight": 1.0,
    }
    await ctx.api("CreateEndpointConfig", EndpointConfigName=endpoint, ProductionVariants=[variant])
    await ctx.api("CreateEndpoint", EndpointName=endpoint, EndpointConfigName=endpoint)
    return ctx.redirect(
        f"/ui/endpoints/{quote(endpoint)}",
        msg=f"Deploying candidate {wanted} of {name}: CreateModel, CreateEndpointConfig and "
        f"CreateEndpoint sent for {endpoint}.",
    )


# -- the no-code path: upload, pick the target, start ----------------------------------------


def _split_s3(uri: str) -> tuple[str, str]:
    if not uri.startswith("s3://") or "/" not in uri.removeprefix("s3://"):
        raise ApiFailure(
            "ValidationException", f"The data must be an s3://bucket/key URI; {uri!r} was given."
        )
    bucket, _, key = uri.removeprefix("s3://").partition("/")
    return bucket, key


def header_of(objects: Any, bucket: str, key: str) -> list[str]:
    """The column names in the first line of a stored CSV (its first HEADER_BYTES)."""
    info = objects.head_object(bucket, key)
    if info.size == 0:
        return []
    _, chunks = objects.get_object(bucket, key, byte_range=(0, min(info.size, HEADER_BYTES) - 1))
    data = b"".join(chunks)
    text = codecs.getincrementaldecoder("utf-8-sig")(errors="replace").decode(data)
    first = text.splitlines()[0] if text else ""
    row = next(csv.reader([first]), [])
    return [c.strip() for c in row][:MAX_COLUMNS]


async def new_page(ctx: PageContext) -> Response:
    """Step 1 (no ?data=): the upload form. Step 2: the target column and options for
    the uploaded file, its columns read from its header on the server."""
    data = ctx.query("data")
    columns: list[str] = []
    if data:
        bucket, key = _split_s3(data)
        columns = await _store_call(header_of, _objects(ctx), bucket, key)
        if not columns or not any(columns):
            raise ApiFailure(
                "ValidationException",
                f"{data} has no header line: the first line must name the columns.",
            )
    settings = ctx.api.platform.settings
    stem = re.sub(r"[^a-zA-Z0-9]+", "-", data.rsplit("/", 1)[-1].rsplit(".", 1)[0]).strip("-")
    suggested = f"canvas-{stem[:14] or 'data'}-{time.strftime('%H%M%S')}".lower()
    return ctx.render(
        "automl_new.html",
        data=data,
        columns=columns,
        bucket=CANVAS_BUCKET,
        problem_types=PROBLEM_TYPES,
        metrics=METRICS,
        suggested=suggested,
        role=f"arn:aws:iam::{settings.account_id}:role/SageMakerRole",
    )


def _enum(shape: str) -> tuple[str, ...]:
    from sagebox.service_models import service_model

    return tuple(service_model("sagemaker").shape_for(shape).enum)


PROBLEM_TYPES = _enum("ProblemType")
METRICS = _enum("AutoMLMetricEnum")


async def upload(ctx: PageContext) -> Response:
    """The CSV stored as s3://<bucket>/canvas/<time>/<file name> (PutObject), then step 2."""
    given = ctx.uploads.get("file")
    if given is None or not given.filename:
        raise ApiFailure("ValidationException", "Choose a CSV file to upload.")
    bucket = (ctx.form.get("bucket") or CANVAS_BUCKET).strip()
    objects = _objects(ctx)

    def ensure_bucket() -> None:
        from sagebox.objects.errors import NoSuchBucket

        try:
            objects.head_bucket(bucket)
        except NoSuchBucket:
            objects.create_bucket(bucket)

    await _store_call(ensure_bucket)
    filename = given.filename.replace("\\", "/").rsplit("/", 1)[-1]
    key = f"canvas/{time.strftime('%Y%m%d-%H%M%S')}/{filename}"
    info = await _store_call(objects.put_object, bucket, key, given.file, content_type="text/csv")
    return ctx.redirect(
        f"/ui/automl/new?data={quote(f's3://{bucket}/{key}', safe='')}",
        msg=f"Uploaded s3://{bucket}/{key} ({info.size} bytes): pick the column to predict.",
    )


async def start(ctx: PageContext) -> Response:
    """CreateAutoMLJobV2 from the form: a tabular job on the uploaded file's folder."""
    form = ctx.form
    data, target, name = form.get("data", ""), form.get("target", ""), form.get("name", "").strip()
    bucket, key = _split_s3(data)
    columns = await _store_call(header_of, _objects(ctx), bucket, key)
    if target not in columns:
        raise ApiFailure(
            "ValidationException",
            f"The target column {target!r} is not in {data}'s header: one of {', '.join(columns)}.",
        )
    config: dict[str, Any] = {"TargetAttributeName": target}
    if form.get("problem_type") in PROBLEM_TYPES:
        config["ProblemType"] = form["problem_type"]
    candidates = form.get("max_candidates", "").strip()
    if candidates:
        if not candidates.isdigit() or int(candidates) < 1:
            raise ApiFailure(
                "ValidationException",
                f"Max candidates must be a whole number of at least 1; {candidates!r} was given.",
            )
        config["CompletionCriteria"] = {"MaxCandidates": int(candidates)}
    folder = key.rsplit("/", 1)[0] + "/" if "/" in key else ""
    request: dict[str, Any] = {
        "AutoMLJobName": name,
        "AutoMLJobInputDataConfig": [
            {
                "ChannelType": "training",
                "ContentType": "text/csv;header=present",
                "DataSource": {
                    "S3DataSource": {"S3DataType": "S3Prefix", "S3Uri": f"s3://{bucket}/{folder}"}
                },
            }
        ],
        "OutputDataConfig": {"S3OutputPath": f"s3://{bucket}/canvas-output/"},
        "AutoMLProblemTypeConfig": {"TabularJobConfig": config},
        "RoleArn": form.get("role", ""),
    }
    if form.get("objective") in METRICS:
        request["AutoMLJobObjective"] = {"MetricName": form["objective"]}
    await ctx.api("CreateAutoMLJobV2", **request)
    return ctx.redirect(
        f"/ui/automl-jobs/{quote(name)}", msg=f"CreateAutoMLJobV2 started {name} on {data}."
    )


PAGES = FamilyPages(
    "AutoML",
    "/ui/automl-jobs",
    lists=(LIST,),
    routes=(
        PageRoute("/ui/automl/new", new_page),
        PageRoute("/ui/automl/upload", upload, methods=("POST",)),
        PageRoute("/ui/automl/start", start, methods=("POST",)),
        PageRoute("/ui/automl-jobs/{name}", job_page),
        PageRoute("/ui/automl-jobs/{name}/stop", stop, methods=("POST",)),
        PageRoute("/ui/automl-jobs/{name}/deploy", deploy, methods=("POST",)),
    ),
)
