"""A real redis-server for a notebook, a test or the bench: a free port, a folder of its own.

    server = RedisServer()            # redis-server on 127.0.0.1, a free port, in a temporary folder
    server.url("lab")                 # "redis://127.0.0.1:PORT/lab": the room "lab" in this Redis
    server.restart()                  # stop it and start it again on the same port (its data is gone)
    server.freeze(); server.thaw()    # SIGSTOP / SIGCONT: a Redis that hangs without closing anything
    server.command("CONFIG", "GET", "client-output-buffer-limit")
    server.log_lines("output buffer") # what it logged (here: the subscribers it cut off)
    server.stop()                     # and its folder is removed

It keeps nothing on disk (no RDB snapshots, no append-only file): a restart
loses every key, as a Redis without persistence does after a crash. It only
ever listens on 127.0.0.1. Redis has no "port 0" (``--port 0`` turns TCP
off), so a free port is picked here first, and another one tried if a
different program takes it in the meantime.

When redis-server is not installed, RedisServer() raises RedisMissing, whose
message says how to install it on this system.
"""

import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

from chatkit.tools.language import N_, translated

STARTUP_SECONDS = 10.0  # for redis-server to answer PING
STOP_SECONDS = 10.0  # for it to exit after SHUTDOWN or SIGTERM, before SIGKILL
PORT_ATTEMPTS = 5  # free ports tried, if another program takes the one picked first

INSTALL = N_("redis-server is not installed. Install it, then run this again:\n"
             "  Debian, Ubuntu, WSL:  sudo apt install redis-server\n"
             "  macOS (Homebrew):     brew install redis\n"
             "  Windows:              inside WSL as above (Redis has no native Windows build), or Memurai\n"
             "  conda:                conda install -c conda-forge redis-server")


class RedisMissing(RuntimeError):
    """redis-server cannot be found on this machine: the message says how to install it."""


def executable():
    """The redis-server program, or None if it is not installed (CHATKIT_REDIS_SERVER may name it)."""
    return os.environ.get("CHATKIT_REDIS_SERVER") or shutil.which("redis-server")


def free_port():
    """A port nobody listens on right now (the operating system picks it)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def freeze(process):
    """Stop a child process where it stands (SIGSTOP), its connections open: a machine that hangs."""
    if sys.platform == "win32":
        raise OSError("freezing a process needs SIGSTOP, which Windows does not have")
    os.kill(process.pid, signal.SIGSTOP)


def thaw(process):
    """Let a frozen child process go on (SIGCONT); nothing if it has ended."""
    if sys.platform != "win32" and process.poll() is None:
        os.kill(process.pid, signal.SIGCONT)


def reply(port, command, timeout):
    """What the Redis on 127.0.0.1:`port` answers `command`, None if it cannot be reached.

    Raw RESP: no client library needed (the kit needs one only for shared rooms).
    """
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=timeout) as connection:
            connection.sendall(command + b"\r\n")
            return connection.recv(64)
    except OSError:
        return None


def shut_down(port, timeout=1.0):
    """Ask the Redis on 127.0.0.1:`port` to exit now, without saving; True once it has hung up.

    Redis handles the command at once (2 ms), but SIGTERM only at its next
    timer tick (115 ms measured at its default of ten ticks a second), which
    every test that stops a server waited for.
    """
    return reply(port, b"SHUTDOWN NOSAVE", timeout) == b""  # an error reply (a password set, say) is an answer


def answers(port, timeout=0.5):
    """True if a Redis on 127.0.0.1:`port` answers PING."""
    return (reply(port, b"PING", timeout) or b"").startswith(b"+PONG")


class RedisServer:
    """One redis-server process on 127.0.0.1, with a temporary folder of its own."""

    def __init__(self, port=None, settings=()):
        program = executable()
        if program is None:
            raise RedisMissing(translated(INSTALL))  # in the language of the notebook or command
        self.program = program
        self.settings = list(settings)  # more "--name value" arguments for redis-server
        self.folder = tempfile.mkdtemp(prefix="chatkit-redis-")
        self.process = None
        self.port = port
        self.host = "127.0.0.1"
        try:
            self.start()
        except BaseException:
            shutil.rmtree(self.folder, ignore_errors=True)
            raise

    @property
    def log_path(self):
        return os.path.join(self.folder, "redis.log")

    def arguments(self, port):
        return [self.program, "--port", str(port), "--bind", "127.0.0.1", "--dir", self.folder,
                "--save", "", "--appendonly", "no", "--logfile", self.log_path, "--daemonize", "no",
                *self.settings]

    def start(self):
        """Start redis-server (on self.port, or a free port) and wait until it answers PING."""
        for _ in range(PORT_ATTEMPTS if self.port is None else 1):
            port = self.port or free_port()
            self.process = subprocess.Popen(self.arguments(port), stdin=subprocess.DEVNULL,
                                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            deadline = time.monotonic() + STARTUP_SECONDS
            while self.process.poll() is None and time.monotonic() < deadline:
                if answers(port):
                    self.port = port
                    return self
                time.sleep(0.02)  # another program starting: nothing to wait on but its port
            self.kill()
        raise RuntimeError(f"redis-server did not start: {self.last_log_lines()}")

    def log_lines(self, containing=""):
        """The lines of redis-server's log that contain `containing` (all of them by default)."""
        try:
            with open(self.log_path, encoding="utf-8", errors="replace") as log:
                return [line.strip() for line in log if containing in line]
        except OSError:
            return []

    def last_log_lines(self, count=5):
        return " | ".join(self.log_lines()[-count:]) or "(no log)"

    @property
    def running(self):
        return self.process is not None and self.process.poll() is None

    def url(self, room="lab"):
        """The address a chat server joins the room `room` with: ``redis://127.0.0.1:PORT/ROOM``."""
        return f"redis://{self.host}:{self.port}/{room}"

    def command(self, *args):
        """Run one Redis command on a connection of its own (opened and closed here); return the reply."""
        import redis  # loaded on first use: the kit needs the client library only for shared rooms

        with redis.Redis(self.host, self.port, socket_timeout=5, decode_responses=True) as client:
            return client.execute_command(*args)

    def stop(self):
        """Stop redis-server (SIGTERM, then SIGKILL if it does not exit); remove its folder."""
        self.halt()
        shutil.rmtree(self.folder, ignore_errors=True)

    def halt(self):
        """Stop the process but keep the folder and the port, for start() (a restart)."""
        if self.running:
            self.thaw()
            if not shut_down(self.port):
                self.process.terminate()
            try:
                self.process.wait(STOP_SECONDS)
            except subprocess.TimeoutExpired:
                self.kill()
        elif self.process is not None:
            self.process.wait()

    def kill(self):
        """Kill redis-server at once (SIGKILL): a crash, not a shutdown."""
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait()

    def restart(self):
        """Stop redis-server and start it again on the same port: every key is lost (no persistence)."""
        self.halt()
        return self.start()

    def freeze(self):
        """Stop redis-server where it stands (SIGSTOP): connections stay open, nothing answers."""
        freeze(self.process)

    def thaw(self):
        """Let a frozen redis-server go on (SIGCONT)."""
        thaw(self.process)

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        self.stop()

    def __repr__(self):
        state = "running" if self.running else "stopped"
        return f"<redis-server on {self.host}:{self.port}, {state}>"
