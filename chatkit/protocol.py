"""The chat protocol: UTF-8 text lines, each ending in ``\\n``, and every line a server says.

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

The second half of this module is the protocol's *words*: the nickname
question, the rules, and each kind of notice (``* alice joined. 2 people in
the room.``). They are defined once, here: the servers format their lines
with them and the windows (``chatkit.session``) recognise the same lines
with them, so a notice reworded here changes both sides at once::

    JOINED.format(nick="alice", count=2)      -> "* alice joined. 2 people in the room."
    JOINED.parse("* bob joined. 1 person in the room.")   -> {"nick": "bob", "count": 1}
"""

import codecs
import re
import string

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


# --- what the server says ---------------------------------------------------------

NICK_MAX_CHARS = 20
PROMPT = "Enter your nickname:"  # the first line every newcomer hears
RULES = "* Rules: be kind to each other. /quit leaves, /who lists who is here, /help shows commands."
HELP = (
    "* /who   list the people in the room",
    "* /help  show this help",
    "* /quit  leave the room",
)
SHUTTING_DOWN = "* The server is shutting down. Bye!"
SERVER_FULL = "* The server is full right now; please try again in a minute."  # then it hangs up


def people(count):
    """'1 person' or 'N people' in the room."""
    return f"{count} person" if count == 1 else f"{count} people"


# Why a member left, as the leave notice says it ("* alice left (connection lost). ...").
LEFT_QUIT = "left"
LEFT_LOST = "left (connection lost)"
CUT_TOO_LONG = "was disconnected (line too long)"
CUT_NOT_READING = "was disconnected (not reading messages)"

# What each {field} of a Notice may hold, as a pattern, and how it is read back.
_NICK = r"[^\s:*/][^\s:]*"  # a nickname: no spaces, no ':', not starting with '*' or '/'
FIELDS = {
    "nick": (_NICK, str),
    "count": (r"\d+ (?:person|people)", lambda text: int(text.split()[0])),  # written with people()
    "number": (r"\d+", int),
    "limit": (r"\d+", int),
    "why": ("|".join(re.escape(why) for why in (LEFT_LOST, LEFT_QUIT, CUT_TOO_LONG, CUT_NOT_READING)), str),
    "nicks": (r".*", lambda text: [nick for nick in text.split(", ") if nick]),
    "command": (r"\S+", str),
    "text": (r".*", str),
}


class Notice:
    """One kind of line the server says, with {fields}: servers format it, clients parse it."""

    def __init__(self, template):
        self.template = template
        pattern = ""
        for literal, field, _, _ in string.Formatter().parse(template):
            pattern += re.escape(literal)
            if field:
                pattern += f"(?P<{field}>{FIELDS[field][0]})"
        self.pattern = re.compile(pattern)

    def format(self, **fields):
        """The line, with `fields` filled in (count=2 is written "2 people")."""
        if "count" in fields:
            fields["count"] = people(fields["count"])
        if "nicks" in fields:
            fields["nicks"] = ", ".join(fields["nicks"])
        return self.template.format(**fields)

    def parse(self, line):
        """The fields of `line` if it is this kind of line (count as a number), else None."""
        match = self.pattern.fullmatch(line)
        if match is None:
            return None
        return {name: FIELDS[name][1](value) for name, value in match.groupdict().items()}

    def __repr__(self):
        return f"Notice({self.template!r})"


JOINED = Notice("* {nick} joined. {count} in the room.")
LEFT = Notice("* {nick} {why}. {count} in the room.")
WHO = Notice("* In the room ({number}): {nicks}")
WHO_MORE = Notice("* Also in the room: {nicks}")  # /who goes on here when one line would pass MAX_LINE_CHARS
MESSAGE = Notice("{nick}: {text}")  # what everyone hears when someone says something
BYE = Notice("* Bye, {nick}!")
UNKNOWN_COMMAND = Notice("* Unknown command {command}. Type /help.")
LINE_TOO_LONG = Notice("* Line too long (over {limit} characters); disconnecting.")
MESSAGE_TOO_LONG = Notice("* Message not sent: with your name in front it is over {limit} characters.")
NICK_TOO_SLOW = Notice("* No nickname after {number} seconds; disconnecting.")

# Why a nickname is refused (the server then asks again).
NICK_EMPTY = "* A nickname needs at least one character."
NICK_TOO_LONG = f"* A nickname has at most {NICK_MAX_CHARS} characters."
NICK_SPACES = "* A nickname cannot contain spaces or control characters."
NICK_MARKS = "* A nickname cannot contain ':' or start with '*' or '/'."
NICK_TAKEN = Notice("* The nickname {nick} is taken.")


def nickname_problem(nick, taken):
    """Return the server's line saying why `nick` cannot be used, or None if it can."""
    if not nick:
        return NICK_EMPTY
    if len(nick) > NICK_MAX_CHARS:
        return NICK_TOO_LONG
    if not nick.isprintable() or any(c.isspace() for c in nick):
        return NICK_SPACES
    if ":" in nick or nick[0] in "*/":
        return NICK_MARKS
    if nick in taken:
        return NICK_TAKEN.format(nick=nick)
    return None
