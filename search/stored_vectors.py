"""Embeddings as the database stores them (ProductImage.embedding, ViewEmbedding.vector): little-endian float32."""

from __future__ import annotations

import numpy as np


def vector_to_bytes(vector: np.ndarray) -> bytes:
    return np.asarray(vector, dtype="<f4").tobytes()


def vector_from_bytes(data: bytes | memoryview | None) -> np.ndarray:
    """A stored embedding (BinaryField: bytes, or a memoryview on PostgreSQL) as float32."""
    if data is None:
        raise ValueError("No stored embedding")
    return np.frombuffer(bytes(data), dtype="<f4")
