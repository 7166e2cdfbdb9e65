"""The test client: connects to a student's server and waits for lines, with a deadline.

    alice = server.join("alice")        # answers the nickname question
    alice.say("hello")
    bob.expect("alice: hello")          # the line, or a failure that says what came instead

Every line received is kept with the time it arrived. A wait ends early,
with the reason, as soon as the student's program crashes or dies, so a
broken server fails a test in milliseconds instead of after a timeout; a
wait that does time out says what the server's threads were doing.
"""

import socket
import threading
import time

from chatkit.grader.sandbox import CALL_TIMEOUT
from chatkit.protocol import LineReader, LineTooLong, encode_line

EXPECT_TIMEOUT = CALL_TIMEOUT  # seconds to wait for a line a correct server sends at once
CRASH_REPORT_GRACE = 1.0  # seconds a closed connection waits for the crash that may have closed it
MAX_LINE = 1 << 20  # characters; a server spewing text without newlines is cut here


class Peer:
    """One connection to the server under test."""

    def __init__(self, server, name, read=True, receive_buffer=None):
        self.server = server
        self.name = name
        self.received = []  # (seconds since the server started, line)
        self.cursor = 0  # expect() looks at lines after this one
        self.arrived = threading.Condition()
        self.closed = False  # the server closed (or reset) the connection
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        if receive_buffer:  # set before connecting, so the window is small from the start
            self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, receive_buffer)
        self.sock.settimeout(EXPECT_TIMEOUT)
        try:
            self.sock.connect(server.address)
        except OSError as error:
            self.sock.close()
            raise AssertionError(f"{name} could not connect to your server at {server.address[0]}:{server.address[1]}: "
                                 f"{error}. Is the socket listening (listen() called)?") from None
        # One timeout for both directions: the reader just tries again, a send gives up.
        self.sock.settimeout(EXPECT_TIMEOUT)
        self.reading = read
        self.port = self.sock.getsockname()[1]
        self.thread = None
        if read:  # a client that never reads does not even start its reader
            self.thread = threading.Thread(target=self._receive, name=f"peer {name}", daemon=True)
            self.thread.start()
        server.sandbox.listeners.append(self._wake)

    def _wake(self):
        with self.arrived:
            self.arrived.notify_all()

    def _receive(self):
        reader = LineReader(max_chars=MAX_LINE)
        while self.reading:
            try:
                data = self.sock.recv(65536)
            except TimeoutError:
                continue
            except OSError:
                data = b""
            with self.arrived:
                if not data:
                    self.closed = True
                else:
                    now = time.monotonic() - self.server.started
                    try:
                        lines = reader.feed(data)
                    except LineTooLong:
                        lines, reader = [f"<more than {MAX_LINE} characters without a newline>"], LineReader(MAX_LINE)
                    self.received.extend((now, line) for line in lines)
                self.arrived.notify_all()
            if not data:
                return

    @property
    def guest_name(self):
        """What stage 4 calls this client: guest-PORT, after its port number."""
        return f"guest-{self.port}"

    def say(self, text):
        """Send one line."""
        self.send_bytes(encode_line(text))

    def send_bytes(self, data):
        """Send raw bytes, no newline added (to cut lines and characters on purpose)."""
        try:
            self.sock.sendall(data)
        except TimeoutError:
            raise AssertionError(f"{self.name} could not send for {EXPECT_TIMEOUT:g} s: the server stopped "
                                 f"reading what {self.name} sends." + self.server.describe()) from None
        except OSError as error:
            raise AssertionError(f"{self.name} could not send: {error} (the server closed the connection?)") from None

    def stop_reading(self):
        """From now on, read nothing: a client whose buffers fill up (set receive_buffer small)."""
        self.reading = False

    def seen(self, text):
        """Did any line received so far contain `text`?"""
        with self.arrived:
            return any(text in line for _, line in self.received)

    def lines(self):
        with self.arrived:
            return [line for _, line in self.received]

    def expect(self, text, timeout=EXPECT_TIMEOUT, why=""):
        """Wait for a line containing `text`, after the last line expected; return it."""
        return self._wait(lambda line: text in line, f"a line containing {text!r}", timeout, why)

    def expect_line(self, line, timeout=EXPECT_TIMEOUT, why=""):
        """Wait for exactly this line."""
        return self._wait(lambda got: got == line, f"the line {line!r}", timeout, why)

    def _wait(self, matches, wanted, timeout, why):
        deadline = time.monotonic() + timeout
        with self.arrived:
            while True:
                for index in range(self.cursor, len(self.received)):
                    if matches(self.received[index][1]):
                        self.cursor = index + 1
                        return self.received[index][1]
                problem = self.server.problem()
                left = deadline - time.monotonic()
                if problem or left <= 0 or self.closed:
                    break
                self.arrived.wait(left)
            seen = [line for _, line in self.received[self.cursor:]][-8:]
        if not problem:  # a crash report may still be on its way: the connection closing can overtake it
            self.server.sandbox.sync()
            with self.arrived:  # every message from the sandbox wakes us
                self.arrived.wait_for(self.server.problem, CRASH_REPORT_GRACE if self.closed else 0)
            problem = self.server.problem()
        if problem:
            raise problem.reworded(f"{self.name} was waiting for {wanted}, but {problem}") from None
        because = f" ({why})" if why else ""
        if self.closed:
            ending = "the server closed the connection"
        else:
            ending = f"{timeout:g} s passed"
        message = f"{self.name} expected {wanted}{because}, but {ending}."
        message += f"\n  Lines {self.name} received meanwhile: {seen}" if seen else f"\n  {self.name} received no line meanwhile."
        raise AssertionError(message + self.server.describe(stuck=not self.closed)) from None

    def expect_closed(self, timeout=EXPECT_TIMEOUT, why=""):
        """Wait until the server closes this connection (reading and keeping what comes first)."""
        with self.arrived:
            self.arrived.wait_for(lambda: self.closed or self.server.problem(), timeout)
            if self.closed:
                return
        self.server.sandbox.sync()
        problem = self.server.problem()
        if problem:
            raise problem.reworded(f"{self.name} was waiting to be disconnected, but {problem}") from None
        because = f" ({why})" if why else ""
        raise AssertionError(f"{self.name} expected the server to close the connection{because}, "
                             f"but it was still open after {timeout:g} s." + self.server.describe(stuck=True))

    def shutdown_write(self):
        """Tell the server we will send nothing more (it reads end-of-file), but keep reading."""
        self.sock.shutdown(socket.SHUT_WR)

    def reset(self):
        """Vanish abruptly, with a TCP reset: a crashed client, a pulled cable."""
        self.close(reset=True)

    def close(self, reset=False):
        """Close the connection (no /quit) and wait for the reading thread."""
        if self._wake in self.server.sandbox.listeners:
            self.server.sandbox.listeners.remove(self._wake)
        try:
            if reset:  # SHUT_RD wakes our reader without sending anything; close() then sends RST
                self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
                self.sock.shutdown(socket.SHUT_RD)
            else:
                self.sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        self.sock.close()
        if self.thread is not None:
            self.thread.join(EXPECT_TIMEOUT)

    def __repr__(self):
        return f"<Peer {self.name}, {len(self.received)} lines received>"
