"""Reservoir sampling of training rows, batch by batch (SageMaker k-NN's ``sample_size``).

The sampler sees the train channel once, in batches, and keeps a uniform random
sample of ``capacity`` rows without knowing the channel's length in advance
(Vitter's Algorithm R): the first ``capacity`` rows fill the reservoir, and row
``i`` (0-based) after them replaces slot ``j`` when a uniform draw ``j`` in
``[0, i]`` falls below ``capacity``. Only the rows that enter are handed back, so
the caller transforms just those. With ``capacity`` at least the number of rows,
every row is kept, in order.
"""

from __future__ import annotations

import numpy as np


class Reservoir:
    """Decides, batch after batch, which rows enter the sample and which slot each takes."""

    def __init__(self, capacity: int, seed: int) -> None:
        if capacity < 1:
            raise ValueError("capacity must be positive")
        self.capacity = capacity
        self.seen = 0
        self._rng = np.random.default_rng(seed)

    @property
    def size(self) -> int:
        """How many slots are filled."""
        return min(self.seen, self.capacity)

    def admit(self, count: int) -> tuple[np.ndarray, np.ndarray]:
        """For the next ``count`` rows: (positions in the batch that enter, their slots).

        When two rows of the batch land in the same slot only the later one is
        returned, as if they had been offered one at a time.
        """
        positions = np.arange(self.seen, self.seen + count, dtype=np.int64)
        self.seen += count
        slots = positions.copy()
        late = positions >= self.capacity
        if late.any():
            slots[late] = self._rng.integers(0, positions[late] + 1, dtype=np.int64)
        entering = np.nonzero(slots < self.capacity)[0]
        slots = slots[entering]
        # keep the last row offered for each slot
        reversed_slots = slots[::-1]
        _, first_in_reversed = np.unique(reversed_slots, return_index=True)
        keep = np.sort(len(slots) - 1 - first_in_reversed)
        return entering[keep], slots[keep]


def sample_order(rows: np.ndarray) -> np.ndarray:
    """The permutation that puts sampled slots back in training-row order."""
    return np.argsort(rows, kind="stable")
