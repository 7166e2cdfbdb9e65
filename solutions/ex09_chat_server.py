"""Exercise 9 (open): a whole chat server of your own, from the protocol alone.

No stage to start from: write the server the README's protocol section
describes ("## The protocol"), in this file, in any design you like: a
thread per client (exercises 3 to 7), one thread around ``selectors``
(``chatkit/eventloop.py`` is one such), or ``asyncio``. The grader treats
it as a black box: it starts your ``RunServer`` and talks to it over real
sockets, the way ``nc`` does, and each behaviour below earns its points.

The interface (the grader's, the notebooks', ``LiveServer(module=...)``):
``RunServer(host, port)``; ``server_open()`` listens and stores the real
port in ``self.port`` (port 0: any free port); ``run()`` serves until
``stop()`` is called, from another thread, then returns. An asyncio
server can run its loop inside run() (``asyncio.run``) and be told to stop
with ``loop.call_soon_threadsafe``.

What the grader checks (every line is UTF-8 and ends in ``"\\n"``; the
exact words are in ``chatkit/protocol.py``, which you may import: its
constants, ``people()``, ``clean_text()``, ``nickname_problem()``, and
``LineReader`` if you like yours less):

* Joining: a newcomer hears ``Enter your nickname:``; a nickname that is
  empty, has spaces or ``:``, or is taken (``Alice`` and ``alice`` are one
  name) is refused with a line starting ``* `` and the question again.
  Everyone hears ``* alice joined. 2 people in the room.``. A newcomer
  who never answers keeps nobody else out.
* Talking: each line is relayed to everyone, the sender too, as
  ``alice: text``, in the order it was said, whatever way TCP cuts or
  joins the bytes (two lines in one packet, a Korean character cut in half),
  with control characters and escape sequences removed.
* Commands: ``/who`` answers ``* In the room (2): alice, bob`` (only to the
  asker); ``/quit`` leaves. Commands are never relayed.
* Leaving, however it happens, is announced once, with the head count:
  ``* bob left. 1 person in the room.`` (``/quit``, a closed connection),
  ``* bob left (connection lost). ...`` (a reset), and the server's own
  reasons below.
* Limits: a line over 4,096 characters (or as much without a newline)
  disconnects its sender (``* bob was disconnected (line too long). ...``);
  a member who stops reading stalls nobody and is disconnected once about
  1 MB behind (``* carol was disconnected (not reading messages). ...``).
* ``stop()``: everyone hears ``* The server is shutting down. Bye!``, every
  connection closes, and run() returns.
* The server is your own: nothing of it comes from ``chatkit.server``,
  ``chatkit.eventloop`` or ``chatkit.stages``.

Check it:  pytest exercises/ex09_chat_server_test.py
Run it:    LiveServer(module="../exercises/ex09_chat_server.py") in a notebook, then nc or LiveClient.
"""

import collections
import socket
import struct
import threading
import time

from chatkit import protocol
from chatkit.protocol import MAX_LINE_CHARS, LineReader, LineTooLong, clean_text, encode_line

# BEGIN SOLUTION (TODO: the rest of your server: rooms, members, their threads, whatever your design needs)
BEHIND_LIMIT = 1 << 20  # bytes queued for a member who does not read: then it is cut off
POLL = 0.05  # seconds between looks at the stop flag while waiting in accept()
GOODBYE_GRACE = 1.0  # seconds a member has, once the server stops, to take its last lines


class Member:
    """One connection: a thread reads what it says, a thread sends what it hears from a bounded queue."""

    def __init__(self, sock, room):
        self.sock = sock
        self.room = room
        self.nick = None
        self.queue = collections.deque()
        self.queued = 0  # bytes in self.queue
        self.closed = False  # nothing more is queued; the sender sends the rest, then hangs up
        self.changed = threading.Condition()
        self.threads = [threading.Thread(target=self.read, name="reader", daemon=True),
                        threading.Thread(target=self.write, name="writer", daemon=True)]

    def start(self):
        for thread in self.threads:
            thread.start()

    def put(self, data):
        """Queue bytes for this member, at once; False if it is too far behind."""
        with self.changed:
            if self.queued + len(data) > BEHIND_LIMIT:
                return False
            if not self.closed:
                self.queue.append(data)
                self.queued += len(data)
                self.changed.notify()
            return True

    def send(self, *lines):
        self.put(b"".join(encode_line(line) for line in lines))

    def close(self, now=False):
        """No more lines; the sender stops after what is queued (now=True: at once, with a reset)."""
        with self.changed:
            self.closed = True
            if now:
                self.queue.clear()
            self.changed.notify()
        if now:  # a reset, not a polite close: the kernel drops what it still holds for this member
            self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            hang_up(self.sock)

    def write(self):
        """The sender: everything queued, in order, until closed; then hang up."""
        while True:
            with self.changed:
                while not self.queue and not self.closed:
                    self.changed.wait()
                data = b"".join(self.queue)
                self.queue.clear()
                self.queued = 0
                done = self.closed
            try:
                if data:
                    self.sock.sendall(data)
            except OSError:
                done = True
            if done:
                hang_up(self.sock)
                return

    def read(self):
        """The reader: the whole conversation, then the goodbye (once), then the sender finishes."""
        why = self.conversation()
        if why is not None:
            self.room.leave(self, why)  # nothing happens for someone who never joined
        self.close()

    def conversation(self):
        """The nickname, then line after line; why the member left (None: /quit has said goodbye)."""
        reader = LineReader()
        self.send(protocol.PROMPT)
        while True:
            try:
                data = self.sock.recv(4096)
            except OSError:
                return protocol.LEFT_LOST
            if not data:
                return protocol.LEFT_QUIT
            try:
                lines = reader.feed(data)
            except LineTooLong:
                self.send(protocol.LINE_TOO_LONG.format(limit=MAX_LINE_CHARS))
                return protocol.CUT_TOO_LONG
            for line in lines:
                if not self.on_line(line):
                    return None

    def on_line(self, line):
        """A nickname, a command or a message; False once the member said /quit."""
        if self.nick is None:
            problem = self.room.join(self, line.strip())
            if problem:
                self.send(problem, protocol.PROMPT)
            return True
        text = clean_text(line).strip()
        command = text.split()[0].lower() if text.startswith("/") else None
        if command == "/quit":
            self.send(protocol.BYE.format(nick=self.nick))
            self.room.leave(self, protocol.LEFT_QUIT)
            return False
        if command == "/who":
            self.send(protocol.WHO.format(number=len(self.room.nicks()), nicks=self.room.nicks()))
        elif command:
            self.send(protocol.UNKNOWN_COMMAND.format(command=text.split()[0][:20]))
        elif text:
            line = protocol.MESSAGE.format(nick=self.nick, text=text)
            if len(line) > MAX_LINE_CHARS:
                self.send(protocol.MESSAGE_TOO_LONG.format(limit=MAX_LINE_CHARS))
            else:
                self.room.send_all(line)
        return True


class Room:
    """The members by nickname; one lock, which no send ever waits under (puts never wait)."""

    def __init__(self):
        self.members = {}
        self.lock = threading.Lock()

    def nicks(self):
        with self.lock:
            return list(self.members)

    def join(self, member, nick):
        """Let `member` in as `nick`; the reason why not, or None."""
        with self.lock:
            problem = protocol.nickname_problem(nick, self.members)
            if problem is None:
                member.nick = nick
                self.members[nick] = member
                self.send_locked(protocol.JOINED.format(nick=nick, count=len(self.members)))
        return problem

    def leave(self, member, why):
        """Take `member` out and tell everyone why, once (False if it was not in)."""
        with self.lock:
            if self.members.get(member.nick) is not member:
                return False
            del self.members[member.nick]
            self.send_locked(protocol.LEFT.format(nick=member.nick, why=why, count=len(self.members)))
        return True

    def send_all(self, line):
        with self.lock:
            self.send_locked(line)

    def send_locked(self, line):
        """Queue `line` for everyone (the caller holds the lock); cut off whoever is too far behind."""
        data = encode_line(line)
        behind = [member for member in self.members.values() if not member.put(data)]
        for member in behind:
            del self.members[member.nick]
            member.close(now=True)
        for member in behind:
            self.send_locked(protocol.LEFT.format(nick=member.nick, why=protocol.CUT_NOT_READING,
                                                  count=len(self.members)))


def hang_up(sock):
    """Shut a connection down (this wakes its reader); it may be gone already."""
    try:
        sock.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass
# END SOLUTION


class RunServer:
    """A chat server on host:port: server_open(), run() until stop()."""

    def __init__(self, host="127.0.0.1", port=0):
        self.host = host
        self.port = port
        # BEGIN SOLUTION (TODO: what your server keeps: the listening socket, the room, a way to stop)
        self.listener = None
        self.room = Room()
        self.connections = []  # every Member, joined or not
        self.stopped = threading.Event()
        self.lock = threading.Lock()  # guards self.connections and the stop flag
        # END SOLUTION

    def server_open(self):
        """Listen on (host, port); store the real port in self.port."""
        # BEGIN SOLUTION (TODO: a listening TCP socket (SO_REUSEADDR, bind, listen); self.host, self.port = its address)
        self.listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.listener.bind((self.host, self.port))
        self.listener.listen(128)
        self.listener.settimeout(POLL)  # accept() must notice stop()
        self.host, self.port = self.listener.getsockname()
        # END SOLUTION

    def run(self):
        """Serve clients until stop() is called; then return."""
        # BEGIN SOLUTION (TODO: accept clients and serve them, in your design, until stop())
        while not self.stopped.is_set():
            try:
                conn, _ = self.listener.accept()
            except TimeoutError:
                continue
            except OSError:
                if self.stopped.is_set():
                    break
                self.stopped.wait(POLL)  # out of file descriptors, say: try again in a moment
                continue
            conn.settimeout(None)
            member = Member(conn, self.room)
            with self.lock:
                if self.stopped.is_set():
                    conn.close()
                    break
                self.connections = [m for m in self.connections if m.threads[0].is_alive()] + [member]
                member.start()
        deadline = time.monotonic() + GOODBYE_GRACE
        for member in list(self.connections):
            member.threads[1].join(max(0.0, deadline - time.monotonic()))  # the shutdown notice, then it hangs up
            member.close(now=True)  # one who did not read it is cut off
            for thread in member.threads:
                thread.join()
            member.sock.close()
        # END SOLUTION

    def stop(self):
        """Tell everyone the server is closing, hang up on all, make run() return (from any thread)."""
        # BEGIN SOLUTION (TODO: everyone hears the shutdown notice, every connection closes, run() returns)
        with self.lock:
            self.stopped.set()
            members = list(self.connections)
        self.listener.close()
        for member in members:
            member.send(protocol.SHUTTING_DOWN)
            member.close()
        # END SOLUTION
