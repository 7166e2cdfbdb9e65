"""Properties of line framing and decoding, for any bytes cut at any points (hypothesis).

TCP may cut a stream anywhere: between lines, inside a line, inside a
3-byte Korean character. Whatever the cuts, the lines must come out the
same as if everything had arrived in one piece. More examples:

    CHATKIT_PROPERTY_EXAMPLES=2000 .venv/bin/python -m pytest tests/test_properties.py
"""

import os
import socket
import unicodedata

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from chatkit.protocol import (CLOSED_MID_LINE, CUT_MARK, ClientLineReader, LineReader, LineTooLong, clean_text,
                              display_text, encode_line, nickname_problem)

EXAMPLES = int(os.environ.get("CHATKIT_PROPERTY_EXAMPLES", "200"))
LIVE_EXAMPLES = max(10, EXAMPLES // 10)  # each one is a round trip through a real server
# What must never reach a terminal or a widget: C0 and C1 controls (ESC, BEL, CR...), DEL, the bidi
# embeddings, overrides, isolates and marks, and what shows nothing (zero-width space, word joiner,
# BOM, soft hyphen, Hangul fillers, line and paragraph separators, tags).
CONTROL = set(map(chr, [*range(0x20), *range(0x7F, 0xA0), *range(0x202A, 0x202F), *range(0x2066, 0x206A),
                        0x200E, 0x200F, 0x061C, 0x200B, 0x2060, 0xFEFF, 0x00AD, 0x3164, 0x115F, 0x1160, 0xFFA0,
                        0x2028, 0x2029, *range(0xE0000, 0xE0080)]))
TEXT = st.text(st.characters(blacklist_categories=["Cs"], blacklist_characters="\n"), max_size=60)
KOREAN_AND_MORE = st.text(st.sampled_from("가한글 abc\r\t\x1b[31m😀é\x00"), max_size=60)

def relayed(message):
    """What the server makes of a line before relaying it ("" if it relays nothing)."""
    return clean_text(message.removesuffix("\r")).strip()


MESSAGE = st.one_of(TEXT, KOREAN_AND_MORE).filter(lambda m: not relayed(m).startswith("/"))  # no commands
examples = settings(max_examples=EXAMPLES, deadline=None)


def cut(data, points):
    """`data` cut at `points` (any integers; taken modulo the length)."""
    points = sorted({point % (len(data) + 1) for point in points})
    return [data[start:end] for start, end in zip([0, *points], [*points, len(data)])]


def feed(chunks, max_chars=1 << 20):
    """Lines from feeding `chunks` one by one, and what is left pending; or LineTooLong."""
    reader = LineReader(max_chars=max_chars)
    lines = []
    try:
        for chunk in chunks:
            lines += reader.feed(chunk)
    except LineTooLong:
        return LineTooLong
    return lines, reader.pending


@examples
@given(st.lists(st.one_of(TEXT, KOREAN_AND_MORE), max_size=8), st.lists(st.integers(0, 10_000), max_size=12))
def test_lines_come_out_whole_however_the_bytes_are_cut(lines, points):
    data = b"".join(encode_line(line) for line in lines)
    assert feed(cut(data, points)) == ([line.removesuffix("\r") for line in lines], "")


@examples
@given(st.binary(max_size=300), st.lists(st.integers(0, 10_000), max_size=12))
def test_any_bytes_decode_the_same_in_pieces_as_in_one_go(data, points):
    *whole, rest = data.decode("utf-8", errors="replace").split("\n")
    lines, pending = feed(cut(data, points))
    assert lines == [line.removesuffix("\r") for line in whole]
    # The reader may still be waiting for the rest of a character at the very end:
    assert rest.startswith(pending) and set(rest[len(pending):]) <= {"\ufffd"}, (pending, rest)


@examples
@given(st.binary(max_size=300), st.lists(st.integers(0, 10_000), max_size=12), st.integers(1, 40))
def test_a_line_too_long_is_refused_however_it_is_cut(data, points, max_chars):
    assert (feed([data], max_chars) is LineTooLong) == (feed(cut(data, points), max_chars) is LineTooLong)


@pytest.mark.parametrize("clean", [clean_text, display_text])  # what servers relay, what clients show
@examples
@given(text=st.text(max_size=200))
def test_cleaned_text_has_no_control_or_invisible_character_and_is_stable(clean, text):
    cleaned = clean(text)
    assert not CONTROL & set(cleaned), repr(cleaned)
    assert clean(cleaned) == cleaned


ORDINARY = st.characters(whitelist_categories=["L", "M", "N", "P", "S", "Zs"], blacklist_characters=CONTROL)


@examples
@given(st.text(ORDINARY, max_size=100))
def test_clean_text_keeps_ordinary_text_as_it_is(text):
    assert clean_text(text) == text


HANGUL = st.characters(min_codepoint=0xAC00, max_codepoint=0xD7A3)  # every modern syllable
JAMO = st.characters(min_codepoint=0x3131, max_codepoint=0x318E).filter(lambda c: c != "\u3164")  # ㅋㅋ ㅠㅠ


@examples
@given(st.text(st.one_of(HANGUL, JAMO, st.sampled_from(" .,!?~^"), ORDINARY), max_size=80))
def test_korean_is_never_damaged_and_shows_composed(text):
    assert clean_text(text) == text
    assert display_text(text) == unicodedata.normalize("NFC", text)
    assert display_text(unicodedata.normalize("NFD", text)) == unicodedata.normalize("NFC", text)


CLIENT_MAX = 30


@examples
@given(st.binary(max_size=400), st.lists(st.integers(0, 10_000), max_size=12))
def test_a_client_reader_never_refuses_and_is_the_same_however_the_bytes_are_cut(data, points):
    def read(chunks):
        reader = ClientLineReader(max_chars=CLIENT_MAX)
        lines = [line for chunk in chunks for line in reader.feed(chunk)]
        assert len(reader.pending) <= CLIENT_MAX, "memory stays bounded"
        return lines + reader.close()

    lines = read(cut(data, points))
    assert lines == read([data])
    for line in lines:
        text = line.removesuffix(CUT_MARK).removesuffix(CLOSED_MID_LINE)
        assert len(text) <= CLIENT_MAX and "\n" not in text


@examples
@given(st.lists(st.one_of(TEXT, KOREAN_AND_MORE), max_size=8), st.lists(st.integers(0, 10_000), max_size=12))
def test_a_client_reader_reads_short_lines_as_the_servers_reader_does(lines, points):
    data = b"".join(encode_line(line) for line in lines)
    reader = ClientLineReader(max_chars=1 << 20)
    assert [line for chunk in cut(data, points) for line in reader.feed(chunk)] == feed([data])[0]


NICKNAME = st.text(st.one_of(HANGUL, st.characters(whitelist_categories=["L", "N"])), min_size=1, max_size=10)


@examples
@given(NICKNAME, NICKNAME)
def test_a_nickname_taken_is_taken_in_any_unicode_form_and_case(nick, other):
    assume(nickname_problem(nick, {}) is None)
    for spelling in (unicodedata.normalize("NFD", nick), unicodedata.normalize("NFKD", nick), nick.upper()):
        if spelling != nick and nickname_problem(spelling, {}) is None:
            assert nickname_problem(spelling, {nick: None}) is not None, spelling
    if nickname_problem(other, {nick: None}) is None:  # then the other way round too
        assert nickname_problem(nick, {other: None}) is None


@examples
@given(st.text(HANGUL, min_size=1, max_size=20))
def test_every_hangul_nickname_is_welcome(nick):
    assert nickname_problem(nick, {"bob": None, "alice": None}) is None


@pytest.mark.parametrize("how", [pytest.param({}, id="reference"), pytest.param({"stage": 6}, id="event-loop")])
def test_a_live_server_relays_lines_whole_however_the_sender_cuts_them(live, join, how):
    server = live(**how)
    bob = join(server, "bob")
    alice = join(server, "alice")
    alice.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)  # each piece in its own segment
    bob.expect("alice joined")
    rounds = iter(range(1 << 30))

    @settings(max_examples=LIVE_EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(st.lists(MESSAGE, min_size=1, max_size=5), st.lists(st.integers(0, 10_000)))
    def relay(messages, points):
        end = f"end of round {next(rounds)}"
        start = len(bob.lines())
        for piece in cut(b"".join(encode_line(m) for m in messages), points):
            alice.send_bytes(piece)
        alice.say(end)
        bob.expect(f"alice: {end}")
        said = [relayed(message) for message in messages]
        assert bob.lines()[start:-1] == [f"alice: {text}" for text in said if text]

    relay()
