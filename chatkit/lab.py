"""The live-lab harness: real servers and clients inside a notebook or a test.

    LiveServer(stage=5)           a staged server on 127.0.0.1, any free port,
    LiveServer()                  the reference server,
    LiveServer(module=m)          any module with a RunServer class: a module, a dotted
                                  name, or a file ("../exercises/ex02_accept_loop.py",
                                  loaded afresh each time), run by a background thread.
    LiveClient(server, "alice")   connects, answers the nickname question,
                                  say(text), expect(text), and records every
                                  line it sent and received with the time.

    server.transcript()  who said what, who heard it, when      (chatkit.views)
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
caught (chatkit.thread_output) and added there too; ``server.show_log()`` shows it
where you ask for it.
"""

import importlib
import importlib.util
import inspect
import pathlib
import select
import socket
import struct
import sys
import threading
import time

from chatkit import thread_output
from chatkit.protocol import LineReader, encode_line

DEFAULT_TIMEOUT = 5.0  # seconds to wait for an expected line
QUICKACK = getattr(socket, "TCP_QUICKACK", None)  # Linux only
_running_servers = {}  # name -> LiveServer, so a re-run cell replaces its server
_lock = threading.Lock()


def wait_until(condition, timeout, what):
    """Return once condition() is true; raise TimeoutError naming `what` after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    pause = threading.Event()
    while not condition():
        if time.monotonic() > deadline:
            raise TimeoutError(f"{what} did not happen within {timeout:g} s")
        pause.wait(0.01)  # look again soon; the deadline bounds the wait


def load_server_module(stage=None, module=None):
    """The server module for a stage number, a module, a dotted name, a .py file, or the reference."""
    from chatkit import server, stages

    if stage is not None:
        return stages.load(stage)
    if module is None:
        return server
    if str(module).endswith(".py"):
        return load_file(module)
    if isinstance(module, str):
        return importlib.import_module(module)
    return module


def load_file(path):
    """Import a .py file (your exercise) afresh, so that a re-run cell runs your latest edit."""
    path = pathlib.Path(path).expanduser().resolve()
    if not path.exists():
        raise FileNotFoundError(f"no file {path} (a notebook runs in notebooks/: try '../exercises/{path.name}')")
    name = path.stem
    known = sys.modules.get(name)
    if known is not None and getattr(known, "__file__", None) != str(path):
        name = f"{name}_from_file"  # never replace a module of the same name from elsewhere
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # inspect finds the classes' source through sys.modules
    spec.loader.exec_module(module)
    return module


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

    def __init__(self, stage=None, module=None, name=None, asks_nickname=None, host="127.0.0.1", port=0):
        self.module = load_server_module(stage, module)
        self.name = name or (f"stage {stage}" if stage is not None else self.module.__name__)
        # Stages 1-4 have no nicknames; stage 5, the reference server and your own modules do.
        self.asks_nickname = (stage is None or stage >= 5) if asks_nickname is None else asks_nickname
        self.log_lines = []  # (seconds since start, text)
        self.clients = []  # the LiveClients connected now
        self.history = []  # every LiveClient that connected, for the transcript
        self.crash = None  # the exception that ended run(), if any
        self.started = time.monotonic()
        self.source_files = source_files(self.module)
        with _lock:
            previous = _running_servers.pop(self.name, None)
        if previous is not None:
            try:
                previous.stop()
            except RuntimeError as error:  # its thread is stuck: say so, and start the new one anyway
                self.record(f"the previous {self.name} server did not stop ({error}); "
                            "its thread stays behind until the kernel restarts")
        self.server = self.module.RunServer(host, port)
        self.server.log = self.record
        self.server.server_open()
        self.host, self.port = self.server.host, self.server.port
        thread_output.install(owner_of)
        self.thread = threading.Thread(target=self._run, name=f"server {self.name}", daemon=True)
        with _lock:
            _running_servers[self.name] = self
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
        with _lock:
            if _running_servers.get(self.name) is self:
                del _running_servers[self.name]
        for client in list(self.clients):
            client.close(quit=False)
        self.server.stop()
        self.thread.join(timeout)
        if self.thread.is_alive():
            raise RuntimeError(f"{self.name} server did not stop within {timeout} s: is run() stuck in accept() or recv()?")

    def transcript(self, **options):
        """Who said what, who heard it and when (a table; see chatkit.views.transcript)."""
        from chatkit import views

        return views.transcript(self, **options)

    def diagram(self, **options):
        """The exchange so far as a sequence diagram (SVG; see chatkit.views.sequence_diagram)."""
        from chatkit import views

        return views.sequence_diagram(self, **options)

    def threads(self, **options):
        """This server's threads and what each one waits for (see chatkit.views.thread_view)."""
        from chatkit import views

        return views.thread_view(self, **options)

    def show_log(self, last=20):
        """The last lines the server logged or printed, with their times."""
        from chatkit import views

        return views.server_log(self, last=last)

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        self.stop()

    def __repr__(self):
        state = "running" if self.running else "stopped"
        return f"<LiveServer {self.name} on {self.host}:{self.port}, {state}>"


def owner_of(frames):
    """The running LiveServer whose code these frames (a thread's stack) run, if any."""
    return next((server for server in reversed(running_servers()) if server.owns(frames)), None)


def running_servers():
    """The LiveServers of this process that have not been stopped."""
    with _lock:
        return list(_running_servers.values())


def stop_all():
    """Stop every LiveServer (and its clients) started in this process; say what was stopped."""
    servers = running_servers()
    clients = sum(len(server.clients) for server in servers)
    failures = []
    for server in servers:
        try:
            server.stop()
        except RuntimeError as error:  # one stuck server must not keep the others running
            failures.append(str(error))
    if failures:
        raise RuntimeError("; ".join(failures))
    names = ", ".join(server.name for server in servers) or "none"
    return f"stopped {len(servers)} server(s) ({names}) and {clients} client(s)"


class ClientClosed(ConnectionError):
    """This LiveClient's connection is closed: it cannot send any more."""


class LiveClient:
    """A chat client driven from code, recording everything it sends and receives."""

    def __init__(self, server, nick=None, timeout=DEFAULT_TIMEOUT, rcvbuf=None):
        if not server.running:
            raise RuntimeError(f"{server.name} is stopped: run the cell that starts it again first")
        self.server = server
        self.nick = nick
        self.timeout = timeout
        self.received = []  # (seconds since the server started, line)
        self.sent = []  # (seconds since the server started, text)
        self.cursor = 0  # expect() looks at lines after this index
        self.arrived = threading.Condition()
        self.closed = False
        self.reading = threading.Event()  # cleared by pause(): the client stops reading
        self.reading.set()
        self.read_lock = threading.Lock()  # pause() never lands in the middle of a recv()
        for old in [c for c in server.clients if nick is not None and c.nick == nick]:
            old.close()  # a re-run cell replaces its client of the same name
            server.history.remove(old)
        self.label = nick or f"client {len(server.history) + 1}"
        self.connected_at = self._now()
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        if rcvbuf is not None:  # a small receive buffer fills sooner (set before connecting)
            self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
        self.sock.settimeout(timeout)
        try:
            self.sock.connect(server.address)
        except OSError:
            self.sock.close()
            raise
        self.sock.settimeout(None)
        # Send each line at once: Nagle's algorithm would hold a small line back
        # for up to 40 ms, and the transcript would blame the server for it.
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.thread = threading.Thread(target=self._receive, name=f"lab client {self.label}", daemon=True)
        self.thread.start()
        server.clients.append(self)
        server.history.append(self)
        if nick is not None and server.asks_nickname:
            self.expect("nickname")
            self.say(nick)
            self.expect(f"{nick} joined")

    def _now(self):
        return time.monotonic() - self.server.started

    def _receive(self):
        reader = LineReader(max_chars=1 << 30)
        while True:
            data = self._read_unless_paused()
            with self.arrived:
                if data:
                    now = self._now()
                    self.received.extend((now, line) for line in reader.feed(data))
                else:
                    self.closed = True
                self.arrived.notify_all()
            if not data:
                return

    def _read_unless_paused(self):
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
        self.sent.append((self._now(), data.decode(errors="replace") if text is None else text))
        self.sock.sendall(data)

    def lines(self):
        """Every line received so far."""
        with self.arrived:
            return [line for _, line in self.received]

    def expect(self, text, timeout=None):
        """Wait for a line containing `text` after the last one expected; return it."""
        timeout = self.timeout if timeout is None else timeout
        deadline = time.monotonic() + timeout
        with self.arrived:
            while True:
                for index in range(self.cursor, len(self.received)):
                    if text in self.received[index][1]:
                        self.cursor = index + 1
                        return self.received[index][1]
                left = deadline - time.monotonic()
                if left <= 0 or self.closed:
                    seen = [_shorten(line) for _, line in self.received[self.cursor:]][-10:]
                    why = "the connection closed" if self.closed else f"{timeout:g} s passed"
                    raise AssertionError(f"{self.label} expected a line containing {text!r}, "
                                         f"but {why}; last lines received: {seen}")
                self.arrived.wait(left)

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
        try:
            self.expect(text, within)
            return True
        except AssertionError:
            return False

    def expect_silence(self, duration):
        """Assert that no new line arrives for `duration` seconds."""
        with self.arrived:
            start = len(self.received)
            self.arrived.wait_for(lambda: len(self.received) > start, duration)
            if len(self.received) > start:
                raise AssertionError(f"{self.label} expected silence, got {_shorten(self.received[start][1])!r}")

    def wait_closed(self, timeout=None):
        """Wait until the server closes the connection; False if it did not."""
        with self.arrived:
            return self.arrived.wait_for(lambda: self.closed, self.timeout if timeout is None else timeout)

    def close(self, quit=None):
        """Leave: say /quit and wait for the server to hang up (quit=False: just close).

        By default only servers that ask for nicknames (stage 5 and later)
        are told /quit; stages 1-4 would simply echo it.
        """
        quit = self.server.asks_nickname if quit is None else quit
        if self.sock.fileno() != -1:
            if quit and not self.closed and self.reading.is_set():
                try:
                    self.say("/quit")
                    self.wait_closed(self.timeout)
                except OSError:
                    pass
            try:
                self.sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            self.sock.close()
        self.reading.set()  # a paused reader wakes up, finds the socket closed and ends
        self.thread.join(self.timeout)
        if self in self.server.clients:
            self.server.clients.remove(self)

    def reset(self):
        """Vanish abruptly: close with a TCP reset, as a crashed client or a pulled cable would."""
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        self.sock.shutdown(socket.SHUT_RD)  # wakes our receive thread without telling the server
        self.reading.set()  # (a paused one too)
        self.thread.join(self.timeout)
        self.sock.close()  # linger 0: this close sends RST, not FIN (shutdown(SHUT_RDWR) would send FIN)
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
