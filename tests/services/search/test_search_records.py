"""Search over kinds whose families are built elsewhere, with records written through the store.

Trial components, trials, experiments and model packages are stored by their own
services (in other branches); their stored documents are their Describe answers
plus Search-only members (a trial component's Parents, a trial's
TrialComponentSummaries). Here they are written directly, as those services will,
and searched through `SearchService`, whose answers are then serialized with
botocore's Search output shape as the edge would. Runs on SQLite and PostgreSQL.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest

from sagebox.edge import json_protocol
from sagebox.service_models import operation_model
from sagebox.services.errors import ValidationError
from sagebox.services.search import SearchService
from sagebox.store import MetadataStore, ResourceRecord

ARN = "arn:aws:sagemaker:us-east-1:123456789012"
T0 = 1_714_564_800.0  # 2024-05-01T12:00:00Z
METRICS = {  # name -> (Max, Min, Last, Avg) per component
    "tc-a": {"train:loss": (0.9, 0.2, 0.25, 0.4), "validation:auc": (0.81, 0.5, 0.8, 0.7)},
    "tc-b": {"train:loss": (0.7, 0.1, 0.1, 0.3), "validation:auc": (0.93, 0.6, 0.93, 0.8)},
    "tc-c": {"train:loss": (1.2, 0.4, 0.45, 0.6)},
    "tc-d": {"validation:auc": (0.88, 0.7, 0.85, 0.8)},
}
PARENTS = {
    "tc-a": ("t1", "exp-1"),
    "tc-b": ("t1", "exp-1"),
    "tc-c": ("t2", "exp-1"),
    "tc-d": ("t3", "exp-2"),
}
LEARNING_RATES = {"tc-a": 0.1, "tc-b": 0.01, "tc-c": 0.3, "tc-d": 0.05}


def trial_component(name: str, index: int) -> dict[str, Any]:
    trial, experiment = PARENTS[name]
    return {
        "TrialComponentName": name,
        "TrialComponentArn": f"{ARN}:experiment-trial-component/{name}",
        "DisplayName": f"Run {name}",
        "Status": {"PrimaryStatus": "Completed"},
        "StartTime": T0 + index * 60,
        "EndTime": T0 + index * 60 + 30,
        "CreationTime": T0 + index * 60,
        "LastModifiedTime": T0 + index * 60 + 30,
        "Parameters": {
            "learning_rate": {"NumberValue": LEARNING_RATES[name]},
            "optimizer": {"StringValue": "adam" if index % 2 else "sgd"},
        },
        "InputArtifacts": {
            "train": {"Value": f"s3://data/{name}/train.csv", "MediaType": "text/csv"}
        },
        "Metrics": [
            {
                "MetricName": metric,
                "SourceArn": f"{ARN}:training-job/{name}",
                "TimeStamp": T0 + index * 60 + 30,
                "Max": high,
                "Min": low,
                "Last": last,
                "Count": 10,
                "Avg": mean,
                "StdDev": 0.1,
            }  # fmt: skip
            for metric, (high, low, last, mean) in METRICS[name].items()
        ],
        "Parents": [{"TrialName": trial, "ExperimentName": experiment}],
    }


def put(
    store: MetadataStore, kind: str, name: str, document: dict[str, Any], arn: str, index: int
) -> None:
    moment = datetime.fromtimestamp(T0 + index * 60 + 30, UTC)
    store.resources(kind).create(
        ResourceRecord(kind, name, arn, "Completed", moment, moment, document)
    )


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def search(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[SearchService]:
    server = None
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path_factory.mktemp('search') / 'sagebox.db'}"
    else:
        server = request.getfixturevalue("postgres_server")
        url = server.create_database()
    store = MetadataStore(url)
    service = SearchService(store)  # declares the indexes before the records arrive
    for index, name in enumerate(METRICS):
        put(
            store,
            "TrialComponent",
            name,
            trial_component(name, index),
            f"{ARN}:experiment-trial-component/{name}",
            index,
        )
    store.tags.add(
        f"{ARN}:experiment-trial-component/tc-b", [{"Key": "sagemaker:run", "Value": "yes"}]
    )
    for index, (trial, experiment) in enumerate(
        [("t1", "exp-1"), ("t2", "exp-1"), ("t3", "exp-2")]
    ):
        document = {
            "TrialName": trial, "TrialArn": f"{ARN}:experiment-trial/{trial}", "ExperimentName": experiment,
            "DisplayName": trial.upper(), "CreationTime": T0 + index, "LastModifiedTime": T0 + index,
            "TrialComponentSummaries": [
                {"TrialComponentName": tc, "TrialComponentArn": f"{ARN}:experiment-trial-component/{tc}"}
                for tc, (parent, _) in PARENTS.items() if parent == trial
            ],
        }  # fmt: skip
        put(store, "Trial", trial, document, f"{ARN}:experiment-trial/{trial}", index)
    for index, name in enumerate(["exp-1", "exp-2"]):
        document = {
            "ExperimentName": name,
            "ExperimentArn": f"{ARN}:experiment/{name}",
            "DisplayName": name,
        }
        put(store, "Experiment", name, document, f"{ARN}:experiment/{name}", index)
    for index, (version, status) in enumerate([(1, "Approved"), (2, "Rejected"), (3, "Approved")]):
        name = f"churn/{version}"
        document = {
            "ModelPackageName": "churn", "ModelPackageGroupName": "churn", "ModelPackageVersion": version,
            "ModelPackageArn": f"{ARN}:model-package/churn/{version}", "ModelApprovalStatus": status,
            "ModelPackageStatus": "Completed", "CreationTime": T0 + index,
        }  # fmt: skip
        put(store, "ModelPackage", name, document, document["ModelPackageArn"], index)
    group = {
        "ModelPackageGroupName": "churn",
        "ModelPackageGroupArn": f"{ARN}:model-package-group/churn",
    }
    put(store, "ModelPackageGroup", "churn", group, group["ModelPackageGroupArn"], 0)
    try:
        yield service
    finally:
        store.close()
        if server is not None:
            server.drop_database(url)


def answer(service: SearchService, **request: Any) -> dict[str, Any]:
    """The service's answer as the edge serializes it (botocore's Search output shape)."""
    return json_protocol.serialize(
        operation_model("sagemaker", "Search").output_shape, service.search(request)
    )


def names(result: dict[str, Any], member: str = "TrialComponent") -> list[str]:
    name_member = {
        "TrialComponent": "TrialComponentName",
        "Trial": "TrialName",
        "Experiment": "ExperimentName",
    }
    return [
        record[member][name_member.get(member, f"{member}Name")] for record in result["Results"]
    ]


def filters(*items: tuple[str, str, str | None]) -> dict[str, Any]:
    return {
        "Filters": [
            {"Name": n, "Operator": o, **({"Value": v} if v is not None else {})}
            for n, o, v in items
        ]
    }


def test_metric_filter_and_sort_on_a_statistic(search: SearchService) -> None:
    found = answer(
        search, Resource="ExperimentTrialComponent", SortBy="Metrics.validation:auc.Max", SortOrder="Descending",
        SearchExpression=filters(("Metrics.validation:auc.Max", "GreaterThan", "0.85")),
    )  # fmt: skip
    assert names(found) == ["tc-b", "tc-d"]
    assert found["TotalHits"] == {"Value": 2, "Relation": "EqualTo"}
    ascending = answer(
        search,
        Resource="ExperimentTrialComponent",
        SortBy="Metrics.train:loss.Last",
        SortOrder="Ascending",
    )
    assert names(ascending) == ["tc-b", "tc-a", "tc-c", "tc-d"]  # tc-d has no train:loss: last


def test_parents_parameters_and_artifacts(search: SearchService) -> None:
    by_experiment = answer(
        search, Resource="ExperimentTrialComponent", SortBy="Parameters.learning_rate", SortOrder="Ascending",
        SearchExpression=filters(("Parents.ExperimentName", "Equals", "exp-1")),
    )  # fmt: skip
    assert names(by_experiment) == ["tc-b", "tc-a", "tc-c"]
    both = filters(("TrialComponentName", "Equals", "tc-a"), ("Parents.TrialName", "Equals", "t1"))
    assert names(answer(search, Resource="ExperimentTrialComponent", SearchExpression=both)) == [
        "tc-a"
    ]
    numeric = filters(("Parameters.learning_rate", "LessThan", "0.06"))
    assert sorted(
        names(answer(search, Resource="ExperimentTrialComponent", SearchExpression=numeric))
    ) == ["tc-b", "tc-d"]
    text = filters(("Parameters.optimizer", "Equals", "adam"))
    assert sorted(
        names(answer(search, Resource="ExperimentTrialComponent", SearchExpression=text))
    ) == ["tc-b", "tc-d"]
    artifacts = filters(
        ("InputArtifacts.train.Value", "Contains", "tc-c"), ("DisplayName", "Contains", "Run")
    )
    assert names(
        answer(search, Resource="ExperimentTrialComponent", SearchExpression=artifacts)
    ) == ["tc-c"]


def test_nested_filters_need_one_metric_to_satisfy_all(search: SearchService) -> None:
    nested = {
        "NestedFilters": [
            {
                "NestedPropertyName": "Metrics",
                "Filters": [
                    {"Name": "Metrics.MetricName", "Operator": "Equals", "Value": "train:loss"},
                    {"Name": "Metrics.Max", "Operator": "GreaterThan", "Value": "0.85"},
                ],
            }
        ]
    }
    found = answer(
        search,
        Resource="ExperimentTrialComponent",
        SearchExpression=nested,
        SortBy="TrialComponentName",
    )
    assert names(found) == ["tc-c", "tc-a"]


def test_timestamps_and_sub_expressions(search: SearchService) -> None:
    later = filters(("StartTime", "GreaterThanOrEqualTo", "2024-05-01T12:02:00"))
    assert sorted(
        names(answer(search, Resource="ExperimentTrialComponent", SearchExpression=later))
    ) == ["tc-c", "tc-d"]
    either = {
        "Operator": "Or",
        "SubExpressions": [
            filters(("Parents.ExperimentName", "Equals", "exp-2")),
            {"Filters": [{"Name": "Tags.sagemaker:run", "Operator": "Exists"}]},
        ],
    }
    found = answer(
        search,
        Resource="ExperimentTrialComponent",
        SearchExpression=either,
        SortBy="TrialComponentName",
        SortOrder="Ascending",
    )
    assert names(found) == ["tc-b", "tc-d"]
    assert found["Results"][0]["TrialComponent"]["Tags"] == [
        {"Key": "sagemaker:run", "Value": "yes"}
    ]


def test_records_carry_search_only_members(search: SearchService) -> None:
    component = answer(
        search,
        Resource="ExperimentTrialComponent",
        SearchExpression=filters(("TrialComponentName", "Equals", "tc-a")),
    )
    record = component["Results"][0]["TrialComponent"]
    assert record["Parents"] == [{"TrialName": "t1", "ExperimentName": "exp-1"}]
    assert record["Metrics"][0]["MetricName"] == "train:loss" and record["Tags"] == []
    trials = answer(search, Resource="ExperimentTrial", SortBy="TrialName", SortOrder="Ascending",
                    SearchExpression=filters(("ExperimentName", "Equals", "exp-1")))  # fmt: skip
    assert names(trials, "Trial") == ["t1", "t2"]
    summaries = trials["Results"][0]["Trial"]["TrialComponentSummaries"]
    assert [s["TrialComponentName"] for s in summaries] == ["tc-a", "tc-b"]
    experiments = answer(
        search, Resource="Experiment", SearchExpression=filters(("DisplayName", "Contains", "exp"))
    )
    assert sorted(names(experiments, "Experiment")) == ["exp-1", "exp-2"]


def test_model_packages_and_groups(search: SearchService) -> None:
    approved = answer(
        search, Resource="ModelPackage", SortBy="ModelPackageVersion", SortOrder="Descending",
        SearchExpression=filters(("ModelPackageGroupName", "Equals", "churn"), ("ModelApprovalStatus", "Equals", "Approved")),
    )  # fmt: skip
    assert [r["ModelPackage"]["ModelPackageVersion"] for r in approved["Results"]] == [3, 1]
    groups = answer(
        search,
        Resource="ModelPackageGroup",
        SearchExpression=filters(("ModelPackageGroupName", "Equals", "churn")),
    )
    assert [r["ModelPackageGroup"]["ModelPackageGroupName"] for r in groups["Results"]] == ["churn"]


def test_paging_with_next_token(search: SearchService) -> None:
    seen: list[str] = []
    request: dict[str, Any] = {
        "Resource": "ExperimentTrialComponent",
        "SortBy": "Metrics.validation:auc.Avg",
        "MaxResults": 1,
    }
    for _ in range(10):
        page = answer(search, **request)
        seen += names(page)
        assert page["TotalHits"]["Value"] == 4
        if "NextToken" not in page:
            break
        request["NextToken"] = page["NextToken"]
    assert seen == ["tc-d", "tc-b", "tc-a", "tc-c"]  # Avg 0.8, 0.8 (names descending), 0.7, none
    with pytest.raises(ValidationError, match="pagination token"):
        search.search({"Resource": "ExperimentTrial", "NextToken": request["NextToken"]})


@pytest.mark.parametrize(
    ("expression", "message"),
    [
        (
            filters(("Metrics.validation:auc", "GreaterThan", "0.5")),
            "Metrics.<metric name>.<statistic>",
        ),
        (filters(("Metrics.validation:auc.Median", "GreaterThan", "0.5")), "statistic one of"),
        (filters(("Parents.Nope", "Equals", "x")), "'Parents.Nope' is not a searchable property"),
        (
            filters(("DisplayName", "LessThan", "x")),
            "not supported for 'DisplayName', which is text",
        ),
        (filters(("StartTime", "GreaterThan", "yesterday")), "must be a timestamp"),
        (filters(("Metrics.train:loss.Max", "Contains", "1")), "not supported"),
        (filters(("Parents", "Equals", "x")), "only Exists and NotExists"),
        (
            filters(("Source.SourceArn", "Contains", "a"), ("Status.Message", "Contains", "b")),
            "'CONTAINS' operator usage limit of 1 exceeded.",
        ),
    ],
)
def test_refusals_name_the_filter(
    search: SearchService, expression: dict[str, Any], message: str
) -> None:
    with pytest.raises(
        ValidationError, match=message.replace(".", r"\.").replace("<", "<").replace("(", r"\(")
    ):
        search.search({"Resource": "ExperimentTrialComponent", "SearchExpression": expression})


def test_contains_may_repeat_on_names_and_artifacts(search: SearchService) -> None:
    several = filters(
        ("DisplayName", "Contains", "Run"),
        ("TrialComponentName", "Contains", "tc"),
        ("InputArtifacts.train.Value", "Contains", "s3"),
    )
    assert (
        len(
            answer(search, Resource="ExperimentTrialComponent", SearchExpression=several)["Results"]
        )
        == 4
    )


@pytest.mark.parametrize(
    ("name", "value"),
    [('Parameters.a"b', "1"), ("DisplayName", "a\x00b"), ('InputArtifacts.a"b.Value', "x")],
)
def test_names_and_values_a_query_cannot_state_are_refused(
    search: SearchService, name: str, value: str
) -> None:
    expression = filters((name, "Equals", value))
    with pytest.raises(ValidationError, match="cannot be searched"):
        search.search({"Resource": "ExperimentTrialComponent", "SearchExpression": expression})
    if '"' in name:
        with pytest.raises(ValidationError, match="cannot be searched"):
            search.search({"Resource": "ExperimentTrialComponent", "SortBy": name})


def test_visibility_conditions_and_other_accounts(search: SearchService) -> None:
    visible = answer(
        search,
        Resource="ExperimentTrialComponent",
        SortBy="TrialComponentName",
        SortOrder="Ascending",
        VisibilityConditions=[{"Key": "Tags.sagemaker:run", "Value": "no"}],
    )
    assert names(visible) == ["tc-a", "tc-c", "tc-d"]  # tc-b's tag has another value
    shared = answer(
        search, Resource="ExperimentTrialComponent", CrossAccountFilterOption="CrossAccount"
    )
    assert shared == {"Results": [], "TotalHits": {"Value": 0, "Relation": "EqualTo"}}
    with pytest.raises(ValidationError, match="Tags.<key>"):
        search.search(
            {"Resource": "Experiment", "VisibilityConditions": [{"Key": "team", "Value": "x"}]}
        )
