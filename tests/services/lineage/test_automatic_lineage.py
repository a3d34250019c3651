"""The lineage SageMaker records by itself: train a tiny built-in XGBoost model through boto3,
host it, and find the data it was trained on from the endpoint (boto3 and the SDK v2)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import boto3
import pytest
from sklearn.datasets import load_diabetes

from tests.services.hosting.conftest import deploy
from tests.services.processing.jobs import job_request as processing_request
from tests.services.processing.jobs import s3_input, s3_output
from tests.services.processing.jobs import wait_for as wait_for_processing
from tests.services.training.jobs import (
    ROLE,
    XGBOOST_IMAGE,
    channel,
    csv_bytes,
    job_request,
    unique,
    wait_for,
)
from tests.services.transform.jobs import features_csv, wait_for_transform

ACCOUNT = "arn:aws:sagemaker:us-east-1:123456789012"


@dataclass(frozen=True)
class Hosted:
    bucket: str
    model: str
    job: str
    train_uri: str
    validation_uri: str
    model_data: str
    endpoint: str
    endpoint_arn: str
    context_arn: str

    @property
    def trial_component(self) -> str:
        return f"{ACCOUNT}:experiment-trial-component/{self.job.lower()}-aws-training-job"


@pytest.fixture(scope="module")
def hosted(sagemaker: Any, s3: Any) -> Hosted:
    bucket = unique("lineage")
    s3.create_bucket(Bucket=bucket)
    data = load_diabetes()
    s3.put_object(
        Bucket=bucket, Key="data/train/part.csv", Body=csv_bytes(data.data[:120], data.target[:120])
    )
    s3.put_object(
        Bucket=bucket,
        Key="data/validation/part.csv",
        Body=csv_bytes(data.data[120:160], data.target[120:160]),
    )
    train, validation = f"s3://{bucket}/data/train/", f"s3://{bucket}/data/validation/"
    job = unique("Lineage-Train")
    sagemaker.create_training_job(
        **job_request(
            job,
            bucket,
            [channel("train", train), channel("validation", validation)],
            HyperParameters={"objective": "reg:squarederror", "num_round": "3", "max_depth": "2"},
        )
    )
    described = wait_for(sagemaker, job)
    assert described["TrainingJobStatus"] == "Completed", described.get("FailureReason")
    model_data = described["ModelArtifacts"]["S3ModelArtifacts"]
    model = unique("lineage-model")
    sagemaker.create_model(
        ModelName=model,
        ExecutionRoleArn=ROLE,
        PrimaryContainer={"Image": XGBOOST_IMAGE, "ModelDataUrl": model_data},
    )
    endpoint = deploy(
        sagemaker,
        [
            {
                "VariantName": "AllTraffic",
                "ModelName": model,
                "InitialInstanceCount": 1,
                "InstanceType": "ml.m5.large",
            }
        ],
    )
    endpoint_arn = sagemaker.describe_endpoint(EndpointName=endpoint)["EndpointArn"]
    (context,) = sagemaker.list_contexts(SourceUri=endpoint_arn)["ContextSummaries"]
    return Hosted(
        bucket,
        model,
        job,
        train,
        validation,
        model_data,
        endpoint,
        endpoint_arn,
        context["ContextArn"],
    )


def artifact_source(sagemaker: Any, arn: str) -> str:
    uri: str = sagemaker.describe_artifact(ArtifactArn=arn)["Source"]["SourceUri"]
    return uri


def test_the_endpoint_has_a_context_and_a_model_deployment(sagemaker: Any, hosted: Hosted) -> None:
    context = sagemaker.describe_context(ContextName=hosted.context_arn)
    assert context["ContextType"] == "Endpoint"
    assert context["Source"] == {"SourceUri": hosted.endpoint_arn, "SourceType": "ARN"}
    assert context["ContextName"].startswith(hosted.endpoint) and context["ContextName"].endswith(
        "-aws-endpoint"
    )
    (deployment,) = sagemaker.list_associations(DestinationArn=hosted.context_arn)[
        "AssociationSummaries"
    ]
    assert (deployment["SourceType"], deployment["AssociationType"]) == (
        "ModelDeployment",
        "AssociatedWith",
    )
    action = sagemaker.describe_action(ActionName=deployment["SourceArn"])
    assert (
        action["ActionType"] == "ModelDeployment"
        and action["Source"]["SourceUri"] == hosted.endpoint_arn
    )


def test_query_lineage_from_the_endpoint_reaches_the_training_data_and_image(
    sagemaker: Any, hosted: Hosted
) -> None:
    answer = sagemaker.query_lineage(
        StartArns=[hosted.context_arn], Direction="Ascendants", IncludeEdges=True
    )
    vertices = {v["Arn"]: (v.get("Type"), v["LineageType"]) for v in answer["Vertices"]}
    assert vertices[hosted.trial_component] == ("TrainingJob", "TrialComponent")
    by_type: dict[str, set[str]] = {}
    for arn, (vertex_type, lineage_type) in vertices.items():
        if lineage_type == "Artifact":
            by_type.setdefault(vertex_type, set()).add(artifact_source(sagemaker, arn))
    assert by_type["DataSet"] == {hosted.train_uri, hosted.validation_uri}
    assert by_type["Image"] == {XGBOOST_IMAGE}
    assert by_type["Model"] == {hosted.model_data}
    edges = {(e["SourceArn"], e["DestinationArn"]): e["AssociationType"] for e in answer["Edges"]}
    assert sorted(edges.values()).count("Produced") == 1
    datasets = sagemaker.query_lineage(
        StartArns=[hosted.context_arn],
        Direction="Ascendants",
        Filters={"Types": ["DataSet"], "LineageTypes": ["Artifact"]},
    )
    assert {artifact_source(sagemaker, v["Arn"]) for v in datasets["Vertices"]} == {
        hosted.train_uri,
        hosted.validation_uri,
    }
    from_data = sagemaker.list_artifacts(SourceUri=hosted.train_uri)["ArtifactSummaries"][0][
        "ArtifactArn"
    ]
    downstream = sagemaker.query_lineage(
        StartArns=[from_data], Direction="Descendants", Filters={"Types": ["Endpoint"]}
    )
    assert [v["Arn"] for v in downstream["Vertices"]] == [hosted.context_arn]


def test_list_associations_walks_from_the_endpoint_to_the_job_and_its_inputs(
    sagemaker: Any, hosted: Hosted
) -> None:
    def into(arn: str) -> list[dict[str, Any]]:
        summaries: list[dict[str, Any]] = sagemaker.list_associations(DestinationArn=arn)[
            "AssociationSummaries"
        ]
        return summaries

    (deployment,) = into(hosted.context_arn)
    into_deployment = {s["SourceType"]: s for s in into(deployment["SourceArn"])}
    assert set(into_deployment) == {"Model", "Image"}
    assert {s["AssociationType"] for s in into_deployment.values()} == {"ContributedTo"}
    model = into_deployment["Model"]["SourceArn"]
    assert artifact_source(sagemaker, model) == hosted.model_data
    (produced,) = into(model)
    assert produced["SourceArn"] == hosted.trial_component
    assert (produced["SourceType"], produced["AssociationType"]) == ("TrainingJob", "Produced")
    assert produced["SourceName"].lower() == f"{hosted.job.lower()}-aws-training-job"  # as the trial component names it
    inputs = into(hosted.trial_component)
    assert {s["AssociationType"] for s in inputs} == {"ContributedTo"}
    assert sorted(s["SourceType"] for s in inputs) == ["DataSet", "DataSet", "Image"]
    assert {artifact_source(sagemaker, s["SourceArn"]) for s in inputs} == {
        hosted.train_uri,
        hosted.validation_uri,
        XGBOOST_IMAGE,
    }
    # One artifact per source: the model data CreateModel named is the one the job produced.
    (artifact,) = sagemaker.list_artifacts(SourceUri=hosted.model_data)["ArtifactSummaries"]
    assert artifact["ArtifactArn"] == model and artifact["ArtifactType"] == "Model"
    assert len(sagemaker.list_artifacts(SourceUri=XGBOOST_IMAGE)["ArtifactSummaries"]) == 1


def test_the_sdk_lineage_query_finds_the_data_set(sagebox_server: Any, hosted: Hosted) -> None:
    sagemaker_sdk = pytest.importorskip("sagemaker")
    from sagemaker.lineage.context import EndpointContext
    from sagemaker.lineage.query import (
        LineageEntityEnum,
        LineageFilter,
        LineageQuery,
        LineageQueryDirectionEnum,
        LineageSourceEnum,
    )

    session = sagemaker_sdk.Session(
        boto_session=boto3.Session(), sagemaker_client=boto3.client("sagemaker")
    )
    datasets = LineageFilter(
        entities=[LineageEntityEnum.ARTIFACT], sources=[LineageSourceEnum.DATASET]
    )
    # The SDK asks for edges by default: the answer is the data sets and the way to them.
    result = LineageQuery(session).query(
        start_arns=[hosted.context_arn],
        direction=LineageQueryDirectionEnum.ASCENDANTS,
        query_filter=datasets,
    )
    found = [vertex for vertex in result.vertices if vertex.lineage_source == "DataSet"]
    uris = {vertex.to_lineage_object().source.source_uri for vertex in found}
    assert uris == {hosted.train_uri, hosted.validation_uri}
    assert {v.lineage_source for v in result.vertices} == {
        "Endpoint",
        "ModelDeployment",
        "Model",
        "TrainingJob",
        "DataSet",
    }
    assert {(e.source_arn, e.association_type) for e in result.edges} >= {
        (v.arn, "ContributedTo") for v in found
    }
    only = LineageQuery(session).query(
        start_arns=[hosted.context_arn],
        direction=LineageQueryDirectionEnum.ASCENDANTS,
        query_filter=datasets,
        include_edges=False,
    )
    assert sorted(v.arn for v in only.vertices) == sorted(v.arn for v in found) and only.edges == []
    context = EndpointContext.load(
        context_name=hosted.context_arn.split("/")[1], sagemaker_session=session
    )
    assert {a.source.source_uri for a in context.dataset_artifacts()} == uris
    models = LineageQuery(session).query(
        start_arns=[hosted.context_arn],
        direction=LineageQueryDirectionEnum.ASCENDANTS,
        query_filter=LineageFilter(
            entities=[LineageEntityEnum.ARTIFACT], sources=[LineageSourceEnum.MODEL]
        ),
        include_edges=False,
    )
    assert [v.to_lineage_object().source.source_uri for v in models.vertices] == [hosted.model_data]


def test_deleting_the_endpoint_keeps_its_lineage(sagemaker: Any, hosted: Hosted) -> None:
    before = sagemaker.query_lineage(StartArns=[hosted.context_arn], Direction="Ascendants")[
        "Vertices"
    ]
    sagemaker.delete_endpoint(EndpointName=hosted.endpoint)
    assert (
        sagemaker.list_contexts(SourceUri=hosted.endpoint_arn)["ContextSummaries"][0]["ContextArn"]
        == hosted.context_arn
    )
    assert (
        sagemaker.query_lineage(StartArns=[hosted.context_arn], Direction="Ascendants")["Vertices"]
        == before
    )


def test_a_processing_job_reads_its_inputs_and_produces_its_outputs(
    sagemaker: Any, s3: Any
) -> None:
    bucket = unique("lineage-processing")
    s3.create_bucket(Bucket=bucket)
    s3.put_object(Bucket=bucket, Key="raw/data.csv", Body=b"1,2\n")
    raw, clean = f"s3://{bucket}/raw/", f"s3://{bucket}/clean/"
    job = unique("lineage-processing")
    sagemaker.create_processing_job(
        **processing_request(
            job,
            [
                "python3",
                "-c",
                "import shutil; shutil.copy('/opt/ml/processing/input/data.csv', '/opt/ml/processing/output/')",
            ],
            inputs=[s3_input("raw", raw, "/opt/ml/processing/input")],
            outputs=[s3_output("clean", clean, "/opt/ml/processing/output")],
        )
    )
    assert wait_for_processing(sagemaker, job)["ProcessingJobStatus"] == "Completed"
    component = f"{ACCOUNT}:experiment-trial-component/{job.lower()}-aws-processing-job"
    (output,) = sagemaker.list_artifacts(SourceUri=clean)["ArtifactSummaries"]
    answer = sagemaker.query_lineage(StartArns=[output["ArtifactArn"]], Direction="Ascendants")
    vertices = {v["Arn"]: v.get("Type") for v in answer["Vertices"]}
    assert vertices.pop(component) == "ProcessingJob"
    assert {artifact_source(sagemaker, arn): kind for arn, kind in vertices.items()} == {
        raw: "DataSet",
        "683313688378.dkr.ecr.us-east-1.amazonaws.com/sagemaker-scikit-learn:1.2-1-cpu-py3": "Image",
    }


def test_a_transform_job_reads_its_input_and_produces_its_results(
    sagemaker: Any, s3: Any, hosted: Hosted
) -> None:
    s3.put_object(
        Bucket=hosted.bucket, Key="batch/in.csv", Body=features_csv(load_diabetes().data[:4])
    )
    source, results = f"s3://{hosted.bucket}/batch/", f"s3://{hosted.bucket}/batch-out/"
    job = unique("lineage-transform")
    sagemaker.create_transform_job(
        TransformJobName=job,
        ModelName=hosted.model,
        TransformInput={
            "DataSource": {"S3DataSource": {"S3DataType": "S3Prefix", "S3Uri": source}},
            "ContentType": "text/csv",
            "SplitType": "Line",
        },
        TransformOutput={"S3OutputPath": results},
        TransformResources={"InstanceType": "ml.m5.large", "InstanceCount": 1},
    )
    assert wait_for_transform(sagemaker, job)["TransformJobStatus"] == "Completed"
    component = f"{ACCOUNT}:experiment-trial-component/{job.lower()}-aws-transform-job"
    (output,) = sagemaker.list_artifacts(SourceUri=results)["ArtifactSummaries"]
    assert output["ArtifactType"] == "DataSet"
    answer = sagemaker.query_lineage(
        StartArns=[output["ArtifactArn"]], Direction="Ascendants", IncludeEdges=True
    )
    assert [(v["Arn"], v["Type"]) for v in answer["Vertices"]][1] == (component, "TransformJob")
    (read,) = [e for e in answer["Edges"] if e["DestinationArn"] == component]
    assert artifact_source(sagemaker, read["SourceArn"]) == source
    assert read["AssociationType"] == "ContributedTo"
