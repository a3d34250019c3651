"""K-Means mathematics: distances, seeding, Lloyd, the mini-batch stage, parity with scikit-learn."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.cluster import KMeans
from sklearn.datasets import load_digits, load_iris, make_blobs
from sklearn.utils import Bunch

from sagebox.algorithms.kmeans import clustering
from sagebox.algorithms.kmeans.clustering import (
    Rows,
    closest,
    lloyd,
    seed_kmeans_plus_plus,
    seed_random,
    squared_distances,
)
from sagebox.algorithms.kmeans.web_scale import (
    KMeansSettings,
    MiniBatchKMeans,
    NotEnoughRows,
    fit,
    reduce_centers,
)


def batches_of(rows: Rows, size: int) -> Callable[[], Iterator[Rows]]:
    return lambda: (rows[start : start + size] for start in range(0, rows.shape[0], size))


def msd(rows: np.ndarray, centers: np.ndarray) -> float:
    return float(closest(np.asarray(rows, dtype=np.float64), centers)[1].mean())


def brute_force(rows: np.ndarray, centers: np.ndarray) -> np.ndarray:
    return ((rows[:, None, :] - centers[None, :, :]) ** 2).sum(axis=2)


def test_squared_distances_dense_and_sparse_match_brute_force() -> None:
    rng = np.random.default_rng(0)
    rows = rng.normal(size=(40, 7)) * (rng.random((40, 7)) < 0.4)
    centers = rng.normal(size=(5, 7))
    expected = brute_force(rows, centers)
    np.testing.assert_allclose(squared_distances(rows, centers), expected, atol=1e-12)
    np.testing.assert_allclose(
        squared_distances(sp.csr_matrix(rows), centers), expected, atol=1e-12
    )
    assert (squared_distances(centers, centers) >= 0).all()


def test_closest_is_the_same_in_chunks(monkeypatch: pytest.MonkeyPatch) -> None:
    rng = np.random.default_rng(1)
    rows, centers = rng.normal(size=(101, 3)), rng.normal(size=(4, 3))
    whole = closest(rows, centers)
    monkeypatch.setattr(clustering, "_DISTANCE_CELLS", 8)
    chunked = closest(rows, centers)
    np.testing.assert_array_equal(whole[0], chunked[0])
    np.testing.assert_allclose(whole[1], chunked[1])
    np.testing.assert_array_equal(whole[0], brute_force(rows, centers).argmin(axis=1))


def test_random_seeds_are_distinct_points_with_weight() -> None:
    points = np.arange(20, dtype=np.float64).reshape(10, 2)
    weights = np.array([1, 0, 1, 0, 1, 0, 1, 0, 1, 0], dtype=np.float64)
    for seed in range(20):
        seeds = seed_random(points, 5, np.random.default_rng(seed), weights)
        assert sorted(seeds[:, 0].tolist()) == [0.0, 4.0, 8.0, 12.0, 16.0]
    with pytest.raises(ValueError, match="cannot draw 6 centres from 5 points"):
        seed_random(points, 6, np.random.default_rng(0), weights)


def test_kmeans_plus_plus_spreads_seeds_over_separate_blobs() -> None:
    rows, blob = make_blobs(300, 2, centers=[[0, 0], [50, 0], [0, 50]], random_state=0)
    for seed in range(10):
        seeds = seed_kmeans_plus_plus(rows, 3, np.random.default_rng(seed))
        assert sorted(brute_force(seeds, np.array([[0, 0], [50, 0], [0, 50]])).argmin(1)) == [
            0,
            1,
            2,
        ]
        assert all((rows == seed_row).all(axis=1).any() for seed_row in seeds)


def test_kmeans_plus_plus_never_picks_a_point_without_weight() -> None:
    rows = np.array([[0.0], [1.0], [100.0], [101.0], [1000.0]])
    weights = np.array([1.0, 1.0, 1.0, 1.0, 0.0])
    for seed in range(20):
        seeds = seed_kmeans_plus_plus(rows, 4, np.random.default_rng(seed), weights)
        assert 1000.0 not in seeds


def test_weighted_lloyd_matches_scikit_learn() -> None:
    rows, _ = make_blobs(400, 4, centers=5, cluster_std=2.0, random_state=3)
    weights = np.random.default_rng(3).random(400) * 3
    init = rows[[0, 50, 100, 150, 200]]
    ours = lloyd(rows, weights, init, max_iter=300, tol=0.0)
    reference = KMeans(5, init=init, n_init=1, algorithm="lloyd", tol=0.0, max_iter=300)
    reference.fit(rows, sample_weight=weights)
    np.testing.assert_allclose(ours.centers, reference.cluster_centers_, rtol=1e-9, atol=1e-9)
    assert ours.ssd == pytest.approx(reference.inertia_, rel=1e-9)


def test_lloyd_stops_early_within_the_tolerance() -> None:
    rows, _ = make_blobs(500, 3, centers=8, random_state=0)
    init = rows[:8]
    loose = lloyd(rows, np.ones(500), init, max_iter=300, tol=0.5)
    exact = lloyd(rows, np.ones(500), init, max_iter=300, tol=0.0)
    assert loose.iterations < exact.iterations
    assert lloyd(rows, np.ones(500), init, max_iter=1, tol=0.0).iterations == 1


def test_a_centre_moves_by_the_share_of_new_rows() -> None:
    """SageMaker's rule: centre = (1 - p) centre + p mean(new rows), p = m / (c + m)."""
    stage = MiniBatchKMeans(2, rng=np.random.default_rng(0))
    stage.partial_fit(np.array([[0.0, 0.0], [10.0, 10.0]]))
    assert stage.counts is not None and stage.centers is not None
    np.testing.assert_array_equal(stage.counts, [1.0, 1.0])
    first = int(np.argmin(stage.centers[:, 0]))
    stage.partial_fit(np.array([[1.0, 1.0], [2.0, 2.0]]))
    np.testing.assert_allclose(stage.centers[first], [1.0, 1.0])  # p = 2/3 of the way to 1.5
    np.testing.assert_allclose(stage.centers[1 - first], [10.0, 10.0])
    np.testing.assert_array_equal(stage.counts[[first, 1 - first]], [3.0, 1.0])


def test_half_life_decays_the_weight_of_earlier_rows() -> None:
    stage = MiniBatchKMeans(1, half_life_time_size=2, rng=np.random.default_rng(0))
    stage.partial_fit(np.array([[0.0], [0.0]]))
    stage.partial_fit(np.array([[6.0], [6.0]]))
    assert stage.counts is not None and stage.centers is not None
    # the two earlier rows count 1/2 each after two more: p = 2 / (1 + 2)
    np.testing.assert_allclose(stage.counts, [3.0])
    np.testing.assert_allclose(stage.centers, [[4.0]])


def test_batches_smaller_than_k_are_gathered_before_seeding() -> None:
    stage = MiniBatchKMeans(6, rng=np.random.default_rng(0))
    stage.partial_fit(np.arange(8.0).reshape(4, 2))
    assert stage.centers is None and stage.rows_gathered == 4
    stage.partial_fit(np.arange(8.0, 16.0).reshape(4, 2))
    assert stage.centers is not None and stage.rows_seen == 8


def test_fewer_rows_than_working_centres_still_give_k_centroids() -> None:
    rows = load_iris().data[::10]  # 15 rows, K = 3 * 10 = 30
    model = fit(batches_of(rows, 4), KMeansSettings(k=3, extra_center_factor=10))
    assert model.centers.shape == (3, 4)
    assert len(model.working_centers) == 15


def test_fewer_rows_than_k_is_an_error() -> None:
    with pytest.raises(NotEnoughRows, match="k=5 clusters need at least 5 rows; the data has 3"):
        fit(batches_of(np.ones((3, 2)), 2), KMeansSettings(k=5))


def test_reduction_keeps_weighted_centres_when_there_are_few() -> None:
    points = np.array([[0.0], [1.0], [2.0], [3.0]])
    centers, _ = reduce_centers(
        points, np.array([2.0, 0.0, 1.0, 0.0]), KMeansSettings(k=3), np.random.default_rng(0)
    )
    assert sorted(centers[:2, 0].tolist()) == [0.0, 2.0]


def test_training_is_reproducible_for_a_seed() -> None:
    rows = load_digits().data[:600]
    settings = KMeansSettings(k=8, extra_center_factor=4, init_method="kmeans++", epochs=2)
    first = fit(batches_of(rows, 128), settings, seed=7)
    again = fit(batches_of(rows, 128), settings, seed=7)
    other = fit(batches_of(rows, 128), settings, seed=8)
    np.testing.assert_array_equal(first.centers, again.centers)
    assert not np.array_equal(first.centers, other.centers)


def test_sparse_rows_train_the_same_model_as_dense_rows() -> None:
    rows = load_digits().data[:500]
    settings = KMeansSettings(k=6, extra_center_factor=3, init_method="kmeans++")
    dense = fit(batches_of(rows, 100), settings, seed=1)
    sparse = fit(batches_of(sp.csr_matrix(rows), 100), settings, seed=1)
    np.testing.assert_allclose(dense.centers, sparse.centers, rtol=1e-9, atol=1e-9)


def test_epoch_callback_reports_the_working_loss() -> None:
    rows = load_iris().data
    seen: list[tuple[int, float]] = []
    fit(
        batches_of(rows, 50),
        KMeansSettings(k=3, epochs=3),
        on_epoch=lambda e, m: seen.append((e, m)),
    )
    assert [epoch for epoch, _ in seen] == [0, 1, 2]
    assert all(loss > 0 for _, loss in seen)


@pytest.mark.parametrize(
    ("loader", "k", "batch"),
    [(load_iris, 3, 5000), (load_digits, 10, 5000), (load_digits, 10, 256)],
)
def test_quality_is_within_two_percent_of_scikit_learn(
    loader: Callable[[], Bunch], k: int, batch: int
) -> None:
    rows = loader().data.astype(np.float32)
    rows = rows[np.random.default_rng(0).permutation(len(rows))]
    reference = KMeans(k, n_init=3, random_state=0).fit(rows.astype(np.float64))
    settings = KMeansSettings(
        k=k, extra_center_factor=10, init_method="kmeans++", local_lloyd_num_trials=10
    )
    model = fit(batches_of(rows, batch), settings, seed=0)
    assert msd(rows, model.centers) <= 1.02 * reference.inertia_ / len(rows)
