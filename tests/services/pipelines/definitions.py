"""Small pipeline definitions, as the SDK emits them, for the definition language's unit tests."""

from __future__ import annotations

import json
from typing import Any

ROLE = "arn:aws:iam::123456789012:role/SageMakerRole"
IMAGE = "683313688378.dkr.ecr.us-east-1.amazonaws.com/sagemaker-scikit-learn:1.2-1-cpu-py3"


def get(path: str) -> dict[str, str]:
    return {"Get": path}


def join(on: str, *values: Any) -> dict[str, Any]:
    return {"Std:Join": {"On": on, "Values": list(values)}}


def processing(
    name: str,
    code: str = "print(1)",
    outputs: tuple[str, ...] = ("out",),
    inputs: list[Any] | None = None,
    bucket: str = "bucket",
    **extra: Any,
) -> dict[str, Any]:
    """A processing step running `code` with python3, its outputs under s3://<bucket>/<name>/."""
    arguments: dict[str, Any] = {
        "ProcessingResources": {
            "ClusterConfig": {
                "InstanceType": "ml.m5.large",
                "InstanceCount": 1,
                "VolumeSizeInGB": 5,
            }
        },
        "AppSpecification": {"ImageUri": IMAGE, "ContainerEntrypoint": ["python3", "-c", code]},
        "RoleArn": ROLE,
        "ProcessingOutputConfig": {
            "Outputs": [
                {
                    "OutputName": o,
                    "S3Output": {
                        "S3Uri": f"s3://{bucket}/{name}/{o}",
                        "LocalPath": f"/opt/ml/processing/{o}",
                        "S3UploadMode": "EndOfJob",
                    },
                }
                for o in outputs
            ]
        },
    }
    if inputs:
        arguments["ProcessingInputs"] = inputs
    if not outputs:
        del arguments["ProcessingOutputConfig"]
    return {"Name": name, "Type": "Processing", "Arguments": arguments, **extra}


def s3_input(name: str, uri: Any) -> dict[str, Any]:
    return {
        "InputName": name,
        "S3Input": {
            "S3Uri": uri,
            "LocalPath": f"/opt/ml/processing/{name}",
            "S3DataType": "S3Prefix",
            "S3InputMode": "File",
        },
    }


def condition(
    name: str, conditions: list[Any], if_steps: list[Any], else_steps: list[Any], **extra: Any
) -> dict[str, Any]:
    return {
        "Name": name,
        "Type": "Condition",
        "Arguments": {"Conditions": conditions, "IfSteps": if_steps, "ElseSteps": else_steps},
        **extra,
    }


def fail(name: str, message: Any) -> dict[str, Any]:
    return {"Name": name, "Type": "Fail", "Arguments": {"ErrorMessage": message}}


def definition(steps: list[Any], parameters: list[Any] | None = None, **extra: Any) -> str:
    return json.dumps(
        {
            "Version": "2020-12-01",
            "Metadata": {},
            "Parameters": parameters or [],
            "Steps": steps,
            **extra,
        }
    )


def parameter(
    name: str, kind: str = "String", default: Any = None, enum: list[Any] | None = None
) -> dict[str, Any]:
    found: dict[str, Any] = {"Name": name, "Type": kind}
    if default is not None:
        found["DefaultValue"] = default
    if enum is not None:
        found["EnumValues"] = enum
    return found
