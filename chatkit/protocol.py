"""The chat protocol: UTF-8 text lines, each ending in ``\\n``.

That is all of it, which is why ``nc 127.0.0.1 PORT`` is a working client.
TCP delivers a *stream of bytes*, not messages, so a receiver must put
lines back together itself::

    recv() #1: b"hello\\nhow ar"        -> "hello"
    recv() #2: b"e you?\\n\\xec\\x95"      -> "how are you?"
    recv() #3: b"\\x88\\xeb\\x85\\x95\\n"      -> "안녕"   (a Korean syllable cut in half)

`LineReader` does that: an incremental UTF-8 decoder keeps the bytes of a
character cut at a recv boundary until the rest arrives, and a maximum line
length keeps memory bounded when a peer never sends a newline.
`clean_text` removes what must never be relayed to other people's
terminals: control characters and escape sequences.
"""

import codecs
import re

ENCODING = "utf-8"
MAX_LINE_CHARS = 4096  # a 2,100-byte Korean line is 700 characters; 4,096 leaves room


class LineTooLong(ValueError):
    """A peer sent more than the maximum line length without a newline."""


class LineReader:
    """Turn received chunks of bytes into complete lines of text."""

    def __init__(self, max_chars=MAX_LINE_CHARS):
        self.max_chars = max_chars
        self.decoder = codecs.getincrementaldecoder(ENCODING)(errors="replace")
        self.pending = ""  # text after the last newline, waiting for the rest

    def feed(self, data):
        """Add bytes from one recv(); return the lines they complete, without ``\\n``."""
        text = self.pending + self.decoder.decode(data)
        *lines, self.pending = text.split("\n")
        if len(self.pending) > self.max_chars or any(len(line) > self.max_chars for line in lines):
            raise LineTooLong(f"line longer than {self.max_chars} characters")
        return [line.removesuffix("\r") for line in lines]  # nc/telnet may send \r\n


def encode_line(text):
    """Encode one line of text for the wire."""
    return (text + "\n").encode(ENCODING)


# ESC [ ... final  (colours, cursor moves), ESC ] ... BEL or ESC \  (window titles),
# and two-character escapes such as ESC c (reset the terminal).
_ESCAPE_SEQUENCE = re.compile(r"\x1b\[[0-?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)?|\x1b[ -~]?")
# C0 and C1 control characters, DEL, and the bidirectional overrides that can
# make a line read backwards.
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


def clean_text(text):
    """Remove escape sequences and control characters; tabs become spaces."""
    text = _ESCAPE_SEQUENCE.sub("", text.replace("\t", " "))
    return _CONTROL.sub("", text)
