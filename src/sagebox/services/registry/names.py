"""How the Model Registry's resources are named: names, ARNs, versions.

A model package group is named ``name`` and has the ARN
``arn:aws:sagemaker:<region>:<account>:model-package-group/<name-lowercase>``. A versioned
model package (a model version) is version N of its group, with the ARN
``...:model-package/<group-lowercase>/<N>``; an unversioned one has its own name and the
ARN ``...:model-package/<name-lowercase>``. Operations accept a name or an ARN wherever
botocore's model allows both, so every lookup goes through the ARN: SageMaker's ARNs
are lowercase, which makes a lookup by name insensitive to case, as SageMaker's is.
"""

from __future__ import annotations

ARN_PREFIX = "arn:"


def is_arn(name_or_arn: str) -> bool:
    return name_or_arn.startswith(ARN_PREFIX)


def normalized_arn(arn: str) -> str:
    """The ARN as stored: its resource part (after the last colon) in lowercase."""
    head, colon, resource = arn.rpartition(":")
    return f"{head}{colon}{resource.lower()}"


def version_record_name(group: str, version: int) -> str:
    """The store's name of a model version: unique, never a valid unversioned package name."""
    return f"{group}/{version}"
