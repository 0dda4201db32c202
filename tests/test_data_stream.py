"""The cleaning layer across many batches (a small block size forces streaming on small files):
row numbers, duplicates and date order must not depend on where a batch boundary falls."""

from __future__ import annotations

import csv
import io
import random
from pathlib import Path

import pytest

from mktai.data import clean, load_table, read
from mktai.data.ingest import default_rejects_path, ingest


@pytest.fixture
def small_blocks(monkeypatch):
    monkeypatch.setattr(read, "BLOCK_SIZE", 4096)


def _write(path: Path, header, rows, delimiter=",") -> Path:
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=delimiter, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    path.write_text(buffer.getvalue(), encoding="utf-8")
    return path


def _orders(n: int, seed: int = 0) -> list[list[str]]:
    rng = random.Random(seed)
    return [
        [
            f"{'C' if rng.random() < 0.1 else ''}{500000 + i // 3}",
            f"SKU{rng.randrange(50)}",
            str(rng.choice([1, 2, 3, -1])),
            f"2024-0{rng.randrange(1, 10)}-1{rng.randrange(10)} 10:00:00",
            f"{rng.randrange(1, 900) / 100:.2f}",
            rng.choice(["", "17850", "12345"]),
        ]
        for i in range(n)
    ]


HEADER = ["InvoiceNo", "StockCode", "Quantity", "InvoiceDate", "UnitPrice", "CustomerID"]


def test_many_batches_match_one_batch(tmp_path, monkeypatch):
    rows = _orders(3000)
    rows += [rows[i] for i in (5, 2500, 17, 2999)]  # duplicates, some far apart
    rows.insert(1500, ["bad", "line"])  # malformed, in the middle of the file
    src = _write(tmp_path / "orders.csv", HEADER, rows)
    whole = load_table(src)
    monkeypatch.setattr(read, "BLOCK_SIZE", 4096)
    monkeypatch.setattr(clean.Deduper, "RUN_CAP", 300)  # many sorted runs, many merges
    streamed = load_table(src)
    assert len(whole.frame) == len(streamed.frame) == 3000
    assert whole.frame.equals(streamed.frame)
    assert whole.report["transactions"] == streamed.report["transactions"]
    for table in (whole, streamed):
        rejects = table.rejects.sort_values("row").reset_index(drop=True)
        assert rejects["row"].tolist() == [1501, 3002, 3003, 3004, 3005]
        assert rejects["reason"].tolist() == [
            "malformed line 1502: expected 6 fields, found 2",
            "exact duplicate of row 6",
            "exact duplicate of row 2502",  # row numbers count the malformed line
            "exact duplicate of row 18",
            "exact duplicate of row 3001",
        ]
        assert table.report["rows_in"] == table.report["rows_out"] + table.report["rows_rejected"]


def test_cancellations_need_c_and_a_digit(tmp_path):
    rows = [
        ["C536379", "D", "-1", "2024-01-01", "27.5", "1"],
        ["CN-2024-7", "A", "2", "2024-01-01", "1", "2"],  # a Chinese order id, not a cancellation
        ["536380", "B", "-3", "2024-01-02", "2", "3"],  # negative quantity: a return
        ["536381", "B", "3", "2024-01-02", "2", "3"],
    ]
    table = load_table(_write(tmp_path / "o.csv", HEADER, rows))
    assert table.frame["is_return"].tolist() == [True, False, True, False]
    assert table.report["transactions"]["cancellation_lines"] == 1
    assert table.report["transactions"]["return_lines"] == 2
    assert table.report["transactions"]["sales_value"] == pytest.approx(2 + 6)


def test_duplicates_across_files(tmp_path):
    rows = _orders(20, seed=1)
    jan = _write(tmp_path / "jan.csv", HEADER, rows[:12])
    feb = _write(tmp_path / "feb.csv", HEADER, rows[8:])  # overlapping export
    table = load_table([jan, feb])
    assert len(table.frame) == len(set(map(tuple, rows)))
    overlap = table.rejects[table.rejects["source"] == str(feb)]
    assert overlap["row"].tolist() == [1, 2, 3, 4]
    assert overlap["reason"].tolist() == [
        f"exact duplicate of row {i} of {jan}" for i in (9, 10, 11, 12)
    ]
    assert table.frame["source"].tolist() == [str(jan)] * 12 + [str(feb)] * 8


def test_source_column_name_is_free(tmp_path):
    a = _write(tmp_path / "a.csv", ["source", "amount"], [["web", "1"]])
    b = _write(tmp_path / "b.csv", ["source", "amount"], [["shop", "2"]])
    table = load_table([a, b])
    assert table.frame["source"].tolist() == ["web", "shop"]
    assert table.frame["source_"].tolist() == [str(a), str(b)]


def test_day_first_decided_in_a_later_batch(tmp_path, small_blocks):
    rows = [[f"o{i}", f"0{i % 9 + 1}/0{i % 9 + 1}/2024", "1"] for i in range(400)]
    rows.append(["late", "25/03/2024", "1"])
    table = load_table(_write(tmp_path / "d.csv", ["order_id", "date", "amount"], rows))
    info = table.report["columns"]["date"]["date_format"]
    assert info["day_first"] is True
    assert info["decided_at_row"] > 1  # not in the first batch: the report says where
    assert table.frame["date"].iloc[-1].month == 3 and table.frame["date"].iloc[-1].day == 25


def test_european_numbers(tmp_path):
    rows = [["a", "1.234,50"], ["b", "12,5"], ["c", "1.234"], ["d", "-3,25"]]
    table = load_table(_write(tmp_path / "e.csv", ["id", "price"], rows, delimiter=";"))
    assert table.frame["price"].tolist() == [1234.5, 12.5, 1234.0, -3.25]


def test_id_columns_keep_text(tmp_path):
    rows = [["1", "007", "3.5", "+86 138 0013 8000"], ["2", "010", "4", "13800138001"]]
    table = load_table(_write(tmp_path / "i.csv", ["id", "agent", "score", "手机"], rows))
    assert table.report["columns"]["id"]["type"] == "id"
    assert table.frame["id"].tolist() == ["1", "2"]
    assert table.frame["手机"].tolist() == ["+86 138 0013 8000", "13800138001"]
    assert table.frame["agent"].tolist() == ["007", "010"]
    assert table.frame["score"].tolist() == [3.5, 4.0]


def test_booleans_and_labels(tmp_path):
    rows = [["是", "pos", "yes"], ["否", "neg", "no"], ["是", "pos", "no"]]
    table = load_table(
        _write(tmp_path / "b.csv", ["会员", "label", "subscribed"], rows), mapping={}
    )
    assert table.frame["会员"].tolist() == [1, 0, 1]
    assert table.frame["label"].tolist() == [1, 0, 1]
    assert table.frame["subscribed"].tolist() == [1, 0, 0]


def test_required_role_missing_is_a_clear_error(tmp_path):
    from mktai.errors import InputError

    src = _write(tmp_path / "x.csv", ["a", "b"], [["1", "2"]])
    with pytest.raises(InputError, match="--map target="):
        load_table(src, required=("target",))
    with pytest.raises(InputError, match="no column"):
        load_table(src, kind="transactions")


def test_ingest_library_function(tmp_path):
    import pandas as pd

    src = _write(tmp_path / "o.csv", HEADER, _orders(50) + [_orders(50)[0]])
    result = ingest([src], tmp_path / "clean.parquet", report=tmp_path / "r.json")
    assert result.rejects_path == tmp_path / "clean.rejects.csv"
    assert len(pd.read_parquet(result.output)) == result.report["rows_out"] == 50
    assert default_rejects_path(Path("x/out.csv.gz"), "in.csv") == Path("x/out.rejects.csv")
    assert default_rejects_path(None, "-") == Path("stdin.rejects.csv")


@pytest.mark.parametrize("encoding", ["gb18030", "utf-16", "cp1252"])
def test_transcoded_files_stream_in_many_batches(tmp_path, small_blocks, encoding):
    rows = [[f"客户{i}" if encoding != "cp1252" else f"café{i}", f"{i}.5"] for i in range(2000)]
    text = "name,amount\n" + "".join(f"{a},{b}\n" for a, b in rows)
    src = tmp_path / "t.csv"
    src.write_bytes(text.encode(encoding))
    table = load_table(src)
    assert table.report["sources"][0]["encoding"].startswith(encoding.split("-")[0].lower()[:3])
    assert table.frame["name"].tolist() == [a for a, _ in rows]
    assert table.frame["amount"].sum() == pytest.approx(sum(i + 0.5 for i in range(2000)))


@pytest.mark.parametrize(
    ("text", "encoding"),
    [
        ("name,city\nMüller,Köln\nJosé,São Paulo\n", "cp1252"),
        ("name\nRenée\nFrançois\n", "cp1252"),  # reads as GBK mojibake (Ren閑) if misjudged
        ("x\nstraße\n", "cp1252"),  # 0xDF starts a UTF-8 sequence: not UTF-8 cut short
        ("price\n£5\n€6\n", "cp1252"),
        ("客户ID,金额\nC1,¥88\n", "gb18030"),
        ("id,备注\n1,张喆\n", "gb18030"),  # 喆 is outside GB2312
        ("id,备注\n1,张三\n", "utf-8"),
    ],
)
def test_detect_encoding(text, encoding):
    assert read.detect_encoding(text.encode(encoding)) == encoding


def test_detect_encoding_ignores_a_character_cut_by_the_sample():
    body = ("客户,金额\n" + "张三,¥1\n" * 60_000).encode("gb18030")
    for cut in range(4):  # wherever the 256 KB sample ends, even inside a character
        assert read.detect_encoding(body[: read.SNIFF_BYTES - cut], truncated=True) == "gb18030"
    utf8 = ("客户,金额\n" + "张三,¥1\n" * 60_000).encode("utf-8")
    for cut in range(3):
        assert read.detect_encoding(utf8[: read.SNIFF_BYTES - cut], truncated=True) == "utf-8"


def test_dotted_dates_are_day_first_and_offsets_become_utc(tmp_path):
    import pandas as pd

    rows = [["a", "05.01.2024", "2024-01-05T08:26:00+08:00"], ["b", "06.02.2024", ""]]
    table = load_table(_write(tmp_path / "d.csv", ["id", "date", "created_at"], rows))
    assert table.frame["date"].tolist() == [pd.Timestamp(2024, 1, 5), pd.Timestamp(2024, 2, 6)]
    assert table.report["columns"]["date"]["date_format"]["day_first"] is True
    assert table.frame["created_at"].iloc[0] == pd.Timestamp("2024-01-05 00:26")


def test_type_inference_ignores_missing_words_and_dates_are_not_codes(tmp_path):
    rows = [
        ["05.01.2024", "1.5", "001"],
        ["06.02.2024", "N/A", "002"],
        ["07.03.2024", "2", "010"],
        ["08.04.2024", "null", "011"],
    ]
    table = load_table(_write(tmp_path / "t.csv", ["signup", "spend", "branch"], rows))
    types = {c: v["type"] for c, v in table.report["columns"].items()}
    assert types == {"signup": "date", "spend": "number", "branch": "id"}
    assert table.frame["spend"].isna().tolist() == [False, True, False, True]
    assert "unparseable" not in table.report["columns"]["spend"]


def test_csv_output_keeps_one_timestamp_format_across_batches(tmp_path, small_blocks):
    """A later batch whose order times are all midnight must not switch the file to bare
    dates: every row of one CSV output carries the same timestamp format."""
    import pandas as pd

    rows = _orders(400)
    for row in rows[200:]:
        row[3] = row[3].replace("10:00:00", "00:00:00")
    src = _write(tmp_path / "orders.csv", HEADER, rows)
    out = tmp_path / "clean.csv"
    ingest([src], out, report=tmp_path / "r.json")
    with out.open(encoding="utf-8", newline="") as handle:
        header, *lines = list(csv.reader(handle))
    written = [line[3] for line in lines]
    lengths = {len(value) for value in written}
    assert lengths == {len("2024-01-10 10:00:00")}, sorted(lengths)
    assert sum(value.endswith(" 00:00:00") for value in written) == 200
    back = pd.read_csv(out, parse_dates=[header[3]])
    assert back[header[3]].notna().sum() == 400
