"""Duplicate detection must stay exact when hashes collide: a shared hash only makes two rows
candidates, never drops a distinct row.

Collisions are forced by cutting the real row hashes down to a few bits (so thousands of
distinct rows share one); the outcome must equal the run with full hashes.
"""

from __future__ import annotations

import csv
import io
import random

import pytest

from mktai.data import load_table, read, rowhash


def _orders(tmp_path, n: int = 2000, seed: int = 3):
    rng = random.Random(seed)
    rows = [
        [f"{500000 + i // 4}", f"SKU{rng.randrange(30)}", str(rng.choice([1, 2, -1])),
         f"2024-0{rng.randrange(1, 10)}-1{rng.randrange(10)}", f"{rng.randrange(1, 500) / 100}",
         rng.choice(["", "17850", "12345"])]
        for i in range(n)
    ]  # fmt: skip
    rows += [rows[i] for i in rng.sample(range(n), 150)]  # duplicates, near and far
    rng.shuffle(rows)
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["InvoiceNo", "StockCode", "Quantity", "InvoiceDate", "UnitPrice", "Cust"])
    writer.writerows(rows)
    path = tmp_path / "orders.csv"
    path.write_text(buffer.getvalue())
    return path, len(set(map(tuple, rows)))


def _outcome(table):
    rejects = table.rejects.sort_values("row")
    return table.frame, rejects["row"].tolist(), rejects["reason"].tolist()


@pytest.mark.parametrize("bits", ["first", "both"])
def test_colliding_hashes_change_nothing(tmp_path, monkeypatch, bits):
    path, distinct = _orders(tmp_path)
    if bits == "both":  # one batch: every candidate is verified value by value
        monkeypatch.setattr(read, "BLOCK_SIZE", 1 << 20)
    else:  # many batches: across them the second hash decides
        monkeypatch.setattr(read, "BLOCK_SIZE", 8192)
    frame, rows, reasons = _outcome(load_table(path))
    assert len(frame) == distinct
    real = rowhash.row_hashes

    def colliding(batch):
        h1, h2 = real(batch)
        return h1 & 0xF, (h2 & 0x7 if bits == "both" else h2)

    monkeypatch.setattr(rowhash, "row_hashes", colliding)
    frame2, rows2, reasons2 = _outcome(load_table(path))
    assert frame2.equals(frame)
    assert rows2 == rows and reasons2 == reasons
