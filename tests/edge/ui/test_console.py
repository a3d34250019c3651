"""The web console in a real headless Chromium against a live server with real resources.

One server (the session's), one browser, a handful of resources made through boto3:
a training job (its page is opened while it runs and must follow it to the end), a
tuning job of two trials, an endpoint with two weighted variants, and a model package
waiting for approval. Each page is checked against what the API says, must log no
console error, and leaves a screenshot in test-artifacts/ui/.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from sklearn.datasets import load_diabetes

from sagebox.cli.server_process import ServerProcess
from tests.edge.ui.browser import ConsolePage, launch
from tests.services.training.jobs import (
    ROLE,
    XGBOOST_IMAGE,
    channel,
    csv_bytes,
    job_request,
    unique,
    wait_for,
)
from tests.services.tuning.conftest import config, definition, wait_tuning

expect = pytest.importorskip(
    "playwright.sync_api",
    reason="the console's browser tests need Playwright for Python (pip install -e '.[dev]')",
).expect
ROUNDS = 30
INVOCATIONS = 3


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    yield from launch()


@pytest.fixture(scope="module")
def console(browser: Any, sagebox_server: ServerProcess) -> Iterator[ConsolePage]:
    tab = ConsolePage(browser, sagebox_server.endpoint_url)
    yield tab
    tab.close()


@pytest.fixture(scope="module")
def bucket(s3: Any) -> str:
    name = unique("console")
    s3.create_bucket(Bucket=name)
    data = load_diabetes()
    s3.put_object(
        Bucket=name,
        Key="diabetes/train/data.csv",
        Body=csv_bytes(data.data[:300], data.target[:300]),
    )
    s3.put_object(
        Bucket=name,
        Key="diabetes/validation/data.csv",
        Body=csv_bytes(data.data[300:], data.target[300:]),
    )
    return name


@pytest.fixture(scope="module")
def tuning_job(sagemaker: Any, bucket: str) -> str:
    """Started first, so it runs while the other tests do."""
    name = unique("ui-tune")[:32]
    sagemaker.create_hyper_parameter_tuning_job(
        HyperParameterTuningJobName=name,
        HyperParameterTuningJobConfig=config("Random", max_jobs=2, parallel=2, RandomSeed=3),
        TrainingJobDefinition=definition(bucket),
    )
    return name


def _metric_series(
    logs: Any, job: str, definitions: list[dict[str, str]]
) -> dict[str, list[float]]:
    """The metric values in the job's log, found with its MetricDefinitions here in the test."""
    streams = logs.describe_log_streams(
        logGroupName="/aws/sagemaker/TrainingJobs", logStreamNamePrefix=f"{job}/"
    )
    series: dict[str, list[float]] = {}
    for stream in streams["logStreams"]:
        events = logs.get_log_events(
            logGroupName="/aws/sagemaker/TrainingJobs",
            logStreamName=stream["logStreamName"],
            startFromHead=True,
        )["events"]
        for event in events:
            for d in definitions:
                found = re.search(d["Regex"], event["message"])
                if found:
                    series.setdefault(d["Name"], []).append(float(found.group(1)))
    return series


def _invocations(cloudwatch: Any, endpoint: str, variants: tuple[str, ...]) -> dict[str, float]:
    """Invocations per variant as CloudWatch answers, once all of them are published."""
    deadline = time.time() + 30
    while True:
        sums = {}
        for variant in variants:
            points = cloudwatch.get_metric_statistics(
                Namespace="AWS/SageMaker",
                MetricName="Invocations",
                Period=60,
                Statistics=["Sum"],
                Dimensions=[
                    {"Name": "EndpointName", "Value": endpoint},
                    {"Name": "VariantName", "Value": variant},
                ],
                StartTime=time.time() - 3600,
                EndTime=time.time() + 60,
            )["Datapoints"]
            sums[variant] = sum(p["Sum"] for p in points)
        if sum(sums.values()) >= INVOCATIONS or time.time() > deadline:
            return sums
        time.sleep(0.5)


def test_training_job_page_follows_the_job_live_and_charts_its_metrics(
    console: ConsolePage, sagemaker: Any, bucket: str, tuning_job: str
) -> None:
    name = unique("ui-train")
    channels = [channel(c, f"s3://{bucket}/diabetes/{c}/") for c in ("train", "validation")]
    sagemaker.create_training_job(
        **job_request(
            name,
            bucket,
            channels,
            HyperParameters={"objective": "reg:squarederror", "num_round": str(ROUNDS)},
        )
    )
    page = console.open(f"/ui/training-jobs/{name}")
    opened_while = page.locator("#job-status").inner_text()
    assert opened_while in ("InProgress", "Completed")
    # The page follows the job by itself: no reload.
    expect(page.locator("#job-status")).to_have_text("Completed", timeout=90_000)
    expect(page.locator("#final-metrics tr[data-metric='validation:rmse']")).to_have_count(1)
    described = wait_for(sagemaker, name)
    assert described["TrainingJobStatus"] == "Completed"
    if opened_while == "InProgress":
        assert page.evaluate("window.sagebox.updates") >= 1
    drawn = page.evaluate(
        "Object.fromEntries(Object.entries(window.sagebox.charts).map(([k, c]) => [k, c.data[1].map(Number)]))"
    )
    final = {m["MetricName"]: m["Value"] for m in described["FinalMetricDataList"]}
    assert "validation:rmse" in final and "train:rmse" in final
    logged = _metric_series(
        boto3.client("logs"), name, described["AlgorithmSpecification"]["MetricDefinitions"]
    )
    for metric, value in final.items():
        assert drawn[metric] == pytest.approx(logged[metric], rel=1e-6), metric
        assert drawn[metric][-1] == pytest.approx(value, rel=1e-6), metric
    assert len(drawn["validation:rmse"]) == ROUNDS
    # Opened again once the job has ended: the curves SageMaker keeps (BatchGetMetrics).
    page = console.open(f"/ui/training-jobs/{name}")
    again = page.evaluate(
        "Object.fromEntries(Object.entries(window.sagebox.charts).map(([k, c]) => [k, c.data[1].map(Number)]))"
    )
    assert {k: again[k] for k in final} == {k: drawn[k] for k in final}
    assert page.locator("#log").inner_text().strip() != ""
    console.screenshot("training-job")
    console.assert_no_errors()


def test_tuning_page_sorts_by_the_objective_and_marks_the_api_best_job(
    console: ConsolePage, sagemaker: Any, tuning_job: str
) -> None:
    described = wait_tuning(sagemaker, tuning_job)
    assert described["HyperParameterTuningJobStatus"] == "Completed"
    best = described["BestTrainingJob"]["TrainingJobName"]
    page = console.open(f"/ui/tuning-jobs/{tuning_job}")
    rows = page.locator("#trials tbody tr")
    assert rows.count() == 2
    # Minimize: the default order is ascending, so the best trial comes first and is marked.
    assert rows.nth(0).get_attribute("data-job") == best
    assert page.locator("#trials tr.best").get_attribute("data-job") == best
    assert page.locator("#best-job").inner_text() == best
    values = [float(v) for v in page.locator("#trials td.objective").all_inner_texts()]
    assert values == sorted(values)
    page.click("a[data-sort=FinalObjectiveMetricValue]")  # the other direction, asked of the API
    page.wait_for_load_state("load")
    flipped = [float(v) for v in page.locator("#trials td.objective").all_inner_texts()]
    assert flipped == sorted(values, reverse=True)
    api = sagemaker.list_training_jobs_for_hyper_parameter_tuning_job(
        HyperParameterTuningJobName=tuning_job,
        SortBy="FinalObjectiveMetricValue",
        SortOrder="Descending",
    )["TrainingJobSummaries"]
    assert page.locator("#trials tbody tr").evaluate_all(
        "rows => rows.map(r => r.dataset.job)"
    ) == [t["TrainingJobName"] for t in api]
    lines = page.locator("#parallel polyline")
    assert sorted(lines.evaluate_all("ls => ls.map(l => l.dataset.job)")) == sorted(
        t["TrainingJobName"] for t in api
    )
    assert (
        page.locator(f"#parallel polyline[data-job='{best}']").get_attribute("stroke-width")
        == "3.5"
    )
    chart = page.evaluate("Object.values(window.sagebox.charts).map(c => c.data[1].length)")
    assert 2 in chart
    console.screenshot("tuning-job")
    console.assert_no_errors()


def test_endpoint_page_shows_its_variants_weights(
    console: ConsolePage, sagemaker: Any, bucket: str, tuning_job: str
) -> None:
    trial = wait_tuning(sagemaker, tuning_job)["BestTrainingJob"]["TrainingJobName"]
    artifact = sagemaker.describe_training_job(TrainingJobName=trial)["ModelArtifacts"][
        "S3ModelArtifacts"
    ]
    name = unique("ui-endpoint")
    sagemaker.create_model(
        ModelName=name,
        ExecutionRoleArn=ROLE,
        PrimaryContainer={"Image": XGBOOST_IMAGE, "ModelDataUrl": artifact},
    )
    variants = [
        {
            "VariantName": "Blue",
            "ModelName": name,
            "InitialInstanceCount": 1,
            "InstanceType": "ml.m5.large",
            "InitialVariantWeight": 3.0,
        },
        {
            "VariantName": "Green",
            "ModelName": name,
            "InitialInstanceCount": 1,
            "InstanceType": "ml.m5.large",
            "InitialVariantWeight": 1.0,
        },
    ]
    sagemaker.create_endpoint_config(EndpointConfigName=name, ProductionVariants=variants)
    sagemaker.create_endpoint(EndpointName=name, EndpointConfigName=name)
    sagemaker.get_waiter("endpoint_in_service").wait(
        EndpointName=name, WaiterConfig={"Delay": 1, "MaxAttempts": 90}
    )
    runtime = boto3.client("sagemaker-runtime")
    for _ in range(INVOCATIONS):
        runtime.invoke_endpoint(
            EndpointName=name,
            ContentType="text/csv",
            Body=b"0.01,0.02,0.03,0.04,0.05,0.06,0.07,0.08,0.09,0.1",
        )
    sums = _invocations(boto3.client("cloudwatch"), name, ("Blue", "Green"))
    described = sagemaker.describe_endpoint(EndpointName=name)
    page = console.open(f"/ui/endpoints/{name}")
    drawn = page.evaluate(
        "Object.fromEntries(Object.entries(window.sagebox.charts).filter(([k]) => k.startsWith('Invocations'))"
        ".map(([k, c]) => [k.split(': ')[1], c.data[1].reduce((a, b) => a + b, 0)]))"
    )
    assert drawn == {variant: total for variant, total in sums.items() if total}
    assert sum(drawn.values()) == INVOCATIONS
    for variant in described["ProductionVariants"]:
        row = page.locator(f"#variants tr[data-variant={variant['VariantName']}]")
        assert float(row.locator("td.weight").inner_text()) == variant["CurrentWeight"]
        assert (
            row.locator("td.instances")
            .inner_text()
            .startswith(f"{variant['CurrentInstanceCount']} /")
        )
    assert page.locator("#variants tr[data-variant=Blue] meter").get_attribute("value") == "0.75"
    console.screenshot("endpoint")
    console.open(f"/ui/endpoint-configs/{name}")
    console.open(f"/ui/models/{name}")
    console.assert_no_errors()
    sagemaker.delete_endpoint(EndpointName=name)


def test_an_approval_clicked_in_the_page_is_what_boto3_sees(
    console: ConsolePage, sagemaker: Any, bucket: str
) -> None:
    group = unique("ui-group")
    sagemaker.create_model_package_group(
        ModelPackageGroupName=group, ModelPackageGroupDescription="console test"
    )
    arn = sagemaker.create_model_package(
        ModelPackageGroupName=group,
        ModelApprovalStatus="PendingManualApproval",
        InferenceSpecification={
            "Containers": [{"Image": XGBOOST_IMAGE, "ModelDataUrl": f"s3://{bucket}/model.tar.gz"}],
            "SupportedContentTypes": ["text/csv"],
            "SupportedResponseMIMETypes": ["text/csv"],
        },
    )["ModelPackageArn"]
    page = console.open(f"/ui/model-package-groups/{group}")
    row = page.locator("#packages tr[data-version='1']")
    assert row.locator("td.approval").inner_text() == "PendingManualApproval"
    console.screenshot("model-package-group")
    row.locator("button", has_text="Approve").click()
    page.wait_for_load_state("load")
    assert "is now Approved" in page.locator(".flash").inner_text()
    assert (
        sagemaker.describe_model_package(ModelPackageName=arn)["ModelApprovalStatus"] == "Approved"
    )
    assert page.locator("#packages tr[data-version='1'] td.approval").inner_text() == "Approved"
    # The version's own page: Reject there, and back on that page.
    page.click("#packages tr[data-version='1'] a")
    page.wait_for_load_state("load")
    page.locator("button", has_text="Reject").click()
    page.wait_for_load_state("load")
    assert page.locator("#approval").inner_text() == "Rejected"
    assert (
        sagemaker.describe_model_package(ModelPackageName=arn)["ModelApprovalStatus"] == "Rejected"
    )
    console.screenshot("model-package")
    # A message the console did not sign is not shown.
    console.open("/ui/?flash=forged&msg=forged")
    assert console.page.locator(".flash").count() == 0
    console.assert_no_errors()


def test_a_form_without_its_csrf_token_is_refused(console: ConsolePage, sagemaker: Any) -> None:
    group = unique("ui-csrf")
    sagemaker.create_model_package_group(ModelPackageGroupName=group)
    arn = sagemaker.create_model_package(
        ModelPackageGroupName=group,
        ModelApprovalStatus="PendingManualApproval",
        InferenceSpecification={
            "Containers": [{"Image": XGBOOST_IMAGE}],
            "SupportedContentTypes": ["text/csv"],
            "SupportedResponseMIMETypes": ["text/csv"],
        },
    )["ModelPackageArn"]
    console.open("/ui/")
    status = console.page.evaluate(
        """arn => fetch('/ui/model-package/approval', {method: 'POST', headers: {'Content-Type': 'application/x-www-form-urlencoded'},
             body: new URLSearchParams({arn: arn, status: 'Approved', csrf: 'forged'})}).then(r => r.status)""",
        arn,
    )
    assert status == 403
    console.errors.clear()  # the refused request is the point here
    assert (
        sagemaker.describe_model_package(ModelPackageName=arn)["ModelApprovalStatus"]
        == "PendingManualApproval"
    )


def test_every_main_page_answers_without_console_errors(console: ConsolePage, bucket: str) -> None:
    pages = {
        "home": "/ui/",
        "training-jobs": "/ui/training-jobs",
        "tuning-jobs": "/ui/tuning-jobs",
        "processing-jobs": "/ui/processing-jobs",
        "transform-jobs": "/ui/transform-jobs",
        "endpoints": "/ui/endpoints",
        "endpoint-configs": "/ui/endpoint-configs",
        "models": "/ui/models",
        "model-package-groups": "/ui/model-package-groups",
        "pipelines": "/ui/pipelines",
        "automl-jobs": "/ui/automl-jobs",
        "monitoring-schedules": "/ui/monitoring-schedules",
        "experiments": "/ui/experiments",
        "notebook-instances": "/ui/notebook-instances",
        "s3": "/ui/s3",
        "s3-bucket": f"/ui/s3/{bucket}?prefix=diabetes/train/",
    }
    for name, path in pages.items():
        page = console.open(path)
        assert page.locator("main h1").count() == 1, path
        console.screenshot(name)
    assert console.page.locator("#objects").inner_text().count("data.csv") == 1
    with console.page.expect_download() as download:
        console.page.click("#objects a[download]")
    assert download.value.suggested_filename == "data.csv"
    time.sleep(0.2)
    console.assert_no_errors()


def test_a_file_uploaded_in_the_s3_browser_is_what_get_object_returns(
    console: ConsolePage, s3: Any, bucket: str, tmp_path: Path
) -> None:
    local = tmp_path / "notes.csv"
    local.write_bytes(b"label,x\n1,0.5\n" * 1000)
    page = console.open(f"/ui/s3/{bucket}?prefix=uploads/")
    page.set_input_files("#upload input[type=file]", str(local))
    page.click("#upload button[type=submit]")
    page.wait_for_load_state("load")
    assert (
        page.locator(".flash").inner_text().startswith(f"Uploaded s3://{bucket}/uploads/notes.csv")
    )
    assert (
        s3.get_object(Bucket=bucket, Key="uploads/notes.csv")["Body"].read() == local.read_bytes()
    )
    assert "notes.csv" in page.locator("#objects").inner_text()
    console.assert_no_errors()


def test_a_pipeline_execution_page_shows_its_steps_as_the_api_lists_them(
    console: ConsolePage, sagemaker: Any
) -> None:
    name = unique("ui-pipeline")
    definition = {
        "Version": "2020-12-01",
        "Steps": [
            {
                "Name": "StopHere",
                "Type": "Fail",
                "Arguments": {"ErrorMessage": "stopped on purpose"},
            }
        ],
    }
    sagemaker.create_pipeline(
        PipelineName=name, PipelineDefinition=json.dumps(definition), RoleArn=ROLE
    )
    arn = sagemaker.start_pipeline_execution(PipelineName=name)["PipelineExecutionArn"]
    deadline = time.time() + 60
    while (
        sagemaker.describe_pipeline_execution(PipelineExecutionArn=arn)["PipelineExecutionStatus"]
        == "Executing"
    ):
        assert time.time() < deadline
        time.sleep(0.3)
    steps = sagemaker.list_pipeline_execution_steps(PipelineExecutionArn=arn)[
        "PipelineExecutionSteps"
    ]
    page = console.open(f"/ui/pipelines/{name}")
    page.click("#executions a")
    page.wait_for_load_state("load")
    for step in steps:
        row = page.locator(f"#steps tr[data-step={step['StepName']}]")
        assert row.locator("td").nth(1).inner_text() == step["StepStatus"]
    console.screenshot("pipeline-execution")
    console.assert_no_errors()


def test_an_experiment_page_compares_its_runs_as_the_api_describes_them(
    console: ConsolePage, sagemaker: Any
) -> None:
    experiment, trial = unique("ui-exp"), unique("ui-trial")
    sagemaker.create_experiment(ExperimentName=experiment)
    sagemaker.create_trial(TrialName=trial, ExperimentName=experiment)
    metrics = boto3.client("sagemaker-metrics")
    runs = {}
    for index, rate in enumerate((0.1, 0.3)):
        run = f"{trial}-run{index}"
        sagemaker.create_trial_component(
            TrialComponentName=run, Parameters={"learning_rate": {"NumberValue": rate}}
        )
        sagemaker.associate_trial_component(TrialComponentName=run, TrialName=trial)
        values = [1.0 / (step + 1 + index) for step in range(5)]
        metrics.batch_put_metrics(
            TrialComponentName=run,
            MetricData=[
                {"MetricName": "loss", "Timestamp": time.time(), "Step": step, "Value": value}
                for step, value in enumerate(values)
            ],
        )
        runs[run] = values
    page = console.open(f"/ui/experiments/{experiment}")
    for run, values in runs.items():
        described = sagemaker.describe_trial_component(TrialComponentName=run)
        (loss,) = [m for m in described["Metrics"] if m["MetricName"] == "loss"]
        cell = page.locator(f"#runs tr[data-run='{run}'] td[data-metric=loss]").inner_text()
        assert float(cell) == pytest.approx(loss["Last"]) == pytest.approx(values[-1])
    drawn = page.evaluate("window.sagebox.charts.loss.data.slice(1).map(s => Array.from(s))")
    assert sorted(drawn) == sorted(runs.values())
    console.screenshot("experiment")
    console.assert_no_errors()
