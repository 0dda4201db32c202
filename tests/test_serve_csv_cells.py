"""A small plain CSV body is split into its cells without the CSV reader (serve's quick path);
the split must be exactly what the reader gives, or not be made at all.

bodies.plain_csv_cells splits on line ends and commas only when nothing in the body could make
the reader see it otherwise (quotes, other candidate delimiters, lone CRs, a byte-order mark,
empty or ragged lines, bytes that are not UTF-8). Property: for any body it accepts, the header
and rows equal those mktai's CSV reader (sniffing included) reads from the same bytes.
"""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from mktai.data.read import InMemory, _read_header, iter_batches, open_source
from mktai.serve.bodies import plain_csv_cells


def read_back(body: bytes) -> tuple[str, list[str], list[list[str]]]:
    """(delimiter, header, rows) as the cleaning layer's reader sees the body."""
    source = open_source(InMemory(body, "body"))
    bad: list = []
    try:
        rows = [
            list(row)
            for batch in iter_batches(source, bad)
            for row in zip(*(column.to_pylist() for column in batch.columns), strict=True)
        ]
        header = _read_header(source)  # the names the stream and the plan see
    finally:
        source.cleanup()
    assert not bad
    return source.delimiter, header, rows


# mostly characters a split handles, sometimes one that it must refuse
CELL = st.text(alphabet=st.sampled_from(list("ab1 .-é=+@\x1f") * 4 + list(',;"\t|\r\n\ufeff')),
               max_size=6)  # fmt: skip


@st.composite
def bodies(draw) -> bytes:
    width = draw(st.integers(1, 4))
    lines = draw(st.lists(st.lists(CELL, min_size=width, max_size=width), min_size=1, max_size=5))
    if draw(st.booleans()):  # now and then a ragged line
        lines.append(draw(st.lists(CELL, max_size=5)))
    end = draw(st.sampled_from(["\n", "\r\n"]))
    text = end.join(",".join(cells) for cells in lines) + draw(st.sampled_from(["", end]))
    return text.encode("utf-8")


@given(bodies())
def test_a_split_body_reads_as_the_reader_reads_it(body: bytes) -> None:
    cells = plain_csv_cells(body)
    if cells is None:
        return
    delimiter, header, rows = read_back(body)
    assert delimiter == ","
    assert (header, rows) == cells


def test_plain_bodies_are_split_and_others_are_not() -> None:
    plain = b"age,job,balance\n41,admin.,1200\n 35 ,blue-collar,-3\n"
    assert plain_csv_cells(plain) == (
        ["age", "job", "balance"],
        [["41", "admin.", "1200"], [" 35 ", "blue-collar", "-3"]],
    )
    assert read_back(plain)[1:] == plain_csv_cells(plain)
    crlf = plain.replace(b"\n", b"\r\n")
    assert plain_csv_cells(crlf) == plain_csv_cells(plain) == read_back(crlf)[1:]
    for other in (
        b'age,job\n41,"admin, retired"\n',  # a quoted comma
        b"age;job\n41;admin.\n",  # another delimiter
        b"age,job\n41,admin.\n\n35,services\n",  # an empty line
        b"age,job\n41\n",  # a ragged row
        b"age,job\r41,admin.\r",  # CR line ends
        "\ufeffage,job\n41,x\n".encode(),  # a byte-order mark
        b"age,job\n41,\xff\n",  # not UTF-8
        b"age\n41\n",  # one column: the sniffer's choice
        b"age,job\n",  # no rows
        b"age, \n41,x\n",  # a blank name (the reader names it column_2)
    ):
        assert plain_csv_cells(other) is None, other
