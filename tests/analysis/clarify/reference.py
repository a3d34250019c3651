"""Clarify's bias metrics computed straight from SageMaker's developer guide, row by row.

Written independently of sagebox.analysis.clarify: plain counting over Python lists, one
formula a metric as the guide states it ("Measure pre-training bias" and "Measure
post-training bias" pages), with the conventions SageMaker's implementation keeps where
a formula divides by zero (x/0 = inf, 0/0 = 0, inf - inf = 0) and with the label
distributions of KL, JS, LP, TVD and KS taken over the binary outcome, summed over the
outcomes present in both facets. Tests and bench/clarify.py compare the job's values to
these.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

INF = math.inf


def ratio(numerator: float, denominator: float) -> float:
    if denominator == 0:
        return 0.0 if numerator == 0 else (INF if numerator > 0 else -INF)
    return numerator / denominator


def minus(first: float, second: float) -> float:
    return 0.0 if first == INF and second == INF else first - second


class Counts:
    """The counts of one facet: n, n(1), n(0), n'(1), n'(0), TP, FP, FN, TN."""

    def __init__(self, labels: Sequence[bool], predicted: Sequence[bool] | None) -> None:
        self.n = len(labels)
        self.pos = sum(1 for y in labels if y)
        self.neg = self.n - self.pos
        pred = predicted if predicted is not None else [False] * self.n
        self.pred_pos = sum(1 for p in pred if p)
        self.pred_neg = self.n - self.pred_pos
        pairs = list(zip(labels, pred, strict=True))
        self.tp = sum(1 for y, p in pairs if y and p)
        self.fp = sum(1 for y, p in pairs if not y and p)
        self.fn = sum(1 for y, p in pairs if y and not p)
        self.tn = sum(1 for y, p in pairs if not y and not p)


def _split(facet: Sequence[bool], values: Sequence[Any]) -> tuple[list[Any], list[Any]]:
    a = [v for f, v in zip(facet, values, strict=True) if not f]
    d = [v for f, v in zip(facet, values, strict=True) if f]
    return a, d


def _distributions(a: Counts, d: Counts) -> list[tuple[float, float]]:
    pairs = [(a.neg / a.n, d.neg / d.n), (a.pos / a.n, d.pos / d.n)]
    return [(pa, pd) for pa, pd in pairs if pa > 0 and pd > 0]


def cdd(facet: Sequence[bool], outcome: Sequence[bool], group: Sequence[Any]) -> float:
    """CDD = (1/n) sum_i n_i DD_i, DD_i = n_i_d(0)/n_i(0) - n_i_d(1)/n_i(1)."""
    total = 0.0
    for value in sorted(set(group)):
        rows = [i for i, g in enumerate(group) if g == value]
        rejected = [i for i in rows if not outcome[i]]
        accepted = [i for i in rows if outcome[i]]
        dd = ratio(sum(1 for i in rejected if facet[i]), len(rejected)) - ratio(sum(1 for i in accepted if facet[i]), len(accepted))
        total += len(rows) * dd
    return total / len(group)


def pre_training(facet: Sequence[bool], label: Sequence[bool], group: Sequence[Any] | None = None) -> dict[str, float]:
    la, ld = _split(facet, label)
    a, d = Counts(la, None), Counts(ld, None)
    dist = _distributions(a, d)
    metrics = {
        "CI": (a.n - d.n) / (a.n + d.n),
        "DPL": a.pos / a.n - d.pos / d.n,
        "KL": sum(pa * math.log(pa / pd) for pa, pd in dist),
        "JS": 0.5 * sum(pa * math.log(pa / ((pa + pd) / 2)) + pd * math.log(pd / ((pa + pd) / 2)) for pa, pd in dist),
        "LP": math.sqrt(sum((pa - pd) ** 2 for pa, pd in dist)),
        "TVD": 0.5 * sum(abs(pa - pd) for pa, pd in dist),
        "KS": max(abs(pa - pd) for pa, pd in dist),
    }
    if group is not None:
        metrics["CDDL"] = cdd(facet, label, group)
    return metrics


def _neighbours(point: Sequence[float], candidates: list[Sequence[float]], k: int) -> list[int]:
    distances = [(sum((p - c) ** 2 for p, c in zip(point, candidate, strict=True)), index) for index, candidate in enumerate(candidates)]
    return [index for _, index in sorted(distances)[:k]]


def flip_test(facet: Sequence[bool], predicted: Sequence[bool], features: Sequence[Sequence[float]]) -> float:
    """FT = (F+ - F-)/nd over the k = 5 (1 when facet a has under 10 rows) nearest facet-a rows."""
    fa, fd = _split(facet, list(features))
    pa, pd = _split(facet, predicted)
    k = min(5 if len(fa) >= 10 else 1, len(fa))
    up = down = 0
    for point, own in zip(fd, pd, strict=True):
        votes = sum(1 for i in _neighbours(point, fa, k) if pa[i])
        counterfactual = votes * 2 > k
        up += int(not own and counterfactual)
        down += int(own and not counterfactual)
    return (up - down) / len(fd)


def post_training(
    facet: Sequence[bool],
    label: Sequence[bool],
    predicted: Sequence[bool],
    group: Sequence[Any] | None = None,
    features: Sequence[Sequence[float]] | None = None,
) -> dict[str, float]:
    la, ld = _split(facet, label)
    pa, pd = _split(facet, predicted)
    a, d = Counts(la, pa), Counts(ld, pd)
    n = len(label)
    benefits = [int(p) - int(y) + 1 for y, p in zip(label, predicted, strict=True)]
    mean_benefit = sum(benefits) / n
    metrics = {
        "DPPL": a.pred_pos / a.n - d.pred_pos / d.n,
        "DI": ratio(d.pred_pos / d.n, a.pred_pos / a.n),
        "DCA": minus(ratio(a.pos, a.pred_pos), ratio(d.pos, d.pred_pos)),
        "DCR": minus(ratio(d.neg, d.pred_neg), ratio(a.neg, a.pred_neg)),
        "RD": minus(ratio(a.tp, a.tp + a.fn), ratio(d.tp, d.tp + d.fn)),
        "SD": minus(ratio(d.tn, d.tn + d.fp), ratio(a.tn, a.tn + a.fp)),
        "DAR": minus(ratio(a.tp, a.pred_pos), ratio(d.tp, d.pred_pos)),
        "DRR": minus(ratio(d.tn, d.pred_neg), ratio(a.tn, a.pred_neg)),
        "AD": minus(ratio(a.tp + a.tn, a.n), ratio(d.tp + d.tn, d.n)),
        "TE": minus(ratio(d.fn, d.fp), ratio(a.fn, a.fp)),
        "GE": sum((b / mean_benefit) ** 2 - 1 for b in benefits) / (n * 2 * 1),
    }
    if group is not None:
        metrics["CDDPL"] = cdd(facet, predicted, group)
    if features is not None:
        metrics["FT"] = flip_test(facet, predicted, features)
    return metrics


def close(value: Any, expected: float, tolerance: float = 1e-9) -> bool:
    """A job's value (a number, or "Infinity") against a reference value."""
    if isinstance(value, str):
        return math.isinf(expected) and value == ("Infinity" if expected > 0 else "-Infinity")
    return abs(float(value) - expected) <= tolerance * max(1.0, abs(expected))
