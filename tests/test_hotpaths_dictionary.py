"""The fast paths of the cleaning layer give what the plain paths give.

CSV batches come dictionary-encoded (read.iter_batches(dictionary=True)): the cleaner trims and
casts each distinct value once and the row hash hashes it once. The type sample's decimal-mark
and day-order decisions count distinct values weighted by their counts. Both must be invisible:
same clean rows, rejects, reasons and counters as on plain strings / per-row counting.
"""

from __future__ import annotations

import csv
import io
import random
from pathlib import Path

import pandas as pd
import pytest

from mktai.data import parse, read
from mktai.data.clean import Cleaner, Deduper, make_plan
from mktai.data.load import _plan_sample


def _hostile_rows(n: int, seed: int) -> list[list[str]]:
    """Order lines with padding, empty cells, non-ASCII text, quotes and line breaks in values,
    unreadable quantities and dates, and exact repeats (across batch boundaries too)."""
    rng = random.Random(seed)
    texts = ["  Tasse  ", "Crème brûlée", '"quoted", text', "two\nlines", "", "杯子", "=1+2"]
    rows: list[list[str]] = []
    for i in range(n):
        if rows and rng.random() < 0.08:
            rows.append(list(rng.choice(rows)))  # an exact duplicate
            continue
        rows.append(
            [
                f"{'C' if rng.random() < 0.1 else ''}{500000 + i // 4}",
                rng.choice(texts),
                rng.choice(["1", " 2", "3 ", "-1", "", "x", "1.5"]),
                rng.choice(["2024-01-05 10:00:00", " 2024-02-29", "", "soon", "2024-03-01"]),
                f"{rng.randrange(0, 900) / 100:.2f}",
                rng.choice(["", "17850", "12345.0", " 4 "]),
                rng.choice(["yes", " No", "", "YES", "no "]) if i % 1500 != 1499 else "ｙｅｓ",
            ]
        )
    return rows


@pytest.fixture
def orders_csv(tmp_path: Path) -> Path:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(
        ["InvoiceNo", "Description", "Quantity", "InvoiceDate", "Price", "CustomerID", "Member"]
    )
    writer.writerows(_hostile_rows(3000, seed=15))
    path = tmp_path / "orders.csv"
    path.write_text(buffer.getvalue(), encoding="utf-8")
    return path


def _clean_all(path: Path, dictionary: bool) -> tuple[pd.DataFrame, pd.DataFrame, Cleaner]:
    source = read.open_source(path)
    bad: list[read.BadRow] = []
    batches = list(read.iter_batches(source, bad, dictionary=dictionary))
    assert len(batches) > 3  # small blocks: several batches, duplicates across them
    plan = make_plan(_plan_sample(source, read.plain_batch(batches[0])), None, {}, ())
    deduper = Deduper()
    cleaner = Cleaner(plan, source.name, ",", deduper=deduper, source_index=deduper.add_source("x"))
    clean, rejects, first = [], [], 0
    for batch in batches:
        kept, rejected = cleaner.clean(batch, first)
        clean.append(kept)
        rejects.append(rejected)
        first += batch.num_rows
    source.cleanup()
    return pd.concat(clean, ignore_index=True), pd.concat(rejects, ignore_index=True), cleaner


def test_dictionary_batches_clean_like_plain_strings(orders_csv, monkeypatch):
    monkeypatch.setattr(read, "BLOCK_SIZE", 16 * 1024)
    fast_clean, fast_rejects, fast = _clean_all(orders_csv, dictionary=True)
    plain_clean, plain_rejects, plain = _clean_all(orders_csv, dictionary=False)
    pd.testing.assert_frame_equal(fast_clean, plain_clean)
    pd.testing.assert_frame_equal(fast_rejects, plain_rejects)
    assert fast.stats == plain.stats
    # the file really exercises the rules: duplicates, unreadable required dates, missing ones
    reasons = set(fast_rejects["reason"].str.split(" ").str[0])
    assert {"exact", "unparseable", "missing"} <= reasons
    assert fast.stats.duplicates > 100
    assert fast_clean["description"].isna().any()  # empty text is missing, not ''
    assert "Tasse" in set(fast_clean["description"].dropna())  # trimmed
    member = fast_clean["member"]  # yes/no: Arrow kernels, pandas for full-width
    assert str(member.dtype) == "Int8" and member.isna().any() and set(member.dropna()) == {0, 1}


def _per_row_evidence(values: pd.Series) -> dict[str, int]:
    """decimal_evidence as defined: every sample value matched on its own."""
    bare = parse.strip_decorations(parse.normalise_text(values).dropna())
    patterns = {
        "comma": parse._COMMA_DECIMAL,
        "point": parse._POINT_DECIMAL,
        "point_group": parse._POINT_GROUP,
        "comma_group": parse._COMMA_GROUP,
    }
    return {k: int(bare.str.match(p.pattern).sum()) for k, p in patterns.items()}


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_sample_decisions_on_distinct_values_count_every_row(seed):
    rng = random.Random(seed)
    marks = ["1,5", "12.50", "1.234", "1,234", "€10,50", "１２,5", " n/a ", "", "3", "1.234,56"]
    values = pd.Series([rng.choice(marks) for _ in range(5000)] + [None, None], dtype="object")
    assert parse.decimal_evidence(values) == _per_row_evidence(values)
    # day order: the rare value deciding it must be found among thousands of repeats
    dates = (
        ["05/01/2024"] * 4000 + ["01/02/2024"] * 999 + [rng.choice(["13/01/2024", "01/13/2024"])]
    )
    expected = dates[-1].startswith("13")
    assert parse.decide_day_first(pd.Series(dates)) is expected
    dotted = pd.Series(["05.01.2024"] * 51 + ["2024-01-05"] * 49)
    assert parse.decide_day_first(dotted) is True  # more than half written with dots
    assert parse.decide_day_first(pd.Series(["05.01.2024"] * 49 + ["2024-01-05"] * 51)) is None
