"""Human-readable summaries on stderr, shared by commands that read data."""

from __future__ import annotations

from typing import Any

from mktai.cli import console


def print_cleaning_summary(report: dict[str, Any]) -> None:
    """Rows in/out/rejected by reason, roles, and each column's type and missing share."""
    if console.is_quiet():
        return
    from rich.table import Table

    for source in report.get("sources", []):
        delimiter = {"\t": "tab", ",": "comma", ";": "semicolon", "|": "pipe"}.get(
            source["delimiter"], source["delimiter"]
        )
        detail = (
            "parquet" if source["format"] == "parquet" else f"{source['encoding']}, {delimiter}"
        )
        if source.get("compression"):
            detail += f", {source['compression']}"
        console.info(f"read {source['name']} ({detail})")
    roles = ", ".join(f"{r}={c}" for r, c in report.get("roles", {}).items())
    console.info(f"kind: {report.get('kind')}; roles: {roles or 'none detected'}")
    console.info(
        f"rows: {report['rows_in']:,} in, {report['rows_out']:,} out, "
        f"{report['rows_rejected']:,} rejected"
    )
    for reason, count in list(report.get("rejected_by_reason", {}).items())[:10]:
        console.info(f"  rejected {count:>9,}  {reason}")
    table = Table(title=None, show_header=True, header_style="bold", box=None, pad_edge=False)
    for name in ("column", "from", "type", "missing", "notes"):
        table.add_column(name)
    for name, info in report.get("columns", {}).items():
        notes = []
        if info.get("unparseable"):
            notes.append(
                f"{info['unparseable']} unparseable (e.g. {info['unparseable_example']!r})"
            )
        fmt = info.get("date_format")
        if fmt:
            text = str(fmt.get("format", ""))
            if "day_first" in fmt:
                orders = {True: "day first", False: "month first"}
                undecided = orders.get(fmt.get("undecided_as"), "month first")
                order = orders.get(fmt["day_first"], f"order ambiguous, read {undecided}")
                if fmt.get("decided_at_row"):
                    order += f" (decided at row {fmt['decided_at_row']:,})"
                text += f", {order}"
            notes.append(text)
        original = info["original"] if info["original"] != name else ""
        table.add_row(
            name, original, info["type"], f"{info['missing_share']:.1%}", "; ".join(notes)
        )
    console.err_console().print(table)
    for note in report.get("notes", []):
        console.warn(note)
    tx = report.get("transactions")
    if tx:
        console.info(
            f"transactions: {tx.get('cancellation_lines', 0):,} cancellation lines, "
            f"{tx.get('return_lines', 0):,} return lines (value {tx.get('returns_value', 0):,.2f}) "
            f"kept apart from sales {tx.get('sales_value', 0):,.2f}"
            + (
                f"; {tx.get('lines_without_customer', 0):,} lines without customer"
                if "customer" in report.get("roles", {})
                else ""
            )
            + (
                f", {tx.get('zero_price_lines', 0):,} with price 0, "
                f"{tx.get('negative_price_lines', 0):,} with a negative price"
                if "price" in report.get("roles", {})
                else ""
            )
        )
