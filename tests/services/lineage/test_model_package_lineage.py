"""The lineage of model packages, from the Model Registry's resource events.

Driven through a Platform in this process: a package is registered and approved through
the registry's own services, then a model made from it is hosted.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from sagebox.config import Settings
from sagebox.services.events import CREATED, ResourceEvent
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


def register(platform: Platform) -> str:
    """Version 1 of the group, pending approval, as CreateModelPackage makes it."""
    platform.objects.create_bucket("registry")
    platform.objects.put_object("registry", "churn/model.tar.gz", b"not read here")
    platform.model_package_groups.create({"ModelPackageGroupName": GROUP})
    created = platform.model_packages.create({
        "ModelPackageGroupName": GROUP,
        "InferenceSpecification": {
            "Containers": [{"Image": XGBOOST_IMAGE, "ModelDataUrl": MODEL_DATA}],
            "SupportedContentTypes": ["text/csv"],
            "SupportedResponseMIMETypes": ["text/csv"],
        },
    })
    arn: str = created["ModelPackageArn"]
    assert arn == PACKAGE_ARN
    return arn


def approve(platform: Platform, arn: str) -> None:
    platform.model_packages.update({"ModelPackageArn": arn, "ModelApprovalStatus": "Approved"})


def only(summaries: dict[str, Any], member: str) -> dict[str, Any]:
    (summary,) = summaries[member]
    found: dict[str, Any] = summary
    return found


def test_a_model_package_is_an_artifact_in_its_group_with_an_approval(platform: Platform) -> None:
    arn = register(platform)
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

    approve(platform, arn)
    described = platform.actions.describe(approval["ActionArn"])
    assert described["Status"] == "Completed"
    assert described["Properties"] == {"ModelApprovalStatus": "Approved"}
    approve(platform, arn)  # the same change again: nothing is made twice
    assert len(platform.artifacts.list({"SourceUri": PACKAGE_ARN})["ArtifactSummaries"]) == 1
    assert len(platform.contexts.list({"ContextType": "ModelGroup"})["ContextSummaries"]) == 1


def test_an_endpoint_of_a_packaged_model_descends_from_the_package_and_its_approval(
    platform: Platform,
) -> None:
    arn = register(platform)
    approve(platform, arn)
    platform.models.create({"ModelName": "churn", "PrimaryContainer": {"ModelPackageName": arn}})
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
