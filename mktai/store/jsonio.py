"""The store's small JSON files: the shared atomic writer and encoder of mktai.files."""

from mktai.files import dumps, fsync_dir, read_json, write_json_atomic

__all__ = ["dumps", "fsync_dir", "read_json", "write_json_atomic"]
