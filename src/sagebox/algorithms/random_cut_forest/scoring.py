"""Anomaly scores of many rows at once, down every tree of a forest.

SageMaker defines a tree's score as the expected change in the tree's complexity
when the row is added, approximately inversely proportional to the depth the row
would take. A tree scores a row at the leaf it reaches, with Random Cut Forest's
scoring functions: ``1 / (depth + 1)`` for a row the tree has not seen (it would
be inserted beside that leaf), and, for a row equal to the leaf's point, the damped
``(1 - mass / (2 * tree mass)) / (depth + log2(1 + mass))``. Each tree's score is
scaled by ``log2(1 + tree mass)`` and the forest's score is the average over its
trees: about 1 for typical rows, higher for anomalies.

The reference implementation also weighs in, on the way back up, the chance that a
random cut of each ancestor's bounding box would have separated the row earlier.
That costs O(features) per ancestor and row; it is left out here, so a row that
lies far outside the data scores like the extreme leaf it reaches.

All rows of a chunk go down all trees together: one vectorised step per tree level
moves every (row, tree) pair to a child. Equality with a leaf's point is found
with 64-bit fingerprints of the rows, confirmed on the float values.
"""

from __future__ import annotations

import numpy as np

from sagebox.algorithms.random_cut_forest.forest import RandomCutForest

PAIRS_PER_CHUNK = 1 << 17
"""(row, tree) pairs moved together: large enough to keep numpy's per-call cost small."""
STEPS_BETWEEN_CHECKS = 3
"""Tree levels descended between looking for pairs that reached a leaf."""
COMPACT_FRACTION = 0.15
"""Pairs at a leaf are set aside once they are more than this share of those moving."""

_HIGH_SHIFT = np.int64(32)
_LOW_BITS = np.int64(0xFFFFFFFF)
_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_MIX1 = np.uint64(0xBF58476D1CE4E5B9)
_MIX2 = np.uint64(0x94D049BB133111EB)


def _mix(values: np.ndarray) -> np.ndarray:
    """SplitMix64's finaliser, element-wise (uint64 arithmetic wraps around)."""
    z = values + _GOLDEN
    z = (z ^ (z >> np.uint64(30))) * _MIX1
    z = (z ^ (z >> np.uint64(27))) * _MIX2
    return z ^ (z >> np.uint64(31))


def fingerprints(rows: np.ndarray) -> np.ndarray:
    """A 64-bit fingerprint per float32 row; equal rows (``-0.0 == 0.0``) share one."""
    rows = np.asarray(rows, dtype=np.float32) + np.float32(0.0)  # turns -0.0 into 0.0
    bits = rows.view(np.uint32).astype(np.uint64)
    position = np.arange(rows.shape[1], dtype=np.uint64) << np.uint64(32)
    return _mix(bits | position).sum(axis=1, dtype=np.uint64)


class ForestScorer:
    """Scores rows with a grown forest; build once per forest, then call ``score``."""

    def __init__(self, forest: RandomCutForest) -> None:
        self.forest = forest
        nodes = np.arange(forest.num_nodes)
        self.is_leaf = forest.child < 0
        # Leaves point to themselves and never go right, so finished pairs stay put.
        following = np.where(self.is_leaf, nodes, forest.child).astype(np.int64)
        dim = np.where(self.is_leaf, 0, forest.cut_dim).astype(np.int64)
        self.packed = (following << _HIGH_SHIFT) | dim
        """Per node: the left child (a leaf's own id) in the high 32 bits, the cut dimension low."""
        self.cut = np.where(self.is_leaf, np.float32(np.inf), forest.cut_value).astype(np.float32)
        tree_mass = forest.tree_mass[forest.tree].astype(np.float64)
        mass = forest.mass.astype(np.float64)
        depth = forest.depth.astype(np.float64)
        scale = np.log2(1.0 + tree_mass)
        self.unseen = scale / (depth + 1.0)
        self.seen = scale * (1.0 - mass / (2.0 * tree_mass)) / (depth + np.log2(1.0 + mass))
        self.leaf_point = forest.leaf_point
        self.leaf_fingerprint = np.zeros(forest.num_nodes, dtype=np.uint64)
        leaves = np.flatnonzero(self.is_leaf)
        self.leaf_fingerprint[leaves] = fingerprints(forest.points[forest.leaf_point[leaves]])

    @property
    def num_features(self) -> int:
        return self.forest.num_features

    def score(self, rows: np.ndarray) -> np.ndarray:
        """The anomaly score of each row (float64); rows are (n, features), finite."""
        rows = np.ascontiguousarray(rows, dtype=np.float32)
        if rows.ndim != 2 or rows.shape[1] != self.num_features:
            raise ValueError(f"rows must have {self.num_features} features, not shape {rows.shape}")
        scores = np.empty(len(rows), dtype=np.float64)
        step = max(1, PAIRS_PER_CHUNK // self.forest.num_trees)
        marks = fingerprints(rows)
        for start in range(0, len(rows), step):
            stop = start + step
            scores[start:stop] = self._score_chunk(rows[start:stop], marks[start:stop])
        return scores

    def leaves(self, rows: np.ndarray) -> np.ndarray:
        """The leaf each row reaches in each tree: (n, trees) node ids."""
        rows = np.ascontiguousarray(rows, dtype=np.float32)
        trees = self.forest.num_trees
        width = rows.shape[1]
        flat = rows.ravel()
        # Pairs run tree by tree: neighbouring pairs read the same tree's nodes.
        node = np.repeat(self.forest.roots.astype(np.intp), len(rows))
        offset = np.tile(np.arange(0, len(rows) * width, width, dtype=np.intp), trees)
        reached = np.empty(len(node), dtype=np.intp)
        pending: np.ndarray | None = None  # the pairs still moving, once some have stopped
        size = len(node)
        buffers = (
            np.empty(size, dtype=np.int64),
            np.empty(size, dtype=np.intp),
            np.empty(size, dtype=np.float32),
            np.empty(size, dtype=np.float32),
            np.empty(size, dtype=bool),
        )
        # Indices are valid by construction (``RandomCutForest.check``), so the
        # gathers skip bounds checks (mode="clip"); results go to reused buffers.
        while True:
            count = len(node)
            info, index, value, cut, right = (buffer[:count] for buffer in buffers)
            for _ in range(STEPS_BETWEEN_CHECKS):
                np.take(self.packed, node, out=info, mode="clip")
                np.bitwise_and(info, _LOW_BITS, out=index)
                index += offset
                np.take(flat, index, out=value, mode="clip")
                np.take(self.cut, node, out=cut, mode="clip")
                np.greater(value, cut, out=right)
                np.right_shift(info, _HIGH_SHIFT, out=node)
                node += right
            done = self.is_leaf.take(node, mode="clip")
            finished = np.count_nonzero(done)
            if finished == count:
                if pending is None:
                    reached[:] = node
                else:
                    reached[pending] = node
                break
            if finished > COMPACT_FRACTION * count:
                if pending is None:
                    pending = np.arange(count)
                reached[pending[done]] = node[done]
                keep = ~done
                pending, node, offset = pending[keep], node[keep], offset[keep]
        return reached.reshape(trees, len(rows)).T

    def _score_chunk(self, rows: np.ndarray, marks: np.ndarray) -> np.ndarray:
        trees = self.forest.num_trees
        leaves = self.leaves(rows).ravel()  # row by row: (row, tree) pairs
        scores = self.unseen[leaves]
        candidates = np.flatnonzero(self.leaf_fingerprint[leaves] == np.repeat(marks, trees))
        if len(candidates):
            hits = leaves[candidates]
            stored = self.forest.points[self.leaf_point[hits]]
            equal = (stored == rows[candidates // trees]).all(axis=1)
            scores[candidates[equal]] = self.seen[hits[equal]]
        return scores.reshape(len(rows), trees).mean(axis=1)
