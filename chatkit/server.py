"""The reference chat server: the report's design (stage 5) made correct, and fast.

Same classes as the report (``ChattingRoom``, ``ChatClient``, ``RunServer``):
a thread per client that reads what it says, as in stage 5, and a few
``Writer`` threads (one per core) that send everything to everyone::

    accept loop --> ChatClient: its reader thread
                      recv -> LineReader -> lines -> ChattingRoom.send_all
    ChattingRoom.send_all(lines) --> every Writer's queue (in the order things were said)
    each Writer thread: take all that was said since its last turn, join it into one
                        batch, put it in the Outbox of each of *its* members, one send() each

What changed from stage 5, and why:

* The nickname is asked for in the client's own thread, so a client who
  never answers keeps nobody else waiting; it has NICKNAME_SECONDS to
  answer, and at most MAX_JOINING connections may be waiting to join at once.
  Nicknames are unique and validated; a bad one is asked for again.
* ``LineReader`` frames the byte stream into lines and decodes UTF-8
  incrementally: a Korean character cut between two recv() calls arrives
  whole. A line longer than ``MAX_LINE_CHARS`` disconnects its sender, so
  memory stays bounded; nothing the server sends is longer than that either.
* A broadcast never waits for a member: it is queued for the Writer, which
  sends what fits in each socket at once and keeps the rest in that member's
  ``Outbox``. A member whose Outbox overflows has stopped reading: it is cut
  off (abortively, so the kernel frees what it held) and the room is told.
* A Writer per core, not one per client: a line said in a room of 1,000
  costs an append per Writer, and each member one send() per *turn* of its
  Writer, however many lines that turn carries. Under load the turns get
  longer and carry more lines each, so the server slows down gracefully
  instead of drowning in thread wake-ups (notebook 08 measures it). send()
  runs without the GIL, so two Writers send on two cores at once.
  ``TCP_NODELAY``: each batch leaves at once instead of waiting for the
  previous one's ACK (Nagle's algorithm).
* A client that vanishes (reset, closed laptop, Ctrl+C) is removed and
  announced exactly like one who typed ``/quit``.
* Control characters and terminal escape sequences are stripped from what
  people say before it reaches anyone else's terminal.
* Out of file descriptors or threads, the server turns newcomers away with
  a notice and goes on; ``stop()`` tells everyone and disconnects them.

Shared state and its locks: ``ChattingRoom.members`` is guarded by
``ChattingRoom.lock``; the Writers' queues by ``Writers.lock`` (one lock, so
every Writer sees the broadcasts in one order); the set of all connections by
``RunServer.lock``. Only a client's Writer touches its Outbox and sends to
it; only its reader thread receives and, at the very end, closes.

Run it:  python -m chatkit serve
Try it:  two `nc 127.0.0.1 PORT`; type /help.
"""

import collections
import errno
import itertools
import os
import selectors
import socket
import struct
import threading
import time

from chatkit import protocol
from chatkit.protocol import MAX_LINE_CHARS, LineReader, LineTooLong, clean_text, encode_line
from chatkit.sharedroom import PRESENCE_SECONDS, SharedRoom

OUTBOX_LIMIT_BYTES = 1 << 20  # a member this far behind has stopped reading
POLL_INTERVAL = 0.05  # seconds between looks at the stop flag in the accept loop
GOODBYE_GRACE = 1.0  # seconds the last lines to a leaving client may take to leave
NICKNAME_SECONDS = 30.0  # a newcomer who has not chosen a nickname by then is disconnected
MAX_JOINING = 100  # connections that may be waiting to choose a nickname at once
WRITERS = min(4, os.cpu_count() or 1)  # Writer threads, one per core: send() runs without the GIL
BACKOFF = 0.1  # seconds the accept loop pauses when the system is out of descriptors or threads
OUT_OF_RESOURCES = {errno.EMFILE, errno.ENFILE, errno.ENOBUFS, errno.ENOMEM}


def log_line(message):
    """Print one line in one write, so lines from two threads never run into each other."""
    print(f"{message}\n", end="", flush=True)


def command_reply(text, room):
    """What the asker hears back from /who, /help or an unknown command (/quit ends the chat)."""
    command = text.split()[0].lower()  # "/WHO" and "/who everyone" are /who
    if command == "/who":
        return who_lines(room.nicks(), room.words)
    if command == "/help":
        return list(room.words.HELP)
    return [room.words.UNKNOWN_COMMAND.format(command=text.split()[0][:protocol.NICK_MAX_CHARS])]


def who_lines(nicks, words=protocol.ENGLISH):
    """/who's answer, in lines that fit the line limit: each says how many are in the room, and who."""
    lines, names = [], []
    for nick in nicks:
        if names and len(words.WHO.format(number=len(nicks), nicks=names + [nick])) > MAX_LINE_CHARS:
            lines.append(words.WHO.format(number=len(nicks), nicks=names))
            names = []
        names.append(nick)
    return lines + [words.WHO.format(number=len(nicks), nicks=names)]


def relayed(nick, text):
    """The line everyone hears when `nick` says `text`, or None if it would pass the line limit."""
    line = protocol.MESSAGE.format(nick=nick, text=text)
    return line if len(line) <= MAX_LINE_CHARS else None


class Outbox:
    """The bytes waiting to be sent to one client, at most `limit` of them.

    Only the Writer thread puts and takes, so no lock is needed; it takes
    only after it has put something. (Exercise 7 writes one with a lock and
    a take() that waits, for a writer thread per client: it fits here too.)
    """

    def __init__(self, limit=OUTBOX_LIMIT_BYTES):
        self.limit = limit
        self.chunks = collections.deque()
        self.size = 0
        self.closed = False

    def put(self, data):
        """Queue `data`; return False if it would overflow (data is dropped once closed)."""
        if self.size + len(data) > self.limit:
            return False
        if not self.closed:
            self.chunks.append(data)
            self.size += len(data)
        return True

    def take(self):
        """Return everything queued, at once, and empty the outbox."""
        data = self.chunks[0] if len(self.chunks) == 1 else b"".join(self.chunks)
        self.chunks.clear()
        self.size = 0
        return data

    def close(self):
        """Accept nothing more; what is queued is still sent."""
        self.closed = True


class Writer:
    """A thread that sends: every line for its clients passes through here, in order.

    Other threads only append to `queue` (and wake the Writer if it sleeps):
    ("all", data) for every member, ("one", client, data) for one client,
    ("join", client) / ("leave", client) as members come and go,
    ("hang up", client) once a client's reader is done with it, and ("stop",).
    """

    def __init__(self, room, lock, name="writer"):
        self.room = room
        self.lock = lock  # shared by all Writers, so that they all see broadcasts in one order
        self.queue = []
        self.sleeping = False
        self.stopping = False  # stop() was called: queue nothing more
        self.ending = False  # the Writer has seen the stop: it hangs up on everyone
        self.members = {}  # client -> None: who hears broadcasts, in joining order
        self.clients = set()  # every connection the Writer has been told about
        self.closing = {}  # client -> when it must be hung up, sent out or not
        self.selector = selectors.DefaultSelector()
        self.wake_reader, self.wake_writer = socket.socketpair()
        self.wake_reader.setblocking(False)
        self.selector.register(self.wake_reader, selectors.EVENT_READ)
        self.thread = threading.Thread(target=self.run, name=name)

    def put(self, *event):
        """Queue one event for this Writer (from any thread)."""
        with self.lock:
            wake = self.add(event)
        if wake:
            self.wake()

    def add(self, event):
        """Queue `event` (the caller holds the lock); True if the Writer sleeps and must be woken."""
        if self.stopping:
            return False
        self.queue.append(event)
        wake, self.sleeping = self.sleeping, False
        return wake

    def wake(self):
        try:
            self.wake_writer.send(b"!")
        except OSError:  # full of wake-ups already, or closed by stop()
            pass

    def run(self):
        """Deliver what was queued, send, wait; until stop() and everyone is hung up."""
        try:
            while True:
                with self.lock:
                    events, self.queue = self.queue, []
                    self.sleeping = not events
                if self.ending and not events and not self.clients:
                    return
                touched = self.deliver(events)
                for key, _ in self.selector.select(0 if events else self.timeout()):
                    if key.fileobj is self.wake_reader:
                        self.wake_reader.recv(4096)
                    else:
                        touched.add(key.data)
                self.hang_up_late()
                for client in touched:
                    self.flush(client)
        finally:
            for client in list(self.clients):
                self.finish(client)

    def deliver(self, events):
        """Put each event's bytes in the Outboxes it is for; return the clients given something."""
        touched, said = set(), []  # said: broadcast bytes in a row, for the members of now
        for event in events + [("end",)]:
            kind, client = event[0], event[1] if len(event) > 1 else None
            if kind == "all":
                said.append(client)  # (the bytes)
                continue
            if said:  # one batch for everything said in a row: one put per member
                batch = said[0] if len(said) == 1 else b"".join(said)
                for member in list(self.members):
                    self.put_for(member, batch, touched)
                said = []
            if kind == "one":
                self.put_for(client, event[2], touched)
            elif kind == "join" and not client.done.is_set():
                self.clients.add(client)
                self.members[client] = None
            elif kind == "leave":
                self.members.pop(client, None)
            elif kind == "hang up" and client in self.clients:
                self.close(client, GOODBYE_GRACE)
                touched.add(client)
            elif kind == "stop":
                self.ending = True
        if self.ending:  # stopping: everyone gets what is queued for them, then is hung up
            for client in self.clients - self.closing.keys():
                self.close(client, GOODBYE_GRACE)
                touched.add(client)
        return touched

    def close(self, client, grace):
        """No more for this client: send what is queued within `grace` seconds, then hang up."""
        self.members.pop(client, None)
        client.outbox.close()
        self.closing.setdefault(client, time.monotonic() + grace)

    def put_for(self, client, data, touched):
        """Add `data` to one client's Outbox; a client whose Outbox overflows is cut off."""
        if client.cut_off or client.done.is_set():
            return
        self.clients.add(client)
        if client.outbox.put(data):
            client.queued = True
            touched.add(client)
        else:
            client.cut_off = True
            self.close(client, 0)
            self.room.delete_user(client, protocol.CUT_NOT_READING)
            abort(client.sock)  # a reset: the kernel drops what it still holds for this client

    def flush(self, client):
        """Send what fits in this client's socket now; the rest waits until it is writable."""
        if client not in self.clients:
            return
        if not client.unsent and client.queued:
            client.unsent, client.queued = client.outbox.take(), False
        if client.unsent and not client.cut_off:
            sent = send_now(client.sock, client.unsent)
            client.unsent = client.unsent[sent:] if sent >= 0 else b""
            client.connection_lost |= sent < 0  # reset: its reader will say "connection lost"
        waiting = bool(client.unsent) or client.queued
        if client in self.closing and not waiting:
            self.finish(client)
        elif waiting != client.watched:
            if waiting:
                self.selector.register(client.sock, selectors.EVENT_WRITE, client)
            else:
                self.selector.unregister(client.sock)
            client.watched = waiting

    def timeout(self):
        """How long to sleep: until the next leaving client must be hung up (None: until woken)."""
        deadlines = list(self.closing.values())
        return max(0.0, min(deadlines) - time.monotonic()) if deadlines else None

    def hang_up_late(self):
        """Hang up on every closing client whose time is over, sent out or not."""
        now = time.monotonic()
        for client in [c for c, deadline in self.closing.items() if deadline <= now]:
            self.finish(client)

    def finish(self, client):
        """Done with a client: shut its connection down; its reader thread closes it."""
        if client.watched:
            self.selector.unregister(client.sock)
            client.watched = False
        self.clients.discard(client)
        self.members.pop(client, None)
        self.closing.pop(client, None)
        hang_up(client.sock)
        client.done.set()

    def wait_and_close(self):
        """Once told to stop: wait for the thread (it hangs up on everyone first), close."""
        if self.thread.ident is not None:
            self.thread.join()
        self.selector.close()
        for sock in (self.wake_reader, self.wake_writer):
            sock.close()


class Writers:
    """WRITERS Writer threads: each client is sent to by one of them; a broadcast goes to all.

    The work of a Writer is mostly send() calls, which run without the GIL:
    two Writers send on two cores at once.
    """

    def __init__(self, room, count=None):
        self.lock = threading.Lock()
        self.team = [Writer(room, self.lock, f"writer {n}") for n in range(1, (count or WRITERS) + 1)]
        self.turns = itertools.cycle(self.team)

    def choose(self):
        """The Writer for a new client: each in turn."""
        with self.lock:
            return next(self.turns)

    def put_all(self, *event):
        """Queue `event` for every Writer, in the same order for all."""
        with self.lock:
            asleep = [writer for writer in self.team if writer.add(event)]
        for writer in asleep:
            writer.wake()

    def start(self):
        for writer in self.team:
            writer.thread.start()

    def stop(self):
        """Each Writer hangs up on its clients (after what is queued for them); then they end."""
        self.put_all("stop")
        with self.lock:
            for writer in self.team:
                writer.stopping = True  # from now on nothing more is queued
        for writer in self.team:
            writer.wait_and_close()


class ChattingRoom:
    """The people in the room, by nickname."""

    def __init__(self, log=log_line, words=protocol.ENGLISH):
        self.members = {}  # nick -> ChatClient (the report's self.list)
        self.lock = threading.Lock()
        self.log = log
        self.words = words  # every line the room says, in its language (chatkit.protocol.Words)
        self.writers = Writers(self)
        self.closing = False  # set by RunServer.stop(): nobody to announce to
        self.shared = None  # a SharedRoom when the room spans servers (serve --room): chatkit.sharedroom

    def add_user(self, client, nick):
        """Add `client` under `nick`; return why not, or None once it joined."""
        if self.shared is not None:  # across servers, Redis says whether the name is free (we wait for it)
            problem = self.shared.claim(nick)
            if problem is not None:
                return problem
        with self.lock:
            problem = protocol.nickname_problem(nick, self.members, self.words)
            if problem is None:
                client.nick = nick
                self.members[nick] = client
                client.writer.put("join", client)  # it hears everything said from now on
                self.send_all(self.words.JOINED.format(nick=nick, count=self.head_count()), self.words.RULES)
        if problem is None:
            self.log(f"{nick} joined")
        return problem

    def delete_user(self, client, why=protocol.LEFT_QUIT):
        """Remove `client` and tell the room `why`; False if it was not a member."""
        with self.lock:
            if self.members.get(client.nick) is not client:
                return False
            del self.members[client.nick]
            client.writer.put("leave", client)
            if self.shared is not None:
                self.shared.release(client.nick)
            left = self.words.LEFT.format(nick=client.nick, why=why, count=self.head_count())
            if not self.closing:
                self.send_all(left)
            elif self.shared is not None:  # stopping: nobody here to tell, but the other servers' members
                self.shared.publish([left])
        if not self.closing:
            self.log(f"{client.nick} {why}")
        return True

    def send_all(self, *lines):
        """Queue `lines` for every member: the Writer sends them, nobody here waits."""
        self.hear(lines)
        if self.shared is not None:
            self.shared.publish(lines)  # and for the other servers' members (queued too)

    def hear(self, lines):
        """Queue `lines` for the members on this server only (what the other servers of a shared room say)."""
        self.writers.put_all("all", b"".join(encode_line(line) for line in lines))

    def drop(self, nick, line):
        """Tell one member `line` and hang up on it (its nickname was taken elsewhere: chatkit.sharedroom)."""
        with self.lock:
            client = self.members.get(nick)
        if client is not None:
            client.send(line)
            client.writer.put("hang up", client)

    def nicks(self):
        """The members' nicknames, in the order they joined (on every server, in a shared room)."""
        if self.shared is not None:
            return self.shared.nicks()
        with self.lock:
            return list(self.members)

    def head_count(self):
        """How many people are in the room (on every server, in a shared room)."""
        return len(self.members) if self.shared is None else self.shared.count()


class ChatClient:
    """One connection: a reader thread for what it says; the room's Writer sends what it hears."""

    outbox_class = Outbox  # what holds the bytes waiting to be sent (exercise 7 brings its own)

    def __init__(self, sock, room, name):
        self.sock = sock
        self.room = room
        self.nick = None  # set when the room accepts a nickname
        self.connection_lost = False  # True after a reset, False after a clean close
        self.outbox = self.outbox_class()
        self.unsent, self.queued, self.watched, self.cut_off = b"", False, False, False  # the Writer's
        self.done = threading.Event()  # the Writer has hung up: the reader may close the socket
        self.writer = room.writers.choose()  # the one Writer thread that sends to this client
        self.reader = threading.Thread(target=self.recv_message, name=f"reader-{name}")

    def run(self):
        """Start the reader thread (RuntimeError if the system has no thread to spare)."""
        self.reader.start()

    def send(self, *lines):
        """Queue lines for this client only."""
        self.writer.put("one", self, b"".join(encode_line(line) for line in lines))

    def recv_batches(self):
        """Yield the lines of each recv() as one list, until the client disconnects."""
        reader = LineReader()
        while True:
            try:
                data = self.sock.recv(4096)
            except OSError:  # connection reset, or hung up by the server
                self.connection_lost = True
                return
            if not data:  # the client closed the connection (a last line may lack its newline)
                if reader.pending:
                    yield reader.feed(b"\n")
                return
            yield reader.feed(data)

    def recv_message(self):
        """Ask for a nickname, then relay lines until /quit or disconnection; then close."""
        batches = self.recv_batches()
        why = protocol.LEFT_QUIT
        try:
            rest = self.join(batches)
            if rest is not None:
                why = self.chat(itertools.chain([rest], batches))
        except LineTooLong:
            self.send(self.room.words.LINE_TOO_LONG.format(limit=MAX_LINE_CHARS))
            why = protocol.CUT_TOO_LONG
        if not self.room.delete_user(self, why) and self.nick is None and not self.room.closing:
            self.room.log("a client left before choosing a nickname")
        self.writer.put("hang up", self)  # after what is queued for it
        self.done.wait()
        self.sock.close()

    def join(self, batches):
        """Ask for nicknames until one is accepted; return the lines after it (None: the client left)."""
        self.send(self.room.words.PROMPT)
        for lines in batches:
            for index, line in enumerate(lines):
                problem = self.room.add_user(self, line.strip())
                if problem is None:
                    self.reader.name = f"reader-{self.nick}"
                    return lines[index + 1:]
                self.send(problem, self.room.words.PROMPT)
        return None

    def chat(self, batches):
        """Handle commands and relay messages; return why the client left.

        The messages of one recv() go to the room in one send_all.
        """
        for lines in batches:
            said = []
            for line in lines:
                text = clean_text(line).strip()
                if text.startswith("/") and said:  # what was said before a command goes first
                    self.room.send_all(*said)
                    said = []
                command = text.split()[0].lower() if text.startswith("/") else None
                if command == "/quit":
                    self.send(self.room.words.BYE.format(nick=self.nick))
                    return protocol.LEFT_QUIT
                elif command:
                    self.send(*command_reply(text, self.room))
                elif text and relayed(self.nick, text) is None:
                    self.send(self.room.words.MESSAGE_TOO_LONG.format(limit=MAX_LINE_CHARS))
                elif text:
                    said.append(relayed(self.nick, text))
            if said:
                self.room.send_all(*said)
        return protocol.LEFT_LOST if self.connection_lost else protocol.LEFT_QUIT


class RunServer:
    """Accept connections and give each one a ChatClient."""

    client_class = ChatClient  # the class serving one connection (exercise 7 plugs in its own)
    nodelay = True  # TCP_NODELAY on every connection (the bench turns it off to show Nagle)
    nickname_seconds = NICKNAME_SECONDS
    max_joining = MAX_JOINING
    presence_seconds = PRESENCE_SECONDS  # in a shared room: how long this server's presence outlives it
    room_name = None  # in a shared room: what the other servers call this one (None: host:port)

    def __init__(self, host="127.0.0.1", port=0, room=None, lang="en"):
        self.host = host
        self.port = port
        self.room_url = room  # redis://HOST:PORT/ROOM: one room with the other servers there
        self.words = protocol.words(lang)  # what it says, in English or Korean (serve --lang ko)
        self.listener = None
        self.room = ChattingRoom(log=lambda message: self.log(message), words=self.words)  # a harness may replace self.log
        self.clients = []  # every ChatClient whose reader runs, joined or not
        self.lock = threading.Lock()  # guards self.clients and the stop flag
        self.stopped = threading.Event()
        self.stopping = threading.Lock()  # one stop() at a time
        self.doorman = None  # turns newcomers away when the server is full (server_open)
        self.last_checked = 0.0  # when nickname deadlines were last looked at

    def log(self, message):
        """Tell the person running the server what is happening."""
        log_line(message)

    def server_open(self):
        """Create, configure, bind and listen."""
        self.listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.listener.bind((self.host, self.port))
        self.listener.listen(128)
        self.host, self.port = self.listener.getsockname()
        self.doorman = Doorman(lambda message: self.log(message), self.words)
        if self.room_url is not None:
            self.join_shared_room()

    def join_shared_room(self):
        """Join the room that spans servers (chatkit.sharedroom); RoomUnreachable if its Redis does not answer."""
        shared = SharedRoom(self.room_url, self.room_name or f"{self.host}:{self.port}", self.room,
                            log=lambda message: self.log(message), presence_seconds=self.presence_seconds,
                            words=self.words)
        try:
            shared.open()
        except BaseException:
            self.listener.close()
            self.doorman.close()
            raise
        self.room.shared = shared

    def run(self):
        """Accept clients until stop() is called."""
        with self.lock:
            if self.stopped.is_set():
                return
            self.listener.settimeout(POLL_INTERVAL)  # accept() must notice stop()
            self.room.writers.start()
        while not self.stopped.is_set():
            self.check_nickname_deadlines()
            try:
                conn, (host, port) = self.listener.accept()
            except TimeoutError:
                continue
            except OSError as error:
                if self.stopped.is_set():  # stop() closed the listener
                    break
                self.out_of_resources(error)
                continue
            self.welcome(conn, f"{host}:{port}")

    def welcome(self, conn, address):
        """Start a ChatClient for a new connection, unless we are stopping or full."""
        if self.nodelay:
            conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        with self.lock:
            self.clients = [c for c in self.clients if c.reader.is_alive()]
            joining = sum(1 for c in self.clients if c.nick is None)
            if self.stopped.is_set():
                conn.close()
                return
            if joining < self.max_joining:
                client = self.client_class(conn, self.room, name=address)
                client.joining_until = time.monotonic() + self.nickname_seconds
                try:
                    client.run()
                    self.clients.append(client)
                    return
                except RuntimeError as error:  # "can't start new thread"
                    why = f"no thread to spare ({error})"
            else:
                why = f"{joining} connections are still choosing a nickname"
        self.doorman.turn_away(conn, why)
        self.stopped.wait(BACKOFF)  # out of threads, or a crowd of silent newcomers: slow down

    def check_nickname_deadlines(self):
        """Disconnect newcomers who took longer than nickname_seconds to choose a nickname."""
        now = time.monotonic()
        if now - self.last_checked < POLL_INTERVAL:
            return
        self.last_checked = now
        with self.lock:
            slow = [c for c in self.clients if c.nick is None and c.joining_until <= now and not c.done.is_set()]
        for client in slow:
            client.joining_until = float("inf")
            client.send(self.words.NICK_TOO_SLOW.format(number=round(self.nickname_seconds)))
            client.writer.put("hang up", client)

    def out_of_resources(self, error):
        """accept() failed: out of descriptors is no reason to stop. Turn the newcomer away, go on."""
        if error.errno in OUT_OF_RESOURCES and not self.doorman.no_descriptor(self.listener, error):
            self.stopped.wait(BACKOFF)  # nothing in reserve: give members a moment to leave and free theirs

    def stop(self):
        """Tell everyone the server is closing, disconnect them, wait for all threads.

        Safe to call twice, from any thread, in any state; it never raises.
        """
        with self.stopping:  # a second stop() waits for the first
            with self.lock:
                first = not self.stopped.is_set()
                self.stopped.set()
                self.room.closing = True
                clients = list(self.clients)
            if not first:
                return
            if self.listener is not None:
                self.listener.close()
            for client in clients:
                client.send(self.words.SHUTTING_DOWN)
            self.room.writers.stop()
            for client in clients:  # those the Writer never heard of (they had just connected)
                hang_up(client.sock)
                client.done.set()
            for client in clients:
                client.reader.join()
            if self.room.shared is not None:
                self.room.shared.close()  # after the members' leave notices: they reach the other servers
            if self.doorman is not None:
                self.doorman.close()


class Doorman:
    """Turns newcomers away with a notice when the server is full (this server and stage 6).

    Out of file descriptors, accept() fails and the newcomer waits in the
    backlog, told nothing. So a descriptor is kept in reserve: closed, it
    lets accept() take the newcomer, who hears "full" and is let go.
    """

    def __init__(self, log, words=protocol.ENGLISH):
        self.log = log
        self.words = words
        self.spare = reserve()
        self.turned_away, self.last_told = 0, 0.0  # newcomers refused, and when that was last logged

    def no_descriptor(self, listener, error):
        """accept() failed with EMFILE or the like: take the newcomer with the spare descriptor, say "full".

        False if there was no spare descriptor (then wait a moment before accepting again).
        """
        if self.spare is None:
            self.spare = reserve()
            return False
        self.spare.close()
        try:
            conn, _ = listener.accept()
            self.turn_away(conn, f"{error.strerror} (errno {errno.errorcode.get(error.errno, error.errno)})")
        except OSError:
            pass
        self.spare = reserve()
        return True

    def turn_away(self, conn, why):
        """Tell a newcomer the server is full and close; log it, at most once a second."""
        send_now(conn, encode_line(self.words.SERVER_FULL))
        conn.close()
        self.turned_away += 1
        if time.monotonic() - self.last_told >= 1.0:
            self.log(f"turned {self.turned_away} newcomer(s) away: {why}")
            self.last_told, self.turned_away = time.monotonic(), 0

    def close(self):
        if self.spare is not None:
            self.spare.close()


def send_now(sock, data):
    """Send what fits in the socket's buffer without waiting; how many bytes went (-1: connection gone)."""
    try:
        if hasattr(socket, "MSG_DONTWAIT"):
            return sock.send(data, socket.MSG_DONTWAIT)
        return sock.send(data[:16384])  # Windows: only when select() said it is writable
    except BlockingIOError:  # the buffer is full: wait until the socket is writable
        return 0
    except OSError:  # the connection is gone; its reader thread will notice
        return -1


def reserve():
    """Open a descriptor to keep in reserve (None if there is none left)."""
    try:
        return open(os.devnull, "rb")
    except OSError:
        return None


def hang_up(sock):
    """Shut a connection down: this wakes a recv() blocked in another thread."""
    try:
        sock.shutdown(socket.SHUT_RDWR)
    except OSError:  # already closed
        pass


def abort(sock):
    """Reset the connection instead of closing it politely: the kernel frees its queue at once."""
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    except OSError:
        pass
    hang_up(sock)
