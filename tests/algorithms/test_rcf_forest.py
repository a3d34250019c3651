"""Random Cut Forest's pure parts: sampling, growing, scoring, against a naive walk and IsolationForest."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.datasets import load_breast_cancer
from sklearn.ensemble import IsolationForest
from sklearn.metrics import roc_auc_score

from sagebox.algorithms.random_cut_forest.evaluation import (
    RunningMoments,
    labelled_metrics,
    score_threshold,
)
from sagebox.algorithms.random_cut_forest.forest import RandomCutForest, grow_forest
from sagebox.algorithms.random_cut_forest.sampling import ForestSampler
from sagebox.algorithms.random_cut_forest.scoring import ForestScorer, fingerprints


def make_forest(
    rows: np.ndarray, trees: int = 50, size: int = 64, seed: int = 0, batch: int = 100
) -> RandomCutForest:
    rng = np.random.default_rng(seed)
    sampler = ForestSampler(trees, size, rows.shape[1], rng)
    for start in range(0, len(rows), batch):
        sampler.add(rows[start : start + batch])
    return grow_forest(sampler.samples(), rng)


def naive_score(forest: RandomCutForest, row: np.ndarray) -> float:
    """One row, one tree at a time, with Random Cut Forest's scoring functions."""
    total = 0.0
    for tree, root in enumerate(forest.roots):
        node = int(root)
        while forest.child[node] >= 0:
            go_right = row[forest.cut_dim[node]] > forest.cut_value[node]
            node = int(forest.child[node]) + int(go_right)
        depth, mass = float(forest.depth[node]), float(forest.mass[node])
        tree_mass = float(forest.tree_mass[tree])
        if np.array_equal(forest.points[forest.leaf_point[node]], row):
            score = (1 - mass / (2 * tree_mass)) / (depth + np.log2(1 + mass))
        else:
            score = 1 / (depth + 1)
        total += score * np.log2(1 + tree_mass)
    return total / forest.num_trees


@pytest.fixture(scope="module")
def cancer() -> np.ndarray:
    return load_breast_cancer(return_X_y=True)[0].astype(np.float32)


def test_sampler_keeps_a_uniform_sample_whatever_the_batches() -> None:
    rows = np.arange(1000, dtype=np.float32).reshape(-1, 1)
    sampler = ForestSampler(400, 50, 1, np.random.default_rng(3))
    for start in range(0, 1000, 37):
        sampler.add(rows[start : start + 37])
    samples = sampler.samples()
    assert samples.shape == (400, 50, 1)
    for tree in samples[:, :, 0]:
        assert len(np.unique(tree)) == 50  # without replacement
    counts = np.bincount(samples.ravel().astype(int), minlength=1000)
    # each row is expected in 400 * 50 / 1000 = 20 samples
    assert abs(counts.mean() - 20) < 1e-9 and counts.std() < 7
    assert counts[:500].sum() == pytest.approx(counts[500:].sum(), rel=0.05)


def test_samples_do_not_depend_on_batch_sizes() -> None:
    rows = np.random.default_rng(0).normal(size=(300, 2)).astype(np.float32)
    samples = []
    for batch in (1, 37, 300):
        sampler = ForestSampler(7, 20, 2, np.random.default_rng(9))
        for start in range(0, 300, batch):
            sampler.add(rows[start : start + batch])
        samples.append(np.sort(sampler.samples(), axis=1))
    np.testing.assert_array_equal(samples[0], samples[1])
    np.testing.assert_array_equal(samples[0], samples[2])


def test_sampler_with_fewer_rows_than_the_sample_size_keeps_them_all() -> None:
    rows = np.arange(30, dtype=np.float32).reshape(-1, 3)
    sampler = ForestSampler(5, 64, 3, np.random.default_rng(0))
    sampler.add(rows[:4])
    sampler.add(rows[4:])
    samples = sampler.samples()
    assert samples.shape == (5, 10, 3)
    for tree in samples:
        np.testing.assert_array_equal(np.sort(tree[:, 0]), rows[:, 0])


def test_every_sample_point_ends_in_exactly_one_leaf(cancer: np.ndarray) -> None:
    forest = make_forest(cancer)
    forest.check()
    leaves = forest.child < 0
    for tree in range(forest.num_trees):
        in_tree = forest.tree == tree
        assert forest.mass[leaves & in_tree].sum() == forest.tree_mass[tree] == 64
        assert forest.mass[forest.roots[tree]] == 64
    internal = np.flatnonzero(~leaves)
    children = forest.child[internal]
    np.testing.assert_array_equal(
        forest.mass[children] + forest.mass[children + 1], forest.mass[internal]
    )
    np.testing.assert_array_equal(forest.depth[children], forest.depth[internal] + 1)
    # every leaf point routes back to its own leaf
    scorer = ForestScorer(forest)
    leaf_nodes = np.flatnonzero(leaves)
    reached = scorer.leaves(forest.points[forest.leaf_point[leaf_nodes]])
    np.testing.assert_array_equal(
        reached[np.arange(len(leaf_nodes)), forest.tree[leaf_nodes]], leaf_nodes
    )


def test_duplicates_share_a_leaf_with_their_mass() -> None:
    rows = np.array([[1.0, 2.0]] * 5 + [[3.0, 4.0]] * 3, dtype=np.float32)
    forest = grow_forest(rows[None], np.random.default_rng(0))
    leaves = np.flatnonzero(forest.child < 0)
    assert sorted(forest.mass[leaves].tolist()) == [3, 5]
    assert forest.num_nodes == 3


def root_cuts(forest: RandomCutForest) -> np.ndarray:
    return forest.cut_dim[forest.roots]


def test_cut_dimensions_follow_the_ranges() -> None:
    rng = np.random.default_rng(1)
    rows = rng.uniform(0, 1, size=(50, 50, 3)).astype(np.float32) * np.float32([1, 3, 6])
    rows[:, :2] = [[0, 0, 0], [1, 3, 6]]  # every sample spans exactly [0, 1] x [0, 3] x [0, 6]
    roots = np.concatenate(
        [root_cuts(grow_forest(rows, np.random.default_rng(seed))) for seed in range(100)]
    )
    shares = np.bincount(roots, minlength=3) / roots.size
    np.testing.assert_allclose(shares, [0.1, 0.3, 0.6], atol=0.03)


def test_vectorised_scores_equal_the_naive_walk(cancer: np.ndarray) -> None:
    forest = make_forest(cancer, trees=50, size=128)
    scorer = ForestScorer(forest)
    rng = np.random.default_rng(5)
    rows = np.vstack(
        [cancer[:40], cancer[:40] * np.float32(1.01), rng.normal(size=(5, 30)).astype(np.float32)]
    )
    expected = [naive_score(forest, row) for row in rows]
    np.testing.assert_allclose(scorer.score(rows), expected, rtol=1e-12)


def test_scores_are_reproducible_and_flag_outliers(cancer: np.ndarray) -> None:
    first = ForestScorer(make_forest(cancer, seed=7)).score(cancer)
    second = ForestScorer(make_forest(cancer, seed=7)).score(cancer)
    np.testing.assert_array_equal(first, second)
    outlier = cancer.mean(axis=0) + 10 * cancer.std(axis=0)
    scores = ForestScorer(make_forest(cancer, seed=7)).score(
        np.vstack([cancer.mean(axis=0), outlier])
    )
    assert scores[1] > 2 * scores[0]
    assert 0.5 < np.median(first) < 1.5  # "about 1" for typical rows


def test_fingerprints_treat_signed_zeros_alike_and_tell_rows_apart() -> None:
    rows = np.array([[0.0, 1.0], [-0.0, 1.0], [1.0, 0.0], [0.0, 1.0000001]], dtype=np.float32)
    marks = fingerprints(rows)
    assert marks[0] == marks[1]
    assert len(set(marks[[0, 2, 3]].tolist())) == 3


def test_rows_equal_to_a_leaf_point_score_as_seen() -> None:
    rows = np.array([[0.0, 0.0], [1.0, 1.0], [2.0, 0.5], [5.0, 5.0]], dtype=np.float32)
    forest = grow_forest(np.repeat(rows[None], 3, axis=0), np.random.default_rng(0))
    scorer = ForestScorer(forest)
    seen = scorer.score(rows[:1])
    unseen = scorer.score(rows[:1] + np.float32(1e-3))
    np.testing.assert_allclose(seen, [naive_score(forest, rows[0])])
    assert seen[0] < unseen[0]


def test_auc_matches_isolation_forest_on_breast_cancer() -> None:
    """Benign rows plus a few malignant ones as the anomalies (the 'WBC' construction)."""
    features, labels = load_breast_cancer(return_X_y=True)
    rng = np.random.default_rng(0)
    anomalies = rng.choice(np.flatnonzero(labels == 0), 10, replace=False)
    chosen = np.concatenate([np.flatnonzero(labels == 1), anomalies])
    rows = features[chosen].astype(np.float32)
    truth = np.isin(chosen, anomalies)
    ours = ForestScorer(make_forest(rows, trees=100, size=256)).score(rows)
    reference = (
        -IsolationForest(n_estimators=100, max_samples=256, random_state=0)
        .fit(rows)
        .score_samples(rows)
    )
    assert roc_auc_score(truth, ours) >= roc_auc_score(truth, reference) - 0.02
    assert roc_auc_score(truth, ours) > 0.9


def test_threshold_is_mean_plus_three_sigmas_of_a_stream() -> None:
    values = np.random.default_rng(0).normal(2.0, 0.5, size=1000)
    moments = RunningMoments()
    for part in np.array_split(values, 7):
        moments.add(part)
    assert moments.count == 1000
    assert moments.mean == pytest.approx(values.mean())
    assert moments.std == pytest.approx(values.std())
    assert score_threshold(moments) == pytest.approx(values.mean() + 3 * values.std())


def test_labelled_metrics() -> None:
    labels = np.array([0, 0, 0, 1, 1, 0])
    scores = np.array([0.1, 0.2, 3.0, 4.0, 0.3, 0.1])
    metrics = labelled_metrics(labels, scores, 1.0, ("accuracy", "precision_recall_fscore"))
    assert metrics["accuracy"] == pytest.approx(4 / 6)
    assert metrics["precision"] == pytest.approx(0.5)
    assert metrics["recall"] == pytest.approx(0.5)
    assert metrics["f1"] == pytest.approx(0.5)
    assert metrics["negative_precision"] == pytest.approx(3 / 4)
    assert labelled_metrics(labels, scores, 1.0, ("accuracy",)).keys() == {"accuracy"}


def test_saved_arrays_round_trip_and_are_checked(cancer: np.ndarray) -> None:
    forest = make_forest(cancer[:100], trees=3, size=16)
    again = RandomCutForest.from_arrays(forest.to_arrays())
    np.testing.assert_array_equal(
        ForestScorer(again).score(cancer), ForestScorer(forest).score(cancer)
    )
    broken = forest.to_arrays()
    broken["child"] = broken["child"] + 1000
    with pytest.raises(ValueError, match="child links"):
        RandomCutForest.from_arrays(broken)
    with pytest.raises(ValueError, match="missing the arrays points"):
        RandomCutForest.from_arrays({k: v for k, v in forest.to_arrays().items() if k != "points"})
