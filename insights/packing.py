"""Results of a search as bytes: int32 product ids, then float16 scores (6 bytes a result)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np


def results_pack(results: Sequence[tuple[int, float]]) -> bytes:
    ids = np.array([pid for pid, _ in results], dtype="<i4")
    scores = np.array([score for _, score in results], dtype="<f2")
    return ids.tobytes() + scores.tobytes()


def results_unpack(data: bytes | memoryview | None) -> list[tuple[int, float]]:
    data = bytes(data or b"")
    count = len(data) // 6
    if count * 6 != len(data):
        return []
    ids = np.frombuffer(data[: 4 * count], dtype="<i4")
    scores = np.frombuffer(data[4 * count :], dtype="<f2")
    return [(int(i), float(s)) for i, s in zip(ids, scores, strict=True)]
