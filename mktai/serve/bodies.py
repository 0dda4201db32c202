"""Request bodies -> rows for the cleaning layer: JSON records, MLflow payloads or CSV bytes.

Every row format becomes CSV bytes read by the same cleaning layer as `mktai predict FILE`, so
a JSON number 1200 and a CSV cell "1200" are typed, validated and rejected the same way. Bodies
are hostile: size is limited before this runs (guard.py); here nesting depth, row count, value
types and compressed or binary uploads are checked, each with a one-line message.
"""

from __future__ import annotations

import csv
import io
import json
import math
from typing import Any

from mktai.errors import InputError, UsageError

MLFLOW_KEYS = ("dataframe_split", "dataframe_records", "instances", "inputs")
CSV_TYPES = ("text/csv", "application/csv", "text/plain")
# curl -d sends application/x-www-form-urlencoded: a body that is JSON is read as JSON
JSON_TYPES = ("application/json", "application/x-www-form-urlencoded", "")


class UnsupportedMedia(UsageError):
    """The body's content type is not one this endpoint reads (HTTP 415)."""


def media_type(content_type: str | None) -> str:
    return (content_type or "").split(";", 1)[0].strip().lower()


def body_kind(content_type: str | None, body: bytes, *, csv_ok: bool = True) -> str:
    """'json' or 'csv' for this body; UnsupportedMedia otherwise."""
    kind = media_type(content_type)
    if kind in CSV_TYPES and csv_ok:
        return "csv"
    if kind in JSON_TYPES or kind.endswith("+json"):
        if kind == "application/x-www-form-urlencoded" and body.lstrip()[:1] not in (b"{", b"["):
            raise UnsupportedMedia("form-encoded bodies are not read; send JSON or text/csv")
        return "json"
    accepted = "application/json or text/csv" if csv_ok else "application/json"
    raise UnsupportedMedia(f"content type {kind or 'none'!r} is not supported; send {accepted}")


def parse_json(body: bytes, max_depth: int) -> Any:
    """json.loads with NaN/Infinity refused and nesting limited to max_depth."""

    def constant(name: str) -> Any:
        raise InputError(f"the JSON body holds {name}, which is not JSON; send null instead")

    if not body.strip():
        raise UsageError("the request body is empty; send a JSON object")
    try:
        value = json.loads(body, parse_constant=constant)
    except RecursionError:
        raise UsageError(f"the JSON body is nested deeper than {max_depth} levels") from None
    except UnicodeDecodeError:
        raise UsageError("the JSON body is not UTF-8 text") from None
    except json.JSONDecodeError as exc:
        raise UsageError(
            f"the body is not valid JSON ({exc.msg} at line {exc.lineno} column {exc.colno})"
        ) from None
    check_depth(value, max_depth)
    return value


def check_depth(value: Any, max_depth: int) -> None:
    stack = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, (dict, list)):
            if depth > max_depth:
                raise UsageError(f"the JSON body is nested deeper than {max_depth} levels")
            children = item.values() if isinstance(item, dict) else item
            stack.extend(
                (child, depth + 1) for child in children if isinstance(child, (dict, list))
            )


def object_body(value: Any, what: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise UsageError(f"the body must be a JSON object, e.g. {what}")
    return value


def cell(value: Any, row: int, column: str) -> str:
    """One JSON value as the CSV cell an export would hold."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return repr(value) if math.isfinite(value) else ""
    if isinstance(value, str):
        return value
    raise InputError(
        f"row {row + 1}, column {column!r}: a nested {type(value).__name__} is not a cell "
        "value; send flat records (strings, numbers, booleans or null)"
    )


def records_csv(records: Any, max_rows: int, field: str = "records") -> bytes:
    """[{"age": 41, ...}, ...] -> CSV bytes (columns in first-seen order; absent -> empty)."""
    if not isinstance(records, list):
        raise UsageError(f'"{field}" must be a list of objects, e.g. [{{"age": 41}}]')
    check_rows(len(records), max_rows)
    columns: dict[str, None] = {}
    for i, record in enumerate(records):
        if not isinstance(record, dict):
            raise InputError(f'"{field}" row {i + 1} is not an object; send {{"column": value}}')
        for key in record:
            columns.setdefault(key, None)
    if not columns:
        raise InputError(f'"{field}" holds no columns; send at least one row with values')
    names = list(columns)
    rows = [[cell(r.get(c), i, c) for c in names] for i, r in enumerate(records)]
    return to_csv(names, rows)


def split_csv(payload: Any, max_rows: int, field: str = "dataframe_split") -> bytes:
    """pandas' split orient {"columns": [...], "data": [[...], ...]} -> CSV bytes."""
    if not isinstance(payload, dict) or "columns" not in payload or "data" not in payload:
        raise UsageError(f'"{field}" must be {{"columns": [...], "data": [[...], ...]}}')
    columns, data = payload["columns"], payload["data"]
    if not isinstance(columns, list) or not all(isinstance(c, str) for c in columns):
        raise UsageError(f'"{field}.columns" must be a list of column names')
    if not isinstance(data, list):
        raise UsageError(f'"{field}.data" must be a list of rows')
    check_rows(len(data), max_rows)
    rows = []
    for i, row in enumerate(data):
        if not isinstance(row, list) or len(row) != len(columns):
            raise InputError(
                f'"{field}" row {i + 1} has {len(row) if isinstance(row, list) else "no"} '
                f"values for {len(columns)} columns"
            )
        rows.append([cell(v, i, c) for v, c in zip(row, columns, strict=True)])
    return to_csv(columns, rows)


def columnar_csv(payload: dict[str, Any], max_rows: int, field: str) -> bytes:
    """MLflow's columnar inputs {"age": [41, 52], "job": ["admin.", "retired"]} -> CSV bytes."""
    lengths = {len(v) if isinstance(v, list) else -1 for v in payload.values()}
    if -1 in lengths or len(lengths) != 1:
        raise InputError(f'"{field}": every column must be a list of the same length')
    rows = list(zip(*payload.values(), strict=True))
    check_rows(len(rows), max_rows)
    names = list(payload)
    return to_csv(names, [[cell(v, i, c) for v, c in zip(r, names, strict=True)]
                          for i, r in enumerate(rows)])  # fmt: skip


def mlflow_csv(body: dict[str, Any], max_rows: int) -> tuple[bytes, dict[str, Any]]:
    """An MLflow scoring payload -> (CSV bytes, params); exactly one input key is allowed."""
    given = [k for k in MLFLOW_KEYS if k in body]
    unknown = [k for k in body if k not in (*MLFLOW_KEYS, "params")]
    if len(given) != 1 or unknown:
        raise UsageError(
            "the body must hold exactly one of dataframe_split, dataframe_records, instances "
            f"or inputs (plus optional params); got {', '.join(map(repr, body)) or 'nothing'}"
        )
    key = given[0]
    params = body.get("params") or {}
    if not isinstance(params, dict):
        raise UsageError('"params" must be a JSON object')
    payload = body[key]
    if key == "dataframe_split":
        return split_csv(payload, max_rows, key), params
    if isinstance(payload, dict):
        return columnar_csv(payload, max_rows, key), params
    if isinstance(payload, list) and payload and not all(isinstance(r, dict) for r in payload):
        raise InputError(
            f'"{key}" rows must be objects naming their columns (or use dataframe_split); '
            "the model reads columns by name"
        )
    return records_csv(payload, max_rows, key), params


class CsvRows(bytes):
    """CSV bytes that also carry the header and cells they were written from (`cells`), so
    the cleaning layer can read a few plain rows without parsing them back (mktai.data.small);
    everything else reads the bytes."""

    cells: tuple[list[str], list[list[str]]]


def to_csv(columns: list[str], rows: list[list[str]]) -> CsvRows:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(columns)
    writer.writerows(rows)
    out = CsvRows(buffer.getvalue().encode("utf-8"))
    out.cells = (list(columns), rows)
    return out


def check_rows(count: int, max_rows: int) -> None:
    if count > max_rows:
        raise TooLarge(f"{count:,} rows in one request; the limit is {max_rows:,} (--max-rows)")


class TooLarge(UsageError):
    """More rows or bytes than the server accepts (HTTP 413)."""


def csv_body(body: bytes, max_rows: int) -> bytes:
    """A CSV body as sent, after refusing compressed/binary uploads and too many lines; a small
    plain one (plain_csv_cells) also carries its cells, as JSON rows do (CsvRows)."""
    if body[:2] == b"\x1f\x8b" or body[:3] == b"BZh" or body[:4] in (b"PK\x03\x04", b"PAR1"):
        raise UnsupportedMedia("compressed, zip or parquet bodies are not read; send CSV text")
    if not body.strip():
        raise UsageError("the request body is empty; send a header line and rows")
    lines = body.count(b"\n") + (0 if body.endswith(b"\n") else 1) - 1
    if lines > max_rows:  # a quoted line break can only make the real count lower
        check_rows(lines, max_rows)
    cells = plain_csv_cells(body)
    if cells is None:
        return body
    out = CsvRows(body)
    out.cells = cells
    return out


PLAIN_CSV_BYTES = 64 * 1024  # CSV bodies up to this size are split without the CSV reader
# Characters that make the CSV reader's view of a line differ from a split on commas: a quote,
# the other candidate delimiters (the sniffer might choose one), a lone CR, a byte-order mark.
_NOT_PLAIN = ('"', ";", "\t", "|", "\ufeff")


def plain_csv_cells(body: bytes) -> tuple[list[str], list[list[str]]] | None:
    """The header and rows of a small CSV body that a split on line ends and commas reads
    exactly as the CSV reader does, else None (the body is then read the full way).

    Plain means: UTF-8, at least two named columns, comma-separated, no quotes, no other
    candidate delimiter, LF or CRLF line ends only, no empty line, every row as wide as the
    header. The
    cells are then what the reader would give, so the cleaning layer's small path
    (mktai.data.small, which makes its own checks of the cells) answers as the full path.
    """
    if len(body) > PLAIN_CSV_BYTES:
        return None
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        return None
    if any(mark in text for mark in _NOT_PLAIN):
        return None
    if "\r" in text:
        if text.count("\r") != text.count("\r\n"):
            return None
        text = text.replace("\r\n", "\n")
    lines = text[:-1].split("\n") if text.endswith("\n") else text.split("\n")
    header = lines[0].split(",")
    if len(header) < 2 or len(lines) < 2 or not all(name.strip() for name in header):
        return None  # a blank name is renamed by the reader (column_2)
    rows = [line.split(",") for line in lines[1:]]
    if any(len(row) != len(header) for row in rows):
        return None  # an empty line or a ragged row: the reader's rules decide
    return header, rows


def texts_of(body: dict[str, Any], max_rows: int) -> list[str]:
    """{"texts": ["...", ...]} (or "text": "...") -> list of texts."""
    if "text" in body and "texts" not in body:
        body = {"texts": [body["text"]]}
    texts = body.get("texts")
    if not isinstance(texts, list) or not all(isinstance(t, str) for t in texts):
        raise UsageError('send {"texts": ["Great product", "质量很差"]}: a list of strings')
    check_rows(len(texts), max_rows)
    return texts


def mlflow_texts(body: dict[str, Any], max_rows: int) -> list[str]:
    """MLflow payload for a sentiment model: a list of strings or one text column."""
    given = [k for k in MLFLOW_KEYS if k in body]
    if len(given) == 1 and isinstance(body[given[0]], list):
        items = body[given[0]]
        if all(isinstance(t, str) for t in items):
            check_rows(len(items), max_rows)
            return items
    data = mlflow_csv(body, max_rows)[0]
    reader = csv.reader(io.StringIO(data.decode("utf-8")))
    header = next(reader)
    names = [h.strip().lower() for h in header]
    pick = next((i for i, h in enumerate(names) if h in ("text", "texts", "review")), None)
    if pick is None and len(header) == 1:
        pick = 0
    if pick is None:
        raise InputError(f"no text column among {', '.join(header)}; name it 'text'")
    return [row[pick] for row in reader]


def users_of(body: dict[str, Any], max_rows: int) -> list[str]:
    """{"user": "42"} or {"users": ["42", 7]} -> ["42", "7"]."""
    users = body.get("users", [body["user"]] if "user" in body else None)
    if not isinstance(users, list) or not users:
        raise UsageError('send {"user": "42", "n": 10} or {"users": ["42", "7"], "n": 10}')
    if not all(isinstance(u, (str, int)) and not isinstance(u, bool) for u in users):
        raise UsageError('"users" must be ids (strings or integers)')
    check_rows(len(users), max_rows)
    return [str(u) for u in users]


def integer(body: dict[str, Any], key: str, default: int | None, high: int = 1_000) -> Any:
    """An integer field between 1 and `high` (default when absent)."""
    value = body.get(key, default)
    if value is None:
        return None
    if not isinstance(value, int) or isinstance(value, bool) or not 1 <= value <= high:
        raise UsageError(f'"{key}" must be an integer between 1 and {high:,}, not {value!r}')
    return value


def strings(body: dict[str, Any], key: str) -> list[str] | None:
    value = body.get(key)
    if value is None:
        return None
    if not isinstance(value, list) or not all(isinstance(v, (str, int)) for v in value):
        raise UsageError(f'"{key}" must be a list of ids')
    return [str(v) for v in value]
