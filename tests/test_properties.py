"""Properties of line framing and decoding, for any bytes cut at any points (hypothesis).

TCP may cut a stream anywhere: between lines, inside a line, inside a
3-byte Korean character. Whatever the cuts, the lines must come out the
same as if everything had arrived in one piece. More examples:

    CHATKIT_PROPERTY_EXAMPLES=2000 .venv/bin/python -m pytest tests/test_properties.py
"""

import os
import socket

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from chatkit.protocol import LineReader, LineTooLong, clean_text, encode_line

EXAMPLES = int(os.environ.get("CHATKIT_PROPERTY_EXAMPLES", "200"))
LIVE_EXAMPLES = max(10, EXAMPLES // 10)  # each one is a round trip through a real server
CONTROL = set(map(chr, [*range(0x20), *range(0x7F, 0xA0), *range(0x202A, 0x202F), *range(0x2066, 0x206A)]))
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


@examples
@given(st.text(max_size=200))
def test_clean_text_leaves_no_control_character_and_is_stable(text):
    cleaned = clean_text(text)
    assert not CONTROL & set(cleaned), repr(cleaned)
    assert clean_text(cleaned) == cleaned


@examples
@given(st.text(st.characters(blacklist_categories=["Cc", "Cs"], blacklist_characters=CONTROL), max_size=100))
def test_clean_text_keeps_ordinary_text_as_it_is(text):
    assert clean_text(text) == text


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
