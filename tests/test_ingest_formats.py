"""`mktai ingest` on hostile exports: encodings, delimiters, archives, stdin, several files,
--map/--strict, formula injection, malformed lines, huge fields, empty files and messy values.

Every expected value is computed from the data the test writes (not from mktai).
"""

from __future__ import annotations

import csv
import gzip
import io
import json
import zipfile
from pathlib import Path

import pytest
from typer.testing import CliRunner

from mktai.cli.app import app


def ingest(*args: str, input: bytes | None = None):
    return CliRunner().invoke(app, ["ingest", *args], input=input)


def ok(*args: str, input: bytes | None = None):
    result = ingest(*args, input=input)
    assert result.exit_code == 0, (result.output, result.exception)
    return result


def report_of(path: Path) -> dict:
    return json.loads(path.read_text(encoding="utf-8"))


def write_csv(path: Path, header, rows, *, delimiter=",", encoding="utf-8") -> Path:
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=delimiter, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    path.write_bytes(buffer.getvalue().encode(encoding))
    return path


# --- encodings ---------------------------------------------------------------------------------

CHINESE_HEADER = ["客户ID", "订单号", "日期", "金额", "数量", "备注"]
CHINESE_ROWS = [
    ["C001", "SO-1001", "2024年1月5日", "¥1,234.50", "2", "首次购买"],
    ["C002", "SO-1002", "2024年1月15日", "¥88.00", "1", "会员"],
    ["C001", "SO-1003", "2024年2月29日", "¥12,000.00", "10", "批发"],
    ["C003", "SO-1004", "2024年12月31日", "￥0.50", "1", ""],
]


def test_gb18030_chinese_headers_round_trip(tmp_path):
    import pandas as pd

    src = write_csv(tmp_path / "导出.csv", CHINESE_HEADER, CHINESE_ROWS, encoding="gb18030")
    with pytest.raises(UnicodeDecodeError):
        src.read_bytes().decode("utf-8")  # really not UTF-8
    out = tmp_path / "clean.parquet"
    result = ok(str(src), "-o", str(out), "--report", str(tmp_path / "r.json"))
    report = report_of(tmp_path / "r.json")
    assert report["sources"][0]["encoding"] == "gb18030"
    assert "gb18030" in result.stderr
    assert report["kind"] == "transactions"
    roles = report["roles"]
    assert roles["customer"] == "客户id"
    assert roles["order"] == "订单号"
    assert roles["date"] == "日期"
    assert roles["amount"] == "金额"
    assert roles["quantity"] == "数量"
    clean = pd.read_parquet(out)
    assert clean["金额"].tolist() == [1234.5, 88.0, 12000.0, 0.5]
    assert clean["数量"].tolist() == [2.0, 1.0, 10.0, 1.0]
    assert clean["日期"].tolist() == [
        pd.Timestamp(2024, 1, 5),
        pd.Timestamp(2024, 1, 15),
        pd.Timestamp(2024, 2, 29),
        pd.Timestamp(2024, 12, 31),
    ]
    assert clean["备注"].tolist()[:3] == ["首次购买", "会员", "批发"]
    assert clean["客户id"].tolist() == [r[0] for r in CHINESE_ROWS]
    # and back out as UTF-8 CSV with the Chinese text intact
    csv_out = tmp_path / "clean.csv"
    ok(str(src), "-o", str(csv_out))
    assert "首次购买" in csv_out.read_text(encoding="utf-8")


def test_utf8_bom_header_is_clean(tmp_path):
    src = tmp_path / "bom.csv"
    src.write_bytes(b"\xef\xbb\xbfCustomerID,Amount\n1,2.5\n2,3.5\n")
    ok(str(src), "-o", str(tmp_path / "o.csv"), "--report", str(tmp_path / "r.json"))
    report = report_of(tmp_path / "r.json")
    assert report["sources"][0]["encoding"] == "utf-8-sig"
    assert list(report["columns"]) == ["customer_id", "amount"]
    assert report["roles"]["customer"] == "customer_id"
    assert (tmp_path / "o.csv").read_text().splitlines()[0] == "customer_id,amount"
    # --encoding utf-8 on a file with a BOM still drops the BOM (it is not part of the header)
    semi = tmp_path / "semi.csv"
    semi.write_bytes(b'\xef\xbb\xbf"id";"n"\n1;2\n')
    ok(str(semi), "--encoding", "utf-8", "-o", str(tmp_path / "s.csv"))
    assert (tmp_path / "s.csv").read_text().splitlines() == ["id,n", "1,2.0"]


def test_cp1252_pounds_and_euros(tmp_path):
    import pandas as pd

    rows = [["Café Noël", "£1,200.00", "12/03/2024"], ["Bäckerei", "€15.50", "13/03/2024"]]
    src = write_csv(tmp_path / "w.csv", ["Shop", "Price", "Date"], rows, encoding="cp1252")
    out = tmp_path / "o.parquet"
    ok(str(src), "-o", str(out), "--report", str(tmp_path / "r.json"))
    report = report_of(tmp_path / "r.json")
    assert report["sources"][0]["encoding"] == "cp1252"
    clean = pd.read_parquet(out)
    assert clean["shop"].tolist() == ["Café Noël", "Bäckerei"]
    assert clean["price"].tolist() == [1200.0, 15.5]
    assert clean["date"].tolist() == [pd.Timestamp(2024, 3, 12), pd.Timestamp(2024, 3, 13)]


def test_encoding_override_and_wrong_encoding(tmp_path):
    import pandas as pd

    # latin-1 bytes that also decode as cp1252; the override is used as given
    src = write_csv(tmp_path / "l.csv", ["name", "n"], [["Zoë", "1"]], encoding="latin-1")
    ok(str(src), "--encoding", "latin-1", "-o", str(tmp_path / "o.parquet"))
    assert pd.read_parquet(tmp_path / "o.parquet")["name"].tolist() == ["Zoë"]

    chinese = write_csv(tmp_path / "c.csv", CHINESE_HEADER, CHINESE_ROWS, encoding="gb18030")
    wrong = ingest(str(chinese), "--encoding", "utf-8", "-o", str(tmp_path / "x.csv"))
    assert wrong.exit_code == 2
    assert wrong.stderr.startswith("error: ") and wrong.stderr.count("\n") == 1
    assert "encoding" in wrong.stderr and "Traceback" not in wrong.output
    assert not (tmp_path / "x.csv").exists()

    # undecodable bytes on a malformed line: still one clean line, nothing on stderr but it
    broken = tmp_path / "b.csv"
    broken.write_bytes(b"a,b\n1,2\n\xa5\xa5,3,4\n5,6\n")
    result = ingest(str(broken), "--encoding", "utf-8", "-o", str(tmp_path / "b.out.csv"))
    assert result.exit_code == 2 and result.stderr.count("\n") == 1
    assert "not valid utf-8" in result.stderr

    unknown = ingest(str(chinese), "--encoding", "klingon-8", "-o", str(tmp_path / "y.csv"))
    assert unknown.exit_code == 2
    assert "klingon-8" in unknown.stderr and unknown.stderr.count("\n") == 1


# --- delimiters, compression, formats, stdin, several files ------------------------------------

ROWS = [["A1", f"2024-01-0{i % 9 + 1}", f"{i}.25", "x" if i % 2 else "y"] for i in range(30)]
HEADER = ["order_id", "order_date", "amount", "note"]


@pytest.mark.parametrize(
    ("delimiter", "name"), [(",", "comma"), (";", "semicolon"), ("\t", "tab"), ("|", "pipe")]
)
def test_delimiters(tmp_path, delimiter, name):
    import pandas as pd

    rows = [[f"O{i}", *r[1:]] for i, r in enumerate(ROWS)]
    rows[3][3] = f"with{delimiter}delimiter"  # quoted field holding the delimiter
    src = write_csv(tmp_path / "d.txt", HEADER, rows, delimiter=delimiter)
    result = ok(str(src), "-o", str(tmp_path / "o.parquet"), "--report", str(tmp_path / "r.json"))
    assert report_of(tmp_path / "r.json")["sources"][0]["delimiter"] == delimiter
    assert name in result.stderr
    clean = pd.read_parquet(tmp_path / "o.parquet")
    assert clean["note"].tolist() == [r[3] for r in rows]
    assert clean["amount"].sum() == pytest.approx(sum(float(r[2]) for r in rows))


def test_gzip_and_zip(tmp_path):
    import pandas as pd

    rows = [[f"O{i}", *r[1:]] for i, r in enumerate(ROWS)]
    plain = write_csv(tmp_path / "p.csv", HEADER, rows)
    gz = tmp_path / "p.csv.gz"
    gz.write_bytes(gzip.compress(plain.read_bytes()))
    zipped = tmp_path / "p.zip"
    with zipfile.ZipFile(zipped, "w") as archive:
        archive.write(plain, "inner/export.csv")
    for src in (gz, zipped):
        out = tmp_path / f"{src.name}.parquet"
        ok(str(src), "-o", str(out))
        assert pd.read_parquet(out)["order_id"].tolist() == [r[0] for r in rows]

    two = tmp_path / "two.zip"
    with zipfile.ZipFile(two, "w") as archive:
        archive.write(plain, "a.csv")
        archive.write(plain, "b.csv")
    result = ingest(str(two), "-o", str(tmp_path / "t.csv"))
    assert result.exit_code == 2 and "2 files" in result.stderr


def test_parquet_input_keeps_types_and_is_cleaned(tmp_path):
    import pandas as pd

    frame = pd.DataFrame(
        {
            "CustomerID": ["1", "2", "2", None],
            "InvoiceDate": pd.to_datetime(["2024-01-01", "2024-01-02", "2024-01-02", None]),
            "Quantity": [1, 2, 2, 3],
            "UnitPrice": [1.5, 2.0, 2.0, 1.0],
            "InvoiceNo": ["1", "C2", "C2", "3"],
        }
    )
    src = tmp_path / "in.parquet"
    frame.to_parquet(src)
    out = tmp_path / "o.parquet"
    ok(str(src), "-o", str(out), "--report", str(tmp_path / "r.json"))
    report = report_of(tmp_path / "r.json")
    assert report["sources"][0]["format"] == "parquet"
    assert report["duplicates_removed"] == 1
    assert report["rejected_by_reason"]["missing date (column invoice_date)"] == 1
    clean = pd.read_parquet(out)
    assert clean["amount"].tolist() == [1.5, 4.0]
    assert clean["is_return"].tolist() == [False, True]


def test_parquet_with_nested_and_categorical_columns(tmp_path):
    import pandas as pd

    frame = pd.DataFrame(
        {
            "segment": pd.Categorical(["a", "b", "a"]),
            "tags": [[1, 2], [], None],
            "spend": pd.array([1, None, 3], dtype="Int64"),
        }
    )
    frame.to_parquet(tmp_path / "n.parquet")
    ok(str(tmp_path / "n.parquet"), "-o", str(tmp_path / "o.parquet"))
    clean = pd.read_parquet(tmp_path / "o.parquet")
    assert clean["tags"].tolist()[:2] == ["[1, 2]", "[]"] and pd.isna(clean["tags"].iloc[2])
    assert clean["segment"].tolist() == ["a", "b", "a"]


def test_parquet_and_csv_stacked(tmp_path):
    import pandas as pd

    pd.DataFrame(
        {
            "order_id": ["A1", "A2"],
            "order_date": pd.to_datetime(["2024-01-01", "2024-01-02"]).tz_localize("UTC"),
            "amount": [1, 2],  # int64 in parquet, decimals in the CSV
        }
    ).to_parquet(tmp_path / "a.parquet")
    (tmp_path / "b.csv").write_text("order_id,order_date,amount\nB1,2024-01-03,3.5\n")
    out = tmp_path / "o.parquet"
    ok(str(tmp_path / "a.parquet"), str(tmp_path / "b.csv"), "-o", str(out))
    clean = pd.read_parquet(out)
    assert clean["amount"].tolist() == [1.0, 2.0, 3.5]
    assert clean["order_date"].tolist() == [pd.Timestamp(2024, 1, d) for d in (1, 2, 3)]


def test_stdin(tmp_path):
    import pandas as pd

    data = b"order_id;amount;order_date\nA;1,5;01.02.2024\nB;2,25;03.02.2024\n"
    out = tmp_path / "o.parquet"
    ok("-", "-o", str(out), "--report", str(tmp_path / "r.json"), input=data)
    report = report_of(tmp_path / "r.json")
    assert report["sources"][0]["name"] == "<stdin>"
    clean = pd.read_parquet(out)
    assert clean["amount"].tolist() == [1.5, 2.25]  # European decimal commas
    # stdout output when no -o is given
    result = ok("-", input=data)
    assert result.stdout.splitlines()[0] == "order_id,amount,order_date,is_return"
    assert len(result.stdout.splitlines()) == 3


def test_several_files_are_stacked_with_a_source_column(tmp_path):
    import pandas as pd

    a = write_csv(tmp_path / "jan.csv", HEADER, ROWS[:10])
    b = write_csv(tmp_path / "feb.csv", HEADER, ROWS[10:25], delimiter=";")
    out = tmp_path / "o.parquet"
    ok(str(a), str(b), "-o", str(out), "--report", str(tmp_path / "r.json"))
    clean = pd.read_parquet(out)
    assert clean["source"].tolist() == [str(a)] * 10 + [str(b)] * 15
    assert report_of(tmp_path / "r.json")["rows_in"] == 25

    c = write_csv(tmp_path / "other.csv", ["x", "y"], [["1", "2"]])
    result = ingest(str(a), str(c), "-o", str(tmp_path / "bad.csv"))
    assert result.exit_code == 2 and "header" in result.stderr


def test_map_with_original_or_normalised_names(tmp_path):
    src = write_csv(
        tmp_path / "m.csv",
        ["Kunde Nr", "Beleg", "Datum", "Umsatz"],
        [["k1", "b1", "2024-01-02", "10"], ["k2", "b2", "2024-01-03", "20"]],
    )
    for names in (
        ["customer=Kunde Nr", "order=Beleg", "date=Datum", "amount=Umsatz"],
        ["customer=kunde_nr", "order=beleg", "date=datum", "amount=umsatz"],
    ):
        args = [a for n in names for a in ("--map", n)]
        ok(str(src), *args, "-o", str(tmp_path / "o.csv"), "--report", str(tmp_path / "r.json"))
        report = report_of(tmp_path / "r.json")
        assert report["kind"] == "transactions"
        assert report["roles"]["customer"] == "kunde_nr"
        assert report["roles"]["amount"] == "umsatz"
    result = ingest(str(src), "--map", "amount=Nope", "-o", str(tmp_path / "o.csv"))
    assert result.exit_code == 2 and "Nope" in result.stderr
    result = ingest(str(src), "--map", "amount", "-o", str(tmp_path / "o.csv"))
    assert result.exit_code == 2


def test_strict_and_exit_codes(tmp_path):
    import pandas as pd

    src = write_csv(tmp_path / "s.csv", HEADER, [*ROWS[:5], ROWS[0]])
    out = tmp_path / "o.csv"
    result = ingest(str(src), "--strict", "-o", str(out), "--report", str(tmp_path / "r.json"))
    assert result.exit_code == 2
    assert "1 rows rejected" in result.stderr and "--strict" in result.stderr
    assert not out.exists()  # a strict failure does not publish the clean file ...
    assert len(pd.read_csv(tmp_path / "o.rejects.csv")) == 1  # ... but explains itself
    assert report_of(tmp_path / "r.json")["output"] is None
    clean = ok(str(src), "-o", str(out))
    assert "1 rejected" in clean.stderr and len(pd.read_csv(out)) == 5

    fixed = write_csv(tmp_path / "s.csv", HEADER, ROWS[:5])
    ok(str(fixed), "--strict", "-o", str(out))
    # the rejects file of the earlier run is emptied, not left behind to mislead
    assert len(pd.read_csv(tmp_path / "o.rejects.csv")) == 0


def test_keep_duplicates(tmp_path):
    import pandas as pd

    src = write_csv(tmp_path / "s.csv", HEADER, [*ROWS[:5], ROWS[0], ROWS[0]])
    out = tmp_path / "o.csv"
    ok(str(src), "--keep-duplicates", "-o", str(out), "--report", str(tmp_path / "r.json"))
    assert len(pd.read_csv(out)) == 7
    report = report_of(tmp_path / "r.json")
    assert report["duplicates_removed"] == 0 and report["deduplicated"] is False


def test_json_summary_on_stdout(tmp_path):
    src = write_csv(tmp_path / "s.csv", HEADER, ROWS[:5])
    result = ok(str(src), "-o", str(tmp_path / "o.parquet"), "--json")
    summary = json.loads(result.stdout)
    assert summary["rows_out"] == 5 and summary["output"] == str(tmp_path / "o.parquet")


# --- output safety -------------------------------------------------------------------------------


def test_formula_injection_neutralised_in_csv_not_parquet(tmp_path):
    import pandas as pd

    evil = ["=cmd|' /C calc'!A0", "+1+1", "-2+3", "@SUM(A1)", "safe"]
    rows = [[f"c{i}", text, "5"] for i, text in enumerate(evil)]
    src = write_csv(tmp_path / "e.csv", ["customer_id", "comment", "qty"], rows)
    ok(str(src), "-o", str(tmp_path / "o.csv"))
    with open(tmp_path / "o.csv", newline="", encoding="utf-8") as handle:
        written = [r["comment"] for r in csv.DictReader(handle)]
    assert written == ["'" + t for t in evil[:4]] + ["safe"]
    ok(str(src), "-o", str(tmp_path / "o.parquet"))
    assert pd.read_parquet(tmp_path / "o.parquet")["comment"].tolist() == evil


# --- malformed input ------------------------------------------------------------------------------


def test_malformed_lines_go_to_rejects_with_line_numbers(tmp_path):
    import pandas as pd

    lines = [
        "id,order_date,amount",
        "a,2024-01-01,1",
        "b,2024-01-02",  # line 3: too few fields
        'c,"2024-01-03",3',
        "d,2024-01-04,4,extra",  # line 5: too many
        "a,2024-01-01,1",  # line 6: duplicate of row 1 (after the malformed lines)
        "e,,5",  # line 7: missing date
    ]
    src = tmp_path / "bad.csv"
    src.write_text("\n".join(lines) + "\n")
    out = tmp_path / "o.csv"
    ok(str(src), "-o", str(out), "--kind", "sales", "--report", str(tmp_path / "r.json"))
    report = report_of(tmp_path / "r.json")
    assert report["rows_in"] == 6
    assert report["rows_out"] == 2
    assert report["rows_in"] == report["rows_out"] + report["rows_rejected"]
    assert report["rejected_by_reason"]["malformed line"] == 2
    rejects = pd.read_csv(tmp_path / "o.rejects.csv").sort_values("row")
    assert rejects["row"].tolist() == [2, 4, 5, 6]  # data rows = file line - 1
    reasons = rejects["reason"].tolist()
    assert reasons[0] == "malformed line 3: expected 3 fields, found 2"
    assert reasons[1] == "malformed line 5: expected 3 fields, found 4"
    assert reasons[2] == "exact duplicate of row 1"
    assert reasons[3].startswith("missing date")
    assert rejects["raw"].tolist() == [lines[2], lines[4], lines[5], lines[6]]


def test_huge_field_is_a_clear_error(tmp_path):
    src = tmp_path / "huge.csv"
    with open(src, "w") as handle:
        handle.write('id,text\n1,"')
        handle.write("x" * (20 * 1024 * 1024))
        handle.write('"\n2,short\n')
    result = ingest(str(src), "-o", str(tmp_path / "o.csv"))
    assert result.exit_code == 2
    assert result.stderr.startswith("error: ") and "MB" in result.stderr
    assert "Traceback" not in result.output
    assert not (tmp_path / "o.csv").exists()


def test_empty_and_header_only_files(tmp_path):
    import pandas as pd

    empty = tmp_path / "empty.csv"
    empty.write_bytes(b"")
    result = ingest(str(empty), "-o", str(tmp_path / "o.csv"))
    assert result.exit_code == 2 and "empty" in result.stderr

    header_only = tmp_path / "h.csv"
    header_only.write_text("Customer ID,Amount\n")
    ok(str(header_only), "-o", str(tmp_path / "h.parquet"), "--report", str(tmp_path / "r.json"))
    assert report_of(tmp_path / "r.json")["rows_in"] == 0
    frame = pd.read_parquet(tmp_path / "h.parquet")
    assert list(frame.columns) == ["customer_id", "amount"] and len(frame) == 0

    missing = ingest(str(tmp_path / "nope.csv"))
    assert missing.exit_code == 2 and "not found" in missing.stderr

    binary = tmp_path / "b.csv"
    binary.write_bytes(bytes(range(256)) * 10)
    assert ingest(str(binary), "-o", str(tmp_path / "b.out.csv")).exit_code == 2


# --- messy values ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("dates", "day_first"),
    [
        (["03/04/2024", "25/04/2024", "01/05/2024"], True),
        (["03/04/2024", "04/25/2024", "05/01/2024"], False),
    ],
)
def test_day_first_or_month_first_decided_from_data(tmp_path, dates, day_first):
    import pandas as pd

    src = write_csv(
        tmp_path / "d.csv",
        ["order_id", "date", "amount"],
        [[f"o{i}", d, "1"] for i, d in enumerate(dates)],
    )
    out = tmp_path / "o.parquet"
    result = ok(str(src), "-o", str(out), "--report", str(tmp_path / "r.json"))
    info = report_of(tmp_path / "r.json")["columns"]["date"]["date_format"]
    assert info["day_first"] is day_first
    assert ("day first" if day_first else "month first") in result.stderr
    expected = [
        pd.Timestamp(int(d[6:]), int(d[3:5]), int(d[:2]))
        if day_first
        else pd.Timestamp(int(d[6:]), int(d[:2]), int(d[3:5]))
        for d in dates
    ]
    assert pd.read_parquet(out)["date"].tolist() == expected


def test_ambiguous_day_order_is_stated(tmp_path):
    import pandas as pd

    rows = [["o1", "03/04/2024", "1"], ["o2", "05/06/2024", "1"]]
    src = write_csv(tmp_path / "a.csv", ["order_id", "date", "amount"], rows)
    out = tmp_path / "o.parquet"
    result = ok(str(src), "-o", str(out), "--report", str(tmp_path / "r.json"))
    assert report_of(tmp_path / "r.json")["columns"]["date"]["date_format"]["day_first"] is None
    assert "ambiguous, read month first" in result.stderr
    assert pd.read_parquet(out)["date"].tolist() == [
        pd.Timestamp(2024, 3, 4),
        pd.Timestamp(2024, 5, 6),
    ]


def test_excel_serial_dates(tmp_path):
    import pandas as pd

    serials = [45296, 45297.5, 45658]
    src = write_csv(
        tmp_path / "x.csv",
        ["order_id", "order_date", "amount"],
        [[f"o{i}", str(s), "1"] for i, s in enumerate(serials)],
    )
    out = tmp_path / "o.parquet"
    ok(str(src), "-o", str(out), "--report", str(tmp_path / "r.json"))
    dates = pd.read_parquet(out)["order_date"].tolist()
    epoch = pd.Timestamp("1899-12-30")
    assert dates == [epoch + pd.Timedelta(days=s) for s in serials]
    assert dates[0] == pd.Timestamp(2024, 1, 5)  # Excel shows 45296 as 05/01/2024
    info = report_of(tmp_path / "r.json")["columns"]["order_date"]["date_format"]
    assert info["format"] == "excel-serial"


def test_messy_numbers(tmp_path):
    import pandas as pd

    values = {
        "(1,234.50)": -1234.5,
        "15%": 0.15,
        "１２３": 123.0,
        "$ 1,000": 1000.0,
        "€2.5": 2.5,
        "-7": -7.0,
        "1e3": 1000.0,
        "": None,
        "N/A": None,
    }
    src = write_csv(
        tmp_path / "n.csv", ["id", "price"], [[f"i{i}", text] for i, text in enumerate(values)]
    )
    out = tmp_path / "o.parquet"
    ok(str(src), "-o", str(out), "--report", str(tmp_path / "r.json"))
    got = pd.read_parquet(out)["price"].tolist()
    for (text, want), value in zip(values.items(), got, strict=True):
        if want is None:
            assert pd.isna(value), text
        else:
            assert value == pytest.approx(want), text
    assert report_of(tmp_path / "r.json")["columns"]["price"]["type"] == "number"


def test_leading_zero_codes_stay_text(tmp_path):
    import pandas as pd

    src = write_csv(tmp_path / "z.csv", ["postcode", "amount"], [["01234", "1"], ["99999", "2"]])
    ok(str(src), "-o", str(tmp_path / "o.parquet"))
    assert pd.read_parquet(tmp_path / "o.parquet")["postcode"].tolist() == ["01234", "99999"]


def test_default_rejects_path_keeps_dotted_names(tmp_path):
    src = write_csv(tmp_path / "s.csv", HEADER, [*ROWS[:3], ROWS[0]])
    out = tmp_path / "sales.2024.clean.csv"
    result = ok(str(src), "-o", str(out))
    assert (tmp_path / "sales.2024.clean.rejects.csv").exists(), result.stderr


def test_json_and_jsonl_outputs(tmp_path):
    src = write_csv(tmp_path / "j.csv", HEADER, ROWS[:3])
    ok(str(src), "-o", str(tmp_path / "o.json"))
    records = json.loads((tmp_path / "o.json").read_text())
    assert [r["order_id"] for r in records] == [r[0] for r in ROWS[:3]]
    assert records[0]["amount"] == float(ROWS[0][2])
    ok(str(src), "-o", str(tmp_path / "o.jsonl"))
    lines = (tmp_path / "o.jsonl").read_text().splitlines()
    assert [json.loads(line)["note"] for line in lines] == [r[3] for r in ROWS[:3]]
    bad = ingest(str(src), "-o", str(tmp_path / "o.xlsx"))
    assert bad.exit_code == 2 and ".xlsx" in bad.stderr


def test_rejects_never_overwrite_inputs_or_output(tmp_path):
    src = write_csv(tmp_path / "data.rejects.csv", HEADER, ROWS[:3])
    before = src.read_bytes()
    result = ingest(str(src), "-o", str(tmp_path / "data.csv"))  # default rejects = the input
    assert result.exit_code == 2 and "--rejects" in result.stderr
    assert src.read_bytes() == before
    out = tmp_path / "o.csv"
    result = ingest(str(src), "-o", str(out), "--rejects", str(out))
    assert result.exit_code == 2 and not out.exists()


def test_unwritable_outputs_are_one_line_errors(tmp_path):
    src = write_csv(tmp_path / "s.csv", HEADER, ROWS[:3])
    blocker = tmp_path / "file"
    blocker.write_text("x")
    for args in (
        ["-o", str(blocker / "out.csv")],
        ["-o", str(tmp_path / "o.csv"), "--report", str(blocker / "r.json")],
        ["-o", str(tmp_path / "o.csv"), "--rejects", str(blocker / "r.csv")],
        ["-o", str(tmp_path)],
    ):
        result = ingest(str(src), *args)
        assert result.exit_code == 2, args
        assert result.stderr.startswith("error: ") and result.stderr.count("\n") == 1
    assert not (tmp_path / "o.csv").exists()
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".tmp")]
