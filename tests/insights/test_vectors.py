from __future__ import annotations

import numpy as np

from insights.packing import results_pack, results_unpack
from insights.vectors import SKETCH_DIMENSIONS, sketches_unit, vector_sketch


def _unit(v: np.ndarray) -> np.ndarray:
    return v / np.linalg.norm(v)


def test_sketch_is_256_bytes_and_keeps_cosines():
    rng = np.random.default_rng(1)
    base = rng.standard_normal((40, 1280)).astype(np.float32)
    # Pairs from unrelated to near-identical, as real query vectors are (cosines from ~0 to ~0.95).
    pairs = [(_unit(b), _unit(b + rng.standard_normal(1280) * noise)) for b in base for noise in (0.3, 1, 3)]
    sketches = [vector_sketch(v) for pair in pairs for v in pair]
    assert {len(s) for s in sketches} == {SKETCH_DIMENSIONS}
    units = sketches_unit(sketches)
    true = np.array([float(a @ b) for a, b in pairs])
    approx = np.einsum("ij,ij->i", units[0::2], units[1::2])
    assert np.max(np.abs(true - approx)) < 0.2
    assert np.mean(np.abs(true - approx)) < 0.07
    assert true.min() < 0.4 and true.max() > 0.9  # the test covers the range


def test_sketch_is_the_same_in_every_process():
    v = _unit(np.arange(1, 1281, dtype=np.float32))
    assert vector_sketch(v) == vector_sketch(v.copy())


def test_results_pack_round_trip_and_tolerates_garbage():
    packed = results_pack([(12, 0.91), (40, 0.5)])
    assert len(packed) == 12
    assert [(p, round(s, 2)) for p, s in results_unpack(packed)] == [(12, 0.91), (40, 0.5)]
    assert results_unpack(b"") == [] and results_unpack(b"12345") == []
