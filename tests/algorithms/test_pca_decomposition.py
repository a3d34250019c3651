"""PCA mathematics: streaming regular and randomized modes against scikit-learn."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import numpy as np
import pytest
from sklearn.datasets import load_breast_cancer, load_digits
from sklearn.decomposition import PCA, TruncatedSVD

from sagebox.algorithms.pca.decomposition import (
    NoRows,
    ScatterAccumulator,
    fit,
    orient,
    sketch_size,
)


def batches_of(rows: np.ndarray, size: int) -> Callable[[], Iterator[np.ndarray]]:
    return lambda: (rows[start : start + size] for start in range(0, len(rows), size))


def digits() -> np.ndarray:
    return load_digits().data.astype(np.float32)


def captured_variance(rows: np.ndarray, components: np.ndarray) -> float:
    centred = rows.astype(np.float64) - rows.mean(axis=0, dtype=np.float64)
    return float((np.linalg.norm(centred @ components, axis=0) ** 2).sum() / (len(rows) - 1))


@pytest.mark.parametrize("batch", [1, 37, 500, 5000])
def test_regular_mode_equals_scikit_learn(batch: int) -> None:
    rows = digits()
    reference = PCA(10, svd_solver="full").fit(rows.astype(np.float64))
    model = fit(batches_of(rows, batch), feature_dim=64, num_components=10)
    np.testing.assert_allclose(model.explained_variance, reference.explained_variance_, rtol=1e-9)
    np.testing.assert_allclose(model.components.T, reference.components_, atol=1e-9)
    np.testing.assert_allclose(model.mean, reference.mean_, rtol=1e-12)
    np.testing.assert_allclose(
        model.project(rows[:50]), reference.transform(rows[:50].astype(np.float64)), atol=1e-7
    )
    assert model.rows == len(rows)


def test_regular_mode_does_not_lose_digits_to_a_large_mean() -> None:
    rows = load_breast_cancer().data
    shifted = rows + 1e7
    near = fit(batches_of(rows, 100), feature_dim=30, num_components=5)
    far = fit(batches_of(shifted, 100), feature_dim=30, num_components=5)
    np.testing.assert_allclose(far.singular_values, near.singular_values, rtol=1e-6)
    np.testing.assert_allclose(np.abs(far.components.T @ near.components), np.eye(5), atol=1e-6)


def test_without_mean_subtraction_the_components_are_the_raw_singular_vectors() -> None:
    rows = load_breast_cancer().data[:, :10]
    model = fit(batches_of(rows, 64), feature_dim=10, num_components=4, subtract_mean=False)
    reference = TruncatedSVD(4, algorithm="arpack").fit(rows)
    assert model.mean is None
    np.testing.assert_allclose(model.singular_values, reference.singular_values_, rtol=1e-9)
    np.testing.assert_allclose(
        np.abs(model.components.T @ reference.components_.T), np.eye(4), atol=1e-8
    )
    np.testing.assert_allclose(model.project(rows[:5]), rows[:5] @ model.components)


@pytest.mark.parametrize(("components", "batch"), [(5, 500), (10, 100), (20, 1797)])
def test_randomized_mode_is_within_one_percent_of_scikit_learn(components: int, batch: int) -> None:
    rows = digits()
    reference = PCA(components, svd_solver="full").fit(rows.astype(np.float64))
    model = fit(
        batches_of(rows, batch),
        feature_dim=64,
        num_components=components,
        algorithm_mode="randomized",
    )
    total = reference.explained_variance_.sum()
    assert model.explained_variance.sum() == pytest.approx(total, rel=0.01)
    assert captured_variance(rows, model.components) == pytest.approx(total, rel=0.01)
    np.testing.assert_allclose(model.components.T @ model.components, np.eye(components), atol=1e-9)
    np.testing.assert_allclose(model.mean, reference.mean_, rtol=1e-9)


def test_randomized_mode_is_reproducible_for_a_seed() -> None:
    rows = digits()[:400]
    first = fit(
        batches_of(rows, 64),
        feature_dim=64,
        num_components=3,
        algorithm_mode="randomized",
        extra_components=0,
        passes=1,
        seed=3,
    )
    again = fit(
        batches_of(rows, 64),
        feature_dim=64,
        num_components=3,
        algorithm_mode="randomized",
        extra_components=0,
        passes=1,
        seed=3,
    )
    other = fit(
        batches_of(rows, 64),
        feature_dim=64,
        num_components=3,
        algorithm_mode="randomized",
        extra_components=0,
        passes=1,
        seed=4,
    )
    np.testing.assert_array_equal(first.components, again.components)
    assert not np.array_equal(first.components, other.components)


def test_randomized_mode_with_a_full_block_is_exact() -> None:
    rows = load_breast_cancer().data[:, :12]
    exact = fit(batches_of(rows, 50), feature_dim=12, num_components=4)
    full = fit(
        batches_of(rows, 50),
        feature_dim=12,
        num_components=4,
        algorithm_mode="randomized",
        extra_components=100,
    )
    np.testing.assert_allclose(full.singular_values, exact.singular_values, rtol=1e-9)
    np.testing.assert_allclose(full.components, exact.components, atol=1e-8)


def test_passes_are_reported() -> None:
    rows = digits()[:100]
    seen: list[tuple[int, int]] = []
    fit(
        batches_of(rows, 50),
        feature_dim=64,
        num_components=2,
        on_pass=lambda d, t: seen.append((d, t)),
    )
    fit(
        batches_of(rows, 50),
        feature_dim=64,
        num_components=2,
        algorithm_mode="randomized",
        on_pass=lambda d, t: seen.append((d, t)),
    )
    assert seen == [(1, 1), (1, 5), (2, 5), (3, 5), (4, 5), (5, 5)]


def test_sketch_size_follows_extra_components() -> None:
    assert sketch_size(5, -1) == 15
    assert sketch_size(30, -1) == 60
    assert sketch_size(5, 0) == 5 and sketch_size(5, 3) == 8


def test_components_are_oriented_by_their_largest_entry() -> None:
    oriented = orient(np.array([[0.1, 0.6], [-0.9, -0.8]]))
    np.testing.assert_array_equal(oriented, [[-0.1, -0.6], [0.9, 0.8]])


def test_no_rows_and_wrong_widths_are_errors() -> None:
    with pytest.raises(NoRows):
        fit(lambda: iter(()), feature_dim=3, num_components=1)
    with pytest.raises(NoRows):
        fit(lambda: iter(()), feature_dim=3, num_components=1, algorithm_mode="randomized")
    with pytest.raises(ValueError, match="rows must have 3 features"):
        ScatterAccumulator(3).update(np.ones((2, 4)))
