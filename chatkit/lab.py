"""The live-lab harness: real servers and clients inside a notebook or a test.

    LiveServer(stage=5)           a staged server on 127.0.0.1, any free port,
    LiveServer()                  the reference server,
    LiveServer(module=m)          any module with a RunServer class (your exercise),
                                  run by a background thread of this process.
    LiveClient(server, "alice")   connects, answers the nickname question,
                                  say(text), expect(text), and records every
                                  line it received with the time it arrived.

Both are context managers and have stop()/close(). Running the same cell
again stops the previous server of that kind (and the clients connected to
it) first, so there is never an "Address already in use" nor a thread left
behind. Server log lines are collected in ``server.log_lines``, never
printed from a background thread (they would land in whichever notebook
cell happens to be running).
"""

import importlib
import socket
import threading
import time

from chatkit.protocol import LineReader, encode_line

DEFAULT_TIMEOUT = 5.0  # seconds to wait for an expected line
_running_servers = {}  # key -> LiveServer, so a re-run cell replaces its server
_lock = threading.Lock()


def load_server_module(stage=None, module=None):
    """The server module for a stage number, a module, a dotted name, or the reference."""
    from chatkit import server, stages

    if stage is not None:
        return stages.load(stage)
    if module is None:
        return server
    if isinstance(module, str):
        return importlib.import_module(module)
    return module


class LiveServer:
    """A chat server running in a background thread, on 127.0.0.1 and a free port."""

    def __init__(self, stage=None, module=None, name=None, asks_nickname=None, host="127.0.0.1", port=0):
        self.module = load_server_module(stage, module)
        self.name = name or (f"stage {stage}" if stage is not None else self.module.__name__)
        # Stages 1-4 have no nicknames; stage 5, the reference server and your own modules do.
        self.asks_nickname = (stage is None or stage >= 5) if asks_nickname is None else asks_nickname
        self.log_lines = []  # (seconds since start, text)
        self.clients = []
        self.crash = None  # the exception that ended run(), if any
        self.started = time.monotonic()
        with _lock:
            previous = _running_servers.pop(self.name, None)
        if previous is not None:
            previous.stop()
        self.server = self.module.RunServer(host, port)
        self.server.log = self._log
        self.server.server_open()
        self.host, self.port = self.server.host, self.server.port
        self.thread = threading.Thread(target=self._run, name=f"server {self.name}", daemon=True)
        self.thread.start()
        with _lock:
            _running_servers[self.name] = self

    @property
    def address(self):
        return (self.host, self.port)

    def _run(self):
        try:
            self.server.run()
        except Exception as error:  # shown by stop() and in the log, not lost in a thread
            self._log(f"server crashed: {error!r}")
            self.crash = error

    def _log(self, message):
        self.log_lines.append((time.monotonic() - self.started, str(message)))

    def stop(self, timeout=DEFAULT_TIMEOUT):
        """Disconnect this server's clients, stop the server and wait for its thread."""
        with _lock:
            if _running_servers.get(self.name) is self:
                del _running_servers[self.name]
        for client in list(self.clients):
            client.close(quit=False)
        self.server.stop()
        self.thread.join(timeout)
        if self.thread.is_alive():
            raise RuntimeError(f"{self.name} server did not stop within {timeout} s: is run() stuck in accept() or recv()?")

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        self.stop()

    def __repr__(self):
        state = "running" if self.thread.is_alive() else "stopped"
        return f"<LiveServer {self.name} on {self.host}:{self.port}, {state}>"


class LiveClient:
    """A chat client driven from code, recording everything it receives."""

    def __init__(self, server, nick=None, timeout=DEFAULT_TIMEOUT):
        self.server = server
        self.nick = nick
        self.timeout = timeout
        self.received = []  # (seconds since the server started, line)
        self.cursor = 0  # expect() looks at lines after this index
        self.arrived = threading.Condition()
        self.closed = False
        for old in [c for c in server.clients if nick is not None and c.nick == nick]:
            old.close()  # a re-run cell replaces its client of the same name
        self.sock = socket.create_connection(server.address, timeout=timeout)
        self.sock.settimeout(None)
        self.thread = threading.Thread(target=self._receive, name=f"client {nick or '?'}", daemon=True)
        self.thread.start()
        server.clients.append(self)
        if nick is not None and server.asks_nickname:
            self.expect("nickname")
            self.say(nick)
            self.expect(f"{nick} joined")

    def _receive(self):
        reader = LineReader(max_chars=1 << 30)
        while True:
            try:
                data = self.sock.recv(65536)
            except OSError:
                data = b""
            with self.arrived:
                if not data:
                    self.closed = True
                else:
                    now = time.monotonic() - self.server.started
                    self.received.extend((now, line) for line in reader.feed(data))
                self.arrived.notify_all()
            if not data:
                return

    def say(self, text):
        """Send one line."""
        self.sock.sendall(encode_line(text))

    def send_bytes(self, data):
        """Send raw bytes (no newline added): for splitting lines on purpose."""
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
                    seen = [line for _, line in self.received[self.cursor:]][-10:]
                    why = "the connection closed" if self.closed else f"{timeout:g} s passed"
                    raise AssertionError(f"{self.nick or 'client'} expected a line containing {text!r}, "
                                         f"but {why}; last lines received: {seen}")
                self.arrived.wait(left)

    def expect_silence(self, duration):
        """Assert that no new line arrives for `duration` seconds."""
        with self.arrived:
            start = len(self.received)
            self.arrived.wait_for(lambda: len(self.received) > start, duration)
            if len(self.received) > start:
                raise AssertionError(f"{self.nick or 'client'} expected silence, got {self.received[start][1]!r}")

    def wait_closed(self, timeout=None):
        """Wait until the server closes the connection; False if it did not."""
        with self.arrived:
            return self.arrived.wait_for(lambda: self.closed, self.timeout if timeout is None else timeout)

    def close(self, quit=True):
        """Leave: say /quit and wait for the server to hang up (quit=False: just close)."""
        if self.sock.fileno() != -1:
            if quit and not self.closed:
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
        self.thread.join(self.timeout)
        if self in self.server.clients:
            self.server.clients.remove(self)

    def reset(self):
        """Vanish abruptly: close with a TCP reset, as a crashed client or a pulled cable would."""
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
        self.close(quit=False)

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        self.close()

    def __repr__(self):
        return f"<LiveClient {self.nick!r} of {self.server.name}, {len(self.received)} lines received>"
