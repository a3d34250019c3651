"""An independent uniform sample of the training rows for every tree, in one pass.

Each tree keeps the rows with the ``sample_size`` smallest of its own uniform random
keys (one key per row and tree): a reservoir sample that does not depend on how the
rows are batched, so data of any size streams through in one pass.
"""

from __future__ import annotations

import numpy as np


class ForestSampler:
    """Per-tree reservoir samples of the rows passed to ``add``."""

    def __init__(
        self, num_trees: int, sample_size: int, num_features: int, rng: np.random.Generator
    ) -> None:
        if num_trees < 1 or sample_size < 1 or num_features < 1:
            raise ValueError("num_trees, sample_size and num_features must be positive")
        self.rng = rng
        self.keys = np.full((num_trees, sample_size), np.inf)
        self.rows = np.zeros((num_trees, sample_size, num_features), dtype=np.float32)
        self.rows_seen = 0

    @property
    def num_trees(self) -> int:
        return self.keys.shape[0]

    @property
    def sample_size(self) -> int:
        return self.keys.shape[1]

    def add(self, batch: np.ndarray) -> None:
        """Offer a batch of rows (float32, one row per line) to every tree's sample."""
        batch = np.asarray(batch, dtype=np.float32)
        if batch.ndim != 2 or batch.shape[1] != self.rows.shape[2]:
            raise ValueError(f"expected rows of {self.rows.shape[2]} features, got {batch.shape}")
        count = len(batch)
        if count == 0:
            return
        k = self.sample_size
        # Drawn row by row, so a row's keys do not depend on how the rows are batched.
        new_keys = self.rng.random((count, self.num_trees)).T
        combined = np.concatenate([self.keys, new_keys], axis=1)
        kept = np.argpartition(combined, k - 1, axis=1)[:, :k]
        inside = np.zeros(combined.shape, dtype=bool)
        np.put_along_axis(inside, kept, True, axis=1)
        # Every tree drops as many old slots as it admits new rows; nonzero() lists
        # both row by row (tree by tree), so the two lists pair up slot for row.
        tree_out, slot = np.nonzero(~inside[:, :k])
        tree_in, item = np.nonzero(inside[:, k:])
        self.keys[tree_out, slot] = new_keys[tree_in, item]
        self.rows[tree_out, slot] = batch[item]
        self.rows_seen += count

    def samples(self) -> np.ndarray:
        """The samples, shape (num_trees, min(rows seen, sample_size), num_features)."""
        if self.rows_seen >= self.sample_size:
            return self.rows
        filled = np.isfinite(self.keys)
        size = self.rows_seen
        order = np.argsort(~filled, axis=1, kind="stable")[:, :size]
        return np.take_along_axis(self.rows, order[:, :, None], axis=1)
