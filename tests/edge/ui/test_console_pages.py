"""The console's lineage graph, pipeline DAG, Clarify and Model Monitor reports, and AutoML
pages (leaderboard, deploy, the upload-and-AutoML form) in a real headless Chromium.

One server (the session's), one browser; every page is checked against what boto3
answers, must log no console error, and leaves a screenshot in test-artifacts/ui/. The
AutoML job whose leaderboard is read (one candidate on ~570 rows) starts first, so it runs
while the other tests do; the job the upload form starts is stopped at once.
"""

from __future__ import annotations

import io
import json
import tarfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest

from sagebox.cli.server_process import ServerProcess
from tests.edge.ui.browser import ConsolePage, launch
from tests.services.automl.conftest import csv_of, table
from tests.services.processing.clarify.conftest import loan_frame
from tests.services.processing.jobs import wait_for
from tests.services.training.jobs import ROLE, XGBOOST_IMAGE, unique

pytest.importorskip(
    "playwright.sync_api",
    reason="the console's browser tests need Playwright for Python (pip install -e '.[dev]')",
)
CLARIFY_IMAGE = "205585389593.dkr.ecr.us-east-1.amazonaws.com/sagemaker-clarify-processing:1.0"
ANALYZER = "156813124566.dkr.ecr.us-east-1.amazonaws.com/sagemaker-model-monitor-analyzer"
CLUSTER = {
    "ClusterConfig": {"InstanceCount": 1, "InstanceType": "ml.m5.large", "VolumeSizeInGB": 5}
}


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
    name = unique("console-pages")
    s3.create_bucket(Bucket=name)
    s3.put_object(Bucket=name, Key="automl/train.csv", Body=csv_of(table()))
    s3.put_object(
        Bucket=name, Key="loans/loans.csv", Body=loan_frame(120).to_csv(index=False).encode()
    )
    return name


@pytest.fixture(scope="module")
def automl_job(sagemaker: Any, bucket: str) -> str:
    """One candidate, started by the first test so that it runs while the others do."""
    name = unique("ui-aml")[:32]
    sagemaker.create_auto_ml_job_v2(
        AutoMLJobName=name,
        AutoMLJobInputDataConfig=[{"ChannelType": "training", "ContentType": "text/csv;header=present",
                                   "DataSource": {"S3DataSource": {"S3DataType": "S3Prefix", "S3Uri": f"s3://{bucket}/automl/"}}}],
        OutputDataConfig={"S3OutputPath": f"s3://{bucket}/automl-output"},
        AutoMLProblemTypeConfig={"TabularJobConfig": {"TargetAttributeName": "diagnosis", "CompletionCriteria": {"MaxCandidates": 1},
                                                      "Mode": "HYPERPARAMETER_TUNING"}},
        RoleArn=ROLE,
    )  # fmt: skip
    return name


def _processing_input(name: str, uri: str, path: str) -> dict[str, Any]:
    return {"InputName": name, "S3Input": {"S3Uri": uri, "LocalPath": path, "S3DataType": "S3Prefix", "S3InputMode": "File"}}  # fmt: skip


def _processing_output(name: str, uri: str) -> dict[str, Any]:
    return {"Outputs": [{"OutputName": name, "S3Output": {"S3Uri": uri, "LocalPath": "/opt/ml/processing/output", "S3UploadMode": "EndOfJob"}}]}  # fmt: skip


@pytest.fixture(scope="module")
def report_jobs(sagemaker: Any, s3: Any, bucket: str, automl_job: str) -> tuple[str, str]:
    """A Clarify pre-training bias job and a Model Monitor baselining job, run together."""
    frame = loan_frame(120)
    config = {"dataset_type": "text/csv", "headers": list(frame.columns), "label": "Target", "label_values_or_threshold": [1],
              "facet": [{"name_or_index": "Gender", "value_or_threshold": [1]}], "methods": {"pre_training_bias": {"methods": "all"}}}  # fmt: skip
    s3.put_object(
        Bucket=bucket, Key="clarify/analysis_config.json", Body=json.dumps(config).encode()
    )
    clarify, baseline = unique("ui-clarify"), unique("ui-baseline")
    sagemaker.create_processing_job(
        ProcessingJobName=clarify, RoleArn=ROLE, AppSpecification={"ImageUri": CLARIFY_IMAGE}, ProcessingResources=CLUSTER,
        ProcessingInputs=[_processing_input("dataset", f"s3://{bucket}/loans/loans.csv", "/opt/ml/processing/input/data"),
                          _processing_input("analysis_config", f"s3://{bucket}/clarify/analysis_config.json", "/opt/ml/processing/input/config")],
        ProcessingOutputConfig=_processing_output("analysis_result", f"s3://{bucket}/clarify-output"),
    )  # fmt: skip
    sagemaker.create_processing_job(
        ProcessingJobName=baseline, RoleArn=ROLE, AppSpecification={"ImageUri": ANALYZER}, ProcessingResources=CLUSTER,
        Environment={"dataset_format": json.dumps({"csv": {"header": True}}), "output_path": "/opt/ml/processing/output",
                     "dataset_source": "/opt/ml/processing/input/baseline_dataset_input", "publish_cloudwatch_metrics": "Disabled"},
        ProcessingInputs=[_processing_input("baseline_dataset_input", f"s3://{bucket}/loans/loans.csv", "/opt/ml/processing/input/baseline_dataset_input")],
        ProcessingOutputConfig=_processing_output("monitoring_output", f"s3://{bucket}/baseline-output"),
    )  # fmt: skip
    for name in (clarify, baseline):
        described = wait_for(sagemaker, name, timeout=180)
        assert described["ProcessingJobStatus"] == "Completed", described.get("FailureReason")
    return clarify, baseline


def _tarball() -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
        info = tarfile.TarInfo("xgboost-model")
        tar.addfile(info, io.BytesIO(b""))
    return buffer.getvalue()


def _read_json(s3: Any, bucket: str, key: str) -> dict[str, Any]:
    return json.loads(s3.get_object(Bucket=bucket, Key=key)["Body"].read())


def test_a_models_lineage_page_draws_what_query_lineage_answers(
    console: ConsolePage, sagemaker: Any, s3: Any, bucket: str, automl_job: str
) -> None:
    model = unique("ui-lineage")
    model_data = f"s3://{bucket}/{model}/model.tar.gz"
    s3.put_object(Bucket=bucket, Key=f"{model}/model.tar.gz", Body=_tarball())
    sagemaker.create_model(
        ModelName=model,
        ExecutionRoleArn=ROLE,
        PrimaryContainer={"Image": XGBOOST_IMAGE, "ModelDataUrl": model_data},
    )
    (model_artifact,) = sagemaker.list_artifacts(SourceUri=model_data)["ArtifactSummaries"]
    data = sagemaker.create_artifact(
        ArtifactName=f"{model}-data",
        ArtifactType="DataSet",
        Source={"SourceUri": f"s3://{bucket}/loans/"},
    )["ArtifactArn"]
    action = sagemaker.create_action(
        ActionName=f"{model}-train",
        ActionType="Training",
        Source={"SourceUri": "local"},
    )["ActionArn"]
    sagemaker.add_association(
        SourceArn=data, DestinationArn=action, AssociationType="ContributedTo"
    )
    sagemaker.add_association(
        SourceArn=action, DestinationArn=model_artifact["ArtifactArn"], AssociationType="Produced"
    )
    page = console.open(f"/ui/models/{model}")
    page.click("a.lineage-link")
    page.wait_for_load_state("load")
    expected = sagemaker.query_lineage(
        StartArns=[model_artifact["ArtifactArn"]], Direction="Both", IncludeEdges=True
    )
    drawn = page.locator("#lineage a.node").evaluate_all(
        "nodes => nodes.map(n => [n.dataset.node, Number(n.dataset.layer)])"
    )
    layers = dict(drawn)
    assert sorted(layers) == sorted(v["Arn"] for v in expected["Vertices"])
    edges = page.locator("#lineage g.edge").evaluate_all(
        "es => es.map(e => [e.dataset.source, e.dataset.target, e.dataset.label])"
    )
    assert sorted(map(tuple, edges)) == sorted(
        (e["SourceArn"], e["DestinationArn"], e["AssociationType"]) for e in expected["Edges"]
    )
    # Layered by distance from the model: what it came from on the left.
    assert layers[data] < layers[action] < layers[model_artifact["ArtifactArn"]]
    for vertex in expected["Vertices"]:
        row = page.locator(f"#vertices tr[data-arn='{vertex['Arn']}']")
        assert row.locator("td.type").inner_text() == vertex["Type"]
        assert row.locator("td.lineage-type").inner_text() == vertex["LineageType"]
    console.screenshot("lineage")
    # A data set's node opens its folder in the S3 browser.
    page.click(f"#lineage a.node[data-node='{data}']")
    page.wait_for_load_state("load")
    assert page.url.endswith(f"/ui/s3/{bucket}?prefix={quote('loans/', safe='')}")
    console.assert_no_errors()


def test_a_pipeline_execution_is_drawn_on_its_dag_coloured_by_step_status(
    console: ConsolePage, sagemaker: Any, automl_job: str
) -> None:
    name = unique("ui-dag")
    definition = {"Version": "2020-12-01", "Steps": [{"Name": "Check", "Type": "Condition", "Arguments": {
        "Conditions": [{"Type": "Equals", "LeftValue": 1, "RightValue": 1}],
        "IfSteps": [{"Name": "StopHere", "Type": "Fail", "Arguments": {"ErrorMessage": "stopped on purpose"}}],
        "ElseSteps": [{"Name": "Other", "Type": "Fail", "Arguments": {"ErrorMessage": "not taken"}}]}}]}  # fmt: skip
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
        time.sleep(0.2)
    steps = {
        s["StepName"]: s["StepStatus"]
        for s in sagemaker.list_pipeline_execution_steps(PipelineExecutionArn=arn)[
            "PipelineExecutionSteps"
        ]
    }
    assert steps == {"Check": "Succeeded", "StopHere": "Failed"}
    page = console.open(f"/ui/pipeline-execution?arn={quote(arn, safe='')}")
    classes = page.locator("#dag a.node").evaluate_all(
        "nodes => Object.fromEntries(nodes.map(n => [n.dataset.node, n.getAttribute('class')]))"
    )
    assert set(classes) == {"Check", "StopHere", "Other"}
    colour = {"Succeeded": "good", "Failed": "bad"}
    for step, status in steps.items():
        assert colour[status] in classes[step].split(), (step, classes[step])
    assert "waiting" in classes["Other"].split()  # its branch was not taken: never listed
    edges = page.locator("#dag g.edge").evaluate_all(
        "es => es.map(e => [e.dataset.source, e.dataset.target, e.dataset.label])"
    )
    assert sorted(map(tuple, edges)) == [("Check", "Other", "else"), ("Check", "StopHere", "if")]
    layers = page.locator("#dag a.node").evaluate_all(
        "nodes => Object.fromEntries(nodes.map(n => [n.dataset.node, Number(n.dataset.layer)]))"
    )
    assert layers == {"Check": 0, "StopHere": 1, "Other": 1}
    console.screenshot("pipeline-dag")
    console.assert_no_errors()


def test_clarify_and_model_monitor_reports_show_the_jobs_output_files(
    console: ConsolePage, s3: Any, bucket: str, report_jobs: tuple[str, str]
) -> None:
    clarify, baseline = report_jobs
    analysis = _read_json(s3, bucket, "clarify-output/analysis.json")
    page = console.open(f"/ui/processing-jobs/{clarify}")
    assert page.locator("#report").get_attribute("data-kind") == "Clarify"
    (entry,) = analysis["pre_training_bias_metrics"]["facets"]["Gender"]
    rows = page.locator("#pre_training_bias_metrics tbody tr").evaluate_all(
        "rows => rows.map(r => Array.from(r.cells).map(c => c.innerText))"
    )
    shown = {row[2]: row[4] for row in rows}
    for metric in entry["metrics"]:
        if metric.get("value") is not None:
            assert float(shown[metric["name"]]) == pytest.approx(metric["value"], rel=1e-5)
    bars = page.locator("#report figure g.bar").evaluate_all(
        "bars => Object.fromEntries(bars.map(b => [b.dataset.label, Number(b.dataset.value)]))"
    )
    assert bars == {m["name"]: m["value"] for m in entry["metrics"] if m.get("value") is not None}
    assert "analysis.json" in page.locator("#output-files").inner_text()
    console.screenshot("clarify-report")
    statistics = _read_json(s3, bucket, "baseline-output/statistics.json")
    page = console.open(f"/ui/processing-jobs/{baseline}")
    assert page.locator("#report").get_attribute("data-kind") == "Model Monitor"
    for feature in statistics["features"]:
        row = page.locator(f"#feature-statistics tr[data-feature='{feature['name']}']")
        common = feature["numerical_statistics"]["common"]
        assert int(row.locator("td.present").inner_text()) == common["num_present"]
        assert row.locator("svg.histogram rect").count() == len(
            feature["numerical_statistics"]["distribution"]["kll"]["buckets"]
        )
    assert page.locator("#constraints tbody tr").count() == len(
        _read_json(s3, bucket, "baseline-output/constraints.json")["features"]
    )
    console.screenshot("model-monitor-report")
    # The raw file, linked to the S3 browser.
    page.click("#output-files a:has-text('statistics.json')")
    page.wait_for_load_state("load")
    assert "statistics.json" in page.locator("#objects").inner_text()
    console.assert_no_errors()


def test_the_upload_and_automl_form_starts_a_job_that_list_auto_ml_jobs_returns(
    console: ConsolePage, sagemaker: Any, s3: Any, tmp_path: Path, automl_job: str
) -> None:
    local = tmp_path / "patients.csv"
    local.write_bytes(csv_of(table()))
    page = console.open("/ui/automl-jobs")
    page.click("a.button:has-text('New AutoML job')")
    page.wait_for_load_state("load")
    page.set_input_files("#automl-upload input[type=file]", str(local))
    page.click("#automl-upload button[type=submit]")
    page.wait_for_load_state("load")
    data = page.locator("#automl-start input[name=data]").input_value()
    bucket, key = data.removeprefix("s3://").split("/", 1)
    assert s3.get_object(Bucket=bucket, Key=key)["Body"].read() == local.read_bytes()
    # The target is picked from the header, read on the server.
    options = page.locator("#automl-start select[name=target] option").all_inner_texts()
    assert options == list(table().columns)
    page.select_option("#automl-start select[name=target]", "diagnosis")
    page.select_option("#automl-start select[name=problem_type]", "BinaryClassification")
    page.select_option("#automl-start select[name=objective]", "F1")
    page.fill("#automl-start input[name=max_candidates]", "1")
    name = unique("ui-form")[:32]
    page.fill("#automl-start input[name=name]", name)
    console.screenshot("automl-new")
    page.click("#automl-start button[type=submit]")
    page.wait_for_load_state("load")
    try:
        listed = [j["AutoMLJobName"] for j in sagemaker.list_auto_ml_jobs()["AutoMLJobSummaries"]]
        assert name in listed
        described = sagemaker.describe_auto_ml_job_v2(AutoMLJobName=name)
        tabular = described["AutoMLProblemTypeConfig"]["TabularJobConfig"]
        assert tabular["TargetAttributeName"] == "diagnosis"
        assert tabular["ProblemType"] == "BinaryClassification"
        assert described["AutoMLJobObjective"] == {"MetricName": "F1"}
        assert (
            described["AutoMLJobInputDataConfig"][0]["DataSource"]["S3DataSource"]["S3Uri"]
            == data.rsplit("/", 1)[0] + "/"
        )
        assert page.locator("h1").inner_text() == name
    finally:
        sagemaker.stop_auto_ml_job(AutoMLJobName=name)
    console.assert_no_errors()


def test_the_automl_leaderboard_follows_the_api_and_deploys_the_best_candidate(
    console: ConsolePage, sagemaker: Any, automl_job: str
) -> None:
    deadline = time.time() + 300
    while sagemaker.describe_auto_ml_job_v2(AutoMLJobName=automl_job)["AutoMLJobStatus"] in (
        "InProgress",
        "Stopping",
    ):
        assert time.time() < deadline, "the AutoML job did not end in 300 s"
        time.sleep(1)
    described = sagemaker.describe_auto_ml_job_v2(AutoMLJobName=automl_job)
    assert described["AutoMLJobStatus"] == "Completed", described.get("FailureReason")
    best = described["BestCandidate"]["CandidateName"]
    api = sagemaker.list_candidates_for_auto_ml_job(
        AutoMLJobName=automl_job, SortBy="FinalObjectiveMetricValue", SortOrder="Descending"
    )["Candidates"]
    page = console.open(f"/ui/automl-jobs/{automl_job}")
    rows = page.locator("#candidates tbody tr")
    assert rows.evaluate_all("rs => rs.map(r => r.dataset.candidate)") == [
        c["CandidateName"] for c in api
    ]
    assert page.locator("#candidates tr.best").get_attribute("data-candidate") == best
    values = [float(v) for v in page.locator("#candidates td.objective").all_inner_texts()]
    assert values == pytest.approx(
        [c["FinalAutoMLJobObjectiveMetric"]["Value"] for c in api], rel=1e-5
    )
    # Each candidate links to the jobs that made it.
    links = page.locator(f"#candidates tr[data-candidate='{best}'] a").evaluate_all(
        "as => as.map(a => a.getAttribute('href'))"
    )
    steps = api[0]["CandidateSteps"]
    assert any(link.startswith("/ui/training-jobs/") for link in links)
    assert len(links) == len(steps)
    console.screenshot("automl-job")
    page.click("#deploy-best button")
    page.wait_for_load_state("load")
    endpoint = page.locator("h1").inner_text()
    assert page.url.split("?")[0].endswith(f"/ui/endpoints/{endpoint}")
    assert "CreateEndpoint" in page.locator(".flash").inner_text()
    config = sagemaker.describe_endpoint_config(EndpointConfigName=endpoint)
    model = sagemaker.describe_model(ModelName=config["ProductionVariants"][0]["ModelName"])
    (candidate,) = [c for c in api if c["CandidateName"] == best]
    assert [c["Image"] for c in model["Containers"]] == [
        c["Image"] for c in candidate["InferenceContainers"]
    ]
    sagemaker.get_waiter("endpoint_in_service").wait(
        EndpointName=endpoint, WaiterConfig={"Delay": 1, "MaxAttempts": 90}
    )
    sagemaker.delete_endpoint(EndpointName=endpoint)
    console.assert_no_errors()
