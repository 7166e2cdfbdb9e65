"""The reference chat server: the report's design (stage 5) made correct.

Same classes as the report (``ChattingRoom``, ``ChatClient``, ``RunServer``),
now with two threads per client::

    accept loop --> ChatClient
                      reader thread: recv -> LineReader -> lines -> ChattingRoom.send_all
                      writer thread: Outbox (bounded) -> sendall -> socket
    ChattingRoom.send_all(lines): every member's Outbox.put(lines) sends what fits
                                  at once and queues the rest (never blocks)

What changed from stage 5, and why:

* The nickname is asked for in the client's own thread, so a client who
  never answers keeps nobody else waiting. Nicknames are unique and
  validated; a bad one is asked for again.
* ``LineReader`` frames the byte stream into lines and decodes UTF-8
  incrementally: a Korean character cut between two recv() calls arrives
  whole. A line longer than ``MAX_LINE_CHARS`` disconnects its sender, so
  memory stays bounded.
* A broadcast never waits for a member: what does not fit in a member's
  socket right away waits in its ``Outbox``, and that member's writer
  thread does the (possibly slow) sending. A member whose Outbox overflows
  has stopped reading: it is disconnected and the room is told.
* A client that vanishes (reset, closed laptop, Ctrl+C) is removed and
  announced exactly like one who typed ``/quit``.
* Control characters and terminal escape sequences are stripped from what
  people say before it reaches anyone else's terminal.
* ``/who`` lists the members, ``/help`` the commands; ``stop()`` (or Ctrl+C
  on the command line) tells everyone and disconnects them cleanly.

Shared state and its locks: ``ChattingRoom.members`` is guarded by
``ChattingRoom.lock``; the set of all connections by ``RunServer.lock``;
each Outbox by its own condition variable. No lock is held while a
socket call might block.

Run it:  python -m chatkit serve
Try it:  two `nc 127.0.0.1 PORT`; type /help.
"""

import collections
import itertools
import socket
import threading

from chatkit import protocol
from chatkit.protocol import LineReader, LineTooLong, clean_text, encode_line

OUTBOX_LIMIT_BYTES = 1 << 20  # a member this far behind has stopped reading
POLL_INTERVAL = 0.05  # seconds between looks at the stop flag in the accept loop
GOODBYE_GRACE = 1.0  # seconds the shutdown notice may take to leave


def command_reply(command, room):
    """What the asker hears back from /who, /help or an unknown command (/quit ends the chat)."""
    if command == "/who":
        nicks = room.nicks()
        return [protocol.WHO.format(number=len(nicks), nicks=nicks)]
    if command == "/help":
        return list(protocol.HELP)
    return [protocol.UNKNOWN_COMMAND.format(command=command.split()[0])]


class Outbox:
    """The bytes waiting to be sent to one client, at most `limit` of them.

    Once `sock` is set, put() first sends what fits in it at once, without
    waiting, if nothing is queued and the writer thread is not sending. In a
    busy room that spares the writer a wake-up per line: with 1,000 clients
    those wake-ups (and the GIL changing hands for each) cost far more than
    the sending. Only what does not fit waits here for the writer thread.
    """

    def __init__(self, limit=OUTBOX_LIMIT_BYTES):
        self.limit = limit
        self.chunks = collections.deque()
        self.size = 0
        self.closed = False
        self.writing = False  # the writer thread is sending: put() queues behind it
        self.sock = None  # set by ChatClient
        self.changed = threading.Condition()

    def put(self, data):
        """Queue `data`; return False if it would overflow (data is dropped once closed)."""
        with self.changed:
            if self.size + len(data) > self.limit:
                return False
            if self.closed:
                return True
            if self.sock is not None and not self.chunks and not self.writing:  # nobody else sends
                data = data[send_now(self.sock, data):]
                if not data:
                    return True
            self.chunks.append(data)
            self.size += len(data)
            self.changed.notify()
            return True

    def take(self):
        """Wait for data and return all of it at once; b"" once closed and empty."""
        with self.changed:
            self.writing = False
            while not self.chunks and not self.closed:
                self.changed.wait()
            data = b"".join(self.chunks)
            self.chunks.clear()
            self.size = 0
            self.writing = True  # until the writer comes back for more
            return data

    def close(self):
        """Accept nothing more; the writer sends what is queued, then stops."""
        with self.changed:
            self.closed = True
            self.changed.notify()


class ChattingRoom:
    """The people in the room, by nickname."""

    def __init__(self, log=print):
        self.members = {}  # nick -> ChatClient (the report's self.list)
        self.lock = threading.Lock()
        self.log = log
        self.closing = False  # set by RunServer.stop(): nobody to announce to

    def add_user(self, client, nick):
        """Add `client` under `nick`; return why not, or None once it joined."""
        with self.lock:
            problem = protocol.nickname_problem(nick, self.members)
            if problem is None:
                client.nick = nick
                self.members[nick] = client
                count = len(self.members)
        if problem is None:
            self.log(f"{nick} joined")
            self.send_all(protocol.JOINED.format(nick=nick, count=count), protocol.RULES)
        return problem

    def delete_user(self, client, why=protocol.LEFT_QUIT):
        """Remove `client` and tell the room `why`; False if it was not a member."""
        with self.lock:
            if self.members.get(client.nick) is not client:
                return False
            del self.members[client.nick]
            count = len(self.members)
        if self.closing:
            return True
        self.log(f"{client.nick} {why}")
        self.send_all(protocol.LEFT.format(nick=client.nick, why=why, count=count))
        return True

    def send_all(self, *lines):
        """Queue `lines` for every member; disconnect members who stopped reading.

        Holding the lock while queueing gives every member the same order of
        lines; it is cheap because Outbox.put never blocks.
        """
        data = b"".join(encode_line(line) for line in lines)
        with self.lock:
            behind = [member for member in self.members.values() if not member.outbox.put(data)]
        for member in behind:
            member.disconnect(protocol.CUT_NOT_READING)

    def nicks(self):
        """The members' nicknames, in the order they joined."""
        with self.lock:
            return list(self.members)


class ChatClient:
    """One connection: a reader thread for what it says, a writer thread for what it hears."""

    outbox_class = Outbox  # what holds the lines waiting to be sent (exercise 7 brings its own)

    def __init__(self, sock, room, name):
        self.sock = sock
        self.room = room
        self.nick = None  # set when the room accepts a nickname
        self.connection_lost = False  # True after a reset, False after a clean close
        self.outbox = self.outbox_class()
        self.outbox.sock = sock
        self.reader = threading.Thread(target=self.recv_message, name=f"reader-{name}")
        self.writer = threading.Thread(target=self.send_queued, name=f"writer-{name}")

    def run(self):
        """Start both threads."""
        self.writer.start()
        self.reader.start()

    def send(self, *lines):
        """Queue lines for this client only."""
        self.outbox.put(b"".join(encode_line(line) for line in lines))

    def recv_batches(self):
        """Yield the lines of each recv() as one list, until the client disconnects."""
        reader = LineReader()
        while True:
            try:
                data = self.sock.recv(4096)
            except OSError:  # connection reset, or hung up by the server
                self.connection_lost = True
                return
            if not data:  # the client closed the connection
                return
            yield reader.feed(data)

    def recv_message(self):
        """Ask for a nickname, then relay lines until /quit or disconnection."""
        batches = self.recv_batches()
        why = protocol.LEFT_QUIT
        try:
            rest = self.join(batches)
            if rest is not None:
                why = self.chat(itertools.chain([rest], batches))
        except LineTooLong:
            self.send(protocol.LINE_TOO_LONG.format(limit=protocol.MAX_LINE_CHARS))
            why = protocol.CUT_TOO_LONG
        if not self.room.delete_user(self, why) and self.nick is None and not self.room.closing:
            self.room.log("a client left before choosing a nickname")
        self.outbox.close()  # the writer sends what is left, then hangs up
        self.writer.join(GOODBYE_GRACE)
        hang_up(self.sock)  # in case the writer is stuck on a client who stopped reading
        self.writer.join()
        self.sock.close()

    def join(self, batches):
        """Ask for nicknames until one is accepted; return the lines after it (None: the client left)."""
        self.send(protocol.PROMPT)
        for lines in batches:
            for index, line in enumerate(lines):
                problem = self.room.add_user(self, line.strip())
                if problem is None:
                    threading.current_thread().name = f"reader-{self.nick}"
                    self.writer.name = f"writer-{self.nick}"
                    return lines[index + 1:]
                self.send(problem, protocol.PROMPT)
        return None

    def chat(self, batches):
        """Handle commands and relay messages; return why the client left.

        The messages of one recv() go to the room in one send_all: in a busy
        room that is one send per member for many lines instead of one per line.
        """
        for lines in batches:
            said = []
            for line in lines:
                text = clean_text(line).strip()
                if text.startswith("/") and said:  # what was said before a command goes first
                    self.room.send_all(*said)
                    said = []
                if text == "/quit":
                    self.send(protocol.BYE.format(nick=self.nick))
                    return protocol.LEFT_QUIT
                elif text.startswith("/"):
                    self.send(*command_reply(text, self.room))
                elif text:
                    said.append(protocol.MESSAGE.format(nick=self.nick, text=text))
            if said:
                self.room.send_all(*said)
        return protocol.LEFT_LOST if self.connection_lost else protocol.LEFT_QUIT

    def send_queued(self):
        """Send whatever the outbox holds until it is closed, then hang up."""
        while data := self.outbox.take():
            try:
                self.sock.sendall(data)
            except OSError:
                break
        hang_up(self.sock)

    def disconnect(self, why):
        """Throw this client out (it stopped reading): tell the room, hang up."""
        self.room.delete_user(self, why)
        self.outbox.close()
        hang_up(self.sock)  # wakes the writer, blocked on a full socket


class RunServer:
    """Accept connections and give each one a ChatClient."""

    client_class = ChatClient  # the class serving one connection (exercise 7 plugs in its own)

    def __init__(self, host="127.0.0.1", port=0):
        self.host = host
        self.port = port
        self.listener = None
        self.room = ChattingRoom(log=lambda message: self.log(message))  # a harness may replace self.log
        self.clients = []  # every ChatClient not yet finished, joined or not
        self.lock = threading.Lock()  # guards self.clients and the stop flag
        self.stopped = threading.Event()

    def log(self, message):
        """Tell the person running the server what is happening."""
        print(message, flush=True)

    def server_open(self):
        """Create, configure, bind and listen."""
        self.listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.listener.bind((self.host, self.port))
        self.listener.listen(128)
        self.host, self.port = self.listener.getsockname()

    def run(self):
        """Accept clients until stop() is called."""
        self.listener.settimeout(POLL_INTERVAL)  # accept() must notice stop()
        while not self.stopped.is_set():
            try:
                conn, (host, port) = self.listener.accept()
            except TimeoutError:
                continue
            except OSError:  # stop() closed the listener
                break
            self.welcome(conn, f"{host}:{port}")

    def welcome(self, conn, address):
        """Start a ChatClient for a new connection, unless we are stopping."""
        with self.lock:
            if self.stopped.is_set():
                conn.close()
                return
            self.clients = [c for c in self.clients if c.reader.is_alive() or c.writer.is_alive()]
            client = self.client_class(conn, self.room, name=address)
            self.clients.append(client)
            client.run()

    def stop(self):
        """Tell everyone the server is closing, disconnect them, wait for all threads."""
        with self.lock:
            self.stopped.set()
            self.room.closing = True
            clients = list(self.clients)
        if self.listener is not None:
            self.listener.close()
        for client in clients:
            client.send(protocol.SHUTTING_DOWN)
            client.outbox.close()
        for client in clients:  # give the notice a moment to leave, then hang up
            client.writer.join(GOODBYE_GRACE / max(1, len(clients)))
            hang_up(client.sock)
        for client in clients:
            client.reader.join()  # the reader closes the socket once the writer is done


def send_now(sock, data):
    """Send what fits in the socket's buffer without waiting; return how many bytes went."""
    if not hasattr(socket, "MSG_DONTWAIT"):  # Windows: leave all of it to the writer thread
        return 0
    try:
        return sock.send(data, socket.MSG_DONTWAIT)
    except BlockingIOError:  # the buffer is full: the writer thread will wait for room
        return 0
    except OSError:  # the connection is gone; its reader thread will notice
        return len(data)


def hang_up(sock):
    """Shut a connection down: this wakes a recv() or sendall() blocked in another thread."""
    try:
        sock.shutdown(socket.SHUT_RDWR)
    except OSError:  # already closed
        pass
