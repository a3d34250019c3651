"""``SearchSpace``: parsing SageMaker's ParameterRanges, scaling, grid and value strings."""

from __future__ import annotations

import math
import random
import statistics
from typing import Any

import pytest

from sagebox.tuning import (
    CategoricalRange,
    ContinuousRange,
    IntegerRange,
    SearchSpace,
    TuningConfigError,
)

RANGES: dict[str, Any] = {
    "IntegerParameterRanges": [
        {"Name": "max_depth", "MinValue": "1", "MaxValue": "10", "ScalingType": "Linear"},
    ],
    "ContinuousParameterRanges": [
        {"Name": "eta", "MinValue": "0.001", "MaxValue": "0.5", "ScalingType": "Logarithmic"},
        {"Name": "momentum", "MinValue": "0", "MaxValue": "0.99", "ScalingType": "ReverseLogarithmic"},
    ],
    "CategoricalParameterRanges": [{"Name": "booster", "Values": ["gbtree", "dart"]}],
}


def _error(parameter_ranges: dict[str, Any]) -> TuningConfigError:
    with pytest.raises(TuningConfigError) as caught:
        SearchSpace.from_api(parameter_ranges)
    return caught.value


def _integer(**item: str) -> dict[str, Any]:
    return {"IntegerParameterRanges": [{"Name": "n", **item}]}


def _continuous(**item: str) -> dict[str, Any]:
    return {"ContinuousParameterRanges": [{"Name": "x", **item}]}


def test_from_api_parses_every_kind_in_order() -> None:
    space = SearchSpace.from_api(RANGES)
    assert space.names() == ["max_depth", "eta", "momentum", "booster"]
    assert space["max_depth"] == IntegerRange("max_depth", 1, 10, "Linear")
    assert space["eta"] == ContinuousRange("eta", 0.001, 0.5, "Logarithmic")
    assert space["booster"] == CategoricalRange("booster", ("gbtree", "dart"))
    assert len(space) == 4 and "eta" in space and "gamma" not in space


def test_scaling_type_defaults_to_auto() -> None:
    space = SearchSpace.from_api(_integer(MinValue="1", MaxValue="5"))
    assert space["n"].scaling == "Auto"  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("item", "expected"),
    [
        (IntegerRange("n", 1, 100), "Logarithmic"),
        (IntegerRange("n", 1, 99), "Linear"),
        (IntegerRange("n", 0, 1000), "Linear"),
        (ContinuousRange("x", 1e-4, 1.0), "Logarithmic"),
        (ContinuousRange("x", 0.1, 5.0), "Linear"),
        (ContinuousRange("x", -1.0, 100.0), "Linear"),
        (ContinuousRange("x", 1e-4, 1.0, "Linear"), "Linear"),
    ],
)
def test_auto_scaling_is_logarithmic_across_two_orders_of_magnitude(
    item: IntegerRange | ContinuousRange, expected: str
) -> None:
    assert item.effective_scaling == expected


@pytest.mark.parametrize(
    ("parameter_ranges", "member", "words"),
    [
        (_integer(MinValue="1.5", MaxValue="4"), "IntegerParameterRanges[0] ('n')", "MinValue '1.5' is not an integer"),
        (_integer(MinValue="1", MaxValue="ten"), "IntegerParameterRanges[0] ('n')", "MaxValue 'ten' is not an integer"),
        (_continuous(MinValue="abc", MaxValue="1"), "ContinuousParameterRanges[0] ('x')", "MinValue 'abc' is not a number"),
        (_continuous(MinValue="0", MaxValue="nan"), "ContinuousParameterRanges[0] ('x')", "not a finite number"),
        (_integer(MinValue="5", MaxValue="1"), "IntegerParameterRanges[0] ('n')", "MinValue 5 is greater than MaxValue 1"),
        (_continuous(MinValue="0.5", MaxValue="0.1"), "ContinuousParameterRanges[0] ('x')", "greater than MaxValue"),
        (_integer(MinValue="0", MaxValue="10", ScalingType="Logarithmic"), "('n')", "Logarithmic scaling needs MinValue > 0"),
        (_continuous(MinValue="-1", MaxValue="1", ScalingType="Logarithmic"), "('x')", "Logarithmic scaling needs MinValue > 0"),
        (_integer(MinValue="0", MaxValue="0", ScalingType="ReverseLogarithmic"), "('n')", "only for continuous ranges"),
        (_continuous(MinValue="0", MaxValue="1", ScalingType="ReverseLogarithmic"), "('x')", "0 <= MinValue <= MaxValue < 1"),
        (_continuous(MinValue="-0.1", MaxValue="0.5", ScalingType="ReverseLogarithmic"), "('x')", "0 <= MinValue <= MaxValue < 1"),
        (_continuous(MinValue="0", MaxValue="1", ScalingType="Quadratic"), "('x')", "ScalingType 'Quadratic' is not allowed"),
        (_continuous(MaxValue="1"), "('x')", "MinValue is required"),
        ({"CategoricalParameterRanges": [{"Name": "c", "Values": []}]}, "CategoricalParameterRanges[0] ('c')", "Values is empty"),
        ({"CategoricalParameterRanges": [{"Name": "c"}]}, "('c')", "Values is required"),
        ({"CategoricalParameterRanges": [{"Name": "c", "Values": [str(i) for i in range(31)]}]}, "('c')", "31 values given"),
        ({"IntegerParameterRanges": [{"MinValue": "1", "MaxValue": "2"}]}, "IntegerParameterRanges[0]", "Name '' must be a non-empty string"),
    ],
)
def test_invalid_ranges_name_the_member_and_the_problem(
    parameter_ranges: dict[str, Any], member: str, words: str
) -> None:
    error = _error(parameter_ranges)
    assert member in error.member
    assert words in error.problem
    assert str(error) == f"{error.member}: {error.problem}"
    assert isinstance(error, ValueError)


def test_reverse_logarithmic_accepts_ranges_inside_zero_to_one() -> None:
    space = SearchSpace.from_api(_continuous(MinValue="0", MaxValue="0.999", ScalingType="ReverseLogarithmic"))
    assert space["x"].effective_scaling == "ReverseLogarithmic"  # type: ignore[union-attr]


def test_a_name_used_twice_across_kinds_is_rejected() -> None:
    error = _error({**_integer(MinValue="1", MaxValue="2"), "CategoricalParameterRanges": [{"Name": "n", "Values": ["a"]}]})
    assert error.member == "ParameterRanges" and "'n' has more than one range" in error.problem


def test_at_most_thirty_parameters_in_total() -> None:
    ranges = {
        "IntegerParameterRanges": [{"Name": f"i{k}", "MinValue": "1", "MaxValue": "2"} for k in range(15)],
        "ContinuousParameterRanges": [{"Name": f"c{k}", "MinValue": "0", "MaxValue": "1"} for k in range(15)],
    }
    assert len(SearchSpace.from_api(ranges)) == 30
    ranges["CategoricalParameterRanges"] = [{"Name": "extra", "Values": ["a"]}]
    error = _error(ranges)
    assert "31 ranges given; at most 30" in error.problem


def test_no_ranges_autotune_and_unknown_members_are_rejected() -> None:
    assert "at least one is required" in _error({}).problem
    autotune = _error({"AutoParameters": [{"Name": "eta", "ValueHint": "0.1"}]})
    assert autotune.member == "ParameterRanges.AutoParameters"
    assert _error({"FloatParameterRanges": []}).member == "ParameterRanges.FloatParameterRanges"


def test_ranges_validate_when_built_directly() -> None:
    with pytest.raises(TuningConfigError, match="range 'n': MinValue 3 is greater than MaxValue 2"):
        IntegerRange("n", 3, 2)
    with pytest.raises(TuningConfigError, match="bound 1.5 is not an integer"):
        IntegerRange("n", 1.5, 2)  # type: ignore[arg-type]
    with pytest.raises(TuningConfigError, match="ScalingType 'ReverseLogarithmic' is not allowed"):
        IntegerRange("n", 0, 0, "ReverseLogarithmic")


def test_grid_enumerates_every_categorical_combination_once_in_a_stable_order() -> None:
    space = SearchSpace([CategoricalRange("a", ("x", "y")), CategoricalRange("b", ("1", "2", "3", "2"))])
    assert space.grid() == [
        {"a": "x", "b": "1"}, {"a": "x", "b": "2"}, {"a": "x", "b": "3"},
        {"a": "y", "b": "1"}, {"a": "y", "b": "2"}, {"a": "y", "b": "3"},
    ]
    assert space.grid_size() == 6


def test_grid_rejects_the_first_non_categorical_range() -> None:
    with pytest.raises(TuningConfigError) as caught:
        SearchSpace.from_api(RANGES).grid()
    assert caught.value.member == "ParameterRanges.IntegerParameterRanges ('max_depth')"
    assert "only categorical" in caught.value.problem


def test_to_api_values_formats_every_value_as_a_string() -> None:
    space = SearchSpace.from_api(RANGES)
    values = space.to_api_values({"max_depth": 4.0, "eta": 0.1, "momentum": 0, "booster": "dart"})
    assert values == {"max_depth": "4", "eta": "0.1", "momentum": "0.0", "booster": "dart"}
    assert space.parse_values(values) == {"max_depth": 4, "eta": 0.1, "momentum": 0.0, "booster": "dart"}


@pytest.mark.parametrize(
    ("change", "member", "words"),
    [
        ({"max_depth": 11}, "hyperparameter 'max_depth'", "outside [1, 10]"),
        ({"max_depth": 2.5}, "hyperparameter 'max_depth'", "not an integer"),
        ({"eta": "fast"}, "hyperparameter 'eta'", "'fast' is not a number"),
        ({"booster": "linear"}, "hyperparameter 'booster'", "not one of 'gbtree', 'dart'"),
        ({"gamma": 1.0}, "hyperparameter 'gamma'", "not one of the tuned hyperparameters"),
    ],
)
def test_to_api_values_rejects_values_outside_the_space(change: dict[str, Any], member: str, words: str) -> None:
    space = SearchSpace.from_api(RANGES)
    values = {"max_depth": 3, "eta": 0.1, "momentum": 0.5, "booster": "gbtree", **change}
    with pytest.raises(TuningConfigError) as caught:
        space.to_api_values(values)
    assert caught.value.member == member and words in caught.value.problem


def test_to_api_values_requires_every_tuned_hyperparameter() -> None:
    with pytest.raises(TuningConfigError, match="'booster': no value given"):
        SearchSpace.from_api(RANGES).to_api_values({"max_depth": 3, "eta": 0.1, "momentum": 0.5})


def _draws(item: IntegerRange | ContinuousRange, count: int = 4000) -> list[float]:
    rng = random.Random(7)
    return [item.from_unit(rng.random()) for _ in range(count)]


def test_linear_draws_are_uniform() -> None:
    draws = _draws(ContinuousRange("x", 0.0, 1.0, "Linear"))
    assert min(draws) >= 0.0 and max(draws) <= 1.0
    assert statistics.median(draws) == pytest.approx(0.5, abs=0.03)


def test_logarithmic_draws_have_the_geometric_median() -> None:
    draws = _draws(ContinuousRange("x", 1e-4, 1.0, "Logarithmic"))
    assert min(draws) >= 1e-4 and max(draws) <= 1.0
    assert math.log10(statistics.median(draws)) == pytest.approx(-2.0, abs=0.1)
    assert statistics.median(_draws(ContinuousRange("x", 1e-4, 1.0))) < 0.05  # Auto -> log


def test_reverse_logarithmic_draws_crowd_towards_one() -> None:
    draws = _draws(ContinuousRange("x", 0.0, 0.999, "ReverseLogarithmic"))
    assert min(draws) >= 0.0 and max(draws) <= 0.999
    assert math.log10(1 - statistics.median(draws)) == pytest.approx(-1.5, abs=0.1)


def test_integer_draws_cover_every_value_under_each_scale() -> None:
    linear = _draws(IntegerRange("n", 1, 5, "Linear"))
    assert all(isinstance(v, int) for v in linear)
    counts = [linear.count(v) for v in range(1, 6)]
    assert min(counts) > 700 and max(counts) < 900  # 800 each on average
    logarithmic = _draws(IntegerRange("n", 1, 1000, "Logarithmic"))
    assert min(logarithmic) == 1 and max(logarithmic) <= 1000
    assert statistics.median(logarithmic) == pytest.approx(math.sqrt(0.5 * 1000.5), rel=0.15)


def test_unit_mapping_round_trips() -> None:
    for item in (ContinuousRange("x", 1e-3, 10.0, "Logarithmic"), ContinuousRange("x", 0.1, 0.9, "ReverseLogarithmic"),
                 ContinuousRange("x", -2.0, 2.0, "Linear")):
        for unit in (0.0, 0.25, 0.5, 0.99):
            assert item.to_unit(item.from_unit(unit)) == pytest.approx(unit, abs=1e-9)
