"""The engine's decisions, without a server: which steps run next, retries, cache keys, names,
and the job lifecycle speaking a family's own status words."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from sagebox.services.families import PIPELINE_EXECUTION, TRAINING_JOB
from sagebox.services.job_states import JobStates
from sagebox.services.pipelines.cache import cache_key, key_attributes, parse_duration
from sagebox.services.pipelines.definition import RetryPolicy, parse_definition
from sagebox.services.pipelines.graph import FAILED, SUCCEEDED, PipelineGraph
from sagebox.services.pipelines.naming import execution_arn, execution_id_of, job_name
from sagebox.services.pipelines.retry import failure_type, retry_delay
from sagebox.store import ResourceRecord
from tests.services.pipelines.definitions import (
    condition,
    definition,
    fail,
    get,
    processing,
    s3_input,
)


def abalone_like() -> PipelineGraph:
    uri = get("Steps.Prep.ProcessingOutputConfig.Outputs['out'].S3Output.S3Uri")
    steps = [
        processing("Prep"),
        processing("Side"),
        processing("Train", inputs=[s3_input("in", uri)]),
        condition(
            "Check",
            [{"Type": "Equals", "LeftValue": 1, "RightValue": 1}],
            [
                processing("Register", DependsOn=["Train"]),
                processing(
                    "Deploy",
                    inputs=[
                        s3_input(
                            "m",
                            get(
                                "Steps.Register.ProcessingOutputConfig.Outputs['out'].S3Output.S3Uri"
                            ),
                        )
                    ],
                ),
            ],
            [fail("Stop", "no")],
            DependsOn=["Train"],
        ),
        processing("Report", DependsOn=["Deploy"]),
    ]
    return PipelineGraph(parse_definition(definition(steps)))


def test_ready_steps_follow_their_inputs_in_definition_order() -> None:
    graph = abalone_like()
    assert graph.next_steps({}, {}).ready == ("Prep", "Side")
    assert graph.next_steps({"Prep": SUCCEEDED}, {}).ready == ("Side", "Train")
    assert graph.next_steps(
        {"Prep": SUCCEEDED, "Side": SUCCEEDED, "Train": SUCCEEDED}, {}
    ).ready == ("Check",)


def test_a_condition_outcome_runs_one_branch_and_skips_the_other_with_what_follows_it() -> None:
    graph = abalone_like()
    done = {"Prep": SUCCEEDED, "Side": SUCCEEDED, "Train": SUCCEEDED, "Check": SUCCEEDED}
    taken = graph.next_steps(done, {"Check": True})
    assert taken.ready == ("Register",) and taken.skipped == ("Stop",)
    other = graph.next_steps(done, {"Check": False})
    assert other.ready == ("Stop",)
    assert set(other.skipped) == {"Register", "Deploy", "Report"}


def test_a_failed_step_blocks_what_needs_it() -> None:
    graph = abalone_like()
    assert graph.next_steps({"Prep": FAILED}, {}).ready == ("Side",)
    assert graph.upstream({"Deploy"}) == {"Register", "Check", "Train", "Prep"}


def test_retry_policies_match_types_back_off_and_stop() -> None:
    policies = (
        RetryPolicy(
            ("SageMaker.RESOURCE_LIMIT",), interval_seconds=2, backoff_rate=3, max_attempts=2
        ),
        RetryPolicy(
            ("SageMaker.JOB_INTERNAL_ERROR",),
            interval_seconds=1,
            backoff_rate=2,
            expire_after_minutes=1,
        ),
    )
    assert retry_delay(policies, "SageMaker.RESOURCE_LIMIT", 1, 0, 0) == 2
    assert retry_delay(policies, "SageMaker.RESOURCE_LIMIT", 2, 0, 0) == 6
    assert retry_delay(policies, "SageMaker.RESOURCE_LIMIT", 3, 0, 0) is None  # two retries made
    assert retry_delay(policies, "SageMaker.JOB_INTERNAL_ERROR", 3, 100, 150) == 4
    assert (
        retry_delay(policies, "SageMaker.JOB_INTERNAL_ERROR", 3, 100, 158) is None
    )  # past a minute by then
    assert retry_delay(policies, "SageMaker.CAPACITY_ERROR", 1, 0, 0) is None
    assert (
        retry_delay((), "Step.SERVICE_FAULT", 1, 0, 0) == 1
    )  # SageMaker retries service faults anyway
    assert retry_delay((), None, 1, 0, 0) is None
    assert failure_type("InternalServerError: boom") == "SageMaker.JOB_INTERNAL_ERROR"
    assert failure_type("CapacityError: none left") == "SageMaker.CAPACITY_ERROR"
    assert failure_type("AlgorithmError: my bug") is None


def test_cache_keys_take_only_the_step_types_key_attributes() -> None:
    arguments = {
        "AppSpecification": {"ImageUri": "x"},
        "ProcessingInputs": [{"S3Input": {"S3Uri": "s3://b/in"}}],
        "ProcessingOutputConfig": {"Outputs": [{"S3Output": {"S3Uri": "s3://b/execution-1/out"}}]},
    }
    moved = {
        **arguments,
        "ProcessingOutputConfig": {"Outputs": [{"S3Output": {"S3Uri": "s3://b/execution-2/out"}}]},
    }
    changed = {**arguments, "ProcessingInputs": [{"S3Input": {"S3Uri": "s3://b/other"}}]}
    key = cache_key("arn:p", "Prep", "Processing", arguments)
    assert key == cache_key("arn:p", "Prep", "Processing", moved)
    assert key != cache_key("arn:p", "Prep", "Processing", changed)
    assert key != cache_key("arn:other", "Prep", "Processing", arguments)
    tuning = key_attributes(
        "Tuning",
        {"TrainingJobDefinition": {"StaticHyperParameters": {"a": "1"}, "OutputDataConfig": {}}},
    )
    assert tuning == {"TrainingJobDefinition": {"StaticHyperParameters": {"a": "1"}}}
    assert parse_duration("PT1H") == 3600
    assert parse_duration("P30D") == 30 * 86400
    assert parse_duration("30dT5h") == 30 * 86400 + 5 * 3600
    assert parse_duration("T16m") == 16 * 60
    with pytest.raises(ValueError, match="ISO 8601"):
        parse_duration("P")


def test_names_fit_what_each_kind_of_job_allows() -> None:
    name = job_name(
        "TrainingJob", "abcdefghijkl", "A_Very_Long_Step_Name_That_Goes_On_And_On_And_On"
    )
    assert (
        len(name) <= 63
        and name.startswith("pipelines-abcdefghijkl-a-very-long")
        and name == name.lower()
    )
    assert len(job_name("HyperParameterTuningJob", "abcdefghijkl", "Tune")) <= 32
    arn = execution_arn("arn:aws:sagemaker:us-east-1:123456789012:pipeline/p", "abcdefghijkl")
    assert execution_id_of(arn) == "abcdefghijkl"
    assert execution_id_of("arn:aws:sagemaker:us-east-1:123456789012:pipeline/p") is None


def record(status: str) -> ResourceRecord:
    moment = datetime.now(UTC)
    return ResourceRecord("PipelineExecution", "x", "arn", status, moment, moment, {})


def test_a_family_names_the_lifecycle_states_in_its_own_words() -> None:
    states = JobStates(
        PIPELINE_EXECUTION, words={"InProgress": "Executing", "Completed": "Succeeded"}
    )
    running = record("Executing")
    assert states.state_of(running) == "InProgress" and not states.is_terminal(running)
    states.advance(running, "Completed", 10.0)
    assert (
        running.status == "Succeeded" and running.document["PipelineExecutionStatus"] == "Succeeded"
    )
    assert states.is_terminal(running)
    assert states.words(["InProgress", "Stopping"]) == ["Executing", "Stopping"]
    training = JobStates(TRAINING_JOB)
    assert training.word("InProgress") == "InProgress"
    with pytest.raises(ValueError, match="not lifecycle states"):
        JobStates(PIPELINE_EXECUTION, words={"Running": "Executing"})
    with pytest.raises(ValueError, match="share one word"):
        JobStates(PIPELINE_EXECUTION, words={"InProgress": "Failed"})
