"""A query vector kept as a 256-byte sketch: a fixed random projection (Johnson-Lindenstrauss), then int8.

A 1280-d float32 vector is 5 KiB, a million of them 5 GB; the sketch is 256 bytes and keeps cosines within
about +-0.07 (tests/insights/test_vectors.py), plenty for clustering the searches nobody found a match for.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np

SKETCH_DIMENSIONS = 256
_SEED = 14


@lru_cache(maxsize=4)
def _projection(dimensions: int) -> np.ndarray:
    # Seeded by the input size: every process, and every day, projects a model's vectors the same way.
    rng = np.random.default_rng(_SEED * 100_003 + dimensions)
    return rng.standard_normal((dimensions, SKETCH_DIMENSIONS)).astype(np.float32)


def vector_sketch(vector: np.ndarray) -> bytes:
    projected = np.asarray(vector, dtype=np.float32) @ _projection(len(vector))
    projected /= max(float(np.linalg.norm(projected)), 1e-12)
    # Unit vector components rarely pass 0.3 in 256-d; scaling by 127 * 3 keeps precision, clip the rest.
    return np.clip(np.rint(projected * 381), -127, 127).astype(np.int8).tobytes()


def sketches_unit(sketches: list[bytes]) -> np.ndarray:
    """Sketches as unit float32 rows, comparable by dot product."""
    matrix = np.frombuffer(b"".join(sketches), dtype=np.int8).reshape(len(sketches), SKETCH_DIMENSIONS)
    matrix = matrix.astype(np.float32)
    return matrix / np.maximum(np.linalg.norm(matrix, axis=1, keepdims=True), 1e-12)
