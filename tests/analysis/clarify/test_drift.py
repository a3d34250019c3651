"""Bias drift and feature attribution drift checks against hand-made analysis files."""

from __future__ import annotations

import math

import numpy as np
import pytest

from sagebox.analysis.clarify import drift


def bias_analysis(
    values: dict[str, object], section: str = "post_training_bias_metrics"
) -> dict[str, object]:
    metrics = [
        {"name": name, "description": name, "value": value} for name, value in values.items()
    ]
    return {
        "version": "1.0",
        section: {
            "label": "y",
            "label_value_or_threshold": "1",
            "facets": {"sex": [{"value_or_threshold": "0", "metrics": metrics}]},
        },
    }


def test_a_bias_metric_farther_from_fair_than_the_baseline_is_a_violation() -> None:
    baseline = bias_analysis({"DPPL": 0.2, "DI": 0.9, "AD": -0.1, "RD": None, "TE": "Infinity"})
    current = bias_analysis({"DPPL": -0.3, "DI": 1.05, "AD": 0.05, "RD": 0.5, "TE": 3.0})
    found = drift.bias_drift(current, baseline)
    assert found == [
        {
            "facet": "sex",
            "facet_value": "0",
            "metric_name": "DPPL",
            "constraint_check_type": "bias_drift_check",
            "description": "Value -0.3 does not meet the constraint requirement",
        }
    ]
    worse = drift.bias_drift(bias_analysis({"DI": 0.8, "DPPL": 0.1}), baseline)
    assert [v["metric_name"] for v in worse] == ["DI"]  # |0.8 - 1| > |0.9 - 1|; DPPL is nearer 0
    assert (
        drift.bias_drift(bias_analysis({"CI": 0.5}, "pre_training_bias_metrics"), baseline) == []
    )  # not in the baseline


def reference_ndcg(relevance: list[float], scores: list[float]) -> float:
    """nDCG written from its definition: gains of the baseline ranked by the current scores."""
    order = np.argsort(-np.array(scores), kind="stable")
    ideal = sorted(relevance, reverse=True)
    dcg = sum(relevance[i] / math.log2(rank + 2) for rank, i in enumerate(order))
    return dcg / sum(g / math.log2(rank + 2) for rank, g in enumerate(ideal))


def test_feature_attribution_drift_is_an_ndcg_below_0_9() -> None:
    baseline = {
        "explanations": {
            "kernel_shap": {
                "label0": {
                    "global_shap_values": {"a": 0.5, "b": 0.2, "c": 0.1, "d": 0.01},
                    "expected_value": 0.3,
                }
            }
        }
    }
    same_order = {
        "explanations": {
            "kernel_shap": {
                "label0": {"global_shap_values": {"a": 0.4, "b": 0.3, "c": 0.05, "d": 0.0}}
            }
        }
    }
    assert drift.attribution_drift(same_order, baseline) == []
    values = {"a": 0.0, "b": 0.1, "c": 0.3, "d": 0.2}
    swapped = {"explanations": {"kernel_shap": {"label0": {"global_shap_values": values}}}}
    expected = reference_ndcg([0.5, 0.2, 0.1, 0.01], [0.0, 0.1, 0.3, 0.2])
    assert expected < 0.9
    assert drift.attribution_ndcg(
        baseline["explanations"]["kernel_shap"]["label0"]["global_shap_values"], values
    ) == pytest.approx(expected)
    [violation] = drift.attribution_drift(swapped, baseline)
    assert (
        violation["label"] == "label0"
        and violation["constraint_check_type"] == "feature_attribution_drift_check"
    )
    assert violation["metric_name"] == "shap"
    assert (
        violation["description"]
        == f"Feature attribution drift {drift.attribution_ndcg(baseline['explanations']['kernel_shap']['label0']['global_shap_values'], values)} exceeds threshold 0.9"
    )
