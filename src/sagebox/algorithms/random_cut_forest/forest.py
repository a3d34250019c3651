"""Growing random cut trees, all trees of a forest at once, level by level.

A node's cut is drawn as the Robust Random Cut Forest defines it: the dimension
with probability proportional to the node's bounding-box range along it, the value
uniformly inside that range. Points at or below the cut value go left. A node whose
points are all equal (or single) is a leaf; its mass is the number of points.

The forest is a set of flat arrays over every node of every tree (node ids run
tree by tree, breadth first; a node's children are ``child`` and ``child + 1``), so it
saves as plain numpy arrays and scores without Python objects per node.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

MODEL_NAME = "random_cut_forest"
"""The model file (``random_cut_forest.npz``) a training job saves."""

ARRAY_NAMES = (
    "child",
    "cut_dim",
    "cut_value",
    "depth",
    "mass",
    "tree",
    "leaf_point",
    "roots",
    "tree_mass",
    "points",
)


@dataclass(frozen=True)
class RandomCutForest:
    """Every node of every tree as flat arrays (leaves have ``child == -1``)."""

    child: np.ndarray
    """int64: the left child's id (the right child is ``child + 1``), -1 for leaves."""
    cut_dim: np.ndarray
    """int32: the dimension an internal node cuts (0 for leaves)."""
    cut_value: np.ndarray
    """float32: rows with ``x[cut_dim] <= cut_value`` go left."""
    depth: np.ndarray
    """int32: 0 for roots."""
    mass: np.ndarray
    """int32: the number of sample points under the node."""
    tree: np.ndarray
    """int32: which tree the node belongs to."""
    leaf_point: np.ndarray
    """int64: for leaves, the row of ``points`` holding the leaf's point; -1 otherwise."""
    roots: np.ndarray
    """int64: each tree's root node."""
    tree_mass: np.ndarray
    """int64: each tree's sample size."""
    points: np.ndarray
    """float32 (leaves, features): the point each leaf holds."""

    @property
    def num_trees(self) -> int:
        return len(self.roots)

    @property
    def num_features(self) -> int:
        return int(self.points.shape[1])

    @property
    def num_nodes(self) -> int:
        return len(self.child)

    def to_arrays(self) -> dict[str, np.ndarray]:
        return {name: getattr(self, name) for name in ARRAY_NAMES}

    @classmethod
    def from_arrays(cls, arrays: dict[str, np.ndarray]) -> RandomCutForest:
        """Rebuild a saved forest; raises ``ValueError`` when arrays are missing or inconsistent."""
        missing = [name for name in ARRAY_NAMES if name not in arrays]
        if missing:
            raise ValueError(f"the forest is missing the arrays {', '.join(missing)}")
        forest = cls(
            child=np.asarray(arrays["child"], dtype=np.int64),
            cut_dim=np.asarray(arrays["cut_dim"], dtype=np.int32),
            cut_value=np.asarray(arrays["cut_value"], dtype=np.float32),
            depth=np.asarray(arrays["depth"], dtype=np.int32),
            mass=np.asarray(arrays["mass"], dtype=np.int32),
            tree=np.asarray(arrays["tree"], dtype=np.int32),
            leaf_point=np.asarray(arrays["leaf_point"], dtype=np.int64),
            roots=np.asarray(arrays["roots"], dtype=np.int64),
            tree_mass=np.asarray(arrays["tree_mass"], dtype=np.int64),
            points=np.asarray(arrays["points"], dtype=np.float32),
        )
        forest.check()
        return forest

    def check(self) -> None:
        """Raise ``ValueError`` unless the arrays describe well-formed trees."""
        n = self.num_nodes
        sizes = {len(getattr(self, name)) for name in ARRAY_NAMES[:7]}
        if sizes != {n} or self.points.ndim != 2 or len(self.tree_mass) != len(self.roots):
            raise ValueError("the forest's node arrays have different lengths")
        internal = self.child >= 0
        leaves = ~internal
        if np.any(self.child[internal] + 1 >= n) or np.any(self.child[internal] <= 0):
            raise ValueError("the forest has child links outside its nodes")
        if np.any(self.roots < 0) or np.any(self.roots >= n):
            raise ValueError("the forest has roots outside its nodes")
        if np.any(self.cut_dim[internal] < 0) or np.any(
            self.cut_dim[internal] >= self.num_features
        ):
            raise ValueError("the forest cuts dimensions its points do not have")
        points = self.leaf_point[leaves]
        if np.any(points < 0) or np.any(points >= len(self.points)):
            raise ValueError("the forest has leaves without a point")


def grow_forest(samples: np.ndarray, rng: np.random.Generator) -> RandomCutForest:
    """Grow one tree per sample; ``samples`` is (trees, points per tree, features)."""
    samples = np.asarray(samples, dtype=np.float32)
    if samples.ndim != 3 or min(samples.shape) < 1:
        raise ValueError(
            f"samples must be a non-empty (trees, points, features) array, not {samples.shape}"
        )
    if not np.all(np.isfinite(samples)):
        raise ValueError("samples must be finite")
    num_trees, size, width = samples.shape
    flat = samples.reshape(num_trees * size, width)
    capacity = num_trees * (2 * size - 1)
    child = np.full(capacity, -1, dtype=np.int64)
    cut_dim = np.zeros(capacity, dtype=np.int32)
    cut_value = np.zeros(capacity, dtype=np.float32)
    depth = np.zeros(capacity, dtype=np.int32)
    mass = np.zeros(capacity, dtype=np.int32)
    tree = np.zeros(capacity, dtype=np.int32)
    leaf_point = np.full(capacity, -1, dtype=np.int64)
    leaf_rows: list[np.ndarray] = []
    leaf_count = 0

    # The active nodes of the current level, their points grouped node by node in `order`.
    order = np.arange(num_trees * size)
    nodes = np.arange(num_trees, dtype=np.int64)
    counts = np.full(num_trees, size, dtype=np.int64)
    tree[:num_trees] = np.arange(num_trees)
    next_id = num_trees
    level = 0
    while len(nodes):
        starts = np.concatenate([[0], np.cumsum(counts)[:-1]])
        points = flat[order]
        low = np.minimum.reduceat(points, starts, axis=0)
        high = np.maximum.reduceat(points, starts, axis=0)
        spans = high.astype(np.float64) - low.astype(np.float64)
        cumulative = np.cumsum(spans, axis=1)
        total = cumulative[:, -1]
        depth[nodes] = level
        mass[nodes] = counts
        is_leaf = (counts == 1) | (total <= 0)

        leaves = nodes[is_leaf]
        if len(leaves):
            representatives = order[starts[is_leaf]]
            leaf_point[leaves] = np.arange(leaf_count, leaf_count + len(leaves))
            leaf_rows.append(flat[representatives])
            leaf_count += len(leaves)

        split = ~is_leaf
        if not split.any():
            break
        parents = nodes[split]
        p_low, p_high = low[split], high[split]
        p_spans, p_cumulative = spans[split], cumulative[split]
        p_total = total[split]
        draw = np.minimum(rng.random(len(parents)) * p_total, np.nextafter(p_total, 0))
        dims = np.minimum((p_cumulative <= draw[:, None]).sum(axis=1), width - 1)
        rows = np.arange(len(parents))
        offset = draw - (p_cumulative[rows, dims] - p_spans[rows, dims])
        cuts = (p_low[rows, dims].astype(np.float64) + offset).astype(np.float32)
        top = p_high[rows, dims]
        cuts = np.where(cuts >= top, np.nextafter(top, np.float32(-np.inf)), cuts)
        cuts = np.maximum(cuts, p_low[rows, dims])

        # Partition each splitting node's points: left (<= cut) first, then right.
        segment = np.repeat(np.arange(len(nodes)), counts)
        moving = split[segment]
        member = order[moving]
        owner = np.cumsum(split) - 1  # index among splitting nodes
        parent_of_point = owner[segment[moving]]
        right = points[moving, dims[parent_of_point]] > cuts[parent_of_point]
        sort = np.argsort(parent_of_point * 2 + right, kind="stable")
        order = member[sort]
        right_counts = np.bincount(parent_of_point, weights=right, minlength=len(parents))
        right_counts = right_counts.astype(np.int64)
        left_counts = counts[split] - right_counts

        first_child = next_id + 2 * np.arange(len(parents), dtype=np.int64)
        child[parents] = first_child
        cut_dim[parents] = dims
        cut_value[parents] = cuts
        children = np.empty(2 * len(parents), dtype=np.int64)
        children[0::2], children[1::2] = first_child, first_child + 1
        tree[children] = np.repeat(tree[parents], 2)
        counts = np.empty(2 * len(parents), dtype=np.int64)
        counts[0::2], counts[1::2] = left_counts, right_counts
        nodes = children
        next_id += len(children)
        level += 1

    # Renumber the nodes tree by tree (breadth first within each tree), so that a
    # tree's nodes sit together in memory when rows descend it.
    order = np.argsort(tree[:next_id], kind="stable")
    new_id = np.empty(next_id, dtype=np.int64)
    new_id[order] = np.arange(next_id)
    old_child = child[order]
    return RandomCutForest(
        child=np.where(old_child >= 0, new_id[np.maximum(old_child, 0)], -1),
        cut_dim=cut_dim[order],
        cut_value=cut_value[order],
        depth=depth[order],
        mass=mass[order],
        tree=tree[order],
        leaf_point=leaf_point[order],
        roots=new_id[:num_trees],
        tree_mass=np.full(num_trees, size, dtype=np.int64),
        points=np.concatenate(leaf_rows) if leaf_rows else np.zeros((0, width), np.float32),
    )
