"""The test client: connects to a student's server and waits for lines, with a deadline.

    alice = server.join("alice")        # answers the nickname question
    alice.say("hello")
    bob.expect("alice: hello")          # the line, or a failure that says what came instead

A Peer is a recording client (chatkit.tools.recorder) that explains its
failures to the student. A wait ends early, with the reason, as soon as the
student's program crashes or dies, so a broken server fails a test in
milliseconds instead of after a timeout; a wait that does time out says
what the server's threads were doing.
"""

import contextlib
import select
import socket
import time

from chatkit.grader.limits import CRASH_REPORT_GRACE, EXPECT_TIMEOUT, FLOOD_BYTES_MAX, READ_PATIENCE
from chatkit.grader.results import words
from chatkit.grader.results.words import _
from chatkit.tools.recorder import Recorder

QUICKACK = getattr(socket, "TCP_QUICKACK", None)  # Linux only
TAIL_KEPT = 8192  # bytes of the end of what arrived, to find a last line that never got its newline


class CouldNotConnect(AssertionError):
    """A peer found no server listening: what a test of a stopped server expects, in any language."""


class Peer(Recorder):
    """One connection to the server under test."""

    def __init__(self, server, name, read=True, receive_buffer=None):
        self.server = server
        try:
            # Nagle's algorithm stays on, as in an ordinary client: lines said one after the
            # other reach the server one recv() at a time, as the exercises' tests expect.
            super().__init__(server.address, name, server.started, receive_buffer=receive_buffer,
                             timeout=EXPECT_TIMEOUT, nodelay=False)
        except OSError as error:
            raise CouldNotConnect(_("{name} could not connect to your server at {address}: {error}. "
                                   "Is the socket listening (listen() called)?").format(
                name=name, address=f"{server.address[0]}:{server.address[1]}", error=error)) from None
        # One timeout for both directions: the reader just tries again, a send gives up.
        self.reading = read
        self.tail = b""  # the last bytes received: what came after the last newline is an unfinished line
        if read:  # a client that never reads does not even start its reader
            self.start_reading(f"peer {name}")
        server.sandbox.listeners.append(self._wake)

    def _wake(self):
        with self.arrived:
            self.arrived.notify_all()

    def read(self):
        """The next bytes, while this peer reads; None once stop_reading() was called.

        Each read acknowledges at once (TCP_QUICKACK, Linux): a server whose
        socket still uses Nagle's algorithm holds its next small send until the
        last one is acknowledged, and a delayed acknowledgement would add up to
        40 ms to every such wait, which the test would count as the server's.
        """
        while self.reading:
            try:
                data = self.sock.recv(65536)
            except TimeoutError:
                continue
            except (OSError, ValueError):
                return b""
            if QUICKACK is not None:
                with contextlib.suppress(OSError):
                    self.sock.setsockopt(socket.IPPROTO_TCP, QUICKACK, 1)
            self.tail = (self.tail + data)[-TAIL_KEPT:]
            return data
        return None

    @property
    def guest_name(self):
        """What stage 4 calls this client: guest-PORT, after its port number."""
        return f"guest-{self.port}"

    def send_bytes(self, data):
        """Send raw bytes, no newline added (to cut lines and characters on purpose)."""
        try:
            self.sock.sendall(data)
        except TimeoutError:
            raise AssertionError(_("{name} could not send for {timeout:g} s: the server stopped reading what {name} "
                                   "sends.").format(name=self.name, timeout=EXPECT_TIMEOUT)
                                 + self.server.describe()) from None
        except OSError as error:
            raise AssertionError(_("{name} could not send: {error} (the server closed the connection?)").format(
                name=self.name, error=error)) from None

    def send_until_cut_off(self, chunk, most):
        """Send `chunk` again and again, `most` bytes at most, until the server hangs up; the bytes sent.

        A blocked sendall() does not see the server hang up (its FIN waits
        behind a full window) and would wait out its timeout: poll() wakes at
        once on the FIN (POLLRDHUP, Linux). Elsewhere, or when nothing can be
        sent for EXPECT_TIMEOUT s, it stops as a failed send_bytes() would
        (expect_closed() then says which it was).
        """
        sent, hung_up = 0, getattr(select, "POLLRDHUP", None)
        if hung_up is None:  # no poll() that sees a FIN here: send until a send fails
            while sent < most and not self.closed:
                try:
                    self.send_bytes(chunk)
                except AssertionError:
                    break
                sent += len(chunk)
            return sent
        poller = select.poll()
        poller.register(self.sock, select.POLLOUT | hung_up)
        while sent < most and not self.closed:
            ready = poller.poll(EXPECT_TIMEOUT * 1000)
            if not ready or ready[0][1] & (hung_up | select.POLLHUP | select.POLLERR):
                break
            try:
                sent += self.sock.send(chunk)
            except OSError:
                break
        return sent

    def server_unread(self):
        """Bytes this peer sent that wait, unread, in the server's socket (Linux: /proc/net/tcp); None elsewhere."""
        local, remote = (f"0100007F:{port:04X}" for port in (self.server.port, self.port))
        try:
            with open("/proc/net/tcp") as table:
                for row in table:
                    fields = row.split()
                    if fields[1:3] == [local, remote]:
                        return int(fields[4].split(":")[1], 16)
        except (OSError, IndexError, ValueError):
            pass
        return None

    def send_in_pieces(self, data, cuts):
        """Send `data` cut at the byte offsets `cuts`, each piece read by the server before the next leaves.

        So each piece reaches the server program in a recv() of its own: a
        line cut in the middle of a Korean character arrives cut, for sure.
        A server that does not read within READ_PATIENCE seconds just gets
        the next piece.
        """
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)  # each piece leaves at once
        edges = [0, *sorted(cuts), len(data)]
        for start, end in zip(edges, edges[1:]):
            self.send_bytes(data[start:end])
            deadline = time.monotonic() + READ_PATIENCE
            while time.monotonic() < deadline and (self.server_unread() or 0) > 0:
                time.sleep(0.001)  # a kernel counter, seen from outside: nothing to wait on

    def flood(self, listeners, until, why, most=FLOOD_BYTES_MAX, line="x" * 1000):
        """Say long lines, 256 at a time, each batch heard whole by every one of `listeners` before the
        next leaves, until `until()` or `most` bytes have gone; the bytes sent. (The room must keep up
        with the flood while a member who stopped reading falls behind, or a wait here fails.)"""
        sent, batch = 0, 0
        while sent < most and not until():
            for n in range(256):
                self.say(f"{batch}.{n} {line}")
            sent += 256 * len(line)
            for member in listeners:
                member.expect(f"{self.name}: {batch}.255 ", why=why)
            batch += 1
        return sent

    def stop_reading(self):
        """From now on, read nothing: a client whose buffers fill up (set receive_buffer small)."""
        self.reading = False

    def expect(self, text, timeout=EXPECT_TIMEOUT, why=""):
        """Wait for a line containing `text`, after the last line expected; return it."""
        return self._wait(lambda line: text in line, _("a line containing {text!r}").format(text=text), timeout, why, text)

    def expect_line(self, line, timeout=EXPECT_TIMEOUT, why=""):
        """Wait for exactly this line."""
        return self._wait(lambda got: got == line, _("the line {line!r}").format(line=line), timeout, why, line, exact=True)

    def expect_heard(self, text, timeout=EXPECT_TIMEOUT, why="", exact=False, matches=None):
        """Like expect() (expect_line() if exact), among every line received so far or later, in any order.

        Lines of several senders interleave as they like: this looks for one
        of them without moving the cursor the ordered waits use. `matches`
        (a function of the line) replaces the test of `text`, which then
        only describes what is awaited.
        """
        saved = self.cursor
        self.cursor = 0
        try:
            if matches is not None:
                return self._wait(matches, text, timeout, why)
            return self.expect_line(text, timeout, why) if exact else self.expect(text, timeout, why)
        finally:
            self.cursor = saved

    def count(self, text):
        """How many lines received so far contain `text` (a notice heard twice is a mistake too)."""
        with self.arrived:
            return sum(text in line for _, line in self.received)

    def unfinished_line(self):
        """What arrived after the last newline (a line still waiting for its "\n"), as text."""
        return self.tail.rpartition(b"\n")[2].decode("utf-8", errors="replace")

    def line_cause(self, text, exact):
        """The mistake that kept `text` from arriving as a line of its own, if what arrived shows one."""
        partial = self.unfinished_line()
        if text and text in partial:
            return words.no_newline(self.name, partial[-200:])
        if exact:
            for line in self.unread(last=50):
                if line.startswith(text) and line != text:
                    return words.run_together(self.name, line[:200], text)
        return None

    def _wait(self, matches, wanted, timeout, why, text="", exact=False):
        line = self.wait_for(matches, timeout, stop=self.server.problem)
        if line is not None:
            return line
        seen = self.unread(last=8)
        problem = self.server.problem()
        if not problem:  # a crash report may still be on its way: the connection closing can overtake it
            self.server.sandbox.sync()
            with self.arrived:  # every message from the sandbox wakes us
                self.arrived.wait_for(self.server.problem, CRASH_REPORT_GRACE if self.closed else 0)
            problem = self.server.problem()
        if problem:
            raise problem.reworded(_("{name} was waiting for {wanted}, but {problem}").format(
                name=self.name, wanted=wanted, problem=problem)) from None
        because = f" ({_(why)})" if why else ""  # a test's why: N_() marks it for the catalog
        ending = _("the server closed the connection") if self.closed else _("{timeout:g} s passed").format(timeout=timeout)
        message = _("{name} expected {wanted}{because}, but {ending}.").format(
            name=self.name, wanted=wanted, because=because, ending=ending)
        message += "\n  " + (_("Lines {name} received meanwhile: {seen}").format(name=self.name, seen=seen) if seen
                             else _("{name} received no line meanwhile.").format(name=self.name))
        partial = self.unfinished_line()
        if partial:
            message += "\n  " + unfinished(partial)
        state, cause = self.server.diagnosis(stuck=not self.closed)
        failure = AssertionError(message + state)
        failure.chatkit_cause = self.line_cause(text, exact) or cause
        failure.chatkit_cause_weak = failure.chatkit_cause is not cause  # what arrived shows it; the hint says why
        raise failure from None

    def expect_closed(self, timeout=EXPECT_TIMEOUT, why=""):
        """Wait until the server closes this connection (reading and keeping what comes first)."""
        with self.arrived:
            self.arrived.wait_for(lambda: self.closed or self.server.problem(), timeout)
            if self.closed:
                return
        self.server.sandbox.sync()
        problem = self.server.problem()
        if problem:
            raise problem.reworded(_("{name} was waiting to be disconnected, but {problem}").format(
                name=self.name, problem=problem)) from None
        because = f" ({_(why)})" if why else ""  # a test's why: N_() marks it for the catalog
        state, cause = self.server.diagnosis(stuck=True)
        failure = AssertionError(_("{name} expected the server to close the connection{because}, "
                                   "but it was still open after {timeout:g} s.").format(
            name=self.name, because=because, timeout=timeout) + state)
        failure.chatkit_cause = cause
        raise failure

    def reset(self):
        """Vanish abruptly, with a TCP reset: a crashed client, a pulled cable."""
        self.close(reset=True)

    def close(self, reset=False):
        """Close the connection (no /quit) and wait for the reading thread."""
        if self._wake in self.server.sandbox.listeners:
            self.server.sandbox.listeners.remove(self._wake)
        self.hang_up(reset=reset)

    def __repr__(self):
        return f"<Peer {self.name}, {len(self.received)} lines received>"


def unfinished(partial):
    """The line under a failed wait for what came after the last newline (a line still without its "\\n")."""
    return _("And after the last newline, unfinished: {partial!r}").format(partial=partial[-200:])
