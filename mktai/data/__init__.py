"""The shared data-cleaning layer: every command reads its input through load_table."""

from __future__ import annotations

from mktai.data.load import load_table, open_stream
from mktai.data.table import CleanTable
from mktai.data.write import TableWriter, write_json, write_table

__all__ = ["CleanTable", "TableWriter", "load_table", "open_stream", "write_json", "write_table"]
