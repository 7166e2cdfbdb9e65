"""The live-lab harness: real servers and clients inside a notebook or a test.

    LiveServer(stage=5)           a staged server on 127.0.0.1, any free port,
    LiveServer()                  the reference server,
    LiveServer(module=m)          any module with a RunServer class: a module, a dotted
                                  name, or a file ("../exercises/ex02_accept_loop.py",
                                  loaded afresh each time), run by a background thread.
    LiveServer(name="A", room=url)  one of several servers sharing a room through Redis
                                  (url: redis://HOST:PORT/ROOM; chatkit.lab.rooms starts a Redis)
    LiveClient(server, "alice")   connects, answers the nickname question,
                                  say(text), expect(text), and records every
                                  line it sent and received with the time.

    server.transcript()  who said what, who heard it, when      (chatkit.lab.views)
    server.diagram()     the same exchange as a sequence diagram
    server.threads()     the server's threads and what each one is waiting for
    server.show_log()    what the server logged or printed
    stop_all()           stop every server and client this process started

Both are context managers and have stop()/close(). Running the same cell
again stops the previous server of that kind (and the clients connected to
it) first, so there is never an "Address already in use" nor a thread left
behind.

Background threads never print into your notebook: in Jupyter, a print()
from a background thread lands in whichever cell happens to be running.
So ``server.log()`` is redirected into ``server.log_lines``, and anything
the server's threads print (or an exception that kills one of them) is
caught (chatkit.lab.thread_output) and added there too; ``server.show_log()`` shows it
where you ask for it.
"""

import inspect
import select
import socket
import sys
import threading
import time

from chatkit import protocol
from chatkit.lab import thread_output, views
from chatkit.protocol import encode_line
from chatkit.tools import servers
from chatkit.tools.language import translated as _
from chatkit.tools.recorder import Recorder

DEFAULT_TIMEOUT = 5.0  # seconds to wait for an expected line
QUICKACK = getattr(socket, "TCP_QUICKACK", None)  # Linux only
_running_servers = {}  # name -> LiveServer, so a re-run cell replaces its server
_room_clocks = {}  # room url -> time.monotonic() when its first server started: one clock for all of them
_lock = threading.Lock()


def room_clock(room):
    """When the first server of this shared room started (the times of all its servers count from there)."""
    with _lock:
        return _room_clocks.setdefault(room, time.monotonic())


def source_files(module):
    """The files whose code runs in a server's threads: the module and its classes' bases."""
    found = [module]
    for _, cls in inspect.getmembers(module, inspect.isclass):
        if cls.__module__ == module.__name__:
            found += [base for base in cls.__mro__ if base.__module__.split(".")[0] not in sys.stdlib_module_names]
    files = set()
    for thing in found:
        try:
            files.add(inspect.getsourcefile(thing))
        except TypeError:  # built into Python or a compiled extension: no source file
            pass
    files.discard(None)
    files.discard(__file__)  # the harness itself is nobody's server code
    return files


def socket_ports(frame):
    """The local ports of the sockets a frame holds, directly or as obj.sock, obj.conn, ..."""
    for value in list(frame.f_locals.values()):
        for candidate in [value] + [getattr(value, name, None) for name in ("sock", "conn", "listener")]:
            if isinstance(candidate, socket.socket):
                try:
                    yield candidate.getsockname()[1]
                except OSError:  # closed already
                    pass


class LiveServer:
    """A chat server running in a background thread, on 127.0.0.1 and a free port."""

    def __init__(self, stage=None, module=None, name=None, asks_nickname=None, host="127.0.0.1", port=0,
                 room=None, lang=None, **settings):
        """`settings` are set on the RunServer before it opens: presence_seconds=2, nickname_seconds=5...

        lang="ko": the server speaks Korean (the reference server and stage 6; the stages speak the report's English).
        """
        choice = servers.choose(stage if stage is not None else module)
        self.module = choice.load()
        if name is None and room is not None:  # servers of one room need names of their own: A, B, C...
            taken = {server.name for server in running_servers()}
            name = next(letter for letter in "ABCDEFGHIJKLMNOPQRSTUVWXYZ" if letter not in taken)
        self.name = name or (f"stage {stage}" if stage is not None else self.module.__name__)
        # Stages 1-4 have no nicknames; stage 5, the reference server and your own modules do.
        self.asks_nickname = choice.asks_nickname if asks_nickname is None else asks_nickname
        self.log_lines = []  # (seconds since start, text)
        self.clients = []  # the LiveClients connected now
        self.history = []  # every LiveClient that connected, for the transcript
        self.crash = None  # the exception that ended run(), if any
        self.room = room  # the shared room's address, if it shares one
        self.started = time.monotonic() if room is None else room_clock(room)
        self.source_files = source_files(self.module)
        replace(self.name, self.record)
        options = {name: value for name, value in (("room", room), ("lang", lang)) if value is not None}
        if lang is not None and "lang" not in inspect.signature(self.module.RunServer).parameters:
            raise TypeError(f"{self.name} speaks only English: lang= is for the reference server and stage 6")
        self.server = self.module.RunServer(host, port, **options)
        self.words = protocol.words(lang or "en")  # what it says
        self.server.log = self.record
        if room is not None:
            self.server.room_name = self.name.replace(" ", "-")  # what the other servers of the room call it
        for setting, value in settings.items():
            if not hasattr(self.server, setting):
                raise TypeError(f"{self.name}'s RunServer has no setting {setting!r}")
            setattr(self.server, setting, value)
        self.server.server_open()
        self.host, self.port = self.server.host, self.server.port
        thread_output.install(owner_of)
        self.thread = threading.Thread(target=self._run, name=f"server {self.name}", daemon=True)
        register(self)
        self.thread.start()

    @property
    def address(self):
        return (self.host, self.port)

    @property
    def running(self):
        return self.thread.is_alive()

    def _run(self):
        try:
            self.server.run()
        except Exception as error:  # shown by stop() and in the log, not lost in a thread
            self.record(f"server crashed: {error!r}")
            self.crash = error

    def record(self, message):
        """Add a line to the server's log (the server's own log() ends up here)."""
        self.log_lines.append((time.monotonic() - self.started, str(message)))

    def owns(self, frames):
        """True if these frames (a thread's stack) run this server's code, for this server.

        Two servers of neighbouring stages share code (stage 3 runs stage 2's
        serve_client), so the code alone is not enough: the sockets the
        frames hold tell which server's port they belong to.
        """
        if not any(frame.f_code.co_filename in self.source_files for frame in frames):
            return False
        ports = {port for frame in frames for port in socket_ports(frame)}
        return self.port in ports if ports else True

    def stop(self, timeout=None):
        """Disconnect this server's clients, stop the server and wait for its thread."""
        timeout = DEFAULT_TIMEOUT if timeout is None else timeout
        unregister(self)
        for client in list(self.clients):
            client.close(quit=False)
        self.server.stop()
        self.thread.join(timeout)
        if self.thread.is_alive():
            raise RuntimeError(f"{self.name} server did not stop within {timeout} s: is run() stuck in accept() or recv()?")

    def transcript(self, **options):
        """Who said what, who heard it and when (a table; see chatkit.lab.views.transcript)."""
        return views.transcript(self, **options)

    def diagram(self, **options):
        """The exchange so far as a sequence diagram (SVG; see chatkit.lab.views.sequence_diagram)."""
        return views.sequence_diagram(self, **options)

    def threads(self, **options):
        """This server's threads and what each one waits for (see chatkit.lab.views.thread_view)."""
        return views.thread_view(self, **options)

    def show_log(self, last=20):
        """The last lines the server logged or printed, with their times."""
        return views.server_log(self, last=last)

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        self.stop()

    def __repr__(self):
        state = "running" if self.running else "stopped"
        return f"<LiveServer {self.name} on {self.host}:{self.port}, {state}>"


def replace(name, record):
    """Stop what runs under `name` (a re-run cell replaces it); a stuck one is reported to `record`."""
    with _lock:
        previous = _running_servers.pop(name, None)
    if previous is not None:
        try:
            previous.stop()
        except RuntimeError as error:  # its thread is stuck: say so, and start the new one anyway
            record(f"the previous {name} server did not stop ({error}); "
                   "its thread stays behind until the kernel restarts")


def register(running):
    """Keep `running` (a LiveServer, or anything with name, clients, owns() and stop()) for stop_all()."""
    with _lock:
        _running_servers[running.name] = running


def unregister(running):
    with _lock:
        if _running_servers.get(running.name) is running:
            del _running_servers[running.name]


def owner_of(frames):
    """The running LiveServer whose code these frames (a thread's stack) run, if any."""
    return next((server for server in reversed(running_servers()) if server.owns(frames)), None)


def running_servers():
    """The LiveServers of this process that have not been stopped."""
    with _lock:
        return list(_running_servers.values())


def stop_all():
    """Stop every LiveServer (and its clients) started in this process; say what was stopped.

    A Redis (chatkit.lab.rooms) stops last, once the chat servers have left its rooms.
    """
    servers = sorted(running_servers(), key=lambda server: getattr(server, "stops_last", False))
    clients = sum(len(server.clients) for server in servers)
    failures = []
    for server in servers:
        try:
            server.stop()
        except RuntimeError as error:  # one stuck server must not keep the others running
            failures.append(str(error))
    if failures:
        raise RuntimeError("; ".join(failures))
    names = ", ".join(server.name for server in servers) or _("none")
    return _("stopped {servers} server(s) ({names}) and {clients} client(s)").format(
        servers=len(servers), names=names, clients=clients)


class ClientClosed(ConnectionError):
    """This LiveClient's connection is closed: it cannot send any more."""


class LiveClient(Recorder):
    """A chat client driven from code, recording everything it sends and receives."""

    def __init__(self, server, nick=None, timeout=DEFAULT_TIMEOUT, rcvbuf=None):
        if not server.running:
            raise RuntimeError(f"{server.name} is stopped: run the cell that starts it again first")
        self.server = server
        self.nick = nick
        self.timeout = timeout
        self.sent = []  # (seconds since the server started, text)
        self.reading = threading.Event()  # cleared by pause(): the client stops reading
        self.reading.set()
        self.read_lock = threading.Lock()  # pause() never lands in the middle of a recv()
        for old in [c for c in server.clients if nick is not None and c.nick == nick]:
            old.close()  # a re-run cell replaces its client of the same name
            server.history.remove(old)
        self.label = nick or f"client {len(server.history) + 1}"
        if getattr(server, "room", None) is not None:  # in a room of several servers: alice@A
            self.label += f"@{server.name}"
        self.connected_at = time.monotonic() - server.started
        super().__init__(server.address, self.label, server.started, receive_buffer=rcvbuf, timeout=timeout)
        self.sock.settimeout(None)
        self.start_reading(f"lab client {self.label}")
        server.clients.append(self)
        server.history.append(self)
        if nick is not None and server.asks_nickname:
            self.expect(getattr(server, "words", protocol.ENGLISH).PROMPT)  # in the server's language
            self.say(nick)
            self.expect_notice(protocol.JOINED, nick=nick)

    def read(self):
        """The next bytes from the server, taken only while not paused; b"" once closed."""
        while True:
            self.reading.wait()
            if self.sock.fileno() == -1:  # closed here
                return b""
            try:
                # Wait for data without taking it. Now and then look again whether
                # close() ran: its file descriptor may already belong to another socket.
                if not select.select([self.sock], [], [], 0.5)[0]:
                    continue
                with self.read_lock:
                    if not self.reading.is_set():
                        continue  # paused meanwhile: the data stays in the kernel's buffers
                    # Acknowledge at once (Linux): with delayed ACKs the server's next
                    # small line waits up to 40 ms for our ACK (Nagle's algorithm on its side).
                    if QUICKACK is not None:
                        self.sock.setsockopt(socket.IPPROTO_TCP, QUICKACK, 1)
                    return self.sock.recv(65536)
            except (OSError, ValueError):  # reset, or closed here (ValueError: no file descriptor)
                return b""

    def wake_reader(self):
        self.reading.set()  # a paused reader wakes up, finds the socket closed and ends

    def pause(self):
        """Stop reading from now on, like a program that hangs or a laptop that sleeps."""
        with self.read_lock:
            self.reading.clear()

    def resume(self):
        """Start reading again."""
        self.reading.set()

    def say(self, text):
        """Send one line."""
        self.send_bytes(encode_line(text), text)

    def send_bytes(self, data, text=None):
        """Send raw bytes (no newline added): for splitting lines on purpose."""
        if self.sock.fileno() == -1:
            raise ClientClosed(f"{self.label}'s connection is closed (was its server stopped or restarted?): "
                               "run the cells that start the server and its clients again")
        self.sent.append((self.now(), data.decode(errors="replace") if text is None else text))
        self.sock.sendall(data)

    def expect(self, text, timeout=None):
        """Wait for a line containing `text` after the last one expected; return it."""
        timeout = self.timeout if timeout is None else timeout
        line = self.wait_for(lambda line: text in line, timeout)
        if line is None:
            seen = [_shorten(line) for line in self.unread()]
            why = "the connection closed" if self.closed else f"{timeout:g} s passed"
            raise AssertionError(f"{self.label} expected a line containing {text!r}, "
                                 f"but {why}; last lines received: {seen}")
        return line

    def expect_notice(self, notice, timeout=None, **fields):
        """Wait for a line of this kind (chatkit.protocol.JOINED, ...) with these fields; return its fields."""
        timeout = self.timeout if timeout is None else timeout

        def fits(line):
            found = notice.parse(line)
            return found is not None and all(found.get(name) == value for name, value in fields.items())

        line = self.wait_for(fits, timeout)
        if line is None:
            seen = [_shorten(line) for line in self.unread()]
            raise AssertionError(f"{self.label} expected a line like {notice.template!r} with {fields}, "
                                 f"but {'the connection closed' if self.closed else f'{timeout:g} s passed'}; "
                                 f"last lines received: {seen}")
        return notice.parse(line)

    def expect_all(self, texts, timeout=None):
        """Wait until each of `texts` is in some line after the last one expected, in any order."""
        timeout = self.timeout if timeout is None else timeout
        with self.arrived:
            def missing():
                later = [line for _, line in self.received[self.cursor:]]
                return [text for text in texts if not any(text in line for line in later)]

            if not self.arrived.wait_for(lambda: not missing() or self.closed, timeout) or missing():
                raise AssertionError(f"{self.label} still waits for lines containing {missing()!r}")
            self.cursor = len(self.received)

    def hears(self, text, within):
        """True if a line containing `text` arrives within `within` seconds (like expect())."""
        return self.wait_for(lambda line: text in line, within) is not None

    def expect_silence(self, duration):
        """Assert that no new line arrives for `duration` seconds."""
        with self.arrived:
            start = len(self.received)
            self.arrived.wait_for(lambda: len(self.received) > start, duration)
            if len(self.received) > start:
                raise AssertionError(f"{self.label} expected silence, got {_shorten(self.received[start][1])!r}")

    def wait_closed(self, timeout=None):
        """Wait until the server closes the connection; False if it did not."""
        return super().wait_closed(self.timeout if timeout is None else timeout)

    def close(self, quit=None):
        """Leave: say /quit and wait for the server to hang up (quit=False: just close).

        By default only servers that ask for nicknames (stage 5 and later)
        are told /quit; stages 1-4 would simply echo it.
        """
        quit = self.server.asks_nickname if quit is None else quit
        if quit and self.sock.fileno() != -1 and not self.closed and self.reading.is_set():
            try:
                self.say("/quit")
                self.wait_closed(self.timeout)
            except OSError:
                pass
        self.hang_up()
        if self in self.server.clients:
            self.server.clients.remove(self)

    def reset(self):
        """Vanish abruptly: close with a TCP reset, as a crashed client or a pulled cable would."""
        self.hang_up(reset=True)
        self.close(quit=False)

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        self.close()

    def __repr__(self):
        return f"<LiveClient {self.label!r} of {self.server.name}, {len(self.received)} lines received>"


def _shorten(line, width=80):
    """A line cut to `width` characters for an error message."""
    return line if len(line) <= width else f"{line[:width - 20]}... ({len(line)} characters)"
