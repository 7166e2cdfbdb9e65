"""Exercise 6: put lines back together, Korean included (framing).

TCP delivers a stream of bytes, not messages: one ``recv()`` may hold two
lines, half a line, or half of a Korean character (3 bytes in UTF-8). The
report takes each ``recv(1024)`` as one message and decodes it at once; a
``LineReader`` keeps what is not complete yet::

    feed(b"hello\\nhow ar")          -> ["hello"]
    feed(b"e you?\\n\\xec\\x95")         -> ["how are you?"]     (keeps the half of 안)
    feed(b"\\x88\\xeb\\x85\\x95\\n")         -> ["안녕"]

Write ``LineReader.feed()``, with an *incremental* UTF-8 decoder
(``self.decoder``): it returns the text of the complete characters and
keeps the bytes of a character cut in half until the rest arrives.

Check it:  pytest exercises/ex06_framing_test.py
"""

import codecs

from chatkit.protocol import MAX_LINE_CHARS, LineTooLong


class LineReader:
    """Turn received chunks of bytes into complete lines of text."""

    def __init__(self, max_chars=MAX_LINE_CHARS):
        self.max_chars = max_chars  # a peer that never sends "\n" must not fill our memory
        self.decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
        self.pending = ""  # text received after the last "\n"

    def feed(self, data):
        """Add the bytes of one recv(); return the lines they complete, without their ``\\n``.

        1. ``self.decoder.decode(data)`` gives the text of the whole
           characters in `data` (and keeps a cut one for next time); add it
           to ``self.pending``.
        2. Every ``"\\n"`` in there ends a line: return those lines, in
           order, and keep the text after the last ``"\\n"`` in ``self.pending``.
        3. ``nc`` and telnet end lines with ``"\\r\\n"``: drop a final ``"\\r"``.
        4. A line (or the pending text) longer than ``self.max_chars``
           characters: ``raise LineTooLong(...)``.
        """
        # TODO: decode incrementally into self.pending, split off complete lines, drop "\r", check the length
        raise NotImplementedError('TODO: decode incrementally into self.pending, split off complete lines, drop "\\r", check the length')
