"""Dimension reduction of k-NN's points and queries (``dimension_reduction_type``).

Both maps are random, seeded, linear and preserve squared L2 norms (hence L2 and
inner-product distances) in expectation:

- ``sign``: a random projection ``x @ R`` with ``R[i, j] = ±1 / sqrt(target)``,
  O(n·d·target) for n rows.
- ``fjlt``: a fast Johnson-Lindenstrauss transform (a subsampled randomized
  Hadamard transform): flip the signs of ``x``'s coordinates at random, zero-pad it
  to a power of two ``p``, apply the orthonormal Walsh-Hadamard transform in
  O(n·p·log p), and keep ``target`` of its coordinates chosen at random, scaled by
  ``sqrt(p / target)``.

A reduction is stored as small integer arrays (the signs and the kept coordinates)
and applied in float64.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

SIGN = "sign"
FJLT = "fjlt"
_CHUNK_ELEMENTS = 1 << 22
"""Rows are transformed in chunks of about this many float64 values."""


def next_power_of_two(value: int) -> int:
    return 1 << max(0, (value - 1).bit_length())


def walsh_hadamard(rows: np.ndarray) -> np.ndarray:
    """The orthonormal Walsh-Hadamard transform of each row (width a power of two)."""
    count, width = rows.shape
    if width & (width - 1):
        raise ValueError(f"the width {width} is not a power of two")
    out = np.array(rows, dtype=np.float64, copy=True)
    half = 1
    while half < width:
        blocks = out.reshape(count, width // (2 * half), 2, half)
        left = blocks[:, :, 0, :].copy()
        right = blocks[:, :, 1, :]
        blocks[:, :, 0, :] += right
        blocks[:, :, 1, :] = left - right
        half *= 2
    return out / math.sqrt(width)


@dataclass(frozen=True)
class Reduction:
    """A seeded random linear map from ``input_dim`` to ``target_dim`` dimensions."""

    kind: str
    input_dim: int
    target_dim: int
    signs: np.ndarray
    """``sign``: the (input_dim, target_dim) int8 sign matrix; ``fjlt``: (input_dim,) signs."""
    coordinates: np.ndarray | None = None
    """``fjlt``: the Hadamard coordinates kept, (target_dim,)."""

    def apply(self, features: np.ndarray | sp.spmatrix) -> np.ndarray:
        """The reduced rows, float64 (n, target_dim); dense or sparse input."""
        if features.shape[1] != self.input_dim:
            raise ValueError(
                f"rows have {features.shape[1]} features, the reduction takes {self.input_dim}"
            )
        if self.kind == SIGN:
            matrix = self.signs.astype(np.float64) / math.sqrt(self.target_dim)
            if sp.issparse(features):
                return np.asarray(sp.csr_matrix(features, dtype=np.float64) @ matrix)
            return np.asarray(features, dtype=np.float64) @ matrix
        return self._fjlt(features)

    def _fjlt(self, features: np.ndarray | sp.spmatrix) -> np.ndarray:
        if self.coordinates is None:
            raise ValueError("an fjlt reduction needs its kept coordinates")
        width = next_power_of_two(self.input_dim)
        scale = math.sqrt(width / self.target_dim)
        count = features.shape[0]
        out = np.empty((count, self.target_dim), dtype=np.float64)
        step = max(1, _CHUNK_ELEMENTS // width)
        signs = self.signs.astype(np.float64)
        for start in range(0, count, step):
            chunk = features[start : start + step]
            dense = chunk.toarray() if sp.issparse(chunk) else np.asarray(chunk)
            padded = np.zeros((dense.shape[0], width), dtype=np.float64)
            padded[:, : self.input_dim] = dense * signs
            out[start : start + step] = walsh_hadamard(padded)[:, self.coordinates] * scale
        return out

    def arrays(self) -> dict[str, np.ndarray]:
        """The arrays a saved model keeps, under ``reduction_*`` names."""
        arrays = {"reduction_signs": self.signs}
        if self.coordinates is not None:
            arrays["reduction_coordinates"] = self.coordinates
        return arrays

    @classmethod
    def from_arrays(
        cls, kind: str, input_dim: int, target_dim: int, arrays: dict[str, np.ndarray]
    ) -> Reduction:
        return cls(
            kind=kind,
            input_dim=input_dim,
            target_dim=target_dim,
            signs=np.asarray(arrays["reduction_signs"], dtype=np.int8),
            coordinates=(
                np.asarray(arrays["reduction_coordinates"], dtype=np.int64)
                if "reduction_coordinates" in arrays
                else None
            ),
        )


def make_reduction(kind: str, input_dim: int, target_dim: int, seed: int) -> Reduction:
    """Draw a ``sign`` or ``fjlt`` reduction from ``seed``."""
    if target_dim < 1 or input_dim < 1:
        raise ValueError("dimensions must be positive")
    rng = np.random.default_rng(seed)
    if kind == SIGN:
        signs = rng.choice(np.array([-1, 1], dtype=np.int8), size=(input_dim, target_dim))
        return Reduction(SIGN, input_dim, target_dim, signs)
    if kind == FJLT:
        width = next_power_of_two(input_dim)
        signs = rng.choice(np.array([-1, 1], dtype=np.int8), size=input_dim)
        coordinates = np.sort(rng.choice(width, size=target_dim, replace=target_dim > width))
        return Reduction(FJLT, input_dim, target_dim, signs, coordinates.astype(np.int64))
    raise ValueError(f"unknown dimension reduction '{kind}'; expected '{SIGN}' or '{FJLT}'")
