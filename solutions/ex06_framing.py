"""Exercise 6 (specified): put lines back together, Korean included (framing).

TCP delivers a stream of bytes, not messages: one ``recv()`` may hold two
lines, half a line, or half of a Korean character (3 bytes in UTF-8).
Stage 5 takes each ``recv(1024)`` as one message and decodes it at once;
notebook 06 shows what its room then hears. A ``LineReader`` keeps what is
not complete yet, and gives back only whole lines::

    feed(b"hello\\nhow ar")          -> ["hello"]
    feed(b"e you?\\n\\xec\\x95")         -> ["how are you?"]     (keeps the half of 안)
    feed(b"\\x88\\xeb\\x85\\x95\\n")         -> ["안녕"]

Write ``LineReader.feed(data)``: it takes the bytes of one ``recv()`` and
returns the lines they complete, in order, as text:

* a line is everything up to a ``"\\n"``, which is not part of it; a
  ``"\\r"`` right before it (``nc -C``, telnet) is not part of it either;
  nothing else is removed (spaces are the sender's);
* a character cut between two chunks, even into single bytes, comes out
  whole; bytes that are not UTF-8 become ``"\\ufffd"`` (never an exception);
* a peer must not fill the server's memory: a line, or the text still
  waiting for its ``"\\n"``, longer than ``self.max_chars`` characters
  raises ``LineTooLong``.

Given: ``__init__`` (``codecs.getincrementaldecoder`` is how Python
decodes a stream piece by piece).

Check it:  pytest exercises/ex06_framing_test.py
"""

import codecs

from chatkit.protocol import MAX_LINE_CHARS, LineTooLong


class LineReader:
    """Turn received chunks of bytes into complete lines of text."""

    def __init__(self, max_chars=MAX_LINE_CHARS):
        self.max_chars = max_chars  # a peer that never sends "\n" must not fill our memory
        self.decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")  # keeps a cut character
        self.pending = ""  # text received after the last "\n"

    def feed(self, data):
        """Add the bytes of one recv(); return the lines they complete, without their line ending."""
        # BEGIN SOLUTION (TODO: decode incrementally, return every complete line, keep the rest, check the length)
        self.pending += self.decoder.decode(data)
        lines = []
        while "\n" in self.pending:
            line, self.pending = self.pending.split("\n", 1)
            if len(line) > self.max_chars:
                raise LineTooLong(f"a line of {len(line)} characters")
            lines.append(line.removesuffix("\r"))
        if len(self.pending) > self.max_chars:
            raise LineTooLong(f"more than {self.max_chars} characters without a newline")
        return lines
        # END SOLUTION
