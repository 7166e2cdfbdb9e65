"""What a chat window needs, whatever draws it: the connection and the room as it sees it.

Both windows of the kit use this module, the tkinter client (``chatkit.gui``)
and the notebook panel (``chatkit.lab.panel``)::

    network thread:  socket -> LineReader -> on_line(text)      (Connection)
                                               |
                      the window hands each line to its UI thread
                                               v
    UI thread:       ChatSession.receive(text) -> Line to show, members, status
    UI thread:       what you type -> ChatSession.submit(text) -> Connection.send

`ChatSession` only reads the server's lines (`* alice joined. 2 people in
the room.`, `bob: hi`, ...), recognising each with the notice that servers
format it with (``chatkit.protocol``); it never touches a socket or a widget, so it is
tested without a server or a screen. It is not thread-safe: one thread at a
time (the UI thread, or whoever holds the window's lock) may use it.

Whatever a server sends, a window shows it safely: escape sequences and
control characters are removed before a line reaches a widget (the staged
servers relay raw bytes on purpose), a line too long is shown cut and
marked, and a server that hangs up, even in the middle of a line, is noticed.
"""

import socket
import threading
import time
from dataclasses import dataclass

from chatkit import protocol
from chatkit.protocol import CUT_MARK, MAX_LINE_CHARS, ClientLineReader, display_text, encode_line
from chatkit.tools.language import N_, translator

# Colours both windows use: dark enough to read on white; no nickname gets your blue, the
# red of problems, the orange of leave notices nor the green of join notices.
NICK_COLOURS = ("#7b1fa2", "#00695c", "#6d4c41", "#c2185b", "#827717", "#455a64")
MY_COLOUR = "#0b57d0"
COLOURS = {"joined": "#188038", "left": "#ad5700", "notice": "#5f6368", "problem": "#b3261e",
           "prompt": MY_COLOUR, "time": "#80868b", "mine": "#e8f0fe"}

STATUS = {  # ChatSession.state -> (colour, what the status line says, in English: translated when shown)
    "connected": ("#ad5700", N_("Connected to {address}")),
    "nickname": ("#ad5700", N_("Choose a nickname")),
    "joining": ("#ad5700", N_("Joining as {nick}…")),
    "chatting": ("#188038", N_("Connected to {address} as {nick}")),
    "leaving": ("#ad5700", N_("Leaving…")),
    "closed": ("#b3261e", N_("Disconnected from {address}")),
    "left": ("#5f6368", N_("You left the room")),
}


@dataclass(frozen=True)
class Line:
    """One line as a window shows it.

    kind: "message" (someone said something), "joined", "left", "notice"
    (anything else the server says), "problem" (a refused nickname, a
    message too long) or "prompt" (choose a nickname).
    """

    kind: str
    text: str
    sender: str = ""
    mine: bool = False  # a message this window's user sent
    time: str = ""  # HH:MM when it arrived: the protocol carries no time
    colour: str = ""  # of the sender's name for a message, of the whole line otherwise


class ChatSession:
    """The room as one client sees it, rebuilt from the server's lines.

    `send` is called with each line to send: the answer to the nickname
    question (the one given on the command line, then what the user types)
    and, once joined, a `/who` to learn who was already there, if the
    rules the server sends after the join notice mention it (the report's
    server would relay it to everyone as a message).
    """

    def __init__(self, send, nick=None, clock=time.localtime, lang=None):
        self.send = send
        self.clock = clock
        self._ = translator(lang)  # the window's own words; lang None: the kit's language (CHATKIT_LANG, LANG)
        self.wanted_nick = nick  # answered automatically, once
        self.nick = None  # set when the room accepts us
        self.pending_nick = None  # sent, waiting for the room's answer
        self.state = "connected"  # -> nickname -> joining -> chatting -> leaving -> left, or -> closed
        self.members = []
        self.count = 0
        self.just_joined = False  # the next line is the rules: do they mention /who?
        self.awaiting_who = False  # our own /who: its answer updates the list, quietly
        self.who_missing = 0  # names a /who answer announced but has not listed yet (split over lines)
        self.colours = {}  # nick -> colour, given in the order people appear

    def line(self, kind, text, **details):
        details.setdefault("colour", COLOURS.get(kind, COLOURS["notice"]))
        return Line(kind, text, time=time.strftime("%H:%M", self.clock()), **details)

    def colour(self, nick):
        """Your blue for you; for the others, the next colour not yet given (hashing would repeat some)."""
        if nick == self.nick:
            return MY_COLOUR
        return self.colours.setdefault(nick, NICK_COLOURS[len(self.colours) % len(NICK_COLOURS)])

    def receive(self, text):
        """Take one line from the server; return the Line to show, or None to show nothing."""
        text = display_text(text)  # whatever server this is, nothing raw reaches a widget
        if self.just_joined:
            self.just_joined = False
            if protocol.said(text, protocol.RULES):  # the reference server's rules (any language): it knows /who
                self.awaiting_who = True
                self.send("/who")
        if protocol.said(text, protocol.PROMPT):
            if self.wanted_nick:
                self.answer(self.wanted_nick)
                self.wanted_nick = None  # if it is refused, the user types another one
                return None
            self.state = "nickname"
            return self.line("prompt", self._("Choose a nickname: type it below and press Enter."))
        if joined := protocol.JOINED.parse(text):
            nick = joined["nick"]
            self.count = joined["count"]
            if self.state == "joining" and nick == self.pending_nick:
                self.nick, self.state, self.members = nick, "chatting", [nick]
                self.just_joined = self.count > 1  # others were here first: who?
            elif nick not in self.members:
                self.members.append(nick)
            return self.line("joined", text, sender=nick)
        if left := protocol.LEFT.parse(text):
            self.count = left["count"]
            if left["nick"] in self.members:
                self.members.remove(left["nick"])
            return self.line("left", text, sender=left["nick"])
        if who := protocol.WHO.parse(text):
            return self.who(text, who)
        if message := protocol.MESSAGE.parse(text):
            sender = message["nick"]
            return self.line("message", message["text"], sender=sender, mine=sender == self.nick,
                             colour=self.colour(sender))
        if self.state in ("nickname", "joining"):  # the room refused the nickname, and says why
            return self.line("problem", text.removeprefix("* "))
        return self.line("notice", text)

    def who(self, text, who):
        """An answer to /who: the members, maybe over several lines, maybe cut short."""
        nicks = who["nicks"]
        if text.endswith(CUT_MARK):  # the client cut the line: the last name is not whole
            nicks = nicks[:-1]
        if self.who_missing:  # the next part of one answer
            self.members += [nick for nick in nicks if nick not in self.members]
        else:
            self.members = nicks
        self.count = who["number"]
        self.who_missing = 0 if text.endswith(CUT_MARK) else max(0, self.count - len(self.members))
        if not self.who_missing and self.nick and self.nick not in self.members:  # cut off the list, yet here
            self.members.append(self.nick)
        if self.awaiting_who:
            self.awaiting_who = self.who_missing > 0
            return None
        return self.line("notice", text)

    def answer(self, nick):
        nick = protocol.normal_nickname(nick)
        self.pending_nick = display_text(nick)  # as the join notice will show it
        self.state = "joining"
        self.send(nick)

    def submit(self, text):
        """Send what the user typed; return a Line explaining why not, or None."""
        text = " ".join(text.splitlines()).strip()  # a pasted newline would split the message
        if not text:
            return None
        if self.state in ("closed", "left"):
            return self.line("problem", self._("Not connected: nothing was sent."))
        if len(text) > MAX_LINE_CHARS:
            return self.line("problem", self._("Too long to send: {length} characters, at most {limit}.").format(
                length=len(text), limit=MAX_LINE_CHARS))
        if text == "/quit":
            joined = self.state not in ("connected", "nickname", "joining")
            self.state = "leaving"
            if joined:  # say goodbye; before joining there is nobody to tell: the window just hangs up
                self.send(text)
            return None
        if self.state == "nickname":
            self.answer(text)
            return None
        if text == "/who":
            self.awaiting_who = False  # asked by the user: show the answer
        self.send(text)
        return None

    def status(self, address):
        """(colour, text) of the status line."""
        colour, text = STATUS[self.state]
        return colour, self._(text).format(address=address, nick=self.nick or self.pending_nick)

    def closed(self):
        """The server hung up; return the Line saying so (None if we were leaving)."""
        self.members, self.count = [], 0
        if self.state == "leaving":
            self.state = "left"
            return None
        self.state = "closed"
        return self.line("problem", self._("Disconnected: the server closed the connection."))


class Connection:
    """A TCP connection to a chat server; once started, a background thread reads its lines.

    on_line(text) and on_closed() run on that reading thread: they must
    only hand the line over to the UI thread, never touch a widget.
    send() may be called from any thread: a lock keeps two lines from
    being interleaved on the socket.
    """

    def __init__(self, host, port, timeout=5.0):
        self.address = f"{host}:{port}"
        self.sock = socket.create_connection((host, port), timeout=timeout)
        self.sock.settimeout(None)
        self.send_lock = threading.Lock()
        self.thread = None

    def start(self, on_line, on_closed):
        """Start reading: on_line(text) for each line, then on_closed() once."""
        self.thread = threading.Thread(target=self.receive, args=(on_line, on_closed),
                                       name=f"chat connection {self.address}", daemon=True)
        self.thread.start()
        return self

    def receive(self, on_line, on_closed):
        reader = ClientLineReader()  # a line too long is cut and marked, never the end of the thread
        try:
            while data := self.sock.recv(65536):
                for text in reader.feed(data):
                    on_line(text)
            for text in reader.close():  # the server hung up in the middle of a line
                on_line(text)
        except OSError:  # reset, or closed by close()
            pass
        finally:  # whatever happened, the window hears that the connection is gone
            with self.send_lock:  # nothing more will come: let the socket go now, not when the window closes
                self.sock.close()
            on_closed()

    def send(self, text):
        """Send one line; a connection already gone is not an error (on_closed tells)."""
        try:
            with self.send_lock:
                self.sock.sendall(encode_line(text))
        except OSError:
            pass

    def close(self, timeout=5.0):
        """Hang up and wait for the reading thread to finish."""
        with self.send_lock:
            try:
                self.sock.shutdown(socket.SHUT_RDWR)  # wakes the recv() in the reading thread
            except OSError:  # already closed
                pass
        if self.thread is not None and self.thread is not threading.current_thread():
            self.thread.join(timeout)
        self.sock.close()
