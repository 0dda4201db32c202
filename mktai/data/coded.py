"""Clean rows handed to a parquet file as Arrow columns, text still dictionary-coded.

The cleaner keeps each text column of a CSV batch as indices into the batch's distinct values
(the dictionaries pyarrow's reader builds). A pandas frame needs every string decoded, and the
parquet writer then hashes every string again to build its own dictionary pages; given the
coded columns, it writes the dictionary and the indices as they are. That is ~0.3 s of CPU
per 2M rows not spent (the decode, pandas' frame and its conversion back to Arrow, less the
re-encoding of each batch's distinct values below).

The file must read back exactly as before: same values, same types, same pandas metadata. So
the first chunk fixes the schema the way TableWriter does (pyarrow.Table.from_pandas of the
frame, here of a frame of no rows when the dtypes decide the types), every chunk is cast to it,
and the Arrow schema a reader restores from (the file's ARROW:schema entry) is that plain
schema: strings come back as strings, not categoricals. How the file is laid out (batches,
statistics, row groups) and why: docs/parquet.md.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mktai.data.write import TableWriter, parquet_options

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd
    import pyarrow as pa


class CodedChunk:
    """The clean rows of one batch as the cleaner's columns (name -> NumPy array, Arrow array,
    dictionary-coded Arrow text or pandas array); `frame()` is the DataFrame the cleaner would
    have returned, built when something asks for it."""

    def __init__(self, columns: dict[str, Any], to_frame: Any) -> None:
        self.columns = columns
        self._to_frame = to_frame
        self._frame: pd.DataFrame | None = None

    def __len__(self) -> int:
        return len(next(iter(self.columns.values()))) if self.columns else 0

    def __iter__(self) -> Iterator[str]:
        return iter(self.columns)

    def frame(self) -> pd.DataFrame:
        if self._frame is None:
            self._frame = self._to_frame(self.columns)
        return self._frame


def as_frame(chunk: Any) -> pd.DataFrame:
    """A CodedChunk's DataFrame; a DataFrame unchanged."""
    return chunk.frame() if isinstance(chunk, CodedChunk) else chunk


class CodedParquetWriter(TableWriter):
    """TableWriter that writes CodedChunks to parquet without decoding their text (any other
    format, or a DataFrame before the first chunk, takes TableWriter's own path)."""

    def __init__(self, path: Path | None, metadata: dict[str, Any] | None = None) -> None:
        super().__init__(path, metadata=metadata)
        self._coded: pa.Schema | None = None  # the schema written: text as dictionaries

    @property
    def takes_coded(self) -> bool:
        """True when CodedChunks are written without decoding: a parquet file, and a pyarrow
        that can add the file's metadata after the rows (else the frames are written)."""
        import pyarrow.parquet as pq

        return self.format == "parquet" and hasattr(pq.ParquetWriter, "add_key_value_metadata")

    def write(self, frame: Any) -> None:
        coded = isinstance(frame, CodedChunk)
        if not coded or self.format != "parquet" or (self._parquet and self._coded is None):
            super().write(as_frame(frame))
            return
        self._write_coded(frame)
        self.rows += len(frame)

    def _write_coded(self, chunk: CodedChunk) -> None:
        import pyarrow as pa
        import pyarrow.parquet as pq

        arrays: list[Any] | None = None  # the first chunk's columns, when from_pandas made them
        if self._coded is None:
            schema, arrays = _first_schema(chunk)
            self._schema = _with_metadata(schema, self.metadata)
            self._coded = pa.schema(
                [_coded_field(f) for f in self._schema], metadata=self._schema.metadata
            )
        assert self._schema is not None
        if arrays is None:
            arrays = [
                _column(chunk.columns[plain.name], plain, coded, self)
                for plain, coded in zip(self._schema, self._coded, strict=True)
            ]
        else:
            arrays = [_to_coded(a, f) for a, f in zip(arrays, self._coded, strict=True)]
        table = pa.Table.from_arrays(arrays, schema=self._coded)
        if self._parquet is None:
            target = self._tmp or self._direct
            if target is None:
                from mktai.errors import UsageError

                raise UsageError("parquet output needs a file: use -o FILE.parquet")
            # store_schema=False: the Arrow schema stored is the plain one (see close)
            self._parquet = pq.ParquetWriter(
                str(target), self._coded, store_schema=False, **parquet_options(table)
            )
        self._parquet.write_table(table)

    def close(self, empty_frame: pd.DataFrame | None = None) -> None:
        if self._parquet is not None and self._coded is not None:
            import base64

            assert self._schema is not None
            stored = dict(self._schema.metadata or {})
            # what store_schema=True writes for this schema: readers restore the plain types
            stored[b"ARROW:schema"] = base64.b64encode(self._schema.serialize().to_pybytes())
            self._parquet.add_key_value_metadata(stored)
        super().close(empty_frame=empty_frame)


def _first_schema(chunk: CodedChunk) -> tuple[pa.Schema, list[Any] | None]:
    """The schema pyarrow.Table.from_pandas gives the chunk's frame (as TableWriter's), and the
    columns of that table when it had to be built.

    When every column's type follows from its dtype (no object or categorical column, whose
    Arrow type pyarrow infers from the values), it is the schema of the frame of no rows: the
    chunk's text is then not decoded to be encoded again (~0.04 s for a 100k-row chunk).
    """
    import pyarrow as pa

    empty = chunk._to_frame({name: _head(values) for name, values in chunk.columns.items()})
    if all(_typed_by_dtype(dtype) for dtype in empty.dtypes):
        return pa.Schema.from_pandas(empty, preserve_index=False), None
    first = pa.Table.from_pandas(chunk.frame(), preserve_index=False)
    return first.schema, list(first.columns)


def _typed_by_dtype(dtype: Any) -> bool:
    """Whether from_pandas gives a column of this dtype the same Arrow type whatever its values
    (not so for NumPy object columns, nor for a categorical's categories)."""
    import numpy as np
    import pandas as pd

    if isinstance(dtype, np.dtype):
        return dtype.kind != "O"
    return not isinstance(dtype, pd.CategoricalDtype)


def _head(values: Any) -> Any:
    """No rows of a cleaner's column (NumPy, Arrow, pandas Series or array)."""
    return values.iloc[:0] if hasattr(values, "iloc") else values[:0]


def _with_metadata(schema: pa.Schema, metadata: dict[str, Any] | None) -> pa.Schema:
    """The schema with the mktai metadata TableWriter stores (write.MKTAI_METADATA_KEY)."""
    if not metadata:
        return schema
    import json

    from mktai.data.write import MKTAI_METADATA_KEY

    extra = {MKTAI_METADATA_KEY: json.dumps(metadata).encode("utf-8")}
    return schema.with_metadata({**(schema.metadata or {}), **extra})


def _is_text(kind: pa.DataType) -> bool:
    import pyarrow as pa

    return bool(pa.types.is_string(kind) or pa.types.is_large_string(kind))


def _coded_field(field: pa.Field) -> pa.Field:
    """Text fields written as dictionaries (parquet stores the same strings either way)."""
    import pyarrow as pa

    if _is_text(field.type):
        return field.with_type(pa.dictionary(pa.int32(), pa.string()))
    return field


def _to_coded(values: Any, field: pa.Field) -> pa.Array:
    """An Arrow column in the written type: text dictionary-encoded (a dictionary the parquet
    writer takes as it is must be free of nulls and repeats, which dictionary_encode gives)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    if isinstance(values, pa.ChunkedArray):
        values = values.combine_chunks()
    if not pa.types.is_dictionary(field.type):
        return values
    if pa.types.is_dictionary(values.type):
        # the cleaner's dictionaries may hold nulls (empty cells) and repeats ('a' and 'a '
        # both trimmed to 'a'): encode the distinct values, then map the rows' indices
        dictionary = values.dictionary.cast(pa.string())
        distinct = pc.dictionary_encode(dictionary)
        if len(distinct.dictionary) == len(dictionary) and values.type == field.type:
            return values  # neither (a null is no entry of distinct): the indices stand
        indices = distinct.indices.take(values.indices)
        return pa.DictionaryArray.from_arrays(indices, distinct.dictionary)
    return pc.dictionary_encode(values.cast(pa.string()))


def _column(values: Any, plain: pa.Field, coded: pa.Field, writer: TableWriter) -> pa.Array:
    """One clean column of a later chunk in the first chunk's types (as TableWriter casts)."""
    import numpy as np
    import pyarrow as pa

    try:
        if isinstance(values, np.ndarray):
            values = _from_numpy(values)
        elif not isinstance(values, (pa.Array, pa.ChunkedArray)):
            values = pa.array(values, from_pandas=True)  # NaN / NaT missing, as from_pandas
        if not pa.types.is_dictionary(values.type) and values.type != plain.type:
            values = values.cast(plain.type)
        return _to_coded(values, coded)
    except (pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError) as exc:
        from mktai.errors import InputError

        raise InputError(
            f"{writer.path}: rows {writer.rows + 1:,} on have column types that differ from "
            f"the first rows ({str(exc).splitlines()[0]}); write CSV or fix the input"
        ) from None


def _from_numpy(values: np.ndarray) -> pa.Array:
    """pa.array(values, from_pandas=True) (NaN and NaT missing), without its copy and validity
    scan when nothing is missing: the cleaner's numbers and dates as they are (~0.4 ms a
    100k-row column less)."""
    import numpy as np
    import pyarrow as pa

    if values.ndim == 1 and values.flags.c_contiguous and values.dtype.isnative:
        if values.dtype.kind == "f" and not np.isnan(values).any():
            return pa.array(values)
        if values.dtype == np.dtype("datetime64[ns]") and not np.isnat(values).any():
            stamps = pa.timestamp("ns")
            return pa.Array.from_buffers(stamps, len(values), [None, pa.py_buffer(values)])
    return pa.array(values, from_pandas=True)
