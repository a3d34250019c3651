"""Search over trial components the way the SDK and notebooks filter and sort them."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError

from tests.services.training.jobs import unique


def _names(sagemaker: Any, experiment: str, *filters: dict[str, str], **extra: Any) -> list[str]:
    expression = {"Filters": [{"Name": "Parents.ExperimentName", "Operator": "Equals", "Value": experiment}, *filters]}
    found = sagemaker.search(Resource="ExperimentTrialComponent", SearchExpression=expression, **extra)["Results"]
    return [r["TrialComponent"]["TrialComponentName"] for r in found]


def test_filters_on_parameters_metrics_and_tags_and_sorts_by_a_metric(sagemaker: Any) -> None:
    metrics = boto3.client("sagemaker-metrics")
    experiment, trial = unique("search"), unique("trial")
    sagemaker.create_experiment(ExperimentName=experiment)
    sagemaker.create_trial(TrialName=trial, ExperimentName=experiment)
    names = [unique(f"c{i}") for i in range(3)]
    now = datetime.now(UTC)
    for index, name in enumerate(names):
        sagemaker.create_trial_component(
            TrialComponentName=name,
            Parameters={"lr": {"NumberValue": 0.1 * (index + 1)}, "opt": {"StringValue": ["adam", "sgd", "adam"][index]}},
            Tags=[{"Key": "team", "Value": "a" if index < 2 else "b"}],
        )
        sagemaker.associate_trial_component(TrialComponentName=name, TrialName=trial)
        metrics.batch_put_metrics(
            TrialComponentName=name,
            MetricData=[{"MetricName": "acc", "Value": v, "Timestamp": now} for v in (0.5, [0.9, 0.7, 0.8][index])],
        )

    gt = {"Name": "Parameters.lr", "Operator": "GreaterThan", "Value": "0.15"}
    assert sorted(_names(sagemaker, experiment, gt)) == sorted(names[1:])
    assert sorted(_names(sagemaker, experiment, {"Name": "Parameters.opt", "Operator": "Equals", "Value": "adam"})) == (
        sorted([names[0], names[2]])
    )
    not_two = {"Name": "Parameters.lr", "Operator": "NotEquals", "Value": "0.2"}
    assert sorted(_names(sagemaker, experiment, not_two)) == sorted([names[0], names[2]])
    best = {"Name": "Metrics.acc.Max", "Operator": "GreaterThanOrEqualTo", "Value": "0.8"}
    assert _names(sagemaker, experiment, best, SortBy="Metrics.acc.Max", SortOrder="Descending") == [
        names[0], names[2]
    ]
    assert _names(sagemaker, experiment, {"Name": "Tags.team", "Operator": "Equals", "Value": "b"}) == [names[2]]
    page = sagemaker.search(
        Resource="ExperimentTrialComponent",
        SearchExpression={"Filters": [{"Name": "Parents.TrialName", "Operator": "Equals", "Value": trial}]},
        SortBy="TrialComponentName", SortOrder="Ascending", MaxResults=2,
    )
    assert [r["TrialComponent"]["TrialComponentName"] for r in page["Results"]] == sorted(names)[:2]
    rest = sagemaker.search(
        Resource="ExperimentTrialComponent",
        SearchExpression={"Filters": [{"Name": "Parents.TrialName", "Operator": "Equals", "Value": trial}]},
        SortBy="TrialComponentName", SortOrder="Ascending", MaxResults=2, NextToken=page["NextToken"],
    )
    assert [r["TrialComponent"]["TrialComponentName"] for r in rest["Results"]] == sorted(names)[2:]
    assert page["Results"][0]["TrialComponent"]["Tags"] in ([{"Key": "team", "Value": "a"}], [{"Key": "team", "Value": "b"}])


@pytest.mark.parametrize(
    ("request_", "wording"),
    [
        ({"Resource": "ExperimentTrialComponent",
          "SearchExpression": {"Filters": [{"Name": "NoSuch.Thing", "Operator": "Equals", "Value": "x"}]}},
         "'NoSuch.Thing' is not a searchable property"),
        ({"Resource": "ExperimentTrialComponent",
          "SearchExpression": {"Filters": [{"Name": "Metrics.acc.Max", "Operator": "GreaterThan", "Value": "high"}]}},
         "must be an integer or a decimal number, got 'high'"),
    ],
)
def test_searches_it_cannot_answer_say_why(sagemaker: Any, request_: dict[str, Any], wording: str) -> None:
    with pytest.raises(ClientError) as caught:
        sagemaker.search(**request_)
    assert caught.value.response["Error"]["Code"] == "ValidationException"
    assert wording in caught.value.response["Error"]["Message"]
