"""The definition language, without a server: parsing, validation, expressions, conditions."""

from __future__ import annotations

import json
from typing import Any

import pytest

from sagebox.services.pipelines.conditions import ConditionError, compare, holds_all
from sagebox.services.pipelines.definition import DefinitionError, parse_definition
from sagebox.services.pipelines.expressions import (
    Attribute,
    ExpressionError,
    Index,
    Key,
    PropertyFileRef,
    PropertyRef,
    as_text,
    evaluate,
    json_path,
    parse_get,
    parse_path,
    step_into,
)
from sagebox.services.pipelines.validation import resolve_parameters, validate
from tests.services.pipelines.definitions import (
    condition,
    definition,
    fail,
    get,
    join,
    parameter,
    processing,
    s3_input,
)


class Scope:
    """Values an execution would hold, for evaluating expressions without one."""

    def __init__(
        self, properties: dict[str, Any] | None = None, files: dict[str, Any] | None = None
    ) -> None:
        self.properties = properties or {}
        self.files = files or {}

    def parameter(self, name: str) -> Any:
        return {"Threshold": 6.0, "Count": 2, "Flag": True, "Kind": "a"}[name]

    def execution_variable(self, name: str) -> Any:
        return {"PipelineExecutionId": "abc123def456"}[name]

    def step_property(self, reference: PropertyRef) -> Any:
        value: Any = self.properties[reference.step]
        for token in reference.path:
            value = step_into(value, token, reference.text)
        return value

    def property_file(self, reference: PropertyFileRef) -> Any:
        return self.files[f"{reference.step}/{reference.file}"]

    def json_at(self, s3_uri: str) -> Any:
        return self.files[s3_uri]


def check(text: str) -> None:
    validate(parse_definition(text))


# -- parsing ------------------------------------------------------------------------------


def test_a_definition_is_read_with_branch_steps_and_their_branches() -> None:
    text = definition(
        [
            processing("Prep"),
            condition(
                "Check",
                [{"Type": "Equals", "LeftValue": 1, "RightValue": 1}],
                [processing("Yes")],
                [fail("No", "nope")],
            ),
        ],
        [parameter("Threshold", "Float", 6.0), parameter("Kind", "String", "a", ["a", "b"])],
    )
    parsed = parse_definition(text)
    assert list(parsed.steps) == ["Prep", "Check", "Yes", "No"]
    assert parsed.steps["Yes"].branch is not None and parsed.steps["Yes"].branch.outcome is True
    assert parsed.steps["No"].branch is not None and parsed.steps["No"].branch.outcome is False
    assert parsed.parameter("Kind") is not None and parsed.parameter("Kind").enum_values == (
        "a",
        "b",
    )  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("{not json", "not valid JSON"),
        (
            json.dumps({"Version": "2019-01-01", "Steps": []}),
            "Version '2019-01-01' is not supported",
        ),
        (definition([]), "at least one step"),
        (definition([processing("A"), processing("A")]), "'A' is used more than once"),
        (definition([{"Name": "A", "Type": "Magic", "Arguments": {}}]), "Type 'Magic'"),
        (definition([processing("bad name")]), "'bad name' is not valid"),
        (
            definition([processing("A")], [parameter("P", "Integer", "one")]),
            "Parameter 'P' is of Type Integer",
        ),
        (
            definition([processing("A")], [parameter("P", "String", "c", ["a", "b"])]),
            "not one of its EnumValues",
        ),
        (
            definition(
                [
                    processing(
                        "A", RetryPolicies=[{"ExceptionType": ["Step.OOPS"], "MaxAttempts": 2}]
                    )
                ]
            ),
            "Step.OOPS",
        ),
        (
            definition(
                [processing("A", RetryPolicies=[{"ExceptionType": ["Step.SERVICE_FAULT"]}])]
            ),
            "exactly one of MaxAttempts",
        ),
        (
            definition([processing("A", CacheConfig={"Enabled": True, "ExpireAfter": "soon"})]),
            "ExpireAfter",
        ),
    ],
)
def test_a_malformed_definition_is_refused_saying_what_is_wrong(text: str, words: str) -> None:
    with pytest.raises(DefinitionError, match=words):
        check(text)


# -- validation of references ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("steps", "words"),
    [
        (
            [processing("A", inputs=[s3_input("in", get("Parameters.Missing"))])],
            "Parameters.Missing, which is not a parameter",
        ),
        (
            [processing("A", inputs=[s3_input("in", get("Execution.Nope"))])],
            "Execution.Nope, which is not an execution variable",
        ),
        (
            [
                processing(
                    "A",
                    inputs=[
                        s3_input(
                            "in",
                            get("Steps.Ghost.ProcessingOutputConfig.Outputs['out'].S3Output.S3Uri"),
                        )
                    ],
                )
            ],
            "no step named 'Ghost'",
        ),
        (
            [
                processing("A"),
                processing(
                    "B",
                    inputs=[
                        s3_input("in", get("Steps.A.ProcessingOutputConfig.Output['out'].S3Uri"))
                    ],
                ),
            ],
            "unknown property Steps.A.ProcessingOutputConfig.Output",
        ),
        (
            [
                processing("A"),
                processing(
                    "B", inputs=[s3_input("in", get("Steps.A.ModelArtifacts.S3ModelArtifacts"))]
                ),
            ],
            "DescribeProcessingJobResponse has no member 'ModelArtifacts'",
        ),
        ([processing("A", DependsOn=["Z"])], "DependsOn 'Z'"),
        (
            [
                processing("A"),
                condition(
                    "C",
                    [
                        {
                            "Type": "LessThan",
                            "LeftValue": {
                                "Std:JsonGet": {
                                    "PropertyFile": get("Steps.A.PropertyFiles.Report"),
                                    "Path": "x",
                                }
                            },
                            "RightValue": 1,
                        }
                    ],
                    [],
                    [],
                ),
            ],
            "property file 'Report' of step 'A'",
        ),
        (
            [
                processing("A"),
                condition("C", [{"Type": "Between", "LeftValue": 1, "RightValue": 2}], [], []),
            ],
            "Type 'Between'",
        ),
        (
            [
                processing(
                    "A",
                    inputs=[
                        s3_input(
                            "in",
                            join(
                                "/",
                                get("Steps.B.ProcessingOutputConfig.Outputs['out'].S3Output.S3Uri"),
                            ),
                        )
                    ],
                ),
                processing("B", DependsOn=["A"]),
            ],
            "cycle: ",
        ),
        ([processing("A", inputs=[s3_input("in", {"Get": 5})])], "Get takes a string"),
        (
            [fail("F", "x"), processing("A", inputs=[s3_input("in", get("Steps.F.ErrorMessage"))])],
            "a Fail step has no properties",
        ),
    ],
)
def test_a_reference_to_nothing_is_refused_naming_it(steps: list[Any], words: str) -> None:
    with pytest.raises(DefinitionError, match=words.replace("[", r"\[").replace("(", r"\(")):
        check(definition(steps))


def test_references_the_sdk_makes_are_accepted() -> None:
    steps = [
        processing("Prep", outputs=("train", "test")),
        processing(
            "Eval",
            inputs=[
                s3_input(
                    "test", get("Steps.Prep.ProcessingOutputConfig.Outputs['test'].S3Output.S3Uri")
                )
            ],
            outputs=("evaluation",),
            PropertyFiles=[
                {
                    "PropertyFileName": "Report",
                    "OutputName": "evaluation",
                    "FilePath": "evaluation.json",
                }
            ],
        ),
        {"Name": "Tune", "Type": "Tuning", "Arguments": {}},
        condition(
            "Check",
            [
                {
                    "Type": "LessThanOrEqualTo",
                    "LeftValue": {
                        "Std:JsonGet": {
                            "PropertyFile": get("Steps.Eval.PropertyFiles.Report"),
                            "Path": "a.b",
                        }
                    },
                    "RightValue": get("Parameters.Threshold"),
                }
            ],
            [
                processing(
                    "Use",
                    inputs=[
                        s3_input(
                            "m",
                            join(
                                "/",
                                "s3://b",
                                get("Steps.Tune.TrainingJobSummaries[0].TrainingJobName"),
                            ),
                        )
                    ],
                )
            ],
            [fail("Stop", join(" ", "too high:", get("Parameters.Threshold")))],
        ),
        processing("After", inputs=[s3_input("o", get("Steps.Check.Outcome"))], DependsOn=["Use"]),
    ]
    graph = validate(parse_definition(definition(steps, [parameter("Threshold", "Float", 6.0)])))
    assert graph.dependencies["Eval"] == {"Prep"}
    assert graph.dependencies["Check"] == {"Eval"}
    assert graph.dependencies["Use"] == {"Check", "Tune"}
    assert graph.dependencies["After"] == {"Check", "Use"}


# -- parameters -----------------------------------------------------------------------------------


def test_start_parameters_are_typed_defaulted_and_checked() -> None:
    parsed = parse_definition(
        definition(
            [processing("A")],
            [
                parameter("Count", "Integer", 1),
                parameter("Threshold", "Float", 6.0),
                parameter("Flag", "Boolean", True),
                parameter("Kind", "String", "a", ["a", "b"]),
                parameter("Needed", "String"),
            ],
        )
    )
    values = resolve_parameters(
        parsed,
        [
            {"Name": "Count", "Value": "3"},
            {"Name": "Flag", "Value": "false"},
            {"Name": "Needed", "Value": "x"},
        ],
    )
    assert values == {"Count": 3, "Flag": False, "Needed": "x", "Threshold": 6.0, "Kind": "a"}
    for given, words in (
        (
            [{"Name": "Needed", "Value": "x"}, {"Name": "Other", "Value": "1"}],
            "'Other' is not a parameter",
        ),
        (
            [{"Name": "Needed", "Value": "x"}, {"Name": "Count", "Value": "1.5"}],
            "'1.5' is not an integer",
        ),
        (
            [{"Name": "Needed", "Value": "x"}, {"Name": "Kind", "Value": "c"}],
            "not one of its EnumValues",
        ),
        ([], "'Needed' has no default value"),
    ):
        with pytest.raises(DefinitionError, match=words):
            resolve_parameters(parsed, given)


# -- expressions ----------------------------------------------------------------------------------


def test_property_paths_are_tokens() -> None:
    assert parse_path("ProcessingOutputConfig.Outputs['train'].S3Output.S3Uri") == (
        Attribute("ProcessingOutputConfig"),
        Attribute("Outputs"),
        Key("train"),
        Attribute("S3Output"),
        Attribute("S3Uri"),
    )
    assert parse_path("TrainingJobSummaries[0].TrainingJobName") == (
        Attribute("TrainingJobSummaries"),
        Index(0),
        Attribute("TrainingJobName"),
    )
    assert parse_get("Steps.Eval.PropertyFiles.Report") == PropertyFileRef("Eval", "Report")
    with pytest.raises(ExpressionError):
        parse_path("a..b")


def test_expressions_evaluate_against_an_execution() -> None:
    job = {
        "ProcessingOutputConfig": {
            "Outputs": [{"OutputName": "train", "S3Output": {"S3Uri": "s3://b/train"}}]
        },
        "FinalMetricDataList": [{"MetricName": "validation:rmse", "Value": 0.5}],
    }
    scope = Scope(
        {"Prep": job},
        {
            "Eval/Report": {"regression_metrics": {"mse": {"value": 3.5}}, "list": [1, 2]},
            "s3://b/results.json": {"Result": {"mse": 2}},
        },
    )
    arguments = {
        "Uri": get("Steps.Prep.ProcessingOutputConfig.Outputs['train'].S3Output.S3Uri"),
        "Metric": get("Steps.Prep.FinalMetricDataList['validation:rmse'].Value"),
        "Message": join(
            " ",
            "MSE >",
            get("Parameters.Threshold"),
            get("Parameters.Flag"),
            get("Parameters.Count"),
        ),
        "Path": join("/", "s3:/", "bucket", get("Execution.PipelineExecutionId")),
        "Mse": {
            "Std:JsonGet": {
                "PropertyFile": get("Steps.Eval.PropertyFiles.Report"),
                "Path": "regression_metrics.mse.value",
            }
        },
        "Second": {
            "Std:JsonGet": {
                "PropertyFile": get("Steps.Eval.PropertyFiles.Report"),
                "Path": "list[1]",
            }
        },
        "Result": {
            "Std:JsonGet": {"S3Uri": join("/", "s3://b", "results.json"), "Path": "Result.mse"}
        },
        "Literal": {"Nested": [1, "two", {"Get": "Parameters.Kind"}]},
    }
    assert evaluate(arguments, scope) == {
        "Uri": "s3://b/train",
        "Metric": 0.5,
        "Message": "MSE > 6.0 true 2",
        "Path": "s3://bucket/abc123def456",
        "Mse": 3.5,
        "Second": 2,
        "Result": 2,
        "Literal": {"Nested": [1, "two", "a"]},
    }
    with pytest.raises(ExpressionError, match="nothing is named 'validation'"):
        evaluate(
            get("Steps.Prep.ProcessingOutputConfig.Outputs['validation'].S3Output.S3Uri"), scope
        )


def test_json_paths_and_text() -> None:
    document = {"a": {"b": [{"c": 1}]}}
    assert json_path(document, "a.b[0].c") == 1
    assert json_path(document, "$.a.b[0].c") == 1
    assert json_path(document, "$") == document
    with pytest.raises(ExpressionError, match="index 3 is out of range"):
        json_path(document, "a.b[3]")
    assert [as_text(v) for v in (True, 6.0, 2, None, "x", [1])] == [
        "true",
        "6.0",
        "2",
        "",
        "x",
        "[1]",
    ]


# -- conditions -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("conditions", "outcome"),
    [
        (
            [
                {
                    "Type": "LessThanOrEqualTo",
                    "LeftValue": "5.5",
                    "RightValue": get("Parameters.Threshold"),
                }
            ],
            True,
        ),
        (
            [{"Type": "GreaterThan", "LeftValue": 7, "RightValue": get("Parameters.Threshold")}],
            True,
        ),
        ([{"Type": "GreaterThanOrEqualTo", "LeftValue": 6, "RightValue": 6.0}], True),
        ([{"Type": "LessThan", "LeftValue": 6, "RightValue": 6.0}], False),
        ([{"Type": "Equals", "LeftValue": get("Parameters.Flag"), "RightValue": "true"}], True),
        ([{"Type": "Equals", "LeftValue": get("Parameters.Kind"), "RightValue": "b"}], False),
        (
            [
                {
                    "Type": "In",
                    "QueryValue": get("Parameters.Kind"),
                    "Values": ["b", get("Parameters.Kind")],
                }
            ],
            True,
        ),
        (
            [{"Type": "Not", "Condition": {"Type": "Equals", "LeftValue": 1, "RightValue": 1}}],
            False,
        ),
        (
            [
                {
                    "Type": "Or",
                    "Conditions": [
                        {"Type": "Equals", "LeftValue": 1, "RightValue": 2},
                        {"Type": "In", "QueryValue": 2, "Values": [1, 2]},
                    ],
                }
            ],
            True,
        ),
        (
            [
                {"Type": "Equals", "LeftValue": 1, "RightValue": 1},
                {"Type": "Equals", "LeftValue": 1, "RightValue": 2},
            ],
            False,
        ),
    ],
)
def test_conditions_hold_as_sagemaker_decides(conditions: list[Any], outcome: bool) -> None:
    assert holds_all(conditions, Scope()) is outcome


def test_values_that_cannot_be_ordered_are_an_error() -> None:
    with pytest.raises(ConditionError, match="cannot compare"):
        compare("GreaterThan", "abc", 3)
