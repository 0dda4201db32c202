"""Rows from across a whole CSV file, so column types are not decided on its first rows only.

The cleaner types each column once (number, date, text ...) and applies that to the whole
stream. Deciding on the first 20,000 rows alone made a column that turns non-numeric at row
1,000,000 silently into rejects. For a plain (uncompressed) file the plan's sample is the first
20,000 rows plus SPREAD_BLOCKS blocks of SPREAD_BYTES read at evenly spaced offsets through the
file: each block starts after its first line break and ends at its last, and lines whose field
count is wrong (a block that began inside a quoted multi-line value) are left out. Compressed
files and stdin cannot be read at an offset without decompressing everything before it: their
sample is the first rows. Either way a typed column that stops parsing after the rows the
sample saw (a later batch where most values fail, or a run of at least 100 failing values
that make up most of the batch from where it starts, e.g. near the end of a file) is reported
by the cleaner as a parsing gap from that row (report notes, `--strict` fails), never only
as rejects or empty cells.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import pandas as pd

    from mktai.data.read import Source

SPREAD_BLOCKS = 32
SPREAD_BYTES = 64 * 1024
MIN_FILE_BYTES = 4 * SPREAD_BLOCKS * SPREAD_BYTES  # smaller files fit in the first batch anyway


def spread_rows(source: Source, columns: int) -> pd.DataFrame | None:
    """Rows (all strings, columns c0, c1 ...) from SPREAD_BLOCKS places through the file, or
    None when the file cannot be read at an offset."""
    import pyarrow as pa
    import pyarrow.csv as pcsv

    names = [f"c{i}" for i in range(columns)]
    if source.format != "csv" or source.compression is not None:
        return None
    if any(wide in source.encoding.lower() for wide in ("16", "32")):
        return None  # a line break is not one byte there
    try:
        size = source.path.stat().st_size
        if size < MIN_FILE_BYTES:
            return None
        blocks = []
        with open(source.path, "rb") as handle:
            for k in range(1, SPREAD_BLOCKS + 1):
                handle.seek(size * k // (SPREAD_BLOCKS + 1))
                data = handle.read(SPREAD_BYTES)
                start, end = data.find(b"\n") + 1, data.rfind(b"\n") + 1
                if 0 < start < end:
                    blocks.append(data[start:end])
    except OSError:
        return None
    if not blocks:
        return None
    encoding = "utf-8" if source.encoding.lower() == "utf-8-sig" else source.encoding
    try:
        table = pcsv.read_csv(
            pa.py_buffer(b"".join(blocks)),
            read_options=pcsv.ReadOptions(column_names=names, encoding=encoding),
            parse_options=pcsv.ParseOptions(
                delimiter=source.delimiter, invalid_row_handler=lambda row: "skip"
            ),
            convert_options=pcsv.ConvertOptions(
                column_types=dict.fromkeys(names, pa.string()),
                strings_can_be_null=False,
                quoted_strings_can_be_null=False,
                null_values=[],
            ),
        )
    except (pa.ArrowInvalid, UnicodeError, ValueError):
        return None
    return table.to_pandas() if table.num_rows else None
