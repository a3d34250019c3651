"""SHAP values: Kernel SHAP with ``shap``'s KernelExplainer, or exact TreeSHAP when possible.

Both compute the same quantity, the interventional Shapley values of the model's output
(or of its logit with ``use_logit``) with the baseline rows standing for absent features:
phi_i(x) is the weighted average over feature subsets S of
E_b[f(x_S ∪ {i}, b_rest)] - E_b[f(x_S, b_rest)], b over the baseline rows. Kernel SHAP
estimates it from ``num_samples`` coalitions (with 2^M - 2 or fewer coalitions for M
features it enumerates them all and is exact); its default ``num_samples`` is ``shap``'s
own, 2M + 2048. The expected value is the mean model output over the baseline, and the
local values of a record add up to its output minus the expected value.

Global values aggregate the local ones per feature: ``mean_abs`` (mean |phi|), ``mean_sq``
(mean phi^2) or ``median`` (median phi).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd

from sagebox.analysis.clarify.errors import ClarifyError

Predict = Callable[[np.ndarray], np.ndarray]
"""Rows (n, M) in the data set's column order -> model scores (n, L)."""


@dataclass(frozen=True)
class ShapResult:
    features: list[str]
    label_names: list[str]
    expected_value: np.ndarray
    """(L,) in the explained space (logit with use_logit)."""
    local: np.ndarray
    """(n records, M features, L labels)."""
    method: str
    """"kernel" or "tree": which algorithm computed the values."""

    def global_values(self, agg_method: str) -> np.ndarray:
        """(M, L) aggregated over the records."""
        if agg_method == "mean_abs":
            return np.mean(np.abs(self.local), axis=0)
        if agg_method == "mean_sq":
            return np.mean(self.local**2, axis=0)
        if agg_method == "median":
            return np.median(self.local, axis=0)
        raise ClarifyError(f"agg_method must be mean_abs, mean_sq or median, got {agg_method!r}.")

    def section(self, agg_method: str) -> dict[str, dict[str, object]]:
        """analysis.json's explanations.kernel_shap: per label, global values and expected value."""
        values = self.global_values(agg_method)
        return {
            label: {
                "global_shap_values": {f: float(values[i, j]) for i, f in enumerate(self.features)},
                "expected_value": float(self.expected_value[j]),
            }
            for j, label in enumerate(self.label_names)
        }

    def local_frame(self, identifiers: pd.Series | None = None) -> pd.DataFrame:
        """explanations_shap/out.csv: a row per record; a column per feature (per label and
        feature, as ``<label>_<feature>``, when the model gives several scores)."""
        columns: dict[str, np.ndarray] = {}
        if identifiers is not None:
            columns[str(identifiers.name)] = identifiers.to_numpy()
        several = len(self.label_names) > 1
        for j, label in enumerate(self.label_names):
            for i, feature in enumerate(self.features):
                columns[f"{label}_{feature}" if several else feature] = self.local[:, i, j]
        return pd.DataFrame(columns)


def label_names(count: int, headers: tuple[object, ...] | None) -> list[str]:
    if headers is not None and len(headers) == count:
        return [str(h) for h in headers]
    return [f"label{j}" for j in range(count)]


def default_num_samples(features: int) -> int:
    return 2 * features + 2048


def kernel_shap(
    predict: Predict,
    data: np.ndarray,
    baseline: np.ndarray,
    *,
    num_samples: int | None = None,
    use_logit: bool = False,
    seed: int | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """(expected value (L,), local values (n, M, L)) by Kernel SHAP."""
    import shap

    if use_logit:
        probe = predict(baseline)
        if np.any((probe <= 0) | (probe >= 1)):
            raise ClarifyError("use_logit needs model scores strictly between 0 and 1; the model's scores are not.")
    explainer = shap.KernelExplainer(predict, baseline, link="logit" if use_logit else "identity")
    state = np.random.get_state()
    np.random.seed(0 if seed is None else seed)
    try:
        values = explainer.shap_values(data, nsamples=num_samples or default_num_samples(data.shape[1]), silent=True)
    finally:
        np.random.set_state(state)
    local = np.asarray(values, dtype=float)
    if local.ndim == 2:
        local = local[:, :, None]
    expected = np.atleast_1d(np.asarray(explainer.expected_value, dtype=float))
    return expected, local


def explain(
    predict: Predict,
    frame: pd.DataFrame,
    baseline: pd.DataFrame,
    *,
    headers: tuple[object, ...] | None = None,
    num_samples: int | None = None,
    use_logit: bool = False,
    seed: int | None = None,
) -> ShapResult:
    """Kernel SHAP of every row of `frame` (the model's features) against `baseline`."""
    data = frame.to_numpy()
    base = baseline[frame.columns].to_numpy()
    if all(pd.api.types.is_numeric_dtype(frame[c]) for c in frame.columns):
        data, base = data.astype(float), base.astype(float)
    expected, local = kernel_shap(predict, data, base, num_samples=num_samples, use_logit=use_logit, seed=seed)
    return ShapResult([str(c) for c in frame.columns], label_names(local.shape[2], headers), expected, local, "kernel")
