"""Fixtures shared by the kit's own tests: live servers, and a leak check after each test."""

import os
import queue
import re
import subprocess
import threading
import time

import pytest

# The kit's tests read the English lines: a Korean locale (LANG=ko_KR.UTF-8) must not change what they
# see. Tests of the Korean edition ask for Korean themselves. Set before the kit is imported.
os.environ["CHATKIT_LANG"] = "en"

from chatkit.lab import LiveClient, LiveServer  # noqa: E402
from chatkit.tools.redisserver import RedisMissing, RedisServer
import early as early_commands
from hostile import HostileServer
from session_checks import (pytest_addoption, pytest_collection_finish, pytest_collection_modifyitems,  # noqa: F401
                            pytest_configure, pytest_sessionfinish, pytest_terminal_summary)


def open_fds():
    """File descriptors open in this process (Linux), or None elsewhere."""
    try:
        return set(os.listdir("/proc/self/fd"))
    except OSError:
        return None


@pytest.fixture(autouse=True)
def no_leaks():
    """Fail a test that leaves threads or sockets behind once its servers stopped."""
    threads_before = set(threading.enumerate())
    fds_before = open_fds()
    yield
    deadline = time.monotonic() + 5
    while True:
        extra_threads = [t for t in threading.enumerate() if t not in threads_before and t.is_alive()]
        extra_fds = open_fds() - fds_before if fds_before is not None else set()
        if not extra_threads and not extra_fds or time.monotonic() > deadline:
            break
        time.sleep(0.02)  # threads finish on their own after stop(); poll, bounded
    assert not extra_threads, f"threads left running: {[t.name for t in extra_threads]}"
    assert not extra_fds, f"file descriptors left open: {len(extra_fds)}"


@pytest.fixture
def early(request):
    """What the test's @pytest.mark.early(start=...) function returned: its command runs since the session began."""
    return early_commands.started(request.node.get_closest_marker("early").kwargs["start"])


@pytest.fixture
def live():
    """Start servers with live(stage=N) or live(); all are stopped after the test."""
    servers = []

    def start(**kwargs):
        server = LiveServer(**kwargs)
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.stop()
        assert server.crash is None, f"the server crashed: {server.crash!r}"


@pytest.fixture
def join():
    """join(server, nick) -> LiveClient; every client is closed after the test."""
    clients = []

    def connect(server, nick=None, **kwargs):
        client = LiveClient(server, nick, **kwargs)
        clients.append(client)
        return client

    yield connect
    for client in clients:
        client.close(quit=False)


@pytest.fixture
def hostile():
    """hostile(lines, hang_up=False, play=None) -> HostileServer (tests/hostile.py); all are stopped after the test."""
    servers = []

    def start(*args, **kwargs):
        servers.append(HostileServer(*args, **kwargs))
        return servers[-1]

    yield start
    for server in servers:
        server.stop()


PROCESS_TIMEOUT = 10  # seconds to wait for a line from a subprocess, or for its exit


class Running:
    """A subprocess whose output lines are read by a thread, so waiting has a deadline."""

    def __init__(self, *args, env=None):
        self.process = subprocess.Popen(
            args, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
            env={**os.environ, "PYTHONUNBUFFERED": "1", **(env or {})},
        )
        self.lines = queue.Queue()
        self.seen = []
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def _read(self):
        for raw in self.process.stdout:
            self.lines.put(raw.decode("utf-8", errors="replace").rstrip("\n"))
        self.lines.put(None)

    def expect(self, text, timeout=PROCESS_TIMEOUT):
        """Return the next output line containing `text`; fail after `timeout` seconds."""
        deadline = time.monotonic() + timeout
        while True:
            try:
                line = self.lines.get(timeout=max(0, deadline - time.monotonic()))
            except queue.Empty:
                line = None
            if line is None:
                raise AssertionError(f"expected output containing {text!r}; got {self.seen[-10:]}")
            self.seen.append(line)
            if text in line:
                return line

    def type(self, text):
        self.process.stdin.write((text + "\n").encode())
        self.process.stdin.flush()

    def finish(self, timeout=PROCESS_TIMEOUT):
        """Wait for the exit; return (exit status, stderr)."""
        if self.process.stderr.closed:
            return self.process.returncode, self.stderr
        try:
            self.process.wait(timeout)
        finally:
            if self.process.poll() is None:
                self.process.kill()
                self.process.wait()
            self.reader.join(timeout)
            self.stderr = self.process.stderr.read().decode()
            for stream in (self.process.stdin, self.process.stdout, self.process.stderr):
                stream.close()
        return self.process.returncode, self.stderr


@pytest.fixture
def run():
    """run(*args) -> Running; every process is killed after the test."""
    started = []

    def start(*args, **kwargs):
        started.append(Running(*args, **kwargs))
        return started[-1]

    yield start
    for running in started:
        if running.process.poll() is None:
            running.process.kill()
        running.finish()


@pytest.fixture(scope="session")
def redis_server():
    """One real redis-server for the whole session (a free port, a folder of its own); skip if not installed."""
    try:
        server = RedisServer()
    except RedisMissing:
        pytest.skip("redis-server is not installed (Debian, Ubuntu: sudo apt install redis-server; "
                    "macOS: brew install redis); .ci/run installs it")
    yield server
    server.stop()


@pytest.fixture
def room(redis_server, request):
    """The address of a room for this test alone, in the session's redis-server (started again if a test stopped it)."""
    if not redis_server.running:
        redis_server.start()
    return redis_server.url(re.sub(r"[^\w.-]+", "-", request.node.name)[:64])
