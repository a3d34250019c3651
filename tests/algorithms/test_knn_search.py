"""k-NN mathematics: sampling, reduction, exact and IVF search, votes, parity with scikit-learn."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.datasets import load_diabetes, load_digits, load_iris, load_wine
from sklearn.model_selection import train_test_split
from sklearn.neighbors import KNeighborsClassifier, KNeighborsRegressor

from sagebox.algorithms.knn import search
from sagebox.algorithms.knn.model import KnnConfig, KnnModel, sample_points
from sagebox.algorithms.knn.predictor import majority_vote, mean_label, predict_labels
from sagebox.algorithms.knn.reduction import Reduction, make_reduction, walsh_hadamard
from sagebox.algorithms.knn.sampling import Reservoir
from sagebox.algorithms.knn.search import NeighborIndex


def brute_force(points: np.ndarray, queries: np.ndarray, k: int, metric: str = "L2"):  # noqa: ANN201
    """(indices, costs) of the k best points by (exact cost, point order)."""
    p, q = points.astype(np.float64), queries.astype(np.float64)
    if metric == "L2":
        costs = ((q[:, None, :] - p[None, :, :]) ** 2).sum(axis=2)
    else:
        if metric == "COSINE":
            p = p / np.maximum(np.linalg.norm(p, axis=1, keepdims=True), 1e-300)
            q = q / np.maximum(np.linalg.norm(q, axis=1, keepdims=True), 1e-300)
        costs = -np.einsum("qd,pd->qp", q, p)
    order = np.stack([np.lexsort((np.arange(len(p)), row))[:k] for row in costs])
    return order, np.take_along_axis(costs, order, axis=1)


def config(features: np.ndarray, k: int, predictor_type: str, **extra) -> KnnConfig:  # noqa: ANN003
    return KnnConfig(
        feature_dim=features.shape[1],
        k=k,
        predictor_type=predictor_type,
        sample_size=extra.pop("sample_size", len(features)),
        **extra,
    ).with_pq_dimensions()


# ---------------------------------------------------------------- sampling


def test_reservoir_keeps_every_row_in_order_when_it_fits() -> None:
    reservoir = Reservoir(10, seed=3)
    entering, slots = reservoir.admit(6)
    np.testing.assert_array_equal(entering, np.arange(6))
    np.testing.assert_array_equal(slots, np.arange(6))
    entering, slots = reservoir.admit(4)
    np.testing.assert_array_equal(slots, np.arange(6, 10))
    assert reservoir.size == 10


def test_reservoir_sample_is_uniform_and_seeded() -> None:
    rows = np.arange(60, dtype=np.float32)[:, None]
    labels = np.arange(60, dtype=np.float32)
    counts = np.zeros(60)
    settings = KnnConfig(feature_dim=1, k=1, predictor_type="regressor", sample_size=12)
    for seed in range(400):
        batches = [(rows[i : i + 7], labels[i : i + 7]) for i in range(0, 60, 7)]
        points, sampled, seen = sample_points(
            batches, KnnConfig(**{**settings.__dict__, "seed": seed})
        )
        assert seen == 60 and len(points) == 12
        assert np.all(np.diff(sampled) > 0)  # training-row order, no duplicates
        np.testing.assert_array_equal(points[:, 0], sampled)
        counts[sampled.astype(int)] += 1
    frequency = counts / 400
    assert abs(frequency.mean() - 0.2) < 1e-12
    assert frequency.min() > 0.12 and frequency.max() < 0.28
    again = sample_points([(rows, labels)], KnnConfig(**{**settings.__dict__, "seed": 5}))
    once = sample_points([(rows, labels)], KnnConfig(**{**settings.__dict__, "seed": 5}))
    np.testing.assert_array_equal(again[1], once[1])


def test_reservoir_keeps_the_later_row_when_a_batch_hits_a_slot_twice() -> None:
    reservoir = Reservoir(1, seed=0)
    reservoir.admit(1)
    entering, slots = reservoir.admit(1000)
    assert len(entering) <= 1 and np.all(slots == 0)


# ---------------------------------------------------------------- reduction


def test_walsh_hadamard_is_orthonormal() -> None:
    identity = np.eye(16)
    hadamard = walsh_hadamard(identity)
    np.testing.assert_allclose(hadamard @ hadamard.T, identity, atol=1e-12)
    with pytest.raises(ValueError, match="power of two"):
        walsh_hadamard(np.ones((1, 6)))


@pytest.mark.parametrize("kind", ["sign", "fjlt"])
def test_reductions_preserve_distances_on_average_and_round_trip(kind: str) -> None:
    rng = np.random.default_rng(0)
    rows = rng.normal(size=(200, 50))
    reduction = make_reduction(kind, 50, 40, seed=1)
    reduced = reduction.apply(rows)
    assert reduced.shape == (200, 40)
    ratio = (reduced**2).sum(axis=1) / (rows**2).sum(axis=1)
    assert 0.85 < ratio.mean() < 1.15
    np.testing.assert_allclose(reduction.apply(sp.csr_matrix(rows)), reduced, rtol=1e-12)
    again = Reduction.from_arrays(kind, 50, 40, reduction.arrays())
    np.testing.assert_array_equal(again.apply(rows), reduced)
    np.testing.assert_array_equal(make_reduction(kind, 50, 40, seed=1).apply(rows), reduced)


# ---------------------------------------------------------------- exact search


@pytest.mark.parametrize("metric", ["L2", "INNER_PRODUCT", "COSINE"])
def test_flat_search_equals_brute_force_with_row_order_ties(metric: str) -> None:
    rng = np.random.default_rng(2)
    points = rng.integers(0, 3, size=(300, 6)).astype(np.float32)  # many exact ties
    queries = rng.integers(0, 3, size=(50, 6)).astype(np.float64)
    index = NeighborIndex.build(points, metric)
    found = index.search(queries, 7)
    expected, costs = brute_force(points, queries, 7, metric)
    np.testing.assert_array_equal(found.indices, expected)
    np.testing.assert_allclose(found.distances, costs if metric == "L2" else -costs, atol=1e-12)


def test_rows_faiss_cannot_settle_are_rescanned_exactly(monkeypatch: pytest.MonkeyPatch) -> None:
    rng = np.random.default_rng(3)
    points = np.repeat(rng.integers(0, 2, size=(20, 4)), 10, axis=0).astype(np.float32)
    queries = rng.integers(0, 2, size=(30, 4)).astype(np.float64)
    monkeypatch.setattr(search, "MIN_EXTRA_CANDIDATES", 0)
    scanned = []
    original = NeighborIndex._scan

    def spy(self: NeighborIndex, rows: np.ndarray, k: int):  # noqa: ANN202
        scanned.append(len(rows))
        return original(self, rows, k)

    monkeypatch.setattr(NeighborIndex, "_scan", spy)
    found = NeighborIndex.build(points, "L2").search(queries, 3)
    assert sum(scanned) > 0
    np.testing.assert_array_equal(found.indices, brute_force(points, queries, 3)[0])


def test_large_offsets_do_not_change_the_answer() -> None:
    rng = np.random.default_rng(4)
    points = (rng.normal(size=(500, 5)) + 1e4).astype(np.float32)
    queries = (rng.normal(size=(40, 5)) + 1e4).astype(np.float32).astype(np.float64)
    found = NeighborIndex.build(points, "L2").search(queries, 4)
    np.testing.assert_array_equal(found.indices, brute_force(points, queries, 4)[0])


def test_search_checks_its_arguments() -> None:
    index = NeighborIndex.build(np.zeros((3, 2), np.float32), "L2")
    with pytest.raises(ValueError, match="k must be"):
        index.search(np.zeros((1, 2)), 4)
    with pytest.raises(ValueError, match="2 columns"):
        index.search(np.zeros((1, 3)), 1)
    assert index.search(np.zeros((0, 2)), 2).indices.shape == (0, 2)


# ---------------------------------------------------------------- IVF


@pytest.mark.parametrize("metric", ["L2", "INNER_PRODUCT", "COSINE"])
def test_ivf_flat_finds_most_true_neighbors_and_serializes(metric: str) -> None:
    rng = np.random.default_rng(5)
    points = rng.normal(size=(2000, 8)).astype(np.float32)
    queries = rng.normal(size=(100, 8))
    index = NeighborIndex.build(points, metric, search.IVF_FLAT, seed=0)
    assert index.nlist == 45 and index.nprobe == 7
    found = index.search(queries, 5)
    truth = brute_force(points, queries, 5, metric)[0]
    recall = np.mean([len(set(a) & set(b)) / 5 for a, b in zip(found.indices, truth, strict=True)])
    assert recall > 0.8
    again = NeighborIndex.from_serialized(
        index.serialized(), metric, search.IVF_FLAT, center=index.center, nprobe=index.nprobe
    )
    np.testing.assert_array_equal(again.search(queries, 5).indices, found.indices)


def test_ivf_pq_answers_every_row_with_k_neighbors() -> None:
    rng = np.random.default_rng(6)
    points = rng.normal(size=(300, 8)).astype(np.float32)
    index = NeighborIndex.build(points, "L2", search.IVF_PQ, nlist=30, pq_m=4)
    found = index.search(rng.normal(size=(50, 8)), 20)
    assert (found.indices >= 0).all() and found.indices.shape == (50, 20)
    assert np.all(np.diff(found.distances, axis=1) >= 0)


def test_pq_dimensions_follow_sagemakers_rule() -> None:
    padded = KnnConfig(10, 1, "classifier", 5, index_type="faiss.IVFPQ", pq_m=4)
    assert padded.with_pq_dimensions().index_dim == 12
    raised = KnnConfig(
        10,
        1,
        "classifier",
        5,
        index_type="faiss.IVFPQ",
        pq_m=4,
        reduction_type="sign",
        reduction_target=5,
    ).with_pq_dimensions()
    assert raised.reduction_target == 8 and raised.index_dim == 8
    default = KnnConfig(48, 1, "classifier", 5, index_type="faiss.IVFPQ").with_pq_dimensions()
    assert default.pq_m == 48
    assert (
        KnnConfig(13, 1, "classifier", 5, index_type="faiss.IVFPQ").with_pq_dimensions().pq_m == 1
    )


# ---------------------------------------------------------------- predictions


def test_majority_vote_breaks_ties_by_the_smallest_label() -> None:
    labels = np.array([[3, 1, 3, 1, 2], [5, 5, 4, 4, 4], [9, 8, 7, 6, 5], [2, 2, 2, 2, 2]])
    np.testing.assert_array_equal(majority_vote(labels), [1, 4, 5, 2])
    np.testing.assert_array_equal(mean_label(np.array([[1.0, 2.0], [3.0, 5.0]])), [1.5, 4.0])
    with pytest.raises(ValueError, match="predictor_type"):
        predict_labels("ranker", labels)


def sklearn_comparable_rows(
    train: np.ndarray, labels: np.ndarray, test: np.ndarray, k: int
) -> np.ndarray:
    """Rows whose k nearest training points have no equally distant rival of another label.

    Where the k-th distance is shared by points of different labels, scikit-learn's
    choice among them depends on its heap and thread scheduling (it can differ from run
    to run); sagebox takes the earlier training row.
    """
    costs = ((test[:, None, :].astype(np.float64) - train[None, :, :]) ** 2).sum(axis=2)
    kth = np.sort(costs, axis=1)[:, k - 1 : k]
    boundary = costs == kth
    labels_at_boundary = np.where(boundary, labels[None, :], np.nan)
    lowest = np.nanmin(labels_at_boundary, axis=1)
    highest = np.nanmax(labels_at_boundary, axis=1)
    return (boundary.sum(axis=1) == 1) | (lowest == highest)


@pytest.mark.parametrize(
    ("loader", "predictor_type"),
    [
        (load_iris, "classifier"),
        (load_wine, "classifier"),
        (load_digits, "classifier"),
        (load_diabetes, "regressor"),
    ],
)
@pytest.mark.parametrize("k", [1, 4, 5, 10])
def test_flat_predictions_equal_sklearn(loader, predictor_type: str, k: int) -> None:  # noqa: ANN001
    features, labels = loader(return_X_y=True)
    features, labels = features.astype(np.float32), labels.astype(np.float32)
    x_train, x_test, y_train, y_test = train_test_split(
        features, labels, test_size=0.3, random_state=k
    )
    model = KnnModel.fit([(x_train, y_train)], config(x_train, k, predictor_type))
    ours = model.predict(x_test).predicted_label
    estimator = KNeighborsClassifier if predictor_type == "classifier" else KNeighborsRegressor
    reference = estimator(n_neighbors=k).fit(x_train, y_train.astype(np.float64)).predict(x_test)
    comparable = sklearn_comparable_rows(x_train, y_train, x_test, k)
    assert comparable.mean() > 0.95
    np.testing.assert_array_equal(ours[comparable], reference[comparable])
    rule, _ = brute_force(x_train, x_test, k)
    np.testing.assert_array_equal(model.neighbors(x_test).indices, rule)


def test_sample_of_everything_equals_sklearn_on_iris_in_any_batching() -> None:
    features, labels = load_iris(return_X_y=True)
    features, labels = features.astype(np.float32), labels.astype(np.float32)
    settings = config(features, 5, "classifier", sample_size=10_000)
    batches = [(features[i : i + 16], labels[i : i + 16]) for i in range(0, 150, 16)]
    model = KnnModel.fit(batches, settings)
    assert model.num_points == 150
    reference = KNeighborsClassifier(n_neighbors=5).fit(features, labels).predict(features)
    comparable = sklearn_comparable_rows(features, labels, features, 5)
    np.testing.assert_array_equal(
        model.predict(features).predicted_label[comparable], reference[comparable]
    )


@pytest.mark.parametrize(
    "extra",
    [
        {},
        {"index_metric": "COSINE"},
        {"reduction_type": "fjlt", "reduction_target": 20},
        {"index_type": "faiss.IVFFlat", "nlist": 10},
        {"index_type": "faiss.IVFPQ", "pq_m": 8, "reduction_type": "sign", "reduction_target": 30},
    ],
)
def test_saved_model_answers_exactly_as_the_trained_one(extra: dict) -> None:
    features, labels = load_digits(return_X_y=True)
    features, labels = features[:800].astype(np.float32), labels[:800].astype(np.float32)
    model = KnnModel.fit(
        [(features[:700], labels[:700])], config(features, 5, "classifier", **extra)
    )
    again = KnnModel.from_saved(model.arrays(), model.settings())
    first, second = model.predict(features[700:]), again.predict(features[700:])
    np.testing.assert_array_equal(first.predicted_label, second.predicted_label)
    np.testing.assert_array_equal(first.distances, second.distances)
    np.testing.assert_array_equal(first.labels, second.labels)
    assert np.mean(first.predicted_label == labels[700:]) > 0.8
    with pytest.raises(ValueError, match="misses 'labels'"):
        KnnModel.from_saved(
            {k: v for k, v in model.arrays().items() if k != "labels"}, model.settings()
        )
