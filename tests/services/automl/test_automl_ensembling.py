"""ENSEMBLING mode through boto3: bagged base models (layer 1), stackers over them (layer 2)
and the weighted ensemble trained in real training jobs with the job's sample weights, the
ensemble on the leaderboard, deployed, a stacker in a batch transform; AUTO choosing
ENSEMBLING for a small table."""

from __future__ import annotations

import copy
import csv
import io
import json
import time
from typing import Any

import numpy as np
import pytest

from tests.services.automl.conftest import (
    TARGET,
    check_report_steps,
    csv_of,
    request,
    table,
    wait_automl,
)
from tests.services.automl.test_automl_flow import RAW_ROWS, _endpoint
from tests.services.training.jobs import ROLE, unique

BASE = ("lightgbm", "linear-learner")
LAYER1 = ("lgbm", "lgbmlg", "lgbmxt", "lin")
"""BASE's base models: each family's, and LightGBM's variants (LightGBMXT, LightGBMLarge).
Four models: two waves of two jobs, no longer than three models took."""
STACKERS = ("lgbm", "lin")
"""The layer-2 models over LAYER1: LightGBM and the linear model."""
WEIGHT = "row_weight"


@pytest.fixture(scope="module")
def ensembled(sagemaker: Any, s3: Any, automl_bucket: str) -> dict[str, Any]:
    # Malignant rows count double; 13 rows have weight 0 and 5 none: those are left out.
    frame = table()
    frame[WEIGHT] = np.where(frame[TARGET] == "malignant", 2.0, 1.0)
    frame.loc[frame.index[::47], WEIGHT] = 0.0
    frame.loc[frame.index[5:10], WEIGHT] = np.nan
    s3.put_object(Bucket=automl_bucket, Key="weighted/train.csv", Body=csv_of(frame))
    name = unique("aml-ens")[:32]
    sagemaker.create_auto_ml_job_v2(
        AutoMLJobName=name,
        AutoMLJobInputDataConfig=[
            {
                "ChannelType": "training",
                "ContentType": "text/csv;header=present",
                "DataSource": {
                    "S3DataSource": {
                        "S3DataType": "S3Prefix",
                        "S3Uri": f"s3://{automl_bucket}/weighted/",
                    }
                },
            }
        ],
        OutputDataConfig={"S3OutputPath": f"s3://{automl_bucket}/ensembling-output"},
        RoleArn=ROLE,
        AutoMLProblemTypeConfig={
            "TabularJobConfig": {
                "TargetAttributeName": TARGET,
                "SampleWeightAttributeName": WEIGHT,
                "Mode": "ENSEMBLING",
                "CandidateGenerationConfig": {
                    "AlgorithmsConfig": [{"AutoMLAlgorithms": list(BASE)}]
                },
                "CompletionCriteria": {"MaxAutoMLJobRuntimeInSeconds": 600},
            }
        },
    )
    seen: list[str] = []
    return {**wait_automl(sagemaker, name, seen=seen), "seen": seen}


def test_ensembling_makes_each_report_in_its_own_status(
    sagemaker: Any, ensembled: dict[str, Any]
) -> None:
    check_report_steps(sagemaker, ensembled["AutoMLJobName"], ensembled["seen"])
    assert "TrainingModels" in ensembled["seen"]


def test_ensembling_job_completes_with_the_ensemble_on_the_leaderboard(
    sagemaker: Any, ensembled: dict[str, Any]
) -> None:
    assert ensembled["AutoMLJobStatus"] == "Completed", ensembled.get("FailureReason")
    name = ensembled["AutoMLJobName"]
    v2 = sagemaker.describe_auto_ml_job_v2(AutoMLJobName=name)
    tabular = v2["AutoMLProblemTypeConfig"]["TabularJobConfig"]
    assert tabular["Mode"] == "ENSEMBLING"
    assert tabular["SampleWeightAttributeName"] == WEIGHT
    transitions = ensembled["AutoMLJobSecondaryStatus"]
    assert transitions == "Completed"
    candidates = sagemaker.list_candidates_for_auto_ml_job(
        AutoMLJobName=name, SortBy="FinalObjectiveMetricValue", SortOrder="Descending"
    )["Candidates"]
    names = [c["CandidateName"] for c in candidates]
    assert len(names) == len(LAYER1) + len(STACKERS) + 1
    levels = {tuple(n.rsplit("-", 2)[1:]) for n in names}
    assert levels == {
        *((short, "l1") for short in LAYER1),
        ("lgbm", "l2"),
        ("lin", "l2"),
        ("we", "l3"),
    }
    assert all(c["CandidateStatus"] == "Completed" for c in candidates)
    ensemble = next(c for c in candidates if c["CandidateName"].endswith("-we-l3"))
    scores = {c["CandidateName"]: c["FinalAutoMLJobObjectiveMetric"]["Value"] for c in candidates}
    assert scores[ensemble["CandidateName"]] > 0.85
    best = ensembled["BestCandidate"]
    assert best["CandidateName"] == names[0]
    assert best["FinalAutoMLJobObjectiveMetric"]["MetricName"] == "F1"
    # The ensemble's steps: the data jobs, the base models it combines, then its own job.
    steps = ensemble["CandidateSteps"]
    assert [s["CandidateStepType"] for s in steps[:2]] == ["AWS::SageMaker::ProcessingJob"] * 2
    assert steps[-1]["CandidateStepName"] == ensemble["CandidateName"]
    assert 1 <= len(steps) - 3 <= len(LAYER1) + len(STACKERS)
    # A stacker's steps: the data jobs, the layer-1 models it reads, then its own job.
    stacker = next(c for c in candidates if c["CandidateName"].endswith("-lin-l2"))
    layer1 = [s["CandidateStepName"] for s in stacker["CandidateSteps"][2:-1]]
    assert sorted(n.rsplit("-", 2)[1] for n in layer1) == sorted(LAYER1)
    assert [c["Image"].rsplit("/", 1)[1].split(":")[0] for c in best["InferenceContainers"]] == [
        "sagemaker-sklearn-automl",
        "autogluon-inference",
        "sagemaker-sklearn-automl",
    ]


def test_the_models_are_training_jobs_with_logs_and_metrics(
    sagemaker: Any, ensembled: dict[str, Any]
) -> None:
    name = ensembled["AutoMLJobName"]
    listed = {
        j["TrainingJobName"]
        for j in sagemaker.list_training_jobs(NameContains=name[:20], MaxResults=100)[
            "TrainingJobSummaries"
        ]
    }
    candidates = sagemaker.list_candidates_for_auto_ml_job(AutoMLJobName=name)["Candidates"]
    assert {c["CandidateName"] for c in candidates} <= listed
    job = sagemaker.describe_training_job(TrainingJobName=candidates[0]["CandidateName"])
    assert job["AutoMLJobArn"] == ensembled["AutoMLJobArn"]
    assert (
        job["AlgorithmSpecification"]["TrainingImage"]
        .split("/")[-1]
        .startswith("autogluon-training:")
    )
    assert job["HyperParameters"]["folds"] == "5"
    assert job["HyperParameters"]["sample_weights"] == "1"
    metrics = {m["MetricName"] for m in job["FinalMetricDataList"]}
    assert {"validation:F1", "validation:AUC", "train_oof:F1"} <= metrics
    stacker = next(c["CandidateName"] for c in candidates if c["CandidateName"].endswith("-l2"))
    described = sagemaker.describe_training_job(TrainingJobName=stacker)
    assert described["HyperParameters"]["stack_level"] == "2"
    assert len(described["HyperParameters"]["base_models"].split(",")) == len(LAYER1)
    # The data the models saw: 569 rows less the 18 without weight, training and validation.
    events = _log_lines(stacker)
    assert any("Sample weights: 551 rows" in e for e in events), events[:20]
    assert any("Stacking over" in e for e in events)
    # A binary F1 job tunes each model's decision threshold on its out-of-fold predictions.
    assert any("Decision threshold" in e and "out-of-fold F1" in e for e in events), events[-10:]


def _log_lines(job: str) -> list[str]:
    import boto3

    logs = boto3.client("logs")
    group = "/aws/sagemaker/TrainingJobs"
    stream = logs.describe_log_streams(logGroupName=group, logStreamNamePrefix=f"{job}/")
    name = stream["logStreams"][0]["logStreamName"]
    events = logs.get_log_events(logGroupName=group, logStreamName=name, startFromHead=True)
    return [e["message"] for e in events["events"]]


def test_best_ensemble_serves_raw_rows_and_probabilities(
    sagemaker: Any, runtime: Any, ensembled: dict[str, Any]
) -> None:
    from sagemaker.automl.automl import AutoML

    containers = copy.deepcopy(ensembled["BestCandidate"]["InferenceContainers"])
    AutoML.validate_and_update_inference_response(
        containers, ["predicted_label", "probability", "probabilities", "labels"]
    )
    endpoint = _endpoint(sagemaker, containers)
    answer = runtime.invoke_endpoint(
        EndpointName=endpoint, ContentType="text/csv", Body=RAW_ROWS.encode()
    )
    rows = list(csv.reader(io.StringIO(answer["Body"].read().decode())))
    assert [row[0] for row in rows] == ["malignant", "benign", "malignant"]
    for label, probability, probabilities, labels in rows:
        assert json.loads(labels) == ["benign", "malignant"]
        pair = json.loads(probabilities)
        assert abs(sum(pair) - 1) < 1e-6
        assert float(probability) == pytest.approx(pair[1])
        assert (pair[1] > 0.5) == (label == "malignant")


def test_best_ensemble_in_a_batch_transform(
    sagemaker: Any, s3: Any, automl_bucket: str, ensembled: dict[str, Any]
) -> None:
    # A layer-2 stacker alone: its one artifact carries the layer-1 models it reads.
    stacker = next(
        c
        for c in sagemaker.list_candidates_for_auto_ml_job(
            AutoMLJobName=ensembled["AutoMLJobName"]
        )["Candidates"]
        if c["CandidateName"].endswith("-lin-l2")
    )
    model = unique("aml-ens-batch")
    sagemaker.create_model(
        ModelName=model,
        Containers=stacker["InferenceContainers"],
        ExecutionRoleArn=ROLE,
    )
    s3.put_object(Bucket=automl_bucket, Key="ens-batch/in/rows.csv", Body=RAW_ROWS.encode())
    job = unique("aml-ens-batch")
    sagemaker.create_transform_job(
        TransformJobName=job,
        ModelName=model,
        TransformInput={
            "DataSource": {
                "S3DataSource": {
                    "S3DataType": "S3Prefix",
                    "S3Uri": f"s3://{automl_bucket}/ens-batch/in/",
                }
            },
            "ContentType": "text/csv",
            "SplitType": "Line",
        },
        TransformOutput={"S3OutputPath": f"s3://{automl_bucket}/ens-batch/out/"},
        TransformResources={"InstanceType": "ml.m5.large", "InstanceCount": 1},
    )
    sagemaker.get_waiter("transform_job_completed_or_stopped").wait(
        TransformJobName=job, WaiterConfig={"Delay": 1, "MaxAttempts": 120}
    )
    described = sagemaker.describe_transform_job(TransformJobName=job)
    assert described["TransformJobStatus"] == "Completed", described.get("FailureReason")
    out = s3.get_object(Bucket=automl_bucket, Key="ens-batch/out/rows.csv.out")["Body"].read()
    assert out.decode().split() == ["malignant", "benign", "malignant"]


def test_auto_mode_runs_ensembling_on_a_small_table(sagemaker: Any, automl_bucket: str) -> None:
    name = unique("aml-auto")[:32]
    sagemaker.create_auto_ml_job(
        **request(
            automl_bucket,
            name,
            AutoMLJobConfig={"Mode": "AUTO"},
        )
    )
    described = sagemaker.describe_auto_ml_job(AutoMLJobName=name)
    assert described["AutoMLJobConfig"]["Mode"] == "ENSEMBLING"
    v2 = sagemaker.describe_auto_ml_job_v2(AutoMLJobName=name)
    assert v2["AutoMLProblemTypeConfig"]["TabularJobConfig"]["Mode"] == "ENSEMBLING"
    # Without a mode the same holds: AUTO is the default.
    other = unique("aml-auto")[:32]
    plain = request(automl_bucket, other)
    del plain["AutoMLJobConfig"]["Mode"]
    sagemaker.create_auto_ml_job(**plain)
    assert sagemaker.describe_auto_ml_job(AutoMLJobName=other)["AutoMLJobConfig"]["Mode"] == (
        "ENSEMBLING"
    )
    for job in (name, other):
        sagemaker.stop_auto_ml_job(AutoMLJobName=job)
    deadline = time.time() + 60
    while any(
        sagemaker.describe_auto_ml_job(AutoMLJobName=j)["AutoMLJobStatus"]
        in ("InProgress", "Stopping")
        for j in (name, other)
    ):
        assert time.time() < deadline
        time.sleep(0.3)


def test_short_budgets_train_fewer_base_models_each_within_its_share() -> None:
    from sagebox.analysis.automl import ensembles
    from sagebox.analysis.automl.problems import REGRESSION
    from sagebox.services.automl import ensembling
    from sagebox.services.automl.requests import ENSEMBLING_ALGORITHMS

    every, limit = ensembling.plan_base_models(3600, 86_400, ENSEMBLING_ALGORITHMS, 2)
    assert len(every) == 11 and limit < 3600 / 6  # 7 families and 4 variants, 6 waves of 2
    assert every[:7] == ensembles.FAMILIES and every[7:] == tuple(ensembles.VARIANTS)
    # Regression has no entropy variants.
    regression = ensembling.plan_base_models(3600, 86_400, ENSEMBLING_ALGORITHMS, 2, REGRESSION)
    assert regression[0] == tuple(a for a in every if a not in ensembles.CLASSIFICATION_ONLY)
    assert ensembling.plan_base_models(3600, 100, ENSEMBLING_ALGORITHMS, 2)[1] == 90
    # Short budgets: the variants never cost the family models time. Up to ~150 s, only
    # LightGBMXT runs, in the last wave's idle slot; a variant that needs a wave of its own
    # runs only when every model still gets MIN_VARIANT_SECONDS.
    for budget in (60, 100, 150):
        chosen, share = ensembling.plan_base_models(budget, 86_400, ENSEMBLING_ALGORITHMS, 2)
        families, same = ensembling.plan_base_models(budget, 86_400, ensembles.FAMILIES, 2)
        assert chosen == (*ensembles.FAMILIES, ensembles.LIGHTGBM_XT) and share == same
    for budget in (200, 300):
        chosen, share = ensembling.plan_base_models(budget, 86_400, ENSEMBLING_ALGORITHMS, 2)
        assert len(chosen) > 8 and share >= ensembling.LIMIT_MARGIN * ensembling.MIN_VARIANT_SECONDS
        waves = -(-len(chosen) // 2)
        reserve = max(ensembling.MIN_ENSEMBLE_SECONDS, ensembling.ENSEMBLE_RESERVE * budget)
        used = waves * (share / ensembling.LIMIT_MARGIN + ensembling.JOB_OVERHEAD)
        assert used <= budget - reserve - ensembling.stack_reserve(budget) + 1e-6
    few, limit = ensembling.plan_base_models(35, 86_400, ENSEMBLING_ALGORITHMS, 2)
    assert few == every[: len(few)] and 1 <= len(few) < 7
    waves = -(-len(few) // 2)
    assert waves * (limit + ensembling.JOB_OVERHEAD) <= 35 - ensembling.MIN_ENSEMBLE_SECONDS
    assert len(ensembling.plan_base_models(5, 86_400, ENSEMBLING_ALGORITHMS, 2)[0]) == 1


def _read(s3: Any, uri: str) -> bytes:
    bucket, _, key = uri.removeprefix("s3://").partition("/")
    return s3.get_object(Bucket=bucket, Key=key)["Body"].read()


def test_every_candidate_has_model_insights_and_explainability_reports(
    sagemaker: Any, s3: Any, ensembled: dict[str, Any]
) -> None:
    name = ensembled["AutoMLJobName"]
    candidates = sagemaker.list_candidates_for_auto_ml_job(AutoMLJobName=name)["Candidates"]
    columns = {
        "mean radius",
        "mean texture",
        "mean perimeter",
        "mean area",
        "mean smoothness",
        "mean compactness",
        "size_band",
        "seen",
    }
    for candidate in candidates:
        locations = candidate["CandidateProperties"]["CandidateArtifactLocations"]
        insights = json.loads(_read(s3, f"{locations['ModelInsights']}/model_insights.json"))
        assert insights["labels"] == ["benign", "malignant"]
        assert sum(map(sum, insights["confusion_matrix"])) == 111  # validation rows with a weight
        # The insights score the candidate's model on the split its objective was measured on.
        objective = candidate["FinalAutoMLJobObjectiveMetric"]["Value"]
        assert insights["metrics"]["F1"] == pytest.approx(objective, abs=1e-6)
        assert 0 < insights["decision_threshold"] < 1
        assert len(insights["roc_curve"]["true_positive_rate"]) > 2
        assert b"<img" in _read(s3, f"{locations['ModelInsights']}/report.html")
        explained = json.loads(_read(s3, f"{locations['Explainability']}/analysis.json"))
        ranked = explained["explanations"]["kernel_shap"]["label0"]["global_shap_values"]
        assert set(ranked) == columns
        # A measurement leads (texture too predicts the class), never the date column.
        assert max(ranked, key=ranked.get).startswith("mean ")
        assert 10 <= explained["rows_explained"] <= 111
        assert "PermutationExplainer" in explained["method"]
        assert b"<img" in _read(s3, f"{locations['Explainability']}/report.html")
    # One processing job made each report, listed as SageMaker lists Autopilot's jobs.
    for part in ("explainability", "insights"):
        jobs = sagemaker.list_processing_jobs(NameContains=f"{name}-{part}-")
        assert [j["ProcessingJobStatus"] for j in jobs["ProcessingJobSummaries"]] == ["Completed"]
        job = sagemaker.describe_processing_job(
            ProcessingJobName=jobs["ProcessingJobSummaries"][0]["ProcessingJobName"]
        )
        seconds = (job["ProcessingEndTime"] - job["ProcessingStartTime"]).total_seconds()
        print(f"{part} report job: {seconds:.1f} s")
    best = ensembled["BestCandidate"]
    listed = next(c for c in candidates if c["CandidateName"] == best["CandidateName"])
    assert (
        best["CandidateProperties"]["CandidateArtifactLocations"]
        == listed["CandidateProperties"]["CandidateArtifactLocations"]
    )


def test_the_candidate_definition_notebook_refits_the_weighted_ensemble(
    s3: Any, ensembled: dict[str, Any]
) -> None:
    location = ensembled["AutoMLJobArtifacts"]["CandidateDefinitionNotebookLocation"]
    notebook = json.loads(_read(s3, location))
    assert notebook["nbformat"] == 4
    code = ["".join(c["source"]) for c in notebook["cells"] if c["cell_type"] == "code"]
    namespace: dict[str, Any] = {}
    for number, source in enumerate(code):
        exec(compile(source, f"cell-{number}", "exec"), namespace)  # noqa: S102 - the notebook under test
    assert namespace["MODEL"].split("/")[-3].endswith("-we-l3") and namespace["WEIGHTED"] is True
    assert {m["algorithm"] for m in namespace["MEMBERS"]} <= {
        "lightgbm",
        "lightgbm-xt",
        "lightgbm-large",
        "linear-learner",
    }
    assert sum(m["weight"] for m in namespace["MEMBERS"]) == pytest.approx(1.0)
    # Refitted from its definition (base models, folds, seed, weights), the ensemble predicts
    # what the trained one does.
    assert namespace["refitted"].shape == (5, 2)
    assert namespace["difference"] < 1e-9


def test_layer_two_takes_what_layer_one_left_or_is_skipped_saying_why() -> None:
    from sagebox.services.automl import ensembling

    stackers = ("lightgbm", "linear-learner")
    # Layer 1 leaves a fifth of a long budget to layer 2, nothing of a short one.
    assert ensembling.stack_reserve(600) == 120
    assert ensembling.stack_reserve(30) == 0
    every, limit, skipped = ensembling.plan_stackers(100, 86_400, stackers, 2)
    assert every == stackers and skipped is None
    assert limit + ensembling.JOB_OVERHEAD <= 100 - ensembling.MIN_ENSEMBLE_SECONDS
    assert ensembling.plan_stackers(100, 20, stackers, 2)[1] == 18  # under the per-job limit
    one, _, skipped = ensembling.plan_stackers(25, 86_400, stackers, 1)
    assert one == ("lightgbm",) and skipped is None
    none, _, skipped = ensembling.plan_stackers(15, 86_400, stackers, 2)
    assert none == () and skipped is not None
    assert skipped.startswith("Layer 2 (stacking) was skipped: 15 s")
