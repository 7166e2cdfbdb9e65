"""Fixtures shared by the kit's own tests: live servers, and a leak check after each test."""

import os
import threading
import time

import pytest

from chatkit.lab import LiveClient, LiveServer


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
