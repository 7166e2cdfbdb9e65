"""The chat protocol: UTF-8 text lines, each ending in ``\\n``, and every line a server says.

That is all of it, which is why ``nc 127.0.0.1 PORT`` is a working client.
TCP delivers a *stream of bytes*, not messages, so a receiver must put
lines back together itself::

    recv() #1: b"hello\\nhow ar"        -> "hello"
    recv() #2: b"e you?\\n\\xec\\x95"      -> "how are you?"
    recv() #3: b"\\x88\\xeb\\x85\\x95\\n"      -> "안녕"   (a Korean syllable cut in half)

`LineReader` does that: an incremental UTF-8 decoder keeps the bytes of a
character cut at a recv boundary until the rest arrives, and a maximum line
length keeps memory bounded when a peer never sends a newline. A server
refuses such a line; a client cannot refuse what its server sends, so
`ClientLineReader` cuts it and marks the cut instead.

Text rules, shared by the servers and the clients:

    clean_text(message)     what a server relays: no control characters, no
                            escape sequences, nothing invisible or that turns text around
    display_text(line)      what a client shows of any server's line (the staged
                            servers relay raw bytes on purpose): the same rules, then NFC
    nickname_problem(...)   why a nickname cannot be used: invisible characters, or
                            one that looks like a nickname already in the room
                            (look_alike: Unicode's confusables skeleton, UTS #39)

The second half of this module is the protocol's *words*: the nickname
question, the rules, and each kind of notice (``* alice joined. 2 people in
the room.``). They are defined once, here: the servers format their lines
with them and the windows (``chatkit.session``) recognise the same lines
with them, so a notice reworded here changes both sides at once::

    JOINED.format(nick="alice", count=2)      -> "* alice joined. 2 people in the room."
    JOINED.parse("* bob joined. 1 person in the room.")   -> {"nick": "bob", "count": 1}

The lines are English; a server can speak Korean too (``serve --lang ko``)
with ``words("ko")``, the same lines from the Korean catalog
(chatkit/locale/ko/LC_MESSAGES/chatkit.po), and a client understands both::

    words("ko").JOINED.format(nick="민지", count=2)  -> "* 민지 님이 들어왔습니다. 지금 2명이 있어요."
    JOINED.parse("* 민지 님이 들어왔습니다. 지금 2명이 있어요.")  -> {"nick": "민지", "count": 2}
"""

import codecs
import functools
import re
import string
import unicodedata

from chatkit.tools.language import LANGUAGES, N_, translation

ENCODING = "utf-8"
MAX_LINE_CHARS = 4096  # a 2,100-byte Korean line is 700 characters; 4,096 leaves room
NICK_MAX_CHARS = 20


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


# What a client takes whole: the longest message a server accepts, with its sender's "nick: ".
MAX_RECEIVED_CHARS = MAX_LINE_CHARS + NICK_MAX_CHARS + len(": ")
CUT_MARK = " [… cut: the line was too long]"  # what a client shows at the end of a line it cut
CLOSED_MID_LINE = " [… cut: the connection closed mid-line]"


class ClientLineReader(LineReader):
    """A LineReader for clients: a line too long is cut and marked, never refused.

    Whatever a server sends (a 5,000-character /who, 10 MB without a newline),
    the client shows the first `max_chars` characters with CUT_MARK, drops the
    rest up to the next newline without decoding or keeping it, and reads on.
    """

    def __init__(self, max_chars=MAX_RECEIVED_CHARS):
        super().__init__(max_chars)
        self.skipping = False  # inside a line already cut: drop bytes up to the next newline

    def feed(self, data):
        """Add bytes from one recv(); return the lines they complete (too long ones cut)."""
        lines = []
        while data:
            newline = data.find(b"\n")
            piece, data = (data, b"") if newline < 0 else (data[:newline + 1], data[newline + 1:])
            if self.skipping:
                if newline >= 0:  # the cut line ends here; a newline is never inside a UTF-8 character
                    self.skipping = False
                    self.decoder.reset()
                continue
            text = self.pending + self.decoder.decode(piece)
            if text.endswith("\n"):
                self.pending = ""
                line = text[:-1].removesuffix("\r")
                lines.append(line if len(line) <= self.max_chars else line[:self.max_chars] + CUT_MARK)
            elif len(text) > self.max_chars:
                lines.append(text[:self.max_chars] + CUT_MARK)
                self.pending, self.skipping = "", True
            else:
                self.pending = text
        return lines

    def close(self):
        """The connection closed: the unfinished last line, marked, if there is one."""
        text = self.pending + self.decoder.decode(b"", final=True)
        self.pending = ""
        if self.skipping or not text:
            return []
        return [text[:self.max_chars] + CLOSED_MID_LINE]


def encode_line(text):
    """Encode one line of text for the wire."""
    return (text + "\n").encode(ENCODING)


# Escape sequences, in their 7-bit (ESC ...) and 8-bit (C1) forms:
#   CSI  ESC [ ... final           colours, cursor moves, ESC[2J (clear the screen)
#   OSC  ESC ] ... BEL or ESC \   window titles (OSC 0), the clipboard (OSC 52!), links
#   DCS, SOS, PM, APC: strings up to ESC \, whose text must not show either
#   ESC c and other two-character escapes (ESC c resets the terminal)
_ESCAPE_SEQUENCE = re.compile(
    r"(?:\x1b\[|\x9b)[0-?]*[ -/]*[@-~]"
    r"|(?:\x1b[]PX^_]|[\x90\x98\x9d\x9e\x9f])[^\x07\x1b\x9c]*(?:\x07|\x1b\\|\x9c)?"
    r"|\x1b[ -~]?")
# C0 and C1 control characters (BEL, a bare CR that rewrites the line...), DEL, the
# bidirectional embeddings, overrides and isolates that make a line read backwards, and
# characters that show nothing: marks (LRM, RLM, ALM), zero-width spaces, word joiners,
# the BOM, soft hyphens, Hangul fillers, tags. Kept on purpose: the zero-width joiner
# and non-joiner and the variation selectors, which emoji (👍🏽 ❤️ 👩‍💻) and some scripts need.
_CONTROL = re.compile(
    "[\x00-\x1f\x7f-\x9f\u00ad\u034f\u061c\u115f\u1160\u17b4\u17b5\u180e\u200b\u200e\u200f"
    "\u202a-\u202e\u2060-\u206f\u3164\ufeff\uffa0\ufff0-\ufffb"
    "\U0001bca0-\U0001bca3\U0001d173-\U0001d17a\U000e0000-\U000e00ff]")
_LINE_BREAKS = re.compile("[\t\u2028\u2029]")  # become spaces: a message is one line


def clean_text(text):
    """Remove escape sequences, control and invisible characters; tabs and line separators become spaces."""
    text = _ESCAPE_SEQUENCE.sub("", _LINE_BREAKS.sub(" ", text))
    return _CONTROL.sub("", text)


def display_text(line):
    """A line from any server, safe to show on a terminal or in a widget.

    A client cannot know whether its server cleaned the line (the staged
    servers relay raw bytes on purpose), so it applies clean_text itself;
    NFC then shows Korean typed as separate jamo as whole syllables.
    """
    return unicodedata.normalize("NFC", clean_text(line))


# --- what the server says ---------------------------------------------------------
#
# Each line is written here in English and marked with N_(), which returns it unchanged: the mark
# tells the catalog's extractor (make catalogs) that the line also exists in Korean, in
# chatkit/locale/ko/LC_MESSAGES/chatkit.po. A server that speaks Korean holds words("ko"): these
# same lines in Korean (class Words, below). Clients understand a line in either language.


PROMPT = N_("Enter your nickname:")  # the first line every newcomer hears
RULES = N_("* Rules: be kind to each other. /quit leaves, /who lists who is here, /help shows commands.")
HELP = (
    N_("* /who   list the people in the room"),
    N_("* /help  show this help"),
    N_("* /quit  leave the room"),
)
SHUTTING_DOWN = N_("* The server is shutting down. Bye!")
SERVER_FULL = N_("* The server is full right now; please try again in a minute.")  # then it hangs up


def people(count, language="en"):
    """'1 person' or 'N people' in the room (in Korean 'N명')."""
    return translation(language).ngettext("{count} person", "{count} people", count).format(count=count)


def line_count(count, language="en"):
    """'1 line' or 'N lines' (in Korean 'N줄')."""
    return translation(language).ngettext("{count} line", "{count} lines", count).format(count=count)


# Why a member left, as the leave notice says it ("* alice left (connection lost). ...").
LEFT_QUIT = N_("left")
LEFT_LOST = N_("left (connection lost)")
CUT_TOO_LONG = N_("was disconnected (line too long)")
CUT_NOT_READING = N_("was disconnected (not reading messages)")

_NICK = r"[^\s:*/][^\s:]*"  # a nickname: no spaces, no ':', not starting with '*' or '/'


def _number(text):
    return int(re.search(r"\d+", text).group())


def _counted(say, language):
    """A pattern for what say(n, language) writes, whatever n: '2 people', '1 person'; in Korean '2명'."""
    forms = {say(n, language).replace(str(n), "{n}", 1) for n in range(200)}  # each plural form of the language
    return "|".join(re.escape(form).replace(re.escape("{n}"), r"\d+") for form in sorted(forms))


@functools.lru_cache(maxsize=None)
def fields(language="en"):
    """What each {field} of a Notice may hold in `language`, as a pattern, and how it is read back."""
    reasons = [translation(language).gettext(why) for why in (LEFT_QUIT, LEFT_LOST, CUT_TOO_LONG, CUT_NOT_READING)]
    return {
        "nick": (_NICK, str),
        "other": (_NICK, str),  # a second nickname
        "count": (_counted(people, language), _number),  # written with people()
        "lines": (_counted(line_count, language), _number),  # written with line_count()
        "server": (r"\S+", str),  # a server of a shared room, as the others call it (host:port)
        "number": (r"\d+", int),
        "limit": (r"\d+", int),
        "why": ("|".join(re.escape(why) for why in reasons), str),
        "nicks": (r".*", lambda text: [nick for nick in text.split(", ") if nick]),
        "command": (r"\S+", str),
        "text": (r".*", str),
    }


class Notice:
    """One kind of line the server says, with {fields}: servers format it, clients parse it.

    A notice is written in one language (English, or the one in_language()
    gives it); parse() reads the line in every language the kit speaks, so
    a client understands any server.
    """

    def __init__(self, template, language="en"):
        self.english = template  # the line's name in the catalog
        self.language = language
        self.template = translation(language).gettext(template)
        pattern = ""
        for literal, field, _, _ in string.Formatter().parse(self.template):
            pattern += re.escape(literal)
            if field:
                pattern += f"(?P<{field}>{fields(language)[field][0]})"
        self.pattern = re.compile(pattern)

    def in_language(self, language):
        """The same notice, written in `language`."""
        return Notice(self.english, language)

    @functools.cached_property
    def every_language(self):
        return [self] + [self.in_language(language) for language in LANGUAGES if language != self.language]

    def format(self, **fields):
        """The line, with `fields` filled in (count=2 is written "2 people", lines=1 "1 line")."""
        if "count" in fields:
            fields["count"] = people(fields["count"], self.language)
        if "lines" in fields:
            fields["lines"] = line_count(fields["lines"], self.language)
        if "nicks" in fields:
            fields["nicks"] = ", ".join(fields["nicks"])
        if "why" in fields:  # LEFT_QUIT, ...: said in the notice's language too
            fields["why"] = translation(self.language).gettext(fields["why"])
        return self.template.format(**fields)

    def parse(self, line):
        """The fields of `line` if it is this kind of line, in any language (count as a number), else None."""
        for notice in self.every_language:
            match = notice.pattern.fullmatch(line)
            if match is not None:
                return {name: fields(notice.language)[name][1](value) for name, value in match.groupdict().items()}
        return None

    def __repr__(self):
        return f"Notice({self.template!r})"


JOINED = Notice(N_("* {nick} joined. {count} in the room."))
LEFT = Notice(N_("* {nick} {why}. {count} in the room."))
WHO = Notice(N_("* In the room ({number}): {nicks}"))  # repeated with the next names when one line would be too long
MESSAGE = Notice("{nick}: {text}")  # what everyone hears when someone says something (in every language)
BYE = Notice(N_("* Bye, {nick}!"))
UNKNOWN_COMMAND = Notice(N_("* Unknown command {command}. Type /help."))
LINE_TOO_LONG = Notice(N_("* Line too long (over {limit} characters); disconnecting."))
MESSAGE_TOO_LONG = Notice(N_("* Message not sent: with your name in front it is over {limit} characters."))
NICK_TOO_SLOW = Notice(N_("* No nickname after {number} seconds; disconnecting."))

# Why a nickname is refused (the server then asks again).
NICK_EMPTY = N_("* A nickname needs at least one character.")
NICK_TOO_LONG = Notice(N_("* A nickname has at most {limit} characters."))  # limit=NICK_MAX_CHARS
NICK_SPACES = N_("* A nickname cannot contain spaces or control characters.")
NICK_MARKS = N_("* A nickname cannot contain ':' or start with '*' or '/'.")
NICK_TAKEN = Notice(N_("* The nickname {nick} is taken."))
NICK_INVISIBLE = Notice(N_("* A nickname cannot contain invisible characters ({text})."))
NICK_STARTS_WITH_MARK = N_("* A nickname cannot start with a combining mark.")
NICK_LOOKS_LIKE = Notice(N_("* The nickname {nick} looks too much like {other}, who is already here."))

# A room shared by several servers (chatkit.sharedroom): what goes wrong between them, said.
ROOM_LOST = N_("* The connection to the other servers of this room was lost; reconnecting. "
               "What is said meanwhile may not reach them (you will be told).")
ROOM_BACK = Notice(N_("* The other servers of this room are back (after {number} s)."))
NOT_DELIVERED = Notice(N_("* Not delivered to the other servers: {lines} said here while they were away."))
MISSED = Notice(N_("* Missed: {lines} said on server {server} never arrived here."))
NICK_CANNOT_CHECK = N_("* The other servers of this room cannot be reached, so no nickname can be checked; "
                       "try again in a moment.")
NICK_LOST = Notice(N_("* While this server was cut off, someone on another server took the nickname {nick}; "
                      "please join again with another one."))

# Every line above, by name: what a server of another language holds in its Words.
SAID = ("PROMPT", "RULES", "HELP", "SHUTTING_DOWN", "SERVER_FULL", "LEFT_QUIT", "LEFT_LOST", "CUT_TOO_LONG",
        "CUT_NOT_READING", "JOINED", "LEFT", "WHO", "MESSAGE", "BYE", "UNKNOWN_COMMAND", "LINE_TOO_LONG",
        "MESSAGE_TOO_LONG", "NICK_TOO_SLOW", "NICK_EMPTY", "NICK_TOO_LONG", "NICK_SPACES", "NICK_MARKS",
        "NICK_TAKEN", "NICK_INVISIBLE", "NICK_STARTS_WITH_MARK", "NICK_LOOKS_LIKE", "ROOM_LOST", "ROOM_BACK",
        "NOT_DELIVERED", "MISSED", "NICK_CANNOT_CHECK", "NICK_LOST")


class Words:
    """Every line a server says, in one language: Words("ko").JOINED.format(nick="민지", count=2).

    A server holds one (``self.words``) and says everything with it. Each
    line is looked up when it is said, from the English one above: reword a
    line here and every server, in every language, says the new one.
    """

    def __init__(self, language="en"):
        self.language = language

    def __getattr__(self, name):
        if name not in SAID:
            raise AttributeError(f"a server says no line called {name}")
        return translated(globals()[name], self.language)

    def __repr__(self):
        return f"Words({self.language!r})"


@functools.lru_cache(maxsize=1024)
def translated(english, language):
    """A line (a text, a tuple of texts or a Notice) in `language`."""
    if language == "en":
        return english
    if isinstance(english, Notice):
        return english.in_language(language)
    if isinstance(english, tuple):
        return tuple(translation(language).gettext(line) for line in english)
    return translation(language).gettext(english)


@functools.lru_cache(maxsize=None)
def words(language="en"):
    """The Words of `language` ("en", "ko"; one the kit does not speak is English)."""
    return Words(language if language in LANGUAGES else "en")


ENGLISH = words("en")  # what the staged servers say, and the reference server unless told otherwise


def said(text, line):
    """Is `text` the server's line `line` (PROMPT, RULES, ...) in any language the kit speaks?"""
    return any(text == translation(language).gettext(line) for language in LANGUAGES)


# Characters that show nothing (Unicode's Default_Ignorable_Code_Point, the Hangul
# fillers among them) and the blank braille cell: `bob` and `bob\u3164` would read the same.
_INVISIBLE_IN_NICKNAME = re.compile(
    "[\u00ad\u034f\u061c\u115f\u1160\u17b4\u17b5\u180b-\u180f\u200b-\u200f\u202a-\u202e"
    "\u2060-\u206f\u2800\u3164\ufe00-\ufe0f\ufeff\uffa0\ufff0-\ufff8"
    "\U0001bca0-\U0001bca3\U0001d173-\U0001d17a\U000e0000-\U000e0fff]")


def normal_nickname(text):
    """The nickname a server keeps for what a newcomer typed: stripped, in NFC.

    NFC is Unicode's composed form: 민지 typed as four jamo becomes two syllables.
    """
    return unicodedata.normalize("NFC", text.strip())


@functools.lru_cache(maxsize=8192)  # a join compares the newcomer with everyone in the room
def nickname_key(nick):
    """What two nicknames that look alike share: bob, Bob, bоb (Cyrillic о), ｂｏｂ, Ꮟob...

    Unicode's confusables skeleton (UTS #39, with 0 ≡ O and 1 ≡ l), of the
    name and of its case-folded form (aIice looks like alice before folding,
    Ð like ð after). Two names look alike if either half matches. A key is
    only compared, never shown: the skeleton of a name mixes scripts.
    """
    import disarm  # loaded on first use: only a server deciding on a nickname needs it

    form = unicodedata.normalize("NFC", nick)
    return (disarm.skeleton_key(form, digit_policy="tr39"),
            disarm.skeleton_key(form.casefold(), digit_policy="tr39"))


def look_alike(nick, other):
    """True if the two nicknames could be taken for each other."""
    (mine, mine_folded), (theirs, theirs_folded) = nickname_key(nick), nickname_key(other)
    return mine == theirs or mine_folded == theirs_folded


def nickname_problem(nick, taken, words=ENGLISH):
    """Return the server's line saying why `nick` cannot be used (in `words`' language), or None if it can.

    `taken` holds the nicknames already in the room (any iterable; a dict's keys).
    """
    form = unicodedata.normalize("NFC", nick)  # what it looks like is what counts
    if not nick:
        return words.NICK_EMPTY
    if len(form) > NICK_MAX_CHARS:
        return words.NICK_TOO_LONG.format(limit=NICK_MAX_CHARS)
    if not form.isprintable() or any(c.isspace() for c in form):
        return words.NICK_SPACES
    if invisible := _INVISIBLE_IN_NICKNAME.search(form):
        char = invisible.group()
        return words.NICK_INVISIBLE.format(text=f"U+{ord(char):04X} {unicodedata.name(char, '')}".strip())
    if unicodedata.category(form[0]).startswith("M"):  # it would join the character before it
        return words.NICK_STARTS_WITH_MARK
    if ":" in form or form[0] in "*/":
        return words.NICK_MARKS
    if nick in taken:
        return words.NICK_TAKEN.format(nick=nick)
    for other in taken:
        if look_alike(form, other):
            if unicodedata.normalize("NFC", other) == form:  # the same name in another Unicode form
                return words.NICK_TAKEN.format(nick=form)
            return words.NICK_LOOKS_LIKE.format(nick=form, other=other)
    return None
