"""Experiments, trials and trial components through boto3 against a live server."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.services.training.jobs import unique


def _error(call: Any, **kwargs: Any) -> dict[str, str]:
    with pytest.raises(ClientError) as caught:
        call(**kwargs)
    return caught.value.response["Error"]


def _parents(sagemaker: Any, component: str) -> list[dict[str, str]]:
    found = sagemaker.search(
        Resource="ExperimentTrialComponent",
        SearchExpression={"Filters": [{"Name": "TrialComponentName", "Operator": "Equals", "Value": component}]},
    )["Results"]
    return found[0]["TrialComponent"]["Parents"]


def test_experiment_lifecycle_and_its_errors(sagemaker: Any) -> None:
    name = unique("Exp")
    arn = sagemaker.create_experiment(
        ExperimentName=name, Description="first", Tags=[{"Key": "team", "Value": "ml"}]
    )["ExperimentArn"]
    assert arn.endswith(f":experiment/{name.lower()}")
    described = sagemaker.describe_experiment(ExperimentName=name.upper())  # names ignore case
    assert (described["ExperimentName"], described["DisplayName"], described["Description"]) == (name, name, "first")
    assert described["CreationTime"] == described["LastModifiedTime"]

    error = _error(sagemaker.create_experiment, ExperimentName=name.lower())
    assert error["Code"] == "ValidationException"
    assert error["Message"] == f"Experiment '{arn}' already exists."

    time.sleep(0.01)
    sagemaker.update_experiment(ExperimentName=name, DisplayName="Shown", Description="second")
    updated = sagemaker.describe_experiment(ExperimentName=name)
    assert (updated["DisplayName"], updated["Description"]) == ("Shown", "second")
    assert updated["LastModifiedTime"] > updated["CreationTime"]
    assert sagemaker.list_tags(ResourceArn=arn)["Tags"] == [{"Key": "team", "Value": "ml"}]

    sagemaker.delete_experiment(ExperimentName=name)
    error = _error(sagemaker.describe_experiment, ExperimentName=name)
    assert error["Code"] == "ResourceNotFound"
    assert error["Message"] == f"Experiment '{arn}' does not exist."
    assert _error(sagemaker.delete_experiment, ExperimentName=name)["Code"] == "ResourceNotFound"
    assert _error(sagemaker.update_experiment, ExperimentName=name, DisplayName="x")["Code"] == "ResourceNotFound"


def test_list_experiments_sorts_filters_and_pages(sagemaker: Any) -> None:
    prefix = unique("lst")
    before = datetime.now(UTC) - timedelta(seconds=1)
    names = [f"{prefix}-{letter}" for letter in "cab"]
    for name in names:
        sagemaker.create_experiment(ExperimentName=name)
        time.sleep(0.01)
    after = datetime.now(UTC) + timedelta(seconds=1)

    def listed(**kwargs: Any) -> list[str]:
        found, token = [], None
        while True:
            page = sagemaker.list_experiments(**kwargs, **({"NextToken": token} if token else {}))
            found += [s["ExperimentName"] for s in page["ExperimentSummaries"] if s["ExperimentName"] in names]
            token = page.get("NextToken")
            if not token:
                return found

    assert listed(CreatedAfter=before, MaxResults=2) == names[::-1]  # newest first by default
    assert listed(CreatedAfter=before, SortBy="Name", SortOrder="Ascending", MaxResults=1) == sorted(names)
    assert listed(CreatedAfter=after) == []
    assert listed(CreatedBefore=before) == []
    summary = sagemaker.list_experiments(CreatedAfter=before, SortBy="Name", SortOrder="Ascending")
    first = next(s for s in summary["ExperimentSummaries"] if s["ExperimentName"] == f"{prefix}-a")
    assert set(first) == {"ExperimentArn", "ExperimentName", "DisplayName", "CreationTime", "LastModifiedTime"}
    error = _error(sagemaker.list_experiments, NextToken="not-a-token")
    assert error["Code"] == "ValidationException"


def test_trials_belong_to_an_existing_experiment(sagemaker: Any) -> None:
    experiment, other = unique("exp"), unique("exp")
    missing = unique("missing")
    error = _error(sagemaker.create_trial, TrialName=unique("t"), ExperimentName=missing)
    assert error["Code"] == "ResourceNotFound"
    assert error["Message"].endswith(f":experiment/{missing}' does not exist.")

    sagemaker.create_experiment(ExperimentName=experiment)
    sagemaker.create_experiment(ExperimentName=other)
    trial = unique("trial")
    arn = sagemaker.create_trial(
        TrialName=trial, ExperimentName=experiment.upper(), MetadataProperties={"CommitId": "abc"}
    )["TrialArn"]
    assert arn.endswith(f":experiment-trial/{trial}")
    sagemaker.create_trial(TrialName=unique("trial"), ExperimentName=other)
    described = sagemaker.describe_trial(TrialName=trial)
    assert (described["ExperimentName"], described["DisplayName"]) == (experiment, trial)
    assert described["MetadataProperties"] == {"CommitId": "abc"}
    assert "TrialComponentSummaries" not in described  # a Search member, never in Describe

    error = _error(sagemaker.create_trial, TrialName=trial.upper(), ExperimentName=experiment)
    assert (error["Code"], error["Message"]) == ("ValidationException", f"Trial '{arn}' already exists.")
    sagemaker.update_trial(TrialName=trial, DisplayName="Renamed")
    assert sagemaker.describe_trial(TrialName=trial)["DisplayName"] == "Renamed"

    listed = sagemaker.list_trials(ExperimentName=experiment)["TrialSummaries"]
    assert [t["TrialName"] for t in listed] == [trial]
    assert _error(sagemaker.list_trials, ExperimentName=missing)["Code"] == "ResourceNotFound"

    error = _error(sagemaker.delete_experiment, ExperimentName=experiment)
    assert error["Code"] == "ValidationException"
    assert "still has 1 trial(s)" in error["Message"]
    sagemaker.delete_trial(TrialName=trial)
    sagemaker.delete_experiment(ExperimentName=experiment)
    assert _error(sagemaker.describe_trial, TrialName=trial)["Code"] == "ResourceNotFound"


def test_trial_component_members_updates_and_errors(sagemaker: Any) -> None:
    name = unique("tc")
    start = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
    arn = sagemaker.create_trial_component(
        TrialComponentName=name,
        DisplayName="Preprocess",
        Status={"PrimaryStatus": "InProgress", "Message": "working"},
        StartTime=start,
        Parameters={"lr": {"NumberValue": 0.1}, "optimizer": {"StringValue": "adam"}, "epochs": {"NumberValue": 3}},
        InputArtifacts={"data": {"Value": "s3://bucket/train.csv", "MediaType": "text/csv"}},
        OutputArtifacts={"model": {"Value": "s3://bucket/model.tar.gz"}},
        MetadataProperties={"Repository": "git://repo", "GeneratedBy": "test"},
    )["TrialComponentArn"]
    described = sagemaker.describe_trial_component(TrialComponentName=name)
    assert described["TrialComponentArn"] == arn
    assert described["Status"] == {"PrimaryStatus": "InProgress", "Message": "working"}
    assert described["StartTime"] == start
    assert described["Parameters"] == {
        "lr": {"NumberValue": 0.1}, "optimizer": {"StringValue": "adam"}, "epochs": {"NumberValue": 3.0}
    }
    assert described["InputArtifacts"]["data"] == {"Value": "s3://bucket/train.csv", "MediaType": "text/csv"}
    assert described["MetadataProperties"] == {"Repository": "git://repo", "GeneratedBy": "test"}
    assert described["Metrics"] == []
    assert "Parents" not in described
    assert sagemaker.describe_trial_component(TrialComponentName=arn)["TrialComponentName"] == name  # by ARN

    sagemaker.update_trial_component(
        TrialComponentName=name,
        Status={"PrimaryStatus": "Completed"},
        EndTime=start + timedelta(minutes=5),
        Parameters={"lr": {"NumberValue": 0.2}, "batch": {"NumberValue": 32}},
        ParametersToRemove=["optimizer"],
        OutputArtifactsToRemove=["model"],
    )
    updated = sagemaker.describe_trial_component(TrialComponentName=name)
    assert updated["Status"] == {"PrimaryStatus": "Completed"}
    assert updated["EndTime"] == start + timedelta(minutes=5)
    assert updated["Parameters"] == {
        "lr": {"NumberValue": 0.2}, "epochs": {"NumberValue": 3.0}, "batch": {"NumberValue": 32.0}
    }
    assert updated["OutputArtifacts"] == {}

    error = _error(sagemaker.create_trial_component, TrialComponentName=name.upper())
    assert (error["Code"], error["Message"]) == ("ValidationException", f"TrialComponent '{arn}' already exists.")
    error = _error(
        sagemaker.update_trial_component, TrialComponentName=name,
        Parameters={"lr": {"NumberValue": 1}}, ParametersToRemove=["lr"],
    )
    assert error["Code"] == "ValidationException" and "'lr'" in error["Message"]
    error = _error(
        sagemaker.create_trial_component, TrialComponentName=unique("tc"),
        Parameters={"x": {"NumberValue": 1, "StringValue": "1"}},
    )
    assert error["Message"] == "Parameters 'x' must have exactly one of StringValue and NumberValue; both were given."
    error = _error(sagemaker.create_trial_component, TrialComponentName=unique("tc"), Status={"PrimaryStatus": "Done"})
    assert error["Code"] == "ValidationException" and "enum value set" in error["Message"]
    error = _error(sagemaker.describe_trial_component, TrialComponentName=unique("absent"))
    assert error["Code"] == "ResourceNotFound"
    sagemaker.delete_trial_component(TrialComponentName=name)
    assert _error(sagemaker.delete_trial_component, TrialComponentName=name)["Code"] == "ResourceNotFound"


def test_association_is_kept_on_both_sides_and_guards_deletes(sagemaker: Any) -> None:
    experiment, trial, other_trial, component = unique("exp"), unique("trial"), unique("trial"), unique("tc")
    sagemaker.create_experiment(ExperimentName=experiment)
    sagemaker.create_trial(TrialName=trial, ExperimentName=experiment)
    sagemaker.create_trial(TrialName=other_trial, ExperimentName=experiment)
    component_arn = sagemaker.create_trial_component(TrialComponentName=component)["TrialComponentArn"]

    answer = sagemaker.associate_trial_component(TrialComponentName=component, TrialName=trial)
    assert answer["TrialComponentArn"] == component_arn and answer["TrialArn"].endswith(f"/{trial}")
    sagemaker.associate_trial_component(TrialComponentName=component, TrialName=trial)  # twice: no change
    sagemaker.associate_trial_component(TrialComponentName=component, TrialName=other_trial)
    assert _parents(sagemaker, component) == [
        {"TrialName": trial, "ExperimentName": experiment},
        {"TrialName": other_trial, "ExperimentName": experiment},
    ]
    trial_record = sagemaker.search(
        Resource="ExperimentTrial",
        SearchExpression={"Filters": [{"Name": "TrialName", "Operator": "Equals", "Value": trial}]},
    )["Results"][0]["Trial"]
    assert [s["TrialComponentName"] for s in trial_record["TrialComponentSummaries"]] == [component]
    listed = sagemaker.list_trials(TrialComponentName=component)["TrialSummaries"]
    assert sorted(t["TrialName"] for t in listed) == sorted([trial, other_trial])

    assert _error(sagemaker.associate_trial_component, TrialComponentName=component, TrialName=unique("x"))[
        "Code"
    ] == "ResourceNotFound"
    assert _error(sagemaker.associate_trial_component, TrialComponentName=unique("x"), TrialName=trial)[
        "Code"
    ] == "ResourceNotFound"

    error = _error(sagemaker.delete_trial_component, TrialComponentName=component)
    assert error["Code"] == "ValidationException" and "associated with 2 trial(s)" in error["Message"]
    error = _error(sagemaker.delete_trial, TrialName=trial)
    assert error["Code"] == "ValidationException" and component in error["Message"]

    sagemaker.disassociate_trial_component(TrialComponentName=component, TrialName=trial)
    assert _parents(sagemaker, component) == [{"TrialName": other_trial, "ExperimentName": experiment}]
    error = _error(sagemaker.disassociate_trial_component, TrialComponentName=component, TrialName=trial)
    assert error["Code"] == "ResourceNotFound" and "is not associated with" in error["Message"]
    sagemaker.delete_trial(TrialName=trial)
    sagemaker.disassociate_trial_component(TrialComponentName=component, TrialName=other_trial)
    assert _parents(sagemaker, component) == []
    sagemaker.delete_trial_component(TrialComponentName=component)
    sagemaker.delete_trial(TrialName=other_trial)
    sagemaker.delete_experiment(ExperimentName=experiment)


def test_list_trial_components_by_experiment_trial_source_time_and_pages(sagemaker: Any) -> None:
    experiment, trial = unique("exp"), unique("trial")
    sagemaker.create_experiment(ExperimentName=experiment)
    sagemaker.create_trial(TrialName=trial, ExperimentName=experiment)
    before = datetime.now(UTC) - timedelta(seconds=1)
    names = [unique(f"tc{i}") for i in range(5)]
    for name in names:
        sagemaker.create_trial_component(TrialComponentName=name)
        sagemaker.associate_trial_component(TrialComponentName=name, TrialName=trial)
        time.sleep(0.01)
    loose = unique("loose")
    sagemaker.create_trial_component(TrialComponentName=loose)

    def every(**kwargs: Any) -> list[str]:
        found, token = [], None
        while True:
            page = sagemaker.list_trial_components(**kwargs, **({"NextToken": token} if token else {}))
            assert len(page["TrialComponentSummaries"]) <= kwargs.get("MaxResults", 10)
            found += [s["TrialComponentName"] for s in page["TrialComponentSummaries"]]
            token = page.get("NextToken")
            if not token:
                return found

    assert every(ExperimentName=experiment, MaxResults=2) == names[::-1]
    assert every(TrialName=trial, SortBy="Name", SortOrder="Ascending") == sorted(names)
    assert loose in every(CreatedAfter=before, MaxResults=100)
    assert every(TrialName=trial, CreatedBefore=before) == []
    summary = sagemaker.list_trial_components(TrialName=trial, MaxResults=1)["TrialComponentSummaries"][0]
    assert summary["TrialComponentName"] == names[-1] and summary["DisplayName"] == names[-1]
    error = _error(sagemaker.list_trial_components, ExperimentName=experiment, TrialName=trial)
    assert error["Code"] == "ValidationException"
    assert error["Message"].endswith("ExperimentName and TrialName were given.")
    assert _error(sagemaker.list_trial_components, TrialName=unique("nope"))["Code"] == "ResourceNotFound"
    assert every(SourceArn="arn:aws:sagemaker:us-east-1:123456789012:training-job/none") == []
