"""Validation and serialization driven by botocore's SageMaker model."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from sagebox.edge import json_protocol
from sagebox.service_models import operation_model

ARN = "arn:aws:sagemaker:us-east-1:123456789012:training-job/x"


def test_valid_input_passes_and_lists_are_indexed_in_messages() -> None:
    shape = operation_model("sagemaker", "AddTags").input_shape
    assert json_protocol.validate(shape, {"ResourceArn": ARN, "Tags": []}) is None
    message = json_protocol.validate(shape, {"ResourceArn": ARN, "Tags": [{"Key": "k" * 200, "Value": "v"}]})
    assert message is not None
    assert "at 'tags.1.member.key' failed to satisfy constraint: Member must have length less than or equal to 128" in message


def test_java_style_patterns_are_understood() -> None:
    shape = operation_model("sagemaker", "AddTags").input_shape
    assert json_protocol.validate(shape, {"ResourceArn": ARN, "Tags": [{"Key": "ünïcode key", "Value": "v"}]}) is None
    message = json_protocol.validate(shape, {"ResourceArn": ARN, "Tags": [{"Key": "bad\u0007", "Value": "v"}]})
    assert message is not None and "regular expression pattern" in message


def test_output_keeps_model_members_and_encodes_timestamps() -> None:
    shape = operation_model("sagemaker", "DescribeTrainingJob").output_shape
    moment = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
    out = json_protocol.serialize(shape, {"TrainingJobName": "x", "CreationTime": moment, "_internal": 1, "FailureReason": None})
    assert out == {"TrainingJobName": "x", "CreationTime": moment.timestamp()}


def test_input_timestamps_become_datetimes() -> None:
    shape = operation_model("sagemaker", "ListTrainingJobs").input_shape
    parsed = json_protocol.parse_input(shape, {"CreationTimeAfter": 1767323045.0})
    assert parsed["CreationTimeAfter"] == datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)


@pytest.mark.parametrize("value", [1e20, -1e15, "inf", "-inf", "nan", "1e400", float("inf"), 253402300800])
def test_timestamps_outside_aws_range_name_the_member(value: object) -> None:
    shape = operation_model("sagemaker", "ListTrainingJobs").input_shape
    message = json_protocol.validate(shape, {"CreationTimeBefore": value})
    assert message is not None
    assert "at 'creationTimeBefore' failed to satisfy constraint: Member must be a timestamp between" in message


@pytest.mark.parametrize("value", [0, -1, 253402300799, "2026-01-02T03:04:05Z", "2026-01-02T03:04:05+02:00", "1767323045"])
def test_timestamps_within_range_are_read(value: object) -> None:
    shape = operation_model("sagemaker", "ListTrainingJobs").input_shape
    assert json_protocol.validate(shape, {"CreationTimeBefore": value}) is None
    assert json_protocol.parse_input(shape, {"CreationTimeBefore": value})["CreationTimeBefore"].tzinfo is not None


def test_integers_must_fit_java_int_and_long() -> None:
    training = operation_model("sagemaker", "CreateTrainingJob").input_shape.members["StoppingCondition"]
    message = json_protocol.validate(training, {"MaxRuntimeInSeconds": 2**31})
    assert message is not None and "Member must have value less than or equal to 2147483647" in message
    tags = operation_model("sagemaker", "ListTags").input_shape
    message = json_protocol.validate(tags, {"ResourceArn": ARN, "MaxResults": 10**5000})
    assert message is not None and "at 'maxResults'" in message and len(message) < 300


def test_messages_quote_at_most_200_characters_of_a_value() -> None:
    shape = operation_model("sagemaker", "DescribeTrainingJob").input_shape
    message = json_protocol.validate(shape, {"TrainingJobName": "x" * 20_000_000})
    assert message is not None and len(message) < 1000
    assert f"Value '{'x' * 200}' at 'trainingJobName'" in message
    tags = operation_model("sagemaker", "AddTags").input_shape
    many = [{"Key": "\u0007" * 300, "Value": "v"}] * 100_000
    message = json_protocol.validate(tags, {"ResourceArn": ARN, "Tags": many})
    assert message is not None and message.startswith("200001 validation errors detected: ")
    assert message.count("; ") == 9 and len(message) < 4096


def test_null_and_unknown_members_are_absent_to_services() -> None:
    shape = operation_model("sagemaker", "CreateModel").input_shape
    parsed = json_protocol.parse_input(shape, {"ModelName": "m", "Tags": None, "Unknown": {"deep": [1]}, "PrimaryContainer": {"Image": "i", "ModelDataUrl": None}})
    assert parsed == {"ModelName": "m", "PrimaryContainer": {"Image": "i"}}
