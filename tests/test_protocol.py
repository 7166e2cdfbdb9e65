"""LineReader and clean_text: framing, decoding and sanitising lines."""

import pytest

from chatkit.protocol import LineReader, LineTooLong, clean_text, encode_line

KOREAN = "안녕하세요, 채팅방에 오신 것을 환영합니다"


def feed_in_pieces(data, cut_points):
    reader = LineReader()
    lines = []
    for start, end in zip([0, *cut_points], [*cut_points, len(data)]):
        lines += reader.feed(data[start:end])
    return lines, reader


def test_two_lines_in_one_chunk():
    assert LineReader().feed(b"hello\nworld\n") == ["hello", "world"]


def test_one_line_in_two_chunks():
    reader = LineReader()
    assert reader.feed(b"hel") == []
    assert reader.feed(b"lo\n") == ["hello"]


@pytest.mark.parametrize("cut", range(1, len(KOREAN.encode())))
def test_korean_cut_at_every_byte(cut):
    lines, _ = feed_in_pieces(encode_line(KOREAN), [cut])
    assert lines == [KOREAN]


def test_korean_line_of_2100_bytes_in_1024_byte_pieces():
    line = "가" * 700
    data = encode_line(line)
    assert len(data) == 2101
    lines, _ = feed_in_pieces(data, [1024, 2048])
    assert lines == [line]


def test_crlf_is_accepted():
    assert LineReader().feed(b"hi\r\n") == ["hi"]


def test_invalid_utf8_is_replaced_not_fatal():
    assert LineReader().feed(b"\xff\xfeok\n") == ["\ufffd\ufffdok"]


def test_line_without_newline_is_cut_off():
    reader = LineReader(max_chars=10)
    reader.feed(b"0123456789")
    with pytest.raises(LineTooLong):
        reader.feed(b"x")


def test_long_line_inside_one_chunk_is_cut_off():
    with pytest.raises(LineTooLong):
        LineReader(max_chars=10).feed(b"x" * 11 + b"\n")


@pytest.mark.parametrize("dirty, clean", [
    ("\x1b[31mred\x1b[0m", "red"),
    ("\x1b]0;pwned\x07title", "title"),
    ("bell\x07 and null\x00", "bell and null"),
    ("tab\there", "tab here"),
    ("reset\x1bc", "reset"),
    ("\u202eevil", "evil"),
    ("안녕 😀", "안녕 😀"),
])
def test_clean_text(dirty, clean):
    assert clean_text(dirty) == clean
