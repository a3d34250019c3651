"""The SageMaker SDK v2's experiment `Run`, unmodified, against a live server."""

from __future__ import annotations

import contextlib
import io
import json
import statistics
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import numpy as np
import pytest
from botocore.exceptions import ClientError

from sagebox.edge.sagemaker import OPERATIONS
from tests.services.experiments.sdk import sdk_session
from tests.services.training.jobs import ROLE, unique

pytest.importorskip("sagemaker", reason="the SageMaker Python SDK is a dev dependency")

STEPS = 150
XGBOOST_ROUNDS = 5


@pytest.fixture(scope="module")
def session(sagebox_server: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    with sdk_session(tmp_path_factory.mktemp("sdk"), unique("experiments")) as opened:
        yield opened


def _curves(step: int) -> dict[str, float]:
    return {
        "train:loss": 2.0 / (step + 1),
        "validation:loss": 2.5 / (step + 1) + 0.01 * (step % 3),
        "accuracy": 1.0 - 1.0 / (step + 2),
    }


def _upload_training_data(session: Any) -> str:
    rng = np.random.default_rng(7)
    features = rng.normal(size=(80, 3))
    target = features @ np.array([1.5, -2.0, 0.5]) + 0.1 * rng.normal(size=80)
    text = io.StringIO()
    np.savetxt(text, np.column_stack([target, features]), delimiter=",", fmt="%.6g")
    key = f"{unique('data')}/train.csv"
    boto3.client("s3").put_object(Bucket=session.default_bucket(), Key=key, Body=text.getvalue().encode())
    return f"s3://{session.default_bucket()}/{key}"


def _xgboost(session: Any) -> Any:
    from sagemaker import image_uris
    from sagemaker.estimator import Estimator

    estimator = Estimator(
        image_uris.retrieve("xgboost", session.boto_region_name, "1.7-1"),
        role=ROLE,
        instance_count=1,
        instance_type="ml.m5.large",
        output_path=f"s3://{session.default_bucket()}/output",
        sagemaker_session=session,
    )
    estimator.set_hyperparameters(objective="reg:squarederror", num_round=XGBOOST_ROUNDS, max_depth=2)
    return estimator


def test_a_run_logs_parameters_metrics_files_and_the_job_it_starts(session: Any, tmp_path: Path) -> None:
    from sagemaker.analytics import ExperimentAnalytics
    from sagemaker.experiments.run import Run, list_runs, load_run
    from sagemaker.inputs import TrainingInput

    experiment = unique("sdk-exp")
    sagemaker = session.sagemaker_client
    notes = tmp_path / "notes.txt"
    notes.write_text("tiny data, five rounds")
    train = _upload_training_data(session)
    with Run(experiment_name=experiment, run_name="first", sagemaker_session=session) as run:
        run.log_parameters({"learning_rate": 0.1, "optimizer": "adam", "layers": 3})
        for step in range(STEPS):
            for name, value in _curves(step).items():
                run.log_metric(name, value, step=step)
        run.log_file(str(notes), name="notes")
        run.log_artifact("dataset", train, media_type="text/csv")
        estimator = _xgboost(session)
        estimator.fit({"train": TrainingInput(train, content_type="text/csv")}, wait=True, logs=False)
    job = estimator.latest_training_job.describe()
    component = f"{experiment}-first"

    described = sagemaker.describe_trial_component(TrialComponentName=component)
    assert described["Status"] == {"PrimaryStatus": "Completed"}
    assert described["StartTime"] <= described["EndTime"]
    assert described["Parameters"] == {
        "learning_rate": {"NumberValue": 0.1}, "optimizer": {"StringValue": "adam"}, "layers": {"NumberValue": 3.0}
    }
    logged = {name: [_curves(step)[name] for step in range(STEPS)] for name in _curves(0)}
    summaries = {m["MetricName"]: m for m in described["Metrics"]}
    assert set(summaries) == set(logged)
    for name, values in logged.items():
        summary = summaries[name]
        assert summary["Count"] == STEPS
        assert (summary["Min"], summary["Max"], summary["Last"]) == (min(values), max(values), values[-1])
        assert summary["Avg"] == pytest.approx(statistics.fmean(values), rel=1e-9)
        assert summary["StdDev"] == pytest.approx(statistics.stdev(values), rel=1e-9)
    artifacts = described["OutputArtifacts"]
    assert artifacts["dataset"] == {"Value": train, "MediaType": "text/csv"}
    assert artifacts["notes"]["MediaType"] == "text/plain"
    assert artifacts["notes"]["Value"] == (
        f"s3://{session.default_bucket()}/trial-component-artifacts/{component}/notes.txt"
    )
    bucket, key = artifacts["notes"]["Value"][5:].split("/", 1)
    assert boto3.client("s3").get_object(Bucket=bucket, Key=key)["Body"].read() == b"tiny data, five rounds"

    # The training job started inside the run: its component is in the run's trial, names the run.
    job_component = f"{job['TrainingJobName']}-aws-training-job"
    run_group = f"Default-Run-Group-{experiment}"
    found = sagemaker.search(
        Resource="ExperimentTrialComponent",
        SearchExpression={"Filters": [{"Name": "RunName", "Operator": "Equals", "Value": component}]},
    )["Results"]
    assert [r["TrialComponent"]["TrialComponentName"] for r in found] == [job_component]
    record = found[0]["TrialComponent"]
    assert record["Parents"] == [{"TrialName": run_group, "ExperimentName": experiment}]
    assert record["Source"] == {"SourceArn": job["TrainingJobArn"], "SourceType": "SageMakerTrainingJob"}
    assert record["SourceDetail"]["TrainingJob"]["TrainingJobStatus"] == "Completed"
    assert record["Status"] == {"PrimaryStatus": "Completed"}
    assert record["Parameters"]["num_round"] == {"NumberValue": float(XGBOOST_ROUNDS)}
    assert record["Parameters"]["SageMaker.InstanceType"] == {"StringValue": "ml.m5.large"}
    assert record["InputArtifacts"]["train"] == {"Value": train, "MediaType": "text/csv"}
    assert record["OutputArtifacts"]["SageMaker.ModelArtifact"] == {
        "Value": job["ModelArtifacts"]["S3ModelArtifacts"]
    }
    rmse = next(m for m in record["Metrics"] if m["MetricName"] == "train:rmse")
    final = next(m["Value"] for m in job["FinalMetricDataList"] if m["MetricName"] == "train:rmse")
    assert rmse["Count"] == XGBOOST_ROUNDS
    assert rmse["Last"] == pytest.approx(final) and rmse["Min"] <= final <= rmse["Max"]
    assert rmse["SourceArn"] == job["TrainingJobArn"]
    listed = sagemaker.list_trial_components(ExperimentName=experiment)["TrialComponentSummaries"]
    assert sorted(s["TrialComponentName"] for s in listed) == sorted([component, job_component])

    frame = ExperimentAnalytics(experiment_name=experiment, sagemaker_session=session).dataframe()
    rows = {row["TrialComponentName"]: row for row in frame.to_dict("records")}
    assert set(rows) == {component, job_component}
    assert rows[component]["learning_rate"] == 0.1 and rows[component]["optimizer"] == "adam"
    assert rows[component]["accuracy - Count"] == STEPS
    assert rows[component]["accuracy - Max"] == max(logged["accuracy"])
    assert rows[component]["Trials"] == [run_group] and rows[component]["Experiments"] == [experiment]
    assert rows[job_component]["train:rmse - Last"] == pytest.approx(final)
    assert rows[job_component]["SourceArn"] == job["TrainingJobArn"]

    with load_run(experiment_name=experiment, run_name="first", sagemaker_session=session) as again:
        again.log_metric("accuracy", 0.999, step=STEPS)
    resumed = sagemaker.describe_trial_component(TrialComponentName=component)
    accuracy = next(m for m in resumed["Metrics"] if m["MetricName"] == "accuracy")
    assert (accuracy["Count"], accuracy["Last"]) == (STEPS + 1, 0.999)
    assert [r.run_name for r in list_runs(experiment_name=experiment, sagemaker_session=session)] == ["first"]


def test_graphs_are_json_files_under_the_runs_prefix(session: Any) -> None:
    from sagemaker.experiments.run import Run

    experiment = unique("sdk-graphs")
    truth = [0, 1, 1, 0, 1, 0]
    predicted = [0, 1, 0, 0, 1, 1]
    scores = [0.1, 0.8, 0.4, 0.3, 0.9, 0.6]
    # The SDK records each graph as a lineage artifact when the run closes; sagebox serves
    # CreateArtifact / AddAssociation once lineage tracking is in.
    lineage = "CreateArtifact" in OPERATIONS
    closing = contextlib.nullcontext() if lineage else pytest.raises(ClientError, match="CreateArtifact")
    with closing, Run(experiment_name=experiment, run_name="graphs", sagemaker_session=session) as run:
        run.log_confusion_matrix(truth, predicted, title="confusion")
        run.log_roc_curve(truth, scores, title="roc")
        run.log_precision_recall(truth, scores, title="pr", positive_label=1)
    component = f"{experiment}-graphs"
    s3 = boto3.client("s3")
    prefix = f"trial-component-artifacts/{component}"

    def graph(title: str) -> dict[str, Any]:
        body = s3.get_object(Bucket=session.default_bucket(), Key=f"{prefix}/{title}.json")["Body"].read()
        return json.loads(body)

    assert graph("confusion") == {
        "type": "ConfusionMatrix", "version": 0, "title": "confusion", "confusionMatrix": [[2, 1], [1, 2]]
    }
    roc = graph("roc")
    assert (roc["type"], roc["title"]) == ("ROCCurve", "roc")
    assert roc["falsePositiveRate"][0] == 0.0 and roc["truePositiveRate"][-1] == 1.0
    assert 0.5 < roc["areaUnderCurve"] <= 1.0
    pr = graph("pr")
    assert (pr["type"], pr["title"], pr["noSkill"]) == ("PrecisionRecallCurve", "pr", None)
    assert len(pr["precision"]) == len(pr["recall"]) and 0 < pr["averagePrecisionScore"] <= 1
    status = session.sagemaker_client.describe_trial_component(TrialComponentName=component)["Status"]
    assert status == {"PrimaryStatus": "Completed"}
