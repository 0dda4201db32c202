"""The duplicate check's batch order (clean._hash_order) is the stable argsort of the hashes,
also when hashes share their high bits or repeat (the cheap sort falls back or stays exact)."""

from __future__ import annotations

import numpy as np
import pytest

from mktai.data.clean import _hash_order


@pytest.mark.parametrize("case", ["random", "repeats", "shared_high_bits", "one", "small"])
def test_hash_order_is_the_stable_argsort(case):
    rng = np.random.default_rng(7)
    hashes = rng.integers(0, 2**64 - 1, 5000, dtype=np.uint64, endpoint=True)
    if case == "repeats":  # equal hashes keep row order (the group's first row is its original)
        hashes = hashes[rng.integers(0, 300, 5000)]
    elif case == "shared_high_bits":  # differ only in the bits the row numbers replace
        hashes = (hashes & np.uint64(0xFFFF_0000_0000_0000)) | rng.integers(0, 4096, 5000).astype(
            np.uint64
        )
        hashes[:50] = hashes[50]
    elif case == "one":
        hashes = hashes[:1]
    elif case == "small":
        hashes = np.array([5, 3, 5, 1], dtype=np.uint64)
    expected = np.argsort(hashes, kind="stable")
    assert np.array_equal(_hash_order(hashes), expected)


@pytest.mark.parametrize("size", [1, 7, 1000, 200_000])
def test_run_filter_never_rules_out_a_hash_of_the_run(size):
    """The bitmap before a run's binary search: every hash of the run passes (a miss there
    would keep a duplicate), and most other hashes do not (else it saves nothing)."""
    from mktai.data.clean import _maybe_in, _run_filter

    rng = np.random.default_rng(size)
    run = np.sort(rng.integers(0, 2**64 - 1, size, dtype=np.uint64, endpoint=True))
    run[: size // 3] = run[0]  # repeated hashes (distinct rows sharing h1) land in one bit
    run.sort()
    bits, shift = _run_filter(run)
    assert _maybe_in(bits, shift, run).all()
    others = rng.integers(0, 2**64 - 1, 50_000, dtype=np.uint64, endpoint=True)
    assert _maybe_in(bits, shift, others).mean() < 0.2
