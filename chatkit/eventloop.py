"""The event-loop server: the reference server rewritten around one thread (what comes after threads).

    selector.select() --> listener readable --> accept()  --> a new ChatClient
                      --> client readable   --> recv()    --> lines --> room.send_all
                      --> wake-up readable  --> stop() was called from another thread
    end of each turn  --> every client with something queued: send() what fits now;
                          the rest waits for that socket to be writable

This is not one more stage on top of stage 5: it is the reference server
(``chatkit.server``) with the same protocol, the same classes and the same
``RunServer`` interface, written again around a ``selectors`` loop. The
command line and the bench call it stage 6 (``python -m chatkit serve
--stage 6``), the step that comes after the five stages.

The reference server (``chatkit.server``) spends a thread per client, and
each one spends its life waiting in ``recv()`` for what its client says
(its Writer already sends for everyone from one thread, with a selector).
With 1,000 people that is 1,000 threads, their stacks, and the operating
system switching between them. Here one thread does the waiting for all of
them at once, reading too: the selector
(epoll on Linux, kqueue on macOS) says which sockets are ready, and the loop
does the little work each ready socket needs. That is how servers answered
the "C10K problem" (10,000 clients on one machine).

The rule that makes it work: nothing may block. Sockets are non-blocking,
``send()`` sends what fits and the rest stays in the client's outbox, and a
handler that computed for a second would freeze every client for that
second. In exchange there are no locks at all: one thread touches everything.

Its words come from ``chatkit.protocol``, like the reference server's; its
limits (outbox, nickname deadline, newcomers waiting to join, line length),
its replies to commands and its way of turning newcomers away when out of
descriptors are the reference server's own. It is longer than a stage
(about 350 lines) because it does, in one thread and without blocking,
everything the reference server spreads over its threads.

Run it:  python -m chatkit serve --stage 6
Try it:  two `nc 127.0.0.1 PORT`; type /help.
"""

import collections
import selectors
import socket
import threading
import time

from chatkit import protocol
from chatkit.protocol import MAX_LINE_CHARS, LineReader, LineTooLong, clean_text, encode_line
from chatkit.server import (BACKOFF, GOODBYE_GRACE, MAX_JOINING, NICKNAME_SECONDS, OUT_OF_RESOURCES,
                            OUTBOX_LIMIT_BYTES, Doorman, abort, command_reply, log_line, relayed, send_now)
from chatkit.sharedroom import PRESENCE_SECONDS, SharedRoom

RECV_SIZE = 4096  # bytes read per recv(), as in the reference server


class ChattingRoom:
    """The people in the room, by nickname; no lock, only the loop's thread touches it."""

    def __init__(self, log=log_line, words=protocol.ENGLISH):
        self.members = {}  # nick -> ChatClient
        self.log = log
        self.words = words  # every line the room says, in its language (chatkit.protocol.Words)
        self.closing = False  # set once the server stops: nobody to announce to
        self.shared = None  # a SharedRoom when the room spans servers (serve --room): chatkit.sharedroom

    def add_user(self, client, nick):
        """Add `client` under `nick`; return why not, or None once it joined."""
        problem = protocol.nickname_problem(nick, self.members, self.words)
        if problem is None:
            client.nick = nick
            self.members[nick] = client
            self.log(f"{nick} joined")
            self.send_all(self.words.JOINED.format(nick=nick, count=self.head_count()), self.words.RULES)
        return problem

    def delete_user(self, client, why=protocol.LEFT_QUIT):
        """Remove `client` and tell the room `why`; False if it was not a member."""
        if self.members.get(client.nick) is not client:
            return False
        del self.members[client.nick]
        if self.shared is not None:
            self.shared.release(client.nick)
        left = self.words.LEFT.format(nick=client.nick, why=why, count=self.head_count())
        if not self.closing:
            self.log(f"{client.nick} {why}")
            self.send_all(left)
        elif self.shared is not None:  # stopping: nobody here to tell, but the other servers' members
            self.shared.publish([left])
        return True

    def send_all(self, *lines):
        """Queue `lines` for every member (and the other servers' members, in a shared room)."""
        self.hear(lines)
        if self.shared is not None:
            self.shared.publish(lines)

    def hear(self, lines):
        """Queue `lines` for the members on this server; disconnect members who stopped reading."""
        data = b"".join(encode_line(line) for line in lines)
        behind = [member for member in self.members.values() if not member.queue(data)]
        for member in behind:
            member.hang_up(protocol.CUT_NOT_READING)

    def drop(self, nick, line):
        """Tell one member `line` and let it go (its nickname was taken elsewhere: chatkit.sharedroom)."""
        client = self.members.get(nick)
        if client is not None:
            client.send(line)
            client.leave(protocol.LEFT_LOST)

    def nicks(self):
        """The members' nicknames, in the order they joined (on every server, in a shared room)."""
        return list(self.members) if self.shared is None else self.shared.nicks()

    def head_count(self):
        """How many people are in the room (on every server, in a shared room)."""
        return len(self.members) if self.shared is None else self.shared.count()


class ChatClient:
    """One connection: what it has sent so far, and what waits to be sent to it."""

    def __init__(self, sock, room, server):
        self.sock = sock
        self.room = room
        self.server = server
        self.nick = None  # set when the room accepts a nickname
        self.connection_lost = False  # a send found the connection reset
        self.reader = LineReader()
        self.outbox = bytearray()
        self.events = selectors.EVENT_READ  # what the selector watches this socket for
        self.leaving_since = None  # time.monotonic() once it is leaving: send the rest, then close
        self.claiming = False  # a shared room's Redis is deciding on its nickname
        self.held = []  # what it said meanwhile, for when Redis has answered
        self.send(self.room.words.PROMPT)

    def queue(self, data):
        """Add `data` to the outbox; False if that would overflow it."""
        if len(self.outbox) + len(data) > OUTBOX_LIMIT_BYTES:
            return False
        self.outbox += data
        self.server.to_flush.add(self)
        return True

    def send(self, *lines):
        """Queue lines for this client only."""
        self.queue(b"".join(encode_line(line) for line in lines))

    def on_readable(self):
        """Read what arrived and act on every complete line."""
        try:
            data = self.sock.recv(RECV_SIZE)
        except BlockingIOError:
            return
        except OSError:  # connection reset
            self.leave(protocol.LEFT_LOST)
            return
        try:
            ending = not data  # the client closed the connection (a last line may lack its newline)
            for line in self.reader.feed(data if data else b"\n" if self.reader.pending else b""):
                self.on_line(line)
                if self.leaving_since is not None:
                    return  # /quit: whatever followed it is not read
        except LineTooLong:
            self.send(self.room.words.LINE_TOO_LONG.format(limit=MAX_LINE_CHARS))
            self.leave(protocol.CUT_TOO_LONG)
            return
        if ending:
            self.leave(protocol.LEFT_LOST if self.connection_lost else protocol.LEFT_QUIT)

    def on_line(self, line):
        """A nickname attempt, a command or a message."""
        if self.nick is None:
            nick = line.strip()
            if self.claiming:  # Redis is deciding on the last nickname: this line waits for its answer
                self.held.append(line)
            elif self.room.shared is not None:  # across servers Redis decides, and the loop cannot wait:
                self.claiming = True  # the answer comes back as a call in the loop (server.call_soon)
                self.room.shared.claim(nick, then=lambda problem: self.choose(nick, problem))
            else:
                self.choose(nick)
            return
        text = clean_text(line).strip()
        command = text.split()[0].lower() if text.startswith("/") else None
        if command == "/quit":
            self.send(self.room.words.BYE.format(nick=self.nick))
            self.leave(protocol.LEFT_QUIT)
        elif command:
            self.send(*command_reply(text, self.room))
        elif text and relayed(self.nick, text) is None:
            self.send(self.room.words.MESSAGE_TOO_LONG.format(limit=MAX_LINE_CHARS))
        elif text:
            self.room.send_all(relayed(self.nick, text))

    def choose(self, nick, problem=None):
        """Join under `nick`, or say what is wrong with it and ask again; then go on with held lines."""
        self.claiming = False
        if self.leaving_since is not None:  # it left while Redis was deciding
            if problem is None and self.room.shared is not None:
                self.room.shared.release(nick)
            return
        problem = problem or self.room.add_user(self, nick)
        if problem is not None:
            self.send(problem, self.room.words.PROMPT)
        else:
            self.server.joining.pop(self, None)
        held, self.held = self.held, []
        for line in held:
            if self.leaving_since is None:
                self.on_line(line)

    def leave(self, why):
        """Leave the room; what is still queued is sent, then the connection closes."""
        if not self.room.delete_user(self, why) and self.nick is None and not self.room.closing:
            self.room.log("a client left before choosing a nickname")
        self.leaving_since = time.monotonic()
        self.server.leaving.add(self)
        self.server.joining.pop(self, None)

    def hang_up(self, why):
        """Throw this client out at once (it stopped reading): tell the room, reset, close."""
        self.room.delete_user(self, why)
        self.outbox.clear()
        abort(self.sock)  # a reset: the kernel drops what it still holds for this client
        self.server.close(self)

    def flush(self):
        """Send what fits in the socket now; return False once the connection is closed."""
        sent = send_now(self.sock, self.outbox) if self.outbox else 0
        if sent < 0:  # reset by the peer: reading will say it left, "connection lost"
            self.connection_lost = True
            self.outbox.clear()
        del self.outbox[:max(sent, 0)]
        if self.leaving_since is not None:
            if not self.outbox or time.monotonic() - self.leaving_since >= GOODBYE_GRACE:
                self.server.close(self)
                return False
            self.watch(selectors.EVENT_WRITE)  # stop reading; send the rest when it fits
        else:
            self.watch(selectors.EVENT_READ | (selectors.EVENT_WRITE if self.outbox else 0))
        return True

    def watch(self, events):
        """Tell the selector what to wake us for (only when that changes: it is a system call)."""
        if events != self.events:
            self.server.selector.modify(self.sock, events, self)
            self.events = events


class RunServer:
    """Accept clients and serve all of them from one thread, until stop()."""

    nodelay = True  # TCP_NODELAY on every connection, as in the reference server
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
        self.selector = None
        self.room = ChattingRoom(log=lambda message: self.log(message), words=self.words)  # a harness may replace self.log
        self.clients = set()  # every open ChatClient, joined or not
        self.to_flush = set()  # clients with something new queued during this turn
        self.leaving = set()  # clients sending their last lines before they are closed
        self.joining = {}  # client -> when it must have chosen a nickname
        self.lock = threading.Lock()  # guards the two flags below, shared with stop()
        self.stopped = False
        self.running = False
        self.finished = threading.Event()
        self.doorman = None  # turns newcomers away when the server is full (server_open)
        self.paused_until = None  # out of descriptors: accept() again at this time
        self.arrived = collections.deque()  # (function, args) other threads ask the loop to run: call_soon

    def log(self, message):
        """Tell the person running the server what is happening."""
        log_line(message)

    def server_open(self):
        """Create, configure, bind and listen; prepare the selector."""
        self.listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.listener.bind((self.host, self.port))
        self.listener.listen(128)
        self.listener.setblocking(False)
        self.host, self.port = self.listener.getsockname()
        # stop() and call_soon() run in other threads: they write a byte here to wake select().
        self.wake_reader, self.wake_writer = socket.socketpair()
        self.wake_reader.setblocking(False)
        self.wake_writer.setblocking(False)  # full of wake-ups already: one more changes nothing
        self.selector = selectors.DefaultSelector()
        self.selector.register(self.listener, selectors.EVENT_READ, "accept")
        self.selector.register(self.wake_reader, selectors.EVENT_READ, "wake")
        self.doorman = Doorman(lambda message: self.log(message), self.words)
        if self.room_url is not None:
            self.join_shared_room()

    def join_shared_room(self):
        """Join the room that spans servers: what Redis brings, the loop runs (RoomUnreachable if no answer)."""
        shared = SharedRoom(self.room_url, self.room_name or f"{self.host}:{self.port}", self.room,
                            log=lambda message: self.log(message), deliver=self.call_soon,
                            presence_seconds=self.presence_seconds, words=self.words)
        try:
            shared.open()
        except BaseException:
            self.close_everything()
            raise
        self.room.shared = shared

    def call_soon(self, function, *args):
        """Run function(*args) in the loop's thread at its next turn (from any thread: the shared room's)."""
        self.arrived.append((function, args))
        try:
            self.wake_writer.send(b"!")
        except OSError:  # full of wake-ups already, or closed: the loop has stopped
            pass

    def run(self):
        """The event loop: wait for ready sockets, handle them, flush, repeat until stop()."""
        with self.lock:
            if self.stopped:
                return
            self.running = True
        try:
            while not self.stopped:
                for key, events in self.selector.select(self.timeout()):
                    if key.data == "accept":
                        self.accept()
                    elif key.data == "wake":
                        self.wake_reader.recv(64)
                    elif key.data in self.clients:  # not closed earlier in this turn
                        if events & selectors.EVENT_READ:
                            key.data.on_readable()
                        if events & selectors.EVENT_WRITE:
                            self.to_flush.add(key.data)
                while self.arrived:  # what other threads handed over (a shared room's lines and answers)
                    function, args = self.arrived.popleft()
                    function(*args)
                self.check_deadlines()
                self.flush_all()
        finally:  # stop(), or Ctrl+C (KeyboardInterrupt) in select()
            self.say_goodbye()
            self.close_everything()
            self.finished.set()

    def timeout(self):
        """How long select() may wait: until the next deadline (someone leaving or joining), if any."""
        deadlines = [client.leaving_since + GOODBYE_GRACE for client in self.leaving]
        deadlines += list(self.joining.values()) + ([self.paused_until] if self.paused_until is not None else [])
        return max(0.0, min(deadlines) - time.monotonic()) if deadlines else None

    def check_deadlines(self):
        """Disconnect newcomers too slow to choose a nickname; accept again after a pause."""
        now = time.monotonic()
        for client in [client for client, deadline in self.joining.items() if deadline <= now]:
            del self.joining[client]
            client.send(self.words.NICK_TOO_SLOW.format(number=round(self.nickname_seconds)))
            client.leave(protocol.LEFT_QUIT)
        if self.paused_until is not None and self.paused_until <= now:
            self.paused_until = None
            self.selector.register(self.listener, selectors.EVENT_READ, "accept")

    def accept(self):
        """Take a new connection and ask for its nickname (or turn it away: too many waiting, no descriptor)."""
        try:
            conn, _ = self.listener.accept()
        except BlockingIOError:  # another turn took it, or the client gave up already
            return
        except OSError as error:
            if error.errno in OUT_OF_RESOURCES:
                self.out_of_resources(error)
            return
        if self.nodelay:
            conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        if len(self.joining) >= self.max_joining:
            self.doorman.turn_away(conn, f"{len(self.joining)} connections are still choosing a nickname")
            return
        conn.setblocking(False)
        client = ChatClient(conn, self.room, self)
        self.clients.add(client)
        self.joining[client] = time.monotonic() + self.nickname_seconds
        self.selector.register(conn, selectors.EVENT_READ, client)

    def out_of_resources(self, error):
        """No descriptor for a newcomer: turn it away with the spare one, or pause accepting a moment."""
        if not self.doorman.no_descriptor(self.listener, error):  # members may leave meanwhile
            self.selector.unregister(self.listener)
            self.paused_until = time.monotonic() + BACKOFF

    def flush_all(self):
        """Send what was queued this turn (one send() per client, however many lines)."""
        flushing, self.to_flush = self.to_flush | self.leaving, set()
        for client in flushing:  # a leaving client is closed once sent out, or its grace is over
            if client in self.clients:
                client.flush()

    def close(self, client):
        """Close one client's connection and forget it."""
        if client in self.clients:
            self.clients.discard(client)
            self.leaving.discard(client)
            self.selector.unregister(client.sock)
            client.sock.close()

    def say_goodbye(self):
        """Tell everyone the server is closing; give the notice a moment to leave."""
        self.room.closing = True
        for sock in (self.listener, self.wake_reader):  # from now on only writes matter
            if sock in (key.fileobj for key in self.selector.get_map().values()):
                self.selector.unregister(sock)
        for client in list(self.clients):
            client.send(self.words.SHUTTING_DOWN)
            client.leave(protocol.LEFT_QUIT)
        while self.clients:
            for client in list(self.clients):
                client.flush()  # closes it once the notice is out, or after GOODBYE_GRACE
            if self.clients:
                self.selector.select(self.timeout())

    def close_everything(self):
        """Close every socket this server opened (after leaving a shared room: the leave notices go out)."""
        if self.room.shared is not None:
            self.room.shared.close()
        for client in list(self.clients):
            self.close(client)
        self.selector.close()  # also forgets the listener and wake-up socket
        for sock in (self.listener, self.wake_reader, self.wake_writer):
            sock.close()
        self.doorman.close()

    def stop(self):
        """Stop serving: wake the loop, which says goodbye and closes everything; wait for it."""
        with self.lock:
            self.stopped = True
            running = self.running
        if running:
            try:
                self.wake_writer.send(b"!")
            except OSError:  # the loop has already closed it
                pass
            self.finished.wait()
        elif self.listener is not None and self.listener.fileno() != -1:
            self.close_everything()
