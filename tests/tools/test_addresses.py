"""`join` and `gui` without --port: your own server, never a stranger's in a shared lab account."""

import json
import os
import socket
import subprocess
import sys
import time

import pytest

from chatkit.tools import addresses


@pytest.fixture
def cache(tmp_path, monkeypatch):
    """A home of its own (XDG_CACHE_HOME), and a login session the test chooses."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    login = {"session": "audit:7"}
    monkeypatch.setattr(addresses, "login_session", lambda: login["session"])
    return login


@pytest.fixture
def alive():
    """Processes that stay alive for the test (the servers' pids in the records)."""
    started = []

    def start():
        started.append(subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"]))
        return started[-1].pid

    yield start
    for process in started:
        process.kill()
        process.wait()


def record(port, pid, session, machine=None, started=None):
    """A server noted by `serve` in another process (another login, maybe another machine)."""
    server = addresses.Started("127.0.0.1", port, pid, machine or socket.gethostname(), session,
                               started or time.time(), "/dev/pts/9")
    server.path.parent.mkdir(parents=True, exist_ok=True)
    server.path.write_text(json.dumps(server.__dict__))
    return server


def test_the_server_of_this_login_is_chosen_the_newest_first(cache, alive):
    record(4001, alive(), "audit:7", started=time.time() - 60)
    record(4002, alive(), "audit:8")  # another login of the same account, more recent
    record(4003, alive(), "audit:7")
    server, why_not = addresses.choose()
    assert why_not is None and server.port == 4003


def test_a_server_of_another_login_is_never_taken_for_yours(cache, alive):
    stranger = record(4002, alive(), "audit:8")
    server, why_not = addresses.choose()
    assert server is None
    assert "maybe someone else's" in why_not and stranger.describe() in why_not and "--port PORT" in why_not


def test_without_logins_to_tell_apart_only_a_single_server_is_a_safe_guess(cache, alive):
    cache["session"] = ""  # a container, a laptop
    first = record(4001, alive(), "")
    assert addresses.choose()[0].port == first.port
    second = record(4002, alive(), "")
    server, why_not = addresses.choose()
    assert server is None and first.describe() in why_not and second.describe() in why_not


def test_servers_that_stopped_or_run_elsewhere_are_left_out(cache, alive):
    finished = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    gone = record(4001, int(finished.stdout), "audit:7")
    record(4002, alive(), "audit:7", machine="another-lab-pc")  # a home folder shared over the network
    server, why_not = addresses.choose()
    assert server is None and "No server started here is running" in why_not
    assert not gone.path.exists(), "a stopped server's note is removed"


def test_serve_notes_its_address_and_join_says_where_it_connected(run, tmp_path):
    env = {"XDG_CACHE_HOME": str(tmp_path)}
    server = run(sys.executable, "-m", "chatkit", "serve", env=env)
    port = int(server.expect("listening on").rsplit(":", 1)[1])
    deadline = time.monotonic() + 10  # serve notes its address just after printing it
    while not (notes := list((tmp_path / "chatkit" / "servers").glob("*.json"))) and time.monotonic() < deadline:
        time.sleep(0.02)
    assert len(notes) == 1 and json.loads(notes[0].read_text())["port"] == port
    alice = run(sys.executable, "-m", "chatkit", "join", "--nick", "alice", env=env)
    connected = alice.expect("Connected to")
    assert connected.startswith(f"* Connected to 127.0.0.1:{port}, the server started at ")
    assert f"(process {server.process.pid})" in connected
    alice.expect("alice joined")
    alice.type("/quit")
    assert alice.finish()[0] == 0


def test_join_without_a_port_and_no_server_explains(run, tmp_path):
    joining = run(sys.executable, "-m", "chatkit", "join", env={"XDG_CACHE_HOME": str(tmp_path)})
    status, stderr = joining.finish()
    assert status == 1 and "No server started here is running" in stderr and "--port PORT" in stderr
    assert "Traceback" not in stderr and os.listdir(tmp_path) in ([], ["chatkit"])
