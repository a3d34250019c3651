"""PCA accuracy (and time) of sagebox's streaming PCA against scikit-learn's PCA.

sagebox's pure training code (``decomposition.fit``) streams the float32 rows in
mini-batches of 500, as a training job does; scikit-learn's ``PCA`` gets the same
rows as one float64 matrix (``svd_solver="full"``: an exact SVD). Both in one process.

- ``regular`` mode: each component's explained variance within 1e-6 (relative) of
  scikit-learn's, and the components equal up to sign (largest difference <= 1e-6).
- ``randomized`` mode: the total explained variance of the components within 1%
  of scikit-learn's (what they capture of the data, measured on the data).

Times are reported for information only (best of 3, runs interleaved; scikit-learn's
randomized solver is the reference for the randomized mode).
Run ``python bench/pca.py``; ``run()`` returns the result as a dict.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import Any

import numpy as np
from sklearn.datasets import load_digits, make_low_rank_matrix
from sklearn.decomposition import PCA

from sagebox.algorithms.pca.decomposition import PCAModel, fit

BATCH = 500
REPEATS = 3


def best_seconds(action: Callable[[], object]) -> float:
    best = float("inf")
    for _ in range(REPEATS):
        start = time.perf_counter()
        action()
        best = min(best, time.perf_counter() - start)
    return best


def sagebox_fit(rows: np.ndarray, components: int, mode: str) -> PCAModel:
    return fit(
        lambda: (rows[i : i + BATCH] for i in range(0, len(rows), BATCH)),
        feature_dim=rows.shape[1],
        num_components=components,
        algorithm_mode=mode,
    )


def captured(rows: np.ndarray, components: np.ndarray) -> float:
    """Variance of the rows along the components (sum over components)."""
    centred = rows.astype(np.float64) - rows.mean(axis=0, dtype=np.float64)
    return float((np.linalg.norm(centred @ components, axis=0) ** 2).sum() / (len(rows) - 1))


def regular_rows(name: str, rows: np.ndarray, components: int) -> list[dict[str, str]]:
    reference = PCA(components, svd_solver="full").fit(rows.astype(np.float64))
    model = sagebox_fit(rows, components, "regular")
    variance_error = float(
        np.max(
            np.abs(model.explained_variance - reference.explained_variance_)
            / reference.explained_variance_
        )
    )
    aligned = (
        model.components.T
        * np.sign(np.sum(model.components.T * reference.components_, axis=1))[:, None]
    )
    component_error = float(np.max(np.abs(aligned - reference.components_)))
    ours = best_seconds(lambda: sagebox_fit(rows, components, "regular"))
    theirs = best_seconds(lambda: PCA(components, svd_solver="full").fit(rows.astype(np.float64)))
    return [
        {
            "measure": f"regular, {name}, {components} components: explained variance, largest relative difference",
            "sagebox": f"{variance_error:.1e}",
            "reference": "0 (sklearn PCA, svd_solver=full)",
            "ratio": "",
            "target": "<= 1e-6",
            "met": "yes" if variance_error <= 1e-6 else "no",
        },
        {
            "measure": f"regular, {name}: components, largest difference up to sign",
            "sagebox": f"{component_error:.1e}",
            "reference": "0",
            "ratio": "",
            "target": "<= 1e-6",
            "met": "yes" if component_error <= 1e-6 else "no",
        },
        {
            "measure": f"regular, {name}: seconds (best of {REPEATS})",
            "sagebox": f"{ours:.3f}",
            "reference": f"{theirs:.3f}",
            "ratio": f"{ours / theirs:.2f}x",
            "target": "(information)",
            "met": "",
        },
    ]


def randomized_rows(name: str, rows: np.ndarray, components: int) -> list[dict[str, str]]:
    exact = PCA(components, svd_solver="full").fit(rows.astype(np.float64))
    model = sagebox_fit(rows, components, "randomized")
    ratio = captured(rows, model.components) / exact.explained_variance_.sum()
    ours = best_seconds(lambda: sagebox_fit(rows, components, "randomized"))
    theirs = best_seconds(
        lambda: PCA(components, svd_solver="randomized", random_state=0).fit(
            rows.astype(np.float64)
        )
    )
    return [
        {
            "measure": f"randomized, {name}, {components} components: explained variance (sum)",
            "sagebox": f"{captured(rows, model.components):.6g}",
            "reference": f"{exact.explained_variance_.sum():.6g} (sklearn PCA, svd_solver=full)",
            "ratio": f"{ratio:.5f}x",
            "target": "within 1%",
            "met": "yes" if abs(ratio - 1) <= 0.01 else "no",
        },
        {
            "measure": f"randomized, {name}: seconds (best of {REPEATS})",
            "sagebox": f"{ours:.3f}",
            "reference": f"{theirs:.3f} (sklearn PCA, svd_solver=randomized)",
            "ratio": f"{ours / theirs:.2f}x",
            "target": "(information)",
            "met": "",
        },
    ]


def run() -> dict[str, Any]:
    digits = load_digits().data.astype(np.float32)
    low_rank = make_low_rank_matrix(
        10_000, 400, effective_rank=40, tail_strength=0.3, random_state=0
    )
    low_rank = (low_rank * 100).astype(np.float32)
    rows = regular_rows("digits (1797 x 64)", digits, 10)
    rows += regular_rows("low-rank synthetic (10000 x 400)", low_rank, 20)
    rows += randomized_rows("digits (1797 x 64)", digits, 10)
    rows += randomized_rows("low-rank synthetic (10000 x 400)", low_rank, 20)
    result = {
        "name": "pca",
        "rows": rows,
        "notes": f"float32 rows streamed in mini-batches of {BATCH}; subtract_mean=true; "
        "randomized: extra_components=-1 (a block of 2 x num_components columns), 5 passes "
        "over the data (4 power iterations and a Rayleigh-Ritz step), seed 0. The synthetic "
        "matrix is sklearn's make_low_rank_matrix (effective_rank=40, tail_strength=0.3).",
    }
    print(json.dumps(result))
    return result


if __name__ == "__main__":
    run()
