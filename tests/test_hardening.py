"""The servers hold up against resource limits, signals, slow or hostile peers (issue: hardening).

Real sockets, real limits: a server that must run out of descriptors or
threads runs in a subprocess under ``resource.setrlimit`` (RLIMIT_NOFILE,
RLIMIT_AS), never a mock. Each item runs against the reference server and
the event loop (stage 6); signals against every stage.
"""

import os
import re
import signal
import socket
import struct
import subprocess
import sys
import threading
import time

import pytest

from chatkit import protocol
from chatkit.protocol import MAX_LINE_CHARS
from chatkit.tools import servers
from chatkit.tools.crowd import Crowd

SERVERS = [pytest.param({}, id="reference"), pytest.param({"stage": 6}, id="event-loop")]
STAGE_ARGS = {"reference": [], "event-loop": ["--stage", "6"]}
TIMEOUT = 20

# A server under resource limits, in a process of its own: `python -c LIMITED LIMIT VALUE serve ARGS...`
# LIMIT "PIDS" puts the server in a cgroup (VALUE: its folder) whose pids.max limits its threads.
LIMITED = """
import os, resource, runpy, sys
if sys.argv[1] == "PIDS":
    with open(os.path.join(sys.argv[2], "cgroup.procs"), "w") as procs:
        procs.write(str(os.getpid()))
else:
    limit, value = getattr(resource, sys.argv[1]), int(sys.argv[2])
    resource.setrlimit(limit, (value, value))
sys.argv = ["chatkit"] + sys.argv[3:]
runpy.run_module("chatkit", run_name="__main__")
"""
PIDS_CGROUPS = "/sys/fs/cgroup/pids"  # cgroup v1's pids controller (root only); elsewhere RLIMIT_AS


@pytest.fixture
def thread_limit():
    """('PIDS', a cgroup folder allowing 12 tasks), or an address-space limit where there is none."""
    folder = os.path.join(PIDS_CGROUPS, f"chatkit-test-{os.getpid()}")
    try:
        os.mkdir(folder)
        with open(os.path.join(folder, "pids.max"), "w") as pids_max:
            pids_max.write("12")
    except OSError:
        yield ("RLIMIT_AS", 320 << 20)  # thread stacks no longer fit: less exact, no cgroup needed
        return
    yield ("PIDS", folder)
    deadline = time.monotonic() + TIMEOUT
    while True:
        try:
            os.rmdir(folder)  # once the server's process is gone
            return
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.05)


def serve(run, *args, limit=None):
    """Start `python -m chatkit serve ARGS` (under `limit`: (name, value)); return (process, address)."""
    if limit:
        server = run(sys.executable, "-c", LIMITED, limit[0], str(limit[1]), "serve", *args,
                     env={"PYTHON_COLORS": "0"})
    else:
        server = run(sys.executable, "-m", "chatkit", "serve", *args, env={"PYTHON_COLORS": "0"})
    host, port = server.expect("listening on").split()[-1].rsplit(":", 1)
    return server, (host, int(port))


def line_reader(sock, timeout=TIMEOUT):
    """Lines from a blocking socket, one at a time (None once it is closed)."""
    sock.settimeout(timeout)
    pending = b""
    while True:
        while b"\n" in pending:
            line, pending = pending.split(b"\n", 1)
            yield line.decode(errors="replace")
        try:
            data = sock.recv(65536)
        except (ConnectionResetError, TimeoutError):
            data = b""
        if not data:
            yield None
            return
        pending += data


OPEN = []  # every socket a test opened, closed after it (see close_sockets)


@pytest.fixture(autouse=True)
def close_sockets():
    yield
    while OPEN:
        OPEN.pop().close()


def connect(address, timeout=TIMEOUT):
    sock = socket.create_connection(address, timeout=timeout)
    OPEN.append(sock)
    return sock


class Member:
    """A plain socket client for subprocess servers: joins, says, waits for lines."""

    def __init__(self, address, nick=None):
        self.sock = connect(address)
        self.lines = line_reader(self.sock)
        self.heard = []
        self.nick = nick
        if nick:
            self.expect("Enter your nickname")
            self.say(nick)
            self.expect(f"{nick} joined")

    def say(self, text):
        self.sock.sendall(f"{text}\n".encode())

    def expect(self, text):
        for line in self.lines:
            if line is None:
                raise AssertionError(f"closed before {text!r}; heard {self.heard[-5:]}")
            self.heard.append(line)
            if text in line:
                return line
        raise AssertionError(f"closed before {text!r}; heard {self.heard[-5:]}")

    def close(self):
        self.sock.close()


def come_back(address, nick, patience=TIMEOUT):
    """Join as `nick`, trying again while the server still says it is full (it frees what the
    others held as it notices them leave)."""
    deadline = time.monotonic() + patience
    while True:
        member = Member(address)
        first = next(member.lines)
        if first == protocol.PROMPT:
            member.say(nick)
            member.expect(f"{nick} joined")
            return member
        assert first == protocol.SERVER_FULL and time.monotonic() < deadline, first
        member.close()


# --- 1. out of file descriptors, out of threads --------------------------------------


@pytest.mark.parametrize("which", STAGE_ARGS)
def test_out_of_descriptors_the_room_goes_on_and_newcomers_come_back(run, which):
    """RLIMIT_NOFILE=64 and 150 connections: the first members keep chatting, later ones are
    turned away with a notice, and once people leave, newcomers are served again."""
    server, address = serve(run, *STAGE_ARGS[which], limit=("RLIMIT_NOFILE", 64))
    alice, bob = Member(address, "alice"), Member(address, "bob")
    crowd = [connect(address) for _ in range(150)]
    alice.say("still here?")
    assert bob.expect("alice: still here?") == "alice: still here?"
    turned_away = 0
    for sock in crowd:
        first = next(line_reader(sock))
        assert first in (protocol.PROMPT, protocol.SERVER_FULL), first
        turned_away += first == protocol.SERVER_FULL
    assert turned_away > 50, "with 64 descriptors most of 150 connections must be turned away"
    server.expect("turned")
    bob.say("and now?")
    alice.expect("bob: and now?")
    for sock in crowd:
        sock.close()
    carol = come_back(address, "carol")  # served again once the crowd is gone
    alice.expect("carol joined")
    carol.say("hi")
    bob.expect("carol: hi")
    server.process.send_signal(signal.SIGTERM)
    alice.expect(protocol.SHUTTING_DOWN)
    status, stderr = server.finish()
    assert status == 0 and "Traceback" not in stderr, stderr


def test_every_stage_survives_running_out_of_descriptors(run):
    """Stage 3 (a thread per client, no room): accept() fails with EMFILE; it waits and goes on."""
    server, address = serve(run, "--stage", "3", limit=("RLIMIT_NOFILE", 32))
    crowd = []
    for _ in range(60):  # once the backlog (5) is full too, connecting waits: enough
        try:
            crowd.append(connect(address, timeout=3))  # (a full backlog: SYN again after 1 s)
        except TimeoutError:
            break
    server.expect("accept() failed")
    for sock in crowd:
        sock.close()
    late = Member(address)
    late.expect("Welcome")
    late.say("echo?")
    late.expect("echo: echo?")
    server.process.send_signal(signal.SIGINT)
    status, stderr = server.finish()
    assert status == 0 and "Traceback" not in stderr, stderr


def test_out_of_threads_the_reference_server_turns_newcomers_away(run, thread_limit):
    """With at most 12 threads (a cgroup's pids.max) a newcomer's thread cannot start: it is told, the room goes on."""
    server, address = serve(run, limit=thread_limit)
    alice, bob = Member(address, "alice"), Member(address, "bob")
    others, refused = [], 0
    for _ in range(80):
        sock = connect(address)
        first = next(line_reader(sock))
        refused += first == protocol.SERVER_FULL
        others.append(sock)
        if refused >= 3:
            break
    assert refused >= 3, "80 newcomers and every thread started: raise the test's memory pressure"
    server.expect("no thread to spare")
    alice.say("room still working")
    bob.expect("alice: room still working")
    for sock in others:
        sock.close()
    come_back(address, "carol")  # threads are back once the others left
    bob.expect("carol joined")
    server.process.send_signal(signal.SIGINT)
    bob.expect(protocol.SHUTTING_DOWN)
    status, stderr = server.finish()
    assert status == 0 and "Traceback" not in stderr, stderr


# --- 1. signals at any moment, on every stage -----------------------------------------


MOMENTS = ["listening", "connected", "answered", "chatting"]


@pytest.mark.parametrize("stage", ["1", "2", "3", "4", "5", "ref", "6"])
@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_a_signal_at_any_moment_ends_the_server_cleanly(run, stage, signum):
    asks_nickname = stage in ("5", "ref", "6")
    for moment in MOMENTS:
        server, address = serve(run, *([] if stage == "ref" else ["--stage", stage]))
        client = None
        if moment != "listening":
            client = Member(address)
            if moment != "connected" and asks_nickname or stage in ("ref", "6"):
                client.expect("Enter your nickname")  # accepted (not still in the backlog)
            if moment in ("answered", "chatting") and stage != "1":
                client.say("alice" if asks_nickname else "hello")
            if moment == "chatting" and stage != "1":
                client.expect("alice joined" if asks_nickname else "hello")
                client.sock.sendall("안녕\n".encode() * 50)
        server.process.send_signal(signum)
        status, stderr = server.finish()
        assert status == 0, f"stage {stage}, signal when {moment}: exit {status}\n{stderr}"
        assert "Traceback" not in stderr, f"stage {stage}, signal when {moment}:\n{stderr}"
        if client is not None:
            heard = [line for line in client.lines if line is not None]
            if asks_nickname and moment == "chatting" or stage in ("ref", "6") and moment != "listening":
                assert protocol.SHUTTING_DOWN in heard, (stage, moment, heard[-5:])


# --- 2. nickname deadline and the cap on newcomers ------------------------------------


@pytest.mark.parametrize("how", SERVERS)
def test_a_newcomer_without_a_nickname_is_disconnected_after_the_deadline(live, join, how):
    server = live(**how)
    server.server.nickname_seconds = 0.5
    shy = join(server)
    shy.expect("Enter your nickname")
    assert shy.expect("No nickname") == protocol.NICK_TOO_SLOW.format(number=0)
    assert shy.wait_closed()
    alice = join(server, "alice")  # joining still works, and a member has no deadline
    alice.expect_silence(0.8)
    alice.say("still here")
    alice.expect("alice: still here")


@pytest.mark.parametrize("how", SERVERS)
def test_connections_waiting_to_join_are_capped(live, join, how):
    server = live(**how)
    server.server.max_joining = 3
    waiting = [join(server) for _ in range(3)]
    for client in waiting:
        client.expect("Enter your nickname")
    turned_away = join(server)
    assert turned_away.expect("full") == protocol.SERVER_FULL
    assert turned_away.wait_closed()
    waiting[0].say("alice")  # one joins: there is room for one more newcomer
    waiting[0].expect("alice joined")
    newcomer = join(server, "bob")
    newcomer.say("in")
    newcomer.expect("bob: in")


# --- 3. nothing the server sends is longer than the clients' limit ---------------------


@pytest.mark.parametrize("how", SERVERS)
def test_a_message_too_long_with_its_name_is_refused_not_relayed(live, join, how):
    server = live(**how)
    alice, bob = join(server, "alice"), join(server, "bob")
    alice.expect("bob joined")
    alice.say("x" * MAX_LINE_CHARS)  # fits the line limit, not with "alice: " in front
    assert alice.expect("not sent") == protocol.MESSAGE_TOO_LONG.format(limit=MAX_LINE_CHARS)
    longest = "y" * (MAX_LINE_CHARS - len("alice: "))
    alice.say(longest)
    assert bob.expect("alice: y") == "alice: " + longest
    assert not [line for line in bob.lines() if "x" * 100 in line]
    assert max(len(line) for line in bob.lines()) == MAX_LINE_CHARS


@pytest.mark.parametrize("how", SERVERS)
def test_who_in_a_big_room_is_split_into_lines_that_fit(live, join, how):
    server = live(**how)
    crowd = Crowd(server.address, keep_lines=True, prefix="a-very-long-nick")  # 17-19 characters
    try:
        members = crowd.connect(250, timeout=60)
        asker = join(server, "asker")
        asker.say("/who")
        first = asker.expect("In the room")
        assert protocol.WHO.parse(first)["number"] == 251
        asker.say("/help")
        asker.expect("/quit")
        lines = [text for _, text in asker.received if text.startswith("* In the room")]
        assert len(lines) > 1 and all(len(line) <= MAX_LINE_CHARS for line in lines)
        assert all(protocol.WHO.parse(line)["number"] == 251 for line in lines)
        nicks = [nick for line in lines for nick in protocol.WHO.parse(line)["nicks"]]
        assert sorted(nicks[:-1]) == sorted(member.nick for member in members) and nicks[-1] == "asker"
    finally:
        crowd.close()


@pytest.mark.parametrize("how", SERVERS)
def test_commands_are_case_insensitive_and_ignore_extra_words(live, join, how):
    server = live(**how)
    alice = join(server, "alice")
    alice.say("/who extra words")
    assert alice.expect("In the room") == "* In the room (1): alice"
    alice.say("/WHO")
    alice.expect("In the room (1)")
    alice.say("/Help")
    alice.expect("/quit")
    alice.say("/" + "z" * 3000)
    assert len(alice.expect("Unknown command")) < 100
    alice.say("/QUIT")
    alice.expect("Bye, alice")
    assert alice.wait_closed()


# --- 6. a member cut off for not reading is reset: the kernel frees its queue --------------


def server_side_connections(server_port, peer_port):
    """States of the server's sockets to `peer_port` (from /proc/net/tcp): [(state, bytes queued)]."""
    found = []
    with open("/proc/net/tcp") as table:
        for row in table.readlines()[1:]:
            fields = row.split()
            local, remote, state, queues = fields[1], fields[2], fields[3], fields[4]
            if int(local.split(":")[1], 16) == server_port and int(remote.split(":")[1], 16) == peer_port:
                found.append((state, int(queues.split(":")[0], 16)))
    return found


@pytest.mark.skipif(not os.path.exists("/proc/net/tcp"), reason="reads Linux's /proc/net/tcp")
@pytest.mark.parametrize("how", SERVERS)
def test_a_member_cut_off_for_not_reading_leaves_nothing_queued(live, join, how):
    server = live(**how)
    alice, bob = join(server, "alice"), join(server, "bob")
    crowd = Crowd(server.address)
    try:
        sleeper, = crowd.connect(1, timeout=TIMEOUT, rcvbuf=4096)
        crowd.pause([sleeper])
        sleeper_port = sleeper.sock.getsockname()[1]
        line = "z" * 3990
        for number in range(3000):  # at most 12 MB: more than the kernel's buffers and the outbox
            alice.say(f"{number} {line}")
            if number % 100 == 99:  # bob and alice keep up (only the sleeper falls behind)
                bob.expect(f"alice: {number} ")
                alice.expect(f"alice: {number} ")
                if any("was disconnected" in text for _, text in bob.received):
                    break
        assert "* c0 was disconnected (not reading messages). 2 people in the room." in bob.lines()
        deadline = time.monotonic() + 5
        while server_side_connections(server.port, sleeper_port) and time.monotonic() < deadline:
            time.sleep(0.05)  # the reader thread closes the socket right after the writer's reset
        assert server_side_connections(server.port, sleeper_port) == [], (
            "the server still holds a connection (and its queue) to the member it cut off")
    finally:
        crowd.close()


# --- 7. resets, half-closes, logs ---------------------------------------------------------


@pytest.mark.parametrize("how", SERVERS)
def test_a_reset_is_announced_as_connection_lost_even_with_lines_queued(live, join, how):
    server = live(**how)
    alice = join(server, "alice")
    bob = join(server, "bob", rcvbuf=4096)
    alice.expect("bob joined")
    bob.pause()
    for number in range(200):  # lines queued for bob when he vanishes
        alice.say(f"{number} " + "q" * 1000)
    alice.expect("alice: 199 ")
    bob.sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    bob.sock.close()
    notice = alice.expect("bob ")
    assert notice in ("* bob left (connection lost). 1 person in the room.",
                      "* bob was disconnected (not reading messages). 1 person in the room."), notice


@pytest.mark.parametrize("how", SERVERS)
def test_a_last_line_without_newline_before_a_half_close_is_relayed(live, join, how):
    server = live(**how)
    alice, bob = join(server, "alice"), join(server, "bob")
    alice.expect("bob joined")
    alice.send_bytes("마지막 말".encode())
    alice.sock.shutdown(socket.SHUT_WR)
    assert bob.expect("alice: ") == "alice: 마지막 말"
    bob.expect("alice left")


@pytest.mark.parametrize("which", STAGE_ARGS)
def test_log_lines_from_many_threads_never_run_into_each_other(run, which):
    server, address = serve(run, *STAGE_ARGS[which])
    crowd = Crowd(address)
    crowd.connect(60, timeout=60)
    for member in crowd.members:
        crowd.say(member, "/quit")
    crowd.wait_until(lambda: all(m.state == "closed" for m in crowd.members), TIMEOUT, "everyone gone")
    crowd.close()
    server.process.send_signal(signal.SIGINT)
    status, stderr = server.finish()
    assert status == 0, stderr
    log = list(server.seen)
    while not server.lines.empty():
        log.append(server.lines.get())
    for line in filter(None, log):
        if "joined" in line or " left" in line:
            assert re.fullmatch(r"c\d+ (joined|left)", line), f"log lines ran together: {line!r}"
    assert len([line for line in log if line and line.endswith("joined")]) == 60


@pytest.mark.parametrize("which", ["ref", "6", "5"])
def test_stop_never_raises_whatever_state_the_server_is_in(which):
    """stop() before server_open(), before run(), twice, from two threads at once: never an exception."""
    module = servers.choose(which).load()
    module.RunServer().stop()  # never opened
    opened = module.RunServer()
    opened.server_open()
    opened.stop()  # opened, never run
    opened.stop()
    running = module.RunServer()
    running.log = lambda message: None
    running.server_open()
    thread = threading.Thread(target=running.run)
    thread.start()
    newcomer = connect((running.host, running.port))  # a newcomer mid-join
    newcomer.recv(100)
    stoppers = [threading.Thread(target=running.stop) for _ in range(2)]
    for stopper in stoppers:
        stopper.start()
    for stopper in stoppers + [thread]:
        stopper.join(TIMEOUT)
        assert not stopper.is_alive()
