"""Validation and serialization driven by botocore's SageMaker model."""

from __future__ import annotations

from datetime import UTC, datetime

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
