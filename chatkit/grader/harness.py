"""What a graded test holds: the student's exercise, and servers started from it.

    def test_two_clients(student):               # the fixture the plugin provides
        server = student.start_server()          # RunServer in a child process, port 0
        alice = server.connect("alice")          # a Peer
        reader = student.module.LineReader()     # any object of the student's file, remotely

Each server gets a process of its own; the test's end closes every client,
stops every server and kills every process, so nothing leaks into the next
test. The next test's first process is started while this one runs (a
spare, importing the same file: fresh, and already waiting).
"""

import socket
import struct
import time

try:
    import fcntl
    import termios
except ImportError:  # Windows: what a client has not read yet cannot be seen
    fcntl = termios = None

from chatkit import protocol
from chatkit.grader import processes
from chatkit.grader.limits import (CALL_TIMEOUT, CLIENT_GOODBYE, EXPECT_TIMEOUT, QUICK_LOOK, READ_PATIENCE,
                                   SETTLE_QUIET, STOP_TIMEOUT, WAIT_PATIENCE)
from chatkit.grader.peer import Peer
from chatkit.grader.testroom import TestRoom
from chatkit.grader.results import words
from chatkit.grader.results.words import _
from chatkit.tools.language import N_
from chatkit.grader.sandbox import Sandbox, StudentHang, StudentProblem, launch
from chatkit.grader.sandbox.diagnose import explain_stacks, named_cause, same_file, short, waiting_for

_imports_that_hung = {}  # (path, modification time) -> StudentHang, so the next tests fail at once
_spares = {}  # path -> ((path, modification time), a Sandbox importing that file already, for the next need)
_next = {"path": None}  # the exercise file the next test grades (plugin.py says), or None


def next_test_grades(path, current=None):
    """Say which exercise file the next test grades (None: no more tests); spares for others are closed.

    While a test runs, the sandbox its successor will need is started
    (spare): forking and importing the student's file then happen while this
    test waits on the network, not before the next one can begin. The test
    starting now (`current`) keeps the spare made for it, even when the next
    one grades another file: the last test of an exercise uses it too.
    """
    _next["path"] = str(path) if path else None
    for key in [key for key in _spares if key not in (_next["path"], str(current) if current else None)]:
        _spares.pop(key)[1].close()


def take_spare(path, version):
    """The spare sandbox for `path` if it is still of use (the same file, alive), else None."""
    made_for, spare = _spares.pop(str(path), (None, None))
    if spare is not None and (made_for != version or spare.returncode is not None):
        spare.close()
        return None
    return spare


class Exercise:
    """The file under test (the student's, or the solution with --solutions)."""

    def __init__(self, exercise_id, path):
        self.id = exercise_id
        self.path = path
        self.sandboxes = []
        self.servers = []
        self.refused = []  # what the guard refused in sandboxes that never got going (at import)
        self.refused_walls = []  # walls those sandboxes could not raise
        self.confined = True  # every sandbox so far ran in a PID namespace of its own
        self.own = ()  # names the student's file must define itself (written_here)
        self.not_own = None  # the failure that check found, raised again for every later need of a process
        self._module = None

    @property
    def module(self):
        """The student's module, imported in a child process of its own (once per test)."""
        if self._module is None:
            self._module = self.sandbox().module
        return self._module

    def sandbox(self):
        if not self.path.exists():
            missing = AssertionError(_("{file} is missing: the exercise file should be at {path}").format(
                file=self.path.name, path=self.path))
            missing.kind = "todo"  # not attempted, rather than wrong
            raise missing
        version = (str(self.path), self.path.stat().st_mtime_ns)
        if version in _imports_that_hung:  # the same file would hang again: say so at once
            raise _imports_that_hung[version]
        if self.not_own is not None:  # its first process found a part not written here: so would the next
            raise self.not_own
        try:
            sandbox = take_spare(self.path, version) or Sandbox(self.path, wait=False)
            if _next["path"] == str(self.path):  # this test may need another, the next one will
                _spares[str(self.path)] = (version, Sandbox(self.path, wait=False))
            sandbox.wait_ready()
        except StudentProblem as problem:
            self.refused += getattr(problem, "tampered", [])
            self.refused_walls += getattr(problem, "missing_walls", [])
            self.confined = self.confined and getattr(problem, "confined", False)
            if isinstance(problem, StudentHang):
                _imports_that_hung[version] = problem
                next_test_grades(None)  # its spare would hang too
            raise
        self.sandboxes.append(sandbox)
        self.confined = self.confined and sandbox.confined
        if self.own and len(self.sandboxes) == 1:
            try:
                self.check_written_here(sandbox)
            except AssertionError as problem:
                self.not_own = problem
                raise
        return sandbox

    def how_it_waits(self, call, patience=WAIT_PATIENCE):
        """How a call running in the background (a Pending) is doing, once it has had a moment:

        'returned' (it did not wait at all), 'waiting' (on a condition, event
        or lock: asleep until woken), 'sleeping' (in time.sleep: it polls),
        or 'busy' (running Python code: a loop that looks again and again).
        """
        deadline = time.monotonic() + patience
        sandbox = call.sandbox
        thread = f"grader call {call.label}"
        while time.monotonic() < deadline:
            if call.done():
                call.result()  # if the call raised, that is the failure to show
                return "returned"
            looks = [look for look in sandbox.stacks(samples=3) if isinstance(look, dict)]
            mine = [t["frames"] for look in looks for t in look["threads"] if t["thread"] == thread]
            reasons = {waiting_for(frames) or "" for frames in mine}
            if len(mine) == len(looks) == 3:
                if all(reason.startswith("waiting for") and "thread to finish" not in reason for reason in reasons):
                    return "waiting"
                if reasons == {"sleeping"}:
                    return "sleeping"
                if looks[-1]["cpu"] - looks[0]["cpu"] > 0.05:
                    return "busy"
        return "returned" if call.done() else "busy"

    def start_server(self, asks_nickname=False, port=0):
        """RunServer('127.0.0.1', port) in a new process: server_open(), then run() in the background."""
        server = RunningServer(self.sandbox(), asks_nickname, name=self.id, port=port)
        self.servers.append(server)
        return server

    def start_client(self):
        """The student's Client in a new process, connected to a TestRoom, run() in the background."""
        client = RunningClient(self.sandbox())
        self.servers.append(client)  # closed with the test, like a server
        return client

    def written_here(self, *names):
        """Require each dotted name of the student's module (ChattingRoom.add_user) to be defined in their file.

        For the exercises the student writes from a specification: a part
        imported from the stage that the notebook shows (or inherited from
        it) is not the student's work. Checked in the test's first process
        (now, if it runs already); a test fails at once if a name is missing
        or comes from another file.
        """
        self.own = names
        if self.sandboxes:
            self.check_written_here(self.sandboxes[0])

    def origins(self):
        """{name: module} for the student's module's globals, their bases and methods: what their file borrows."""
        module = self.module
        return module._sandbox.request("origins", "where your module's names come from", target=module._handle)

    def check_written_here(self, sandbox):
        found = sandbox.request("defined_in", "where your code comes from", target=sandbox.module._handle,
                                names=list(self.own))
        for name in self.own:
            where = found.get(name)
            if where is None:
                missing = AssertionError(_("{file} has no {name}: the exercise asks for it.").format(
                    file=self.path.name, name=name))
                missing.kind = "todo"
                raise missing
            if not same_file(where, self.path):
                wrong = AssertionError(_("{name} is defined in {where}, not in {file}.").format(
                    name=name, where=short(where), file=self.path.name))
                wrong.chatkit_cause = words.not_written_here(name, short(where))
                raise wrong

    @property
    def tampered(self):
        """What the guard refused in this test's processes, in words (walls.py)."""
        return list(dict.fromkeys(self.refused + [what for sandbox in self.sandboxes for what in sandbox.tampered]))

    @property
    def missing_walls(self):
        """The walls this test's processes could not raise, in words (walls.py, namespaces.py)."""
        return list(dict.fromkeys(self.refused_walls + [m for sandbox in self.sandboxes for m in sandbox.missing_walls]))

    def close(self):
        for server in self.servers:
            server.close()
        for sandbox in self.sandboxes:
            sandbox.close()
        if not self.confined:
            next_test_grades(None)  # the sweep by user would kill the spares (they run as that user too)
        launch.sweep(by_user=not self.confined)  # what the student's code started, in their own session or not


class RunningServer:
    """A student's server running in a sandbox, with the interface of chatkit.lab.LiveServer."""

    def __init__(self, sandbox, asks_nickname, name, port=0):
        self.sandbox = sandbox
        self.asks_nickname = asks_nickname
        self.name = name
        self.clients = []  # the Peers connected to it
        self.running = None
        self.stopping = False  # stop() was called: a closed listener is then what should be
        self.started = time.monotonic()
        self.alive_at_stop = []  # the names of the program's threads just before stop() was called
        self.remote = sandbox.module.RunServer("127.0.0.1", port)
        self.remote.server_open()
        self.host, self.port = self.remote.host, self.remote.port
        if not isinstance(self.port, int) or not 0 < self.port < 65536:
            raise AssertionError(_("After server_open(), self.port is {port!r}, but it should be the real port "
                                   "the socket listens on (we asked for port 0: any free port). "
                                   "Read it back with self.listener.getsockname().").format(port=self.port))
        self.running = self.remote.run.background()

    @property
    def address(self):
        return ("127.0.0.1", self.port)

    def settle(self, quiet=SETTLE_QUIET, timeout=EXPECT_TIMEOUT):
        """Wait until the server has done all it was woken for: for `quiet` s no thread of it ran or stood ready.

        What one part of a server does can set off another on its own (a
        member cut off wakes that member's reader, which may announce the
        leaving again); a test that checks something did not happen looks
        after this. A server that polls often or spins may never be quiet
        that long: then the test looks after `timeout` s. False then, or
        where the kernel's clocks cannot be read (not Linux).
        """
        pid = self.sandbox.process.pid
        deadline = time.monotonic() + timeout
        before = processes.run_clock(pid)
        while before is not None and time.monotonic() < deadline:
            time.sleep(quiet)  # a kernel clock, read from outside: nothing to wait on
            now = processes.run_clock(pid)
            if now is not None and now == before and not now[0]:
                return True
            before = now
        return False

    def connect(self, name="client", read=True, receive_buffer=None):
        """A new client connection (no nickname sent)."""
        peer = Peer(self, name, read=read, receive_buffer=receive_buffer)
        self.clients.append(peer)
        return peer

    def join(self, nick, receive_buffer=None):
        """A client that answers the nickname question and waits to hear that it joined."""
        peer = self.connect(nick, receive_buffer=receive_buffer)
        peer.expect(protocol.PROMPT, why=N_("the server asks every newcomer for a nickname first"))
        peer.say(nick)
        try:
            peer.expect(f"* {nick} joined", why=N_("the room announces every newcomer, to the newcomer too"))
        except AssertionError as failure:
            if f"* {nick}" in peer.lines() or any(line.startswith(" joined") for line in peer.lines()):
                failure.chatkit_cause = words.nickname_not_stripped(nick)
            raise
        return peer

    def problem(self):
        """The student's program crashed (run() raised, a thread died, the process ended), or None."""
        return crashed(self.sandbox, self.running)

    def diagnosis(self, stuck=True):
        """(a few lines on the server's state, to append to a failure message; the mistake they show, or None)."""
        lines, cause = [], None
        if self.running is not None and self.running.done() and self.running.error is None:
            lines.append(_("Your run() has returned, though nobody called stop(): the server no longer accepts anyone."))
            cause = words.run_returned()
        else:
            if self.listener_closed():
                lines.append(_("Your self.listener is closed, though nobody called stop()."))
                cause = words.listener_closed()
            if stuck:
                stacks = self.sandbox.stacks(samples=3)
                lines.append(explain_stacks(stacks, self.sandbox.path))
                cause = named_cause(stacks, self.sandbox.path) or cause
        log = self.sandbox.log[-5:]
        if log:
            lines.append(_("The last lines your server printed:") + "\n" + "\n".join(f"    {line}" for line in log))
        return "".join(f"\n{line}" for line in lines), cause

    def describe(self, stuck=True):
        """A few lines on the server's state, to append to a failure message."""
        return self.diagnosis(stuck)[0]

    def listener_closed(self):
        """True if the server's self.listener is a socket that was closed (only stop() should close it)."""
        if self.stopping:
            return False
        try:
            facts = self.sandbox.probe("listener_facts", self.remote, timeout=QUICK_LOOK)
        except AssertionError:  # no such attribute, not a socket, the child busy: nothing to say
            return False
        return bool(facts.get("socket") and facts.get("closed"))

    def stop(self, timeout=STOP_TIMEOUT):
        """Call stop() and wait for run() to return, as a test of both."""
        self.stopping = True
        self.alive_at_stop = [thread["thread"] for thread in self.sandbox.stacks()]
        self.remote.stop(timeout=CALL_TIMEOUT)
        try:
            self.running.result(timeout)
        except StudentProblem as problem:
            raise problem.reworded(_("after stop(), {problem}").format(problem=problem)) from None

    def member(self, nick):
        """The member object (a Remote) of the room whose nickname is `nick`; None if there is none."""
        for member in self.remote.room.members:
            if member.nick == nick:
                return member
        return None

    def break_sending_to(self, member):
        """From now on, the server's sends to this member fail with BrokenPipeError, as on a broken connection."""
        self.sandbox.request("break_sends", "a broken connection", target=member._handle)

    def unjoined_threads(self):
        """After stop(): the threads run() started, alive when stop() was called, that run() did not join."""
        started = self.sandbox.request("threads_started", "the threads run() started",
                                       creator=f"grader call {self.running.label}")
        return [thread["name"] for thread in started if thread["name"] in self.alive_at_stop and not thread["joined"]]

    def close(self):
        """Close the clients. The server is not asked to stop: its process is killed next, whole."""
        for peer in self.clients:
            peer.close()

    def __repr__(self):
        return f"<RunningServer {self.name} on 127.0.0.1:{self.port}>"


class RunningClient:
    """A student's chat client running in a sandbox, talking to a TestRoom in the grader, fed by a keyboard."""

    def __init__(self, sandbox):
        self.sandbox = sandbox
        self.room = TestRoom(sandbox)
        self.room.problem = self.problem  # a run() that raised ends the room's waits too
        self.running = None
        self.shown_from = sandbox.printed  # what the client shows: the lines it prints from now on
        self.copy = None  # the grader's copy of the client's socket, to see what it has not read yet
        self.cursor = 0  # expect_shown looks at the lines after the last one it found
        sandbox.request("type", "the keyboard", text="")  # input() now waits for what the test types
        self.remote = sandbox.module.Client("127.0.0.1", self.room.port)
        self.remote.connect()
        self.room.accept()
        self.running = self.remote.run.background()

    def problem(self):
        """The student's client crashed (run() raised, a thread died, the process ended), or None."""
        return crashed(self.sandbox, self.running)

    def type(self, text):
        """The user types `text` and presses Enter."""
        self.sandbox.request("type", "the keyboard", text=text + "\n")

    def end_input(self):
        """The user presses Ctrl+D: input() raises EOFError from now on."""
        self.sandbox.request("type", "the keyboard", text=None)

    def shown(self):
        """The lines the client has printed since it started."""
        with self.sandbox.changed:
            skipped = self.sandbox.printed - len(self.sandbox.log)
            return self.sandbox.log[max(0, self.shown_from - skipped):]

    def expect_shown(self, line, timeout=EXPECT_TIMEOUT, why=""):
        """Wait until the client has printed exactly `line` (after anything it printed before it on that line)."""
        deadline = time.monotonic() + timeout
        with self.sandbox.changed:
            while True:
                lines = self.shown()
                found = next((i for i in range(self.cursor, len(lines)) if lines[i].endswith(line)), None)
                if found is not None:
                    self.cursor = found + 1
                    return line
                left = deadline - time.monotonic()
                if left <= 0 or self.problem():
                    break
                self.sandbox.changed.wait(left)
        problem = self.problem()
        if problem:
            raise problem.reworded(_("the test was waiting for your client to show {line!r}, but {problem}").format(
                line=line, problem=problem)) from None
        because = f" ({_(why)})" if why else ""  # a test's why: N_() marks it for the catalog
        seen = lines[self.cursor:][-8:]
        message = (_("your client should have shown {line!r}{because}, but {timeout:g} s passed.").format(
            line=line, because=because, timeout=timeout)
                   + "\n  " + (_("It showed meanwhile: {seen}").format(seen=seen) if seen
                                else _("It showed nothing meanwhile.")))
        stacks = self.sandbox.stacks(samples=3)
        failure = AssertionError(message + "\n" + explain_stacks(stacks, self.sandbox.path))
        failure.chatkit_cause = named_cause(stacks, self.sandbox.path)
        raise failure

    def unread(self):
        """Bytes waiting in the client's socket that it has not recv()'d yet (None if that cannot be seen)."""
        if fcntl is None:
            return None
        if self.copy is None:
            told = self.sandbox.request("socket", "your client's socket", target=self.remote.sock._handle)
            self.copy = self.sandbox.receive_socket() if told.get("handed") else False
        if not self.copy:
            return None
        return struct.unpack("i", fcntl.ioctl(self.copy.fileno(), termios.FIONREAD, b"\0\0\0\0"))[0]

    def send_in_pieces(self, data, cuts):
        """The room sends `data` cut at `cuts`, each piece recv()'d by the client before the next one leaves."""
        edges = [0, *sorted(cuts), len(data)]
        for start, end in zip(edges, edges[1:]):
            self.room.send_bytes(data[start:end])
            deadline = time.monotonic() + READ_PATIENCE
            while time.monotonic() < deadline and (self.unread() or 0) > 0:
                time.sleep(0.001)  # a kernel counter, seen from outside: nothing to wait on

    def finish(self, timeout=STOP_TIMEOUT + CLIENT_GOODBYE):
        """Wait for run() to return (the client left; it may wait CLIENT_GOODBYE s for the server first)."""
        self.running.result(timeout)

    def threads_ended(self, timeout=EXPECT_TIMEOUT):
        """Wait (at most `timeout` s) for the threads run() started to end: what they show last is then shown.

        The names of those still running (a receive thread that never ends is a test's business, not this wait's).
        """
        return self.sandbox.request("threads_ended", "the threads your client started", timeout=timeout + CALL_TIMEOUT,
                                    creator=f"grader call {self.running.label}", timeout_seconds=timeout)

    def wait_idle(self, timeout=EXPECT_TIMEOUT):
        """Wait (at most `timeout` s) until the threads run() started sit in recv(), as in a client open a while.

        What the user types next then meets a receive thread that waits for
        the server, not one still starting (a close() from the main thread
        leaves a connection open only while another thread is in recv()).
        The names of those elsewhere (a client with no receive thread is a
        test's business, not this wait's).
        """
        return self.sandbox.request("threads_receiving", "the threads your client started",
                                    timeout=timeout + CALL_TIMEOUT, creator=f"grader call {self.running.label}",
                                    timeout_seconds=timeout)

    def close(self):
        self.room.close()
        if self.copy:
            self.copy.close()


def crashed(sandbox, running):
    """What went wrong in a student's program (its process, its threads, the run() call `running`), or None."""
    trouble = sandbox.trouble()
    if trouble is not None:
        return trouble
    if running is not None and running.done() and running.error is not None:
        return running.error
    return None


def port_in_time_wait(host="127.0.0.1", patience=CALL_TIMEOUT):
    """A free port that a connection just closed by its server side holds in TIME_WAIT.

    A plain bind() to it fails with 'Address already in use' for a minute;
    with SO_REUSEADDR set before bind(), it succeeds: what a restarted
    server meets on its fixed port (notebook 01 shows it).
    """
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # the last run's server had it too (Linux
    listener.bind((host, 0))                                         # lets a bind pass a TIME_WAIT only then)
    listener.listen(1)
    port = listener.getsockname()[1]
    client = socket.create_connection((host, port), timeout=patience)
    conn, _ = listener.accept()
    conn.close()  # the server's side closes first: it is the one left in TIME_WAIT, on `port`
    client.recv(1)  # b"": its FIN has arrived
    client.close()
    listener.close()
    deadline = time.monotonic() + patience
    while time.monotonic() < deadline:  # the last ACK crosses loopback in microseconds; a kernel state, polled
        probe = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        try:
            probe.bind((host, port))
        except OSError:
            return port
        finally:
            probe.close()
        time.sleep(0.001)
    raise RuntimeError(f"port {port} did not reach TIME_WAIT")


__all__ = ["Exercise", "RunningClient", "RunningServer", "next_test_grades", "port_in_time_wait"]
