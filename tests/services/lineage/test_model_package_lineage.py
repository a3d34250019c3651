"""The lineage of model packages, from their resource events.

The Model Registry family (kind ``ModelPackage``) is built elsewhere; the lineage recorder
only follows its events by kind name. This test drives a Platform in this process and
publishes the events that family publishes (Created, then Updated when the approval
changes), with documents shaped as DescribeModelPackage answers, then hosts a model made
from the package through the platform's own services.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from sagebox.config import Settings
from sagebox.services.events import CREATED, UPDATED, ResourceEvent
from sagebox.services.platform import Platform
from tests.services.training.jobs import XGBOOST_IMAGE

ACCOUNT = "arn:aws:sagemaker:us-east-1:123456789012"
GROUP = "Churn-Models"
PACKAGE_ARN = f"{ACCOUNT}:model-package/churn-models/1"
MODEL_DATA = "s3://registry/churn/model.tar.gz"


@pytest.fixture
def platform(tmp_path: Path) -> Iterator[Platform]:
    started = Platform(Settings(home=tmp_path))
    started.start()
    try:
        yield started
    finally:
        started.close()


def package_document(status: str) -> dict[str, Any]:
    return {
        "ModelPackageName": GROUP,
        "ModelPackageGroupName": GROUP,
        "ModelPackageVersion": 1,
        "ModelPackageArn": PACKAGE_ARN,
        "InferenceSpecification": {
            "Containers": [{"Image": XGBOOST_IMAGE, "ModelDataUrl": MODEL_DATA}],
            "SupportedContentTypes": ["text/csv"],
            "SupportedResponseMIMETypes": ["text/csv"],
        },
        "ModelPackageStatus": "Completed",
        "ModelApprovalStatus": status,
    }


def publish(platform: Platform, change: str, status: str) -> None:
    platform.events.publish(
        ResourceEvent("ModelPackage", GROUP, PACKAGE_ARN, change, package_document(status))
    )


def only(summaries: dict[str, Any], member: str) -> dict[str, Any]:
    (summary,) = summaries[member]
    found: dict[str, Any] = summary
    return found


def test_a_model_package_is_an_artifact_in_its_group_with_an_approval(platform: Platform) -> None:
    publish(platform, CREATED, "PendingManualApproval")
    package = only(platform.artifacts.list({"SourceUri": PACKAGE_ARN}), "ArtifactSummaries")
    assert package["ArtifactType"] == "Model"
    group = only(platform.contexts.list({"ContextType": "ModelGroup"}), "ContextSummaries")
    assert group["Source"]["SourceUri"] == f"{ACCOUNT}:model-package-group/churn-models"
    approval = only(platform.actions.list({"SourceUri": PACKAGE_ARN}), "ActionSummaries")
    assert (approval["ActionType"], approval["Status"]) == ("Approval", "InProgress")

    edges = platform.associations.list({"SourceArn": package["ArtifactArn"]})[
        "AssociationSummaries"
    ]
    assert {(e["DestinationArn"], e["AssociationType"]) for e in edges} == {
        (group["ContextArn"], "ContributedTo"),
        (approval["ActionArn"], "ContributedTo"),
    }
    inputs = platform.associations.list({"DestinationArn": package["ArtifactArn"]})[
        "AssociationSummaries"
    ]
    assert sorted(e["SourceType"] for e in inputs) == ["Image", "Model"]

    publish(platform, UPDATED, "Approved")
    described = platform.actions.describe(approval["ActionArn"])
    assert described["Status"] == "Completed"
    assert described["Properties"] == {"ModelApprovalStatus": "Approved"}
    publish(platform, CREATED, "Approved")  # the same package again: nothing is made twice
    assert len(platform.artifacts.list({"SourceUri": PACKAGE_ARN})["ArtifactSummaries"]) == 1
    assert len(platform.contexts.list({"ContextType": "ModelGroup"})["ContextSummaries"]) == 1


def test_an_endpoint_of_a_packaged_model_descends_from_the_package_and_its_approval(
    platform: Platform,
) -> None:
    publish(platform, CREATED, "Approved")
    platform.objects.create_bucket("registry")
    platform.objects.put_object("registry", "churn/model.tar.gz", b"not read here")
    platform.models.create(
        {
            "ModelName": "churn",
            "PrimaryContainer": {
                "Image": XGBOOST_IMAGE,
                "ModelDataUrl": MODEL_DATA,
                "ModelPackageName": PACKAGE_ARN,
            },
        }
    )
    platform.endpoint_configs.create(
        {
            "EndpointConfigName": "churn-config",
            "ProductionVariants": [
                {
                    "VariantName": "AllTraffic",
                    "ModelName": "churn",
                    "InitialInstanceCount": 1,
                    "InstanceType": "ml.m5.large",
                }
            ],
        }
    )
    # The endpoint's Created event, as EndpointService publishes it (without starting its fleet here).
    endpoint_arn = f"{ACCOUNT}:endpoint/churn"
    document = {
        "EndpointName": "churn",
        "EndpointArn": endpoint_arn,
        "EndpointConfigName": "churn-config",
    }
    platform.events.publish(ResourceEvent("Endpoint", "churn", endpoint_arn, CREATED, document))

    context = only(platform.contexts.list({"SourceUri": endpoint_arn}), "ContextSummaries")[
        "ContextArn"
    ]
    approval = only(platform.actions.list({"ActionType": "Approval"}), "ActionSummaries")[
        "ActionArn"
    ]
    down = platform.associations.query_lineage(
        {"StartArns": [approval], "Direction": "Descendants", "Filters": {"Types": ["Endpoint"]}}
    )
    assert [v["Arn"] for v in down["Vertices"]] == [context]
    up = platform.associations.query_lineage(
        {
            "StartArns": [context],
            "Direction": "Ascendants",
            "Filters": {"LineageTypes": ["Artifact"]},
        }
    )
    sources = {platform.artifacts.describe(v["Arn"])["Source"]["SourceUri"] for v in up["Vertices"]}
    assert sources == {PACKAGE_ARN, MODEL_DATA, XGBOOST_IMAGE}
