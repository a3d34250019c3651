"""Bias drift and feature attribution drift: an execution's analysis.json against the baseline's.

The baseline constraints of a bias or explainability monitor are the analysis.json of its
baselining job (the SDK's ``suggest_baseline`` runs Clarify), possibly edited by hand. The
checks are the developer guide's ("Bias drift violations", "Feature attribution drift
violations"):

- ``bias_drift_check``: a bias metric of a facet value (pre- or post-training) is worse than
  the baseline's for the same facet and value, worse meaning farther from the metric's fair
  value: 0 for every metric but disparate impact (DI), whose fair value is 1. A metric
  without a value on either side (an empty facet) is not compared.
- ``feature_attribution_drift_check``: for each label of ``explanations.kernel_shap``, the
  nDCG of the execution's global SHAP values ranked against the baseline's (the baseline's
  magnitudes are the relevances) is below 0.9.

Violations are written as SageMaker writes them, with its descriptions.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from typing import Any

import numpy as np
from sklearn.metrics import ndcg_score

NDCG_THRESHOLD = 0.9
FAIR_VALUES = {"DI": 1.0}
BIAS_SECTIONS = ("pre_training_bias_metrics", "post_training_bias_metrics")


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, str):
        text = value.strip().lower()
        if text in ("infinity", "+infinity", "inf"):
            return math.inf
        if text in ("-infinity", "-inf"):
            return -math.inf
        try:
            return float(text)
        except ValueError:
            return None
    if isinstance(value, int | float):
        return None if math.isnan(float(value)) else float(value)
    return None


def _bias_values(analysis: dict[str, Any]) -> Iterator[tuple[tuple[str, str, str, str], Any]]:
    """((section, facet, facet value, metric), value) for every bias metric of an analysis."""
    for section in BIAS_SECTIONS:
        facets = (analysis.get(section) or {}).get("facets") or {}
        for facet, entries in facets.items():
            for entry in entries or []:
                for metric in entry.get("metrics") or []:
                    yield (
                        (
                            section,
                            str(facet),
                            str(entry.get("value_or_threshold")),
                            str(metric.get("name")),
                        ),
                        metric.get("value"),
                    )


def bias_drift(current: dict[str, Any], baseline: dict[str, Any]) -> list[dict[str, Any]]:
    """The bias_drift_check violations of `current` against the `baseline` analysis."""
    limits = dict(_bias_values(baseline))
    violations = []
    for key, value in _bias_values(current):
        found, limit = _number(value), _number(limits.get(key))
        if found is None or limit is None:
            continue
        fair = FAIR_VALUES.get(key[3], 0.0)
        if abs(found - fair) > abs(limit - fair):
            violations.append(
                {
                    "facet": key[1],
                    "facet_value": key[2],
                    "metric_name": key[3],
                    "constraint_check_type": "bias_drift_check",
                    "description": f"Value {found} does not meet the constraint requirement",
                }
            )
    return violations


def _shap_labels(analysis: dict[str, Any]) -> dict[str, dict[str, float]]:
    section = ((analysis.get("explanations") or {}).get("kernel_shap")) or {}
    labels = {}
    for label, content in section.items():
        values = (content or {}).get("global_shap_values") or {}
        labels[str(label)] = {
            str(k): v
            for k, v in values.items()
            if _number(v) is not None and math.isfinite(_number(v) or 0)
        }
    return labels


def attribution_ndcg(baseline: dict[str, float], current: dict[str, float]) -> float:
    """nDCG of the current attributions' ranking, the baseline's magnitudes being the relevance."""
    features = sorted(set(baseline) & set(current))
    if len(features) < 2:
        return 1.0  # one feature (or none) ranks the same whatever its value
    relevance = np.abs(np.array([[float(baseline[f]) for f in features]]))
    ranking = np.abs(np.array([[float(current[f]) for f in features]]))
    if not relevance.any():
        return 1.0
    return float(ndcg_score(relevance, ranking))


def attribution_drift(current: dict[str, Any], baseline: dict[str, Any]) -> list[dict[str, Any]]:
    """The feature_attribution_drift_check violations of `current` against the `baseline` analysis."""
    limits = _shap_labels(baseline)
    violations = []
    for label, values in _shap_labels(current).items():
        if label not in limits:
            continue
        score = attribution_ndcg(limits[label], values)
        if score < NDCG_THRESHOLD:
            violations.append(
                {
                    "label": label,
                    "metric_name": "shap",
                    "constraint_check_type": "feature_attribution_drift_check",
                    "description": f"Feature attribution drift {score} exceeds threshold {NDCG_THRESHOLD}",
                }
            )
    return violations
