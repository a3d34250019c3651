"""Clarify's bias metrics as pure functions of boolean columns.

Every metric compares facet *a* (rows outside the sensitive group) with facet *d* (the
sensitive group), as SageMaker's developer guide defines them ("Measure pre-training
bias", "Measure post-training bias"). Inputs are boolean numpy arrays of one length:

    facet      True for facet d
    label      True for a positive observed outcome (y = 1)
    predicted  True for a positive predicted outcome (y' = 1)
    group      the subgroup of each row (CDDL, CDDPL), any comparable values
    features   the numeric features (FT)

Conventions where a definition divides by zero, as SageMaker's implementation
(``smclarify``) keeps them: x/0 is +inf (-inf for x < 0), 0/0 is 0, and a difference of two
infinite ratios is 0. The label distributions of KL, JS, LP, TVD and KS are those of the
binary outcome (positive or not), summed over the outcomes both facets have (which keeps
KL finite). A metric that cannot be computed raises ``MetricUndefined``; the report shows
its message instead of a value.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

INFINITY = math.inf
FT_NEIGHBORS = 5
FT_MIN_FACET_A = 10  # below this many rows in facet a, the flip test uses 1 neighbour


class MetricUndefined(ValueError):
    """The metric has no value on these data (an empty facet, no positive labels, ...)."""


@dataclass(frozen=True)
class BiasInputs:
    facet: np.ndarray
    label: np.ndarray
    predicted: np.ndarray | None = None
    group: np.ndarray | None = None
    features: np.ndarray | None = None

    @property
    def advantaged(self) -> np.ndarray:
        return ~self.facet

    def require_facets(self) -> None:
        if not self.facet.any():
            raise MetricUndefined("Facet set is empty: no row belongs to the sensitive group.")
        if self.facet.all():
            raise MetricUndefined("Negated facet set is empty: every row belongs to the sensitive group.")

    def require_predicted(self) -> np.ndarray:
        if self.predicted is None:
            raise MetricUndefined("Predicted labels are required for post-training metrics.")
        return self.predicted


def divide(numerator: float, denominator: float) -> float:
    if denominator == 0:
        if numerator == 0:
            return 0.0
        return -INFINITY if numerator < 0 else INFINITY
    return numerator / denominator


def _difference(first: float, second: float) -> float:
    if first == second == INFINITY:
        return 0.0
    return first - second


def _count(*masks: np.ndarray) -> int:
    result = masks[0]
    for mask in masks[1:]:
        result = result & mask
    return int(np.count_nonzero(result))


# -- pre-training --------------------------------------------------------------------------


def class_imbalance(x: BiasInputs) -> float:
    x.require_facets()
    na, nd = _count(x.advantaged), _count(x.facet)
    return (na - nd) / (na + nd)


def _positive_proportion_difference(x: BiasInputs, outcome: np.ndarray) -> float:
    x.require_facets()
    qa = _count(x.advantaged, outcome) / _count(x.advantaged)
    qd = _count(x.facet, outcome) / _count(x.facet)
    return qa - qd


def difference_in_proportions_of_labels(x: BiasInputs) -> float:
    return _positive_proportion_difference(x, x.label)


def label_distributions(x: BiasInputs) -> tuple[np.ndarray, np.ndarray]:
    """Pa(y), Pd(y) over y in (negative, positive), kept where both are non-zero."""
    x.require_facets()
    pa = np.array([_count(x.advantaged, ~x.label), _count(x.advantaged, x.label)]) / _count(x.advantaged)
    pd_ = np.array([_count(x.facet, ~x.label), _count(x.facet, x.label)]) / _count(x.facet)
    common = (pa > 0) & (pd_ > 0)
    if not common.any():
        raise MetricUndefined("No instance of common facet found: the facets share no label value.")
    return pa[common], pd_[common]


def kl_divergence(x: BiasInputs) -> float:
    pa, pd_ = label_distributions(x)
    return float(np.sum(pa * np.log(pa / pd_)))


def js_divergence(x: BiasInputs) -> float:
    pa, pd_ = label_distributions(x)
    p = 0.5 * (pa + pd_)
    return float(0.5 * (np.sum(pa * np.log(pa / p)) + np.sum(pd_ * np.log(pd_ / p))))


def lp_norm(x: BiasInputs) -> float:
    pa, pd_ = label_distributions(x)
    return float(np.sqrt(np.sum((pa - pd_) ** 2)))


def total_variation_distance(x: BiasInputs) -> float:
    pa, pd_ = label_distributions(x)
    return float(0.5 * np.sum(np.abs(pa - pd_)))


def kolmogorov_smirnov(x: BiasInputs) -> float:
    pa, pd_ = label_distributions(x)
    return float(np.max(np.abs(pa - pd_)))


def conditional_demographic_disparity(x: BiasInputs, outcome: np.ndarray) -> float:
    """CDD = (1/n) sum_i n_i DD_i with DD_i = nd_i(0)/n_i(0) - nd_i(1)/n_i(1) per subgroup i."""
    if x.group is None or len(x.group) == 0:
        raise MetricUndefined("Group variable is empty or not provided.")
    if not outcome.any():
        raise MetricUndefined("No positive labels in set.")
    if outcome.all():
        raise MetricUndefined("No negative labels in set.")
    weighted, total = 0.0, 0
    for value in np.unique(x.group):
        in_group = x.group == value
        accepted = divide(_count(outcome, x.facet, in_group), _count(outcome, in_group))
        rejected = divide(_count(~outcome, x.facet, in_group), _count(~outcome, in_group))
        size = _count(in_group)
        weighted += size * (rejected - accepted)
        total += size
    return divide(weighted, total)


def cddl(x: BiasInputs) -> float:
    return conditional_demographic_disparity(x, x.label)


# -- post-training -------------------------------------------------------------------------


def dppl(x: BiasInputs) -> float:
    return _positive_proportion_difference(x, x.require_predicted())


def disparate_impact(x: BiasInputs) -> float:
    predicted = x.require_predicted()
    x.require_facets()
    qa = _count(x.advantaged, predicted) / _count(x.advantaged)
    qd = _count(x.facet, predicted) / _count(x.facet)
    return divide(qd, qa)


def _confusion(x: BiasInputs, facet: np.ndarray) -> tuple[int, int, int, int]:
    """TP, FP, FN, TN within `facet`."""
    y, p = x.label, x.require_predicted()
    return _count(facet, y, p), _count(facet, ~y, p), _count(facet, y, ~p), _count(facet, ~y, ~p)


def _per_facet(x: BiasInputs, rate: Callable[[int, int, int, int], float]) -> tuple[float, float]:
    x.require_facets()
    return rate(*_confusion(x, x.advantaged)), rate(*_confusion(x, x.facet))


def dca(x: BiasInputs) -> float:
    """ca - cd, c = n(1) / n'(1): observed over predicted acceptances."""
    ca, cd = _per_facet(x, lambda tp, fp, fn, tn: divide(tp + fn, tp + fp))
    return _difference(ca, cd)


def dcr(x: BiasInputs) -> float:
    """rd - ra, r = n(0) / n'(0): observed over predicted rejections."""
    ra, rd = _per_facet(x, lambda tp, fp, fn, tn: divide(tn + fp, tn + fn))
    return _difference(rd, ra)


def recall_difference(x: BiasInputs) -> float:
    ra, rd = _per_facet(x, lambda tp, fp, fn, tn: divide(tp, tp + fn))
    return _difference(ra, rd)


def specificity_difference(x: BiasInputs) -> float:
    sa, sd = _per_facet(x, lambda tp, fp, fn, tn: divide(tn, tn + fp))
    return _difference(sd, sa)


def dar(x: BiasInputs) -> float:
    """Difference in acceptance rates (precision): TPa/n'a(1) - TPd/n'd(1)."""
    aa, ad = _per_facet(x, lambda tp, fp, fn, tn: divide(tp, tp + fp))
    return _difference(aa, ad)


def drr(x: BiasInputs) -> float:
    """Difference in rejection rates: TNd/n'd(0) - TNa/n'a(0)."""
    ra, rd = _per_facet(x, lambda tp, fp, fn, tn: divide(tn, tn + fn))
    return _difference(rd, ra)


def accuracy_difference(x: BiasInputs) -> float:
    aa, ad = _per_facet(x, lambda tp, fp, fn, tn: divide(tp + tn, tp + fp + fn + tn))
    return _difference(aa, ad)


def treatment_equality(x: BiasInputs) -> float:
    """FNd/FPd - FNa/FPa."""
    ta, td = _per_facet(x, lambda tp, fp, fn, tn: divide(fn, fp))
    return _difference(td, ta)


def cddpl(x: BiasInputs) -> float:
    return conditional_demographic_disparity(x, x.require_predicted())


def generalized_entropy(x: BiasInputs, alpha: float = 2.0) -> float:
    """GE(2) of the benefits b_i = y'_i - y_i + 1: sum((b/mean b)^a - 1) / (n a (a-1))."""
    benefit = x.require_predicted().astype(float) - x.label.astype(float) + 1.0
    mean = benefit.mean()
    if mean == 0:
        raise MetricUndefined("All predicted labels are false negatives.")
    return float(np.sum((benefit / mean) ** alpha - 1.0) / (len(benefit) * alpha * (alpha - 1.0)))


def nearest_neighbours(queries: np.ndarray, points: np.ndarray, k: int, chunk: int = 512) -> np.ndarray:
    """Indices of the k points nearest each query (Euclidean); equal distances go to the
    earlier point, so the answer never depends on the sort."""
    found = np.empty((len(queries), k), dtype=np.int64)
    order = np.arange(points.shape[0])
    squared = np.einsum("ij,ij->i", points, points)
    for start in range(0, len(queries), chunk):
        block = queries[start : start + chunk]
        distances = np.maximum(squared[None, :] - 2.0 * block @ points.T + np.einsum("ij,ij->i", block, block)[:, None], 0.0)
        kth = np.partition(distances, k - 1, axis=1)[:, k - 1 : k]
        chosen = distances < kth
        ties = distances == kth
        room = k - chosen.sum(axis=1, keepdims=True)
        chosen |= ties & (np.cumsum(ties, axis=1) <= room)
        for row, mask in enumerate(chosen):
            found[start + row] = order[mask][:k]
    return found


def flip_test(x: BiasInputs) -> float:
    """FT = (F+ - F-) / nd: facet-d members whose k nearest facet-a neighbours got the opposite
    prediction by majority; F+ counts those the model rejected but whose neighbours it
    accepted, F- the reverse (developer guide, "Counterfactual Fliptest")."""
    predicted = x.require_predicted()
    x.require_facets()
    if x.features is None or x.features.size == 0:
        raise MetricUndefined("FlipTest needs numeric features besides the facet.")
    if not np.issubdtype(x.features.dtype, np.number):
        raise MetricUndefined("FlipTest does not support non-numeric columns.")
    points, queries = x.features[x.advantaged].astype(float), x.features[x.facet].astype(float)
    k = FT_NEIGHBORS if len(points) >= FT_MIN_FACET_A else 1
    k = min(k, len(points))
    neighbours = nearest_neighbours(queries, points, k)
    votes = predicted[x.advantaged][neighbours].sum(axis=1)
    counterfactual = votes * 2 > k
    own = predicted[x.facet]
    flipped_up = int(np.count_nonzero(~own & counterfactual))
    flipped_down = int(np.count_nonzero(own & ~counterfactual))
    return (flipped_up - flipped_down) / len(queries)


Metric = Callable[[BiasInputs], float]

PRE_TRAINING: dict[str, tuple[str, Metric]] = {
    "CDDL": ("Conditional Demographic Disparity in Labels (CDDL)", cddl),
    "CI": ("Class Imbalance (CI)", class_imbalance),
    "DPL": ("Difference in Positive Proportions in Labels (DPL)", difference_in_proportions_of_labels),
    "JS": ("Jensen-Shannon Divergence (JS)", js_divergence),
    "KL": ("Kullback-Liebler Divergence (KL)", kl_divergence),
    "KS": ("Kolmogorov-Smirnov Distance (KS)", kolmogorov_smirnov),
    "LP": ("L-p Norm (LP)", lp_norm),
    "TVD": ("Total Variation Distance (TVD)", total_variation_distance),
}

POST_TRAINING: dict[str, tuple[str, Metric]] = {
    "AD": ("Accuracy Difference (AD)", accuracy_difference),
    "CDDPL": ("Conditional Demographic Disparity in Predicted Labels (CDDPL)", cddpl),
    "DAR": ("Difference in Acceptance Rates (DAR)", dar),
    "DCA": ("Difference in Conditional Acceptance (DCA)", dca),
    "DCR": ("Difference in Conditional Rejection (DCR)", dcr),
    "DI": ("Disparate Impact (DI)", disparate_impact),
    "DPPL": ("Difference in Positive Proportions in Predicted Labels (DPPL)", dppl),
    "DRR": ("Difference in Rejection Rates (DRR)", drr),
    "FT": ("Flip Test (FT)", flip_test),
    "GE": ("Generalized Entropy (GE)", generalized_entropy),
    "RD": ("Recall Difference (RD)", recall_difference),
    "SD": ("Specificity Difference (SD)", specificity_difference),
    "TE": ("Treatment Equality (TE)", treatment_equality),
}


def metric_entry(name: str, description: str, metric: Metric, inputs: BiasInputs) -> dict[str, object]:
    """One entry of analysis.json's metrics list; an infinite value is written "Infinity"."""
    try:
        value = float(metric(inputs))
    except MetricUndefined as exc:
        return {"name": name, "description": description, "value": None, "error": str(exc)}
    shown: object = value
    if math.isinf(value):
        shown = "Infinity" if value > 0 else "-Infinity"
    return {"name": name, "description": description, "value": shown}
