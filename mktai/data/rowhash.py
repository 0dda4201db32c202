"""Two 64-bit hashes of whole rows of an Arrow batch, and exact row comparison (duplicates).

Each cell is hashed once (pandas' keyed SipHash; strings are hashed once per distinct value of
the batch, through the dictionary the CSV reader built or Arrow's dictionary_encode), then the
cells of a row are chained by two different combiners (row_hashes). The key is random per
process, so no input can be crafted to collide, and no result depends on it: a shared hash
only makes two rows *candidates*. Inside a batch candidates are compared value by value
(`same_values`); across batches (whose rows are no longer in memory) both 64-bit hashes must
match.
"""

from __future__ import annotations

import secrets
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import numpy as np
    import pyarrow as pa

_M1 = 0x9E3779B97F4A7C15
_M2 = 0xBF58476D1CE4E5B9
_M3 = 0x94D049BB133111EB
_KEY = secrets.token_hex(8)  # 16 characters, as pandas' hash_key wants
_SEEDS = (secrets.randbits(64), secrets.randbits(64))


def _mix(h: np.ndarray) -> np.ndarray:
    """splitmix64's finaliser, in place (h is returned): every input bit reaches every output
    bit."""
    import numpy as np

    t = h >> np.uint64(30)
    h ^= t
    h *= np.uint64(_M2)
    np.right_shift(h, np.uint64(27), out=t)
    h ^= t
    h *= np.uint64(_M3)
    np.right_shift(h, np.uint64(31), out=t)
    h ^= t
    return h


def row_hashes(batch: pa.RecordBatch) -> tuple[np.ndarray, np.ndarray]:
    """Two independently combined 64-bit hashes of every row (all columns, in order).

    h1 chains xor-then-multiply, h2 is a polynomial in the cells (multiply-then-add): each step
    of either is a bijection of the cell's hash, so rows whose cell hashes differ in one column
    never share either hash, and the two algebras differ, so distinct rows share both only if
    their cell hashes collide (keyed SipHash) or by chance in both. Four in-place passes a
    column, no temporaries. Only h1 is finalised (_mix): its top bits sort the batch and pick
    the filter's words; h2 is only ever compared, and a bijection would not change which rows
    share it."""
    import numpy as np

    n = batch.num_rows
    h1 = np.full(n, _SEEDS[0], dtype=np.uint64)
    h2 = np.full(n, _SEEDS[1], dtype=np.uint64)
    m1, m2 = np.uint64(_M1), np.uint64(_M2)
    cell = np.empty(n, dtype=np.uint64)
    for array in batch.columns:
        cell_hashes(array, out=cell)
        h1 ^= cell
        h1 *= m1
        h2 *= m2
        h2 += cell
    return _mix(h1), h2


def cell_hashes(array: pa.Array, out: np.ndarray | None = None) -> np.ndarray:
    """The keyed hash of every cell of one column, by value (equal values, equal hashes, in
    every batch). Strings are hashed once per distinct value: through the dictionary the
    reader built (iter_batches(dictionary=True)), else after Arrow's dictionary_encode.
    `out`, if given, receives them (a buffer reused for every column of a batch)."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.compute as pc

    if pa.types.is_string(array.type) or pa.types.is_large_string(array.type):
        array = pc.dictionary_encode(array)
    textual = (pa.types.is_string, pa.types.is_large_string)
    if pa.types.is_dictionary(array.type) and any(t(array.type.value_type) for t in textual):
        from pandas.util import hash_array

        from mktai.data.read import row_indices

        values = array.dictionary.to_numpy(zero_copy_only=False)
        distinct = hash_array(values, encoding="utf8", hash_key=_KEY, categorize=False)
        if array.null_count:  # a null cell hashes as pandas hashes a missing value
            missing = hash_array(np.array([None], dtype=object), hash_key=_KEY)[0]
            distinct = np.append(distinct, missing)
            indices = pc.fill_null(array.indices, len(distinct) - 1)
        else:
            indices = array.indices
        # mode="clip": the indices are in range, and "raise" would buffer `out` (a copy)
        return np.take(distinct, row_indices(indices), out=out, mode="clip")
    from mktai.data.read import plain_strings

    series = plain_strings(array).to_pandas()
    cells = series.array._hash_pandas_object(encoding="utf8", hash_key=_KEY, categorize=True)
    cells = np.asarray(cells, dtype=np.uint64)
    if out is None:
        return cells
    out[:] = cells
    return out


def same_values(batch: pa.RecordBatch, left: np.ndarray, right: np.ndarray) -> np.ndarray:
    """True where row left[i] equals row right[i] in every column (exact; nulls and NaNs equal).

    A dictionary column (the reader's) is compared by its indices first: the same index is the
    same value, so only pairs with different indices (a hash collision, or a dictionary that
    repeats a value) have their values compared."""
    import numpy as np
    import pyarrow as pa

    same = np.ones(len(left), dtype=bool)
    if not len(left):
        return same
    for array in batch.columns:
        if pa.types.is_dictionary(array.type):
            indices = array.indices
            if indices.null_count:
                indices = indices.fill_null(-1)
            codes = np.asarray(indices)
            differ = np.flatnonzero(codes[left] != codes[right])
            if len(differ):
                same[differ] &= _same_cells(array, left[differ], right[differ])
        else:
            same &= _same_cells(array, left, right)
    return same


def _same_cells(array: pa.Array, left: np.ndarray, right: np.ndarray) -> np.ndarray:
    """True where cell left[i] equals cell right[i] of one column, by value."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.compute as pc

    from mktai.data.read import plain_strings

    # taken first, decoded after: only the candidate rows are turned into plain strings
    a, b = plain_strings(array.take(pa.array(left))), plain_strings(array.take(pa.array(right)))
    try:
        equal = pc.fill_null(pc.equal(a, b), False)
        both = pc.and_(pc.is_null(a), pc.is_null(b))
        if pa.types.is_floating(a.type):  # NaN repeats NaN, as in pandas' hashing
            both = pc.or_(both, pc.fill_null(pc.and_(pc.is_nan(a), pc.is_nan(b)), False))
        return np.asarray(pc.or_(equal, both), dtype=bool)
    except (pa.ArrowNotImplementedError, pa.ArrowInvalid, TypeError):
        return np.array([x == y for x, y in zip(a.to_pylist(), b.to_pylist(), strict=True)])
