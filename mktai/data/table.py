"""CleanTable: what the cleaning layer hands to every command and model family."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import pandas as pd


@dataclass
class CleanTable:
    """A cleaned, typed table plus everything needed to explain what happened to the input.

    frame     cleaned rows; column names normalised (trimmed, snake_case ASCII where possible,
              Chinese names kept); numbers float64/Int64, dates datetime64, yes/no -> 1/0.
    roles     role -> column name in `frame` (customer, order, date, item, quantity, price,
              amount, user, rating, timestamp, text, label, target, series, value ...).
    kind      transactions | customers | ratings | reviews | sales | labelled | table.
    rejects   rows that could not be used: columns source, row (1-based data row number in its
              file), reason, raw (the original line as text).
    report    JSON-able cleaning report (rows in/out, rejects by reason, duplicates, per-column
              dtype and missing share, encoding, delimiter, date order, notes).
    fingerprint  {"sha256": hex of the input bytes, "rows": rows read}.
    raw       with load_table(keep_raw=True): the kept rows exactly as read (original header
              names and cell text), aligned row for row with `frame` — what scoring commands
              hand back, so a user's 'yes' stays 'yes' and 'Customer ID' keeps its name.
    """

    frame: pd.DataFrame
    roles: dict[str, str]
    kind: str
    rejects: pd.DataFrame
    report: dict[str, Any] = field(default_factory=dict)
    fingerprint: dict[str, Any] = field(default_factory=dict)
    sources: list[str] = field(default_factory=list)
    raw: pd.DataFrame | None = None

    def has(self, role: str) -> bool:
        return role in self.roles and self.roles[role] in self.frame.columns

    def col(self, role: str) -> pd.Series:
        """The column playing `role`; a clear InputError when the data has none."""
        from mktai.errors import RoleNotFound

        if not self.has(role):
            raise RoleNotFound([role], list(map(str, self.frame.columns)), source=self.describe())
        return self.frame[self.roles[role]]

    def require(self, *roles: str) -> None:
        for role in roles:
            self.col(role)

    def check_strict(self, strict: bool = True) -> None:
        """--strict: any rejected row stops the command (InputError naming the first one)."""
        if not strict or not len(self.rejects):
            return
        from mktai.errors import InputError

        first = self.rejects.iloc[0]
        raise InputError(
            f"{first['source']} row {first['row']}: {first['reason']} ({len(self.rejects)} "
            "row(s) rejected by cleaning and --strict is set; `mktai ingest` writes them all "
            "to a rejects file)",
            file=str(first["source"]),
            row=int(first["row"]),
        )

    def describe(self) -> str:
        return ", ".join(self.sources) if self.sources else "input"
