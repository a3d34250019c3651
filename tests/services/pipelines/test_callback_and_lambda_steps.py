"""Callback steps (their message read from the logs, answered with SendPipelineExecutionStep*),
Lambda steps (a local function registered under the server's home), and the step types
sagebox does not run, which fail saying so."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.services.pipelines.conftest import (
    create_and_start,
    steps_of,
    token,
    unique,
    wait_execution,
    wait_step,
)
from tests.services.pipelines.definitions import condition, definition, fail, get, join, parameter

MESSAGES = "/aws/sagemaker/Pipelines/CallbackMessages"


def callback_pipeline(queue: str) -> str:
    wait = {
        "Name": "AskReviewer",
        "Type": "Callback",
        "Arguments": {
            "dataset": get("Parameters.Dataset"),
            "execution": get("Execution.PipelineExecutionId"),
        },
        "SqsQueueUrl": f"https://sqs.us-east-1.amazonaws.com/123456789012/{queue}",
        "OutputParameters": [
            {"OutputName": "verdict", "OutputType": "String"},
            {"OutputName": "score", "OutputType": "Float"},
        ],
    }
    check = condition(
        "GoodEnough",
        [
            {
                "Type": "GreaterThanOrEqualTo",
                "LeftValue": get("Steps.AskReviewer.OutputParameters['score']"),
                "RightValue": 0.5,
            }
        ],
        [],
        [
            fail(
                "Rejected",
                join(
                    " ", "the reviewer said", get("Steps.AskReviewer.OutputParameters['verdict']")
                ),
            )
        ],
    )
    return definition([wait, check], [parameter("Dataset", "String", "s3://data/set")])


def message_for(logs: Any, queue: str, callback_token: str, status: str) -> dict[str, Any]:
    deadline = time.time() + 30
    while True:
        try:
            events = logs.filter_log_events(
                logGroupName=MESSAGES, logStreamNames=[queue], filterPattern=f'"{callback_token}"'
            )["events"]
        except ClientError:
            events = []
        bodies = [json.loads(e["message"]) for e in events]
        found = [b for b in bodies if b["status"] == status]
        if found:
            return found[0]
        assert time.time() < deadline, bodies
        time.sleep(0.2)


def test_a_callback_step_waits_for_its_token_and_takes_its_outputs(
    sagemaker: Any, sagebox_server: Any
) -> None:
    import boto3

    logs = boto3.client("logs")
    queue = unique("reviews")
    name = unique("callback")
    arn = create_and_start(
        sagemaker, name, callback_pipeline(queue), {"Dataset": "s3://data/abalone"}
    )
    step = wait_step(sagemaker, arn, "AskReviewer", ("Executing",))
    callback = step["Metadata"]["Callback"]
    assert callback["SqsQueueUrl"].endswith(queue) and len(callback["CallbackToken"]) == 10
    body = message_for(logs, queue, callback["CallbackToken"], "Executing")
    assert body["pipelineExecutionArn"] == arn
    assert body["arguments"] == {"dataset": "s3://data/abalone", "execution": arn.split("/")[-1]}
    with pytest.raises(ClientError, match="'mood' is not an output of callback step"):
        sagemaker.send_pipeline_execution_step_success(
            CallbackToken=callback["CallbackToken"],
            OutputParameters=[{"Name": "mood", "Value": "x"}],
        )
    with pytest.raises(ClientError, match="must be of OutputType Float"):
        sagemaker.send_pipeline_execution_step_success(
            CallbackToken=callback["CallbackToken"],
            OutputParameters=[{"Name": "score", "Value": "high"}],
        )
    answer = sagemaker.send_pipeline_execution_step_success(
        CallbackToken=callback["CallbackToken"],
        OutputParameters=[
            {"Name": "verdict", "Value": "too noisy"},
            {"Name": "score", "Value": "0.2"},
        ],
        ClientRequestToken=token(),
    )
    assert answer["PipelineExecutionArn"] == arn
    described = wait_execution(sagemaker, arn, timeout=30)
    assert described["PipelineExecutionStatus"] == "Failed"
    assert "the reviewer said too noisy" in described["FailureReason"]
    listed = steps_of(sagemaker, arn)
    assert listed["AskReviewer"]["StepStatus"] == "Succeeded"
    assert listed["AskReviewer"]["Metadata"]["Callback"]["OutputParameters"] == [
        {"Name": "verdict", "Value": "too noisy"},
        {"Name": "score", "Value": "0.2"},
    ]
    with pytest.raises(ClientError, match="has already ended"):
        sagemaker.send_pipeline_execution_step_failure(
            CallbackToken=callback["CallbackToken"], FailureReason="late"
        )
    with pytest.raises(ClientError, match="is not the token of any callback step"):
        sagemaker.send_pipeline_execution_step_success(CallbackToken="Nothing123")


def test_a_callback_failure_fails_the_step_and_a_stop_is_announced(
    sagemaker: Any, sagebox_server: Any
) -> None:
    import boto3

    logs = boto3.client("logs")
    queue = unique("reviews")
    arn = create_and_start(sagemaker, unique("callback"), callback_pipeline(queue))
    step = wait_step(sagemaker, arn, "AskReviewer", ("Executing",))
    callback_token = step["Metadata"]["Callback"]["CallbackToken"]
    sagemaker.stop_pipeline_execution(PipelineExecutionArn=arn, ClientRequestToken=token())
    body = message_for(logs, queue, callback_token, "Stopping")
    assert body["pipelineExecutionArn"] == arn
    assert (
        sagemaker.describe_pipeline_execution(PipelineExecutionArn=arn)["PipelineExecutionStatus"]
        == "Stopping"
    )
    sagemaker.send_pipeline_execution_step_failure(
        CallbackToken=callback_token, FailureReason="the reviewer is away"
    )
    described = wait_execution(sagemaker, arn, timeout=30)
    assert described["PipelineExecutionStatus"] == "Stopped"
    assert steps_of(sagemaker, arn)["AskReviewer"]["FailureReason"] == "the reviewer is away"


def lambda_pipeline(function_arn: str) -> str:
    call = {
        "Name": "Double",
        "Type": "Lambda",
        "FunctionArn": function_arn,
        "Arguments": {"number": get("Parameters.Number"), "label": "x"},
        "OutputParameters": [
            {"OutputName": "doubled", "OutputType": "Integer"},
            {"OutputName": "note", "OutputType": "String"},
        ],
    }
    check = condition(
        "IsEight",
        [
            {
                "Type": "Equals",
                "LeftValue": get("Steps.Double.OutputParameters['doubled']"),
                "RightValue": 8,
            }
        ],
        [],
        [
            fail(
                "NotEight",
                join(
                    " ",
                    "got",
                    get("Steps.Double.OutputParameters['doubled']"),
                    get("Steps.Double.OutputParameters['note']"),
                ),
            )
        ],
    )
    return definition([call, check], [parameter("Number", "Integer", 4)])


def test_a_lambda_step_calls_the_local_function_registered_under_its_name(
    sagemaker: Any, sagebox_server: Any
) -> None:
    function = unique("doubler")
    folder = Path(sagebox_server.home) / "lambda" / function
    folder.mkdir(parents=True)
    (folder / "lambda_function.py").write_text(
        "def lambda_handler(event, context):\n"
        "    return {'doubled': event['number'] * 2, 'note': context.function_name + ':' + event['label']}\n"
    )
    function_arn = f"arn:aws:lambda:us-east-1:123456789012:function:{function}"
    name = unique("lambda")
    arn = create_and_start(sagemaker, name, lambda_pipeline(function_arn))
    assert wait_execution(sagemaker, arn, timeout=60)["PipelineExecutionStatus"] == "Succeeded"
    step = steps_of(sagemaker, arn)["Double"]
    assert step["Metadata"]["Lambda"] == {
        "Arn": function_arn,
        "OutputParameters": [
            {"Name": "doubled", "Value": "8"},
            {"Name": "note", "Value": f"{function}:x"},
        ],
    }
    other = sagemaker.start_pipeline_execution(
        PipelineName=name,
        PipelineParameters=[{"Name": "Number", "Value": "5"}],
        ClientRequestToken=token(),
    )["PipelineExecutionArn"]
    described = wait_execution(sagemaker, other, timeout=60)
    assert f"got 10 {function}:x" in described["FailureReason"]


def test_an_unregistered_lambda_function_fails_its_step_saying_where_to_put_it(
    sagemaker: Any,
) -> None:
    arn = create_and_start(
        sagemaker,
        unique("lambda"),
        lambda_pipeline("arn:aws:lambda:us-east-1:123456789012:function:nowhere"),
    )
    assert wait_execution(sagemaker, arn, timeout=60)["PipelineExecutionStatus"] == "Failed"
    reason = steps_of(sagemaker, arn)["Double"]["FailureReason"]
    assert (
        "'nowhere'" in reason
        and "is not registered with sagebox" in reason
        and "lambda/nowhere" in reason
    )


@pytest.mark.parametrize(
    ("kind", "words"),
    [
        ("EMR", "EMR steps are not supported by sagebox"),
        ("ClarifyCheck", "ClarifyCheck steps are not available in sagebox yet"),
        ("QualityCheck", "QualityCheck steps are not available in sagebox yet"),
    ],
)
def test_step_types_sagebox_does_not_run_fail_clearly(
    sagemaker: Any, kind: str, words: str
) -> None:
    arn = create_and_start(
        sagemaker,
        unique(kind.lower()),
        definition([{"Name": "Unsupported", "Type": kind, "Arguments": {}}]),
    )
    described = wait_execution(sagemaker, arn, timeout=30)
    assert described["PipelineExecutionStatus"] == "Failed" and words in described["FailureReason"]
