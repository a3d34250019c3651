"""The declarative hyperparameter specs and ``HyperparameterSpace.validate``."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pytest

from sagebox.algorithms.hyperparameters import (
    Boolean,
    Categorical,
    CategoricalList,
    Continuous,
    HyperparameterError,
    HyperparameterSpace,
    Integer,
    IntegerList,
    Text,
    is_reserved,
    unquote,
)


def _depth_needs_mode(values: Mapping[str, Any], given: frozenset[str]) -> None:
    if values["depth"] > 5 and values["mode"] != "deep":
        raise HyperparameterError("depth", str(values["depth"]), "depth <= 5 unless mode is 'deep'")


SPACE = HyperparameterSpace(
    Integer("rounds", min=1, required=True),
    Integer("depth", default=3, min=0, max=10),
    Continuous("rate", default=0.3, min=0, max=1, min_open=True),
    Categorical("mode", ("shallow", "deep"), default="shallow"),
    Boolean("verbose", default=False),
    Text("tag", pattern=r"[a-z]+", description="lowercase letters"),
    IntegerList("signs", min=-1, max=1),
    CategoricalList("metrics", ("rmse", "mae"), patterns=(r"error@[0-9.]+",)),
    rules=(_depth_needs_mode,),
    aliases={"learning_rate": "rate"},
)


def test_defaults_are_filled_and_values_typed() -> None:
    values = SPACE.validate({"rounds": "10"})
    assert values == {
        "rounds": 10,
        "depth": 3,
        "rate": 0.3,
        "mode": "shallow",
        "verbose": False,
        "tag": None,
        "signs": None,
        "metrics": None,
    }


def test_every_kind_parses() -> None:
    values = SPACE.validate(
        {
            "rounds": "7",
            "depth": "4.0",
            "rate": "1e-1",
            "mode": "deep",
            "verbose": "True",
            "tag": "abc",
            "signs": "(1,0,-1)",
            "metrics": "rmse, error@0.7",
        }
    )
    assert values["rounds"] == 7 and values["depth"] == 4
    assert values["rate"] == pytest.approx(0.1)
    assert values["verbose"] is True
    assert values["signs"] == (1, 0, -1)
    assert values["metrics"] == ("rmse", "error@0.7")


@pytest.mark.parametrize(
    ("name", "given", "expected"),
    [
        (
            "depth",
            "-1",
            "Hyperparameter 'depth': value '-1' is not allowed; expected an integer in [0, 10].",
        ),
        ("depth", "two", "Hyperparameter 'depth': value 'two' is not allowed; expected an integer"),
        (
            "rate",
            "0",
            "Hyperparameter 'rate': value '0' is not allowed; expected a number in (0, 1].",
        ),
        ("rate", "nan", "Hyperparameter 'rate': value 'nan' is not allowed"),
        ("mode", "wide", "expected one of 'shallow', 'deep'."),
        (
            "verbose",
            "maybe",
            "Hyperparameter 'verbose': value 'maybe' is not allowed; expected 'true' or 'false'.",
        ),
        ("tag", "ABC", "expected lowercase letters."),
        (
            "signs",
            "1,2",
            "Hyperparameter 'signs': value '1,2' is not allowed; expected a comma-separated list",
        ),
        ("signs", "1,,0", "Hyperparameter 'signs'"),
        ("metrics", "rmse,auc", "Hyperparameter 'metrics': item 'auc' is not allowed"),
    ],
)
def test_bad_values_name_the_hyperparameter(name: str, given: str, expected: str) -> None:
    with pytest.raises(HyperparameterError) as caught:
        SPACE.validate({"rounds": "1", name: given})
    assert expected in str(caught.value)
    assert caught.value.name == name
    assert isinstance(caught.value, ValueError)


def test_required_missing() -> None:
    with pytest.raises(
        HyperparameterError,
        match=r"^Hyperparameter 'rounds' is required; expected an integer >= 1\.$",
    ):
        SPACE.validate({})


def test_unknown_is_rejected() -> None:
    with pytest.raises(
        HyperparameterError, match="'colour': not a hyperparameter of this algorithm"
    ):
        SPACE.validate({"rounds": "1", "colour": "red"})


def test_reserved_names_are_accepted_and_left_out() -> None:
    values = SPACE.validate(
        {
            "rounds": "1",
            "_tuning_objective_metric": "validation:rmse",
            "_kfold": "5",
            "sagemaker_program": "x",
        }
    )
    assert "_tuning_objective_metric" not in values and "sagemaker_program" not in values
    assert is_reserved("_kfold") and is_reserved("sagemaker_region") and not is_reserved("rounds")


def test_json_quoted_strings_are_accepted() -> None:
    values = SPACE.validate(
        {"rounds": '"5"', "mode": '"deep"', "depth": "6", "metrics": '["rmse", "mae"]'}
    )
    assert values["rounds"] == 5 and values["mode"] == "deep"
    assert values["metrics"] == ("rmse", "mae")
    assert unquote('"reg:squarederror"') == "reg:squarederror"
    assert unquote('"unterminated') == '"unterminated'


def test_non_string_values_are_accepted() -> None:
    values = SPACE.validate({"rounds": 4, "verbose": True, "rate": 0.5})
    assert values["rounds"] == 4 and values["verbose"] is True and values["rate"] == 0.5


def test_aliases_map_to_the_canonical_name() -> None:
    assert SPACE.validate({"rounds": "1", "learning_rate": "0.5"})["rate"] == 0.5
    assert SPACE.explicit({"rounds": "1", "learning_rate": "0.5"}) == {"rounds": "1", "rate": "0.5"}
    with pytest.raises(HyperparameterError, match="given twice"):
        SPACE.validate({"rounds": "1", "learning_rate": "0.5", "rate": "0.4"})


def test_cross_rules_run_after_parsing() -> None:
    with pytest.raises(
        HyperparameterError, match="'depth': value '7' is not allowed; expected depth <= 5"
    ):
        SPACE.validate({"rounds": "1", "depth": "7"})
    assert SPACE.validate({"rounds": "1", "depth": "7", "mode": "deep"})["depth"] == 7


def test_space_declaration_errors() -> None:
    with pytest.raises(ValueError, match="unique"):
        HyperparameterSpace(Integer("a"), Integer("a"))
    with pytest.raises(ValueError, match="alias"):
        HyperparameterSpace(Integer("a"), aliases={"b": "missing"})


def test_space_lookup() -> None:
    assert "learning_rate" in SPACE and "rate" in SPACE and "nope" not in SPACE
    assert SPACE["learning_rate"].name == "rate"
    assert SPACE.names[0] == "rounds"
    assert SPACE.defaults()["depth"] == 3
    assert [hp.name for hp in SPACE][:2] == ["rounds", "depth"]


def test_range_descriptions() -> None:
    assert Integer("a", min=0).allowed() == "an integer >= 0"
    assert Integer("a").allowed() == "an integer"
    assert (
        Continuous("a", min=1, max=2, min_open=True, max_open=True).allowed()
        == "a number in (1, 2)"
    )
    assert Continuous("a", max=0.5).allowed() == "a number <= 0.5"
