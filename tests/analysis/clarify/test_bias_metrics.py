"""Every bias metric against the reference computed from the developer guide's definitions."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pytest

from sagebox.analysis.clarify import AnalysisConfig, build_dataset, run_analysis
from tests.analysis.clarify import reference


def table(seed: int, rows: int = 300) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    gender = rng.integers(0, 2, rows)
    age = rng.integers(18, 80, rows)
    income = rng.integers(10, 40, rows)  # few distinct values: the flip test meets equal distances
    label = (rng.random(rows) < 0.3 + 0.3 * gender).astype(int)
    predicted = np.where(rng.random(rows) < 0.8, label, 1 - label)
    dept = rng.choice(["a", "b", "c"], rows)
    return pd.DataFrame({"Target": label, "Age": age, "Gender": gender, "Income": income, "Dept": dept, "Pred": predicted})


def analysis(frame: pd.DataFrame, **config: Any) -> dict[str, Any]:
    document = {
        "dataset_type": "text/csv",
        "label": "Target",
        "predicted_label": "Pred",
        "label_values_or_threshold": [1],
        "methods": {"pre_training_bias": {"methods": "all"}, "post_training_bias": {"methods": "all"}},
        **config,
    }
    parsed = AnalysisConfig.from_dict(document)
    return run_analysis(parsed, build_dataset(frame, parsed)).analysis


def values(section: dict[str, Any], facet: str, index: int = 0) -> dict[str, Any]:
    return {m["name"]: m["value"] for m in section["facets"][facet][index]["metrics"]}


def assert_matches(found: dict[str, Any], expected: dict[str, float]) -> None:
    for name, value in expected.items():
        assert reference.close(found[name], value), (name, found[name], value)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_every_metric_equals_the_reference_for_a_categorical_facet(seed: int) -> None:
    frame = table(seed)
    result = analysis(frame, facet=[{"name_or_index": "Gender", "value_or_threshold": [0]}], group_variable="Dept", excluded_columns=["Dept"])
    facet = (frame["Gender"] == 0).tolist()
    label = (frame["Target"] == 1).tolist()
    predicted = (frame["Pred"] == 1).tolist()
    group = frame["Dept"].tolist()
    features = frame[["Age", "Income"]].to_numpy(dtype=float).tolist()  # the model's features less the facet
    assert_matches(values(result["pre_training_bias_metrics"], "Gender"), reference.pre_training(facet, label, group))
    post = values(result["post_training_bias_metrics"], "Gender")
    assert set(post) == {"AD", "CDDPL", "DAR", "DCA", "DCR", "DI", "DPPL", "DRR", "FT", "GE", "RD", "SD", "TE"}
    assert_matches(post, reference.post_training(facet, label, predicted, group, features))
    assert result["pre_training_bias_metrics"]["label_value_or_threshold"] == "1"
    assert result["pre_training_bias_metrics"]["facets"]["Gender"][0]["value_or_threshold"] == "0"


def test_a_continuous_facet_is_split_at_its_threshold_and_shown_as_an_interval() -> None:
    frame = table(3)
    result = analysis(frame, facet=[{"name_or_index": "Age", "value_or_threshold": [40]}])
    entry = result["pre_training_bias_metrics"]["facets"]["Age"][0]
    assert entry["value_or_threshold"] == f"(40, {frame['Age'].max()}]"
    facet = (frame["Age"] > 40).tolist()
    assert_matches(values(result["pre_training_bias_metrics"], "Age"), reference.pre_training(facet, (frame["Target"] == 1).tolist()))
    cddl = next(m for m in entry["metrics"] if m["name"] == "CDDL")
    assert cddl["value"] is None and "Group variable" in cddl["error"]


def test_a_facet_without_values_gets_a_group_per_value_and_several_facets_each_a_section() -> None:
    frame = table(4)
    result = analysis(frame, facet=[{"name_or_index": "Dept"}, {"name_or_index": 2, "value_or_threshold": [1]}])
    groups = result["pre_training_bias_metrics"]["facets"]["Dept"]
    assert [g["value_or_threshold"] for g in groups] == [str(v) for v in pd.unique(frame["Dept"])]
    for index, group in enumerate(groups):
        facet = (frame["Dept"] == group["value_or_threshold"]).tolist()
        assert_matches(values(result["pre_training_bias_metrics"], "Dept", index), reference.pre_training(facet, (frame["Target"] == 1).tolist()))
    assert list(result["post_training_bias_metrics"]["facets"]) == ["Dept", "Gender"]


def test_a_continuous_label_is_positive_above_its_threshold() -> None:
    frame = table(5)
    frame["Score"] = np.random.default_rng(5).normal(50, 10, len(frame))
    frame["Pred"] = frame["Score"] + np.random.default_rng(6).normal(0, 5, len(frame))
    result = analysis(frame, label="Score", label_values_or_threshold=[55], facet=[{"name_or_index": "Gender", "value_or_threshold": [1]}], excluded_columns=["Target", "Dept"])
    section = result["post_training_bias_metrics"]
    assert section["label_value_or_threshold"].startswith("(55, ")
    facet = (frame["Gender"] == 1).tolist()
    expected = reference.post_training(facet, (frame["Score"] > 55).tolist(), (frame["Pred"] > 55).tolist())
    assert_matches(values(section, "Gender"), expected)


def test_labels_and_facets_match_across_types_and_several_positive_values() -> None:
    frame = table(6)
    frame["Target"] = frame["Target"].map({0: "no", 1: "yes"}).where(frame["Age"] % 7 != 0, "maybe")
    frame["Pred"] = frame["Pred"].map({0: "no", 1: "yes"})
    frame["Gender"] = frame["Gender"].astype(str)  # "0"/"1" in the data, 0 in the configuration
    result = analysis(frame, label_values_or_threshold=["yes", "maybe"], facet=[{"name_or_index": "Gender", "value_or_threshold": [0]}], excluded_columns=["Dept"])
    facet = (frame["Gender"] == "0").tolist()
    label = frame["Target"].isin(["yes", "maybe"]).tolist()
    assert_matches(values(result["pre_training_bias_metrics"], "Gender"), reference.pre_training(facet, label))
    assert result["pre_training_bias_metrics"]["label_value_or_threshold"] == "yes,maybe"


def test_undefined_metrics_are_reported_with_their_reason_and_infinities_as_strings() -> None:
    frame = table(7, rows=100)  # 2 label values in 40 rows would be 5% distinct: continuous, as Clarify decides
    frame.loc[frame["Gender"] == 0, "Pred"] = 1  # facet d never predicted negative ...
    frame.loc[frame["Gender"] == 0, "Target"] = 0  # ... and never positive: FN/FP = 0/n, n'(0) = 0
    result = analysis(frame, facet=[{"name_or_index": "Gender", "value_or_threshold": [0]}], excluded_columns=["Dept"])
    post = values(result["post_training_bias_metrics"], "Gender")
    facet = (frame["Gender"] == 0).tolist()
    expected = reference.post_training(facet, (frame["Target"] == 1).tolist(), (frame["Pred"] == 1).tolist())
    assert_matches(post, {k: v for k, v in expected.items()})
    missing = analysis(frame, facet=[{"name_or_index": "Gender", "value_or_threshold": [7]}], excluded_columns=["Dept"])
    ci = next(m for m in missing["pre_training_bias_metrics"]["facets"]["Gender"][0]["metrics"] if m["name"] == "CI")
    assert ci["value"] is None and "Facet set is empty" in ci["error"]


def test_a_metric_with_an_infinite_value_is_written_as_infinity() -> None:
    facet = [False] * 6 + [True] * 6
    label = [True, False, True, False, True, False] + [True, True, False, False, True, False]
    predicted = [True, True, True, False, True, False] + [False, False, False, False, False, False]
    # booleans are categorical whatever their count (integers in 12 rows would be 'continuous')
    frame = pd.DataFrame({"Target": label, "Gender": facet, "x": range(12), "Pred": predicted})
    result = analysis(frame, facet=[{"name_or_index": "Gender", "value_or_threshold": [1]}])
    post = values(result["post_training_bias_metrics"], "Gender")
    assert post["DCA"] == "-Infinity" and post["TE"] == "Infinity"
