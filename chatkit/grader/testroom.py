"""The live test server a client exercise talks to, in the grader's process.

    room = TestRoom()                         # listens on 127.0.0.1, a free port
    client = ...connect to room.port...       # the student's client, in its sandbox
    room.accept()                             # its connection
    room.send_line("Enter your nickname:")    # what a chat server would say
    room.expect_line("alice")                 # what the client sent, or a failure that says what came
    room.hang_up()                            # a server that goes away

Every wait has a deadline. A line the client sent without its newline is
named as such, and a wait that ends early because the student's program
crashed says so (the sandbox is watched, as Peer does).
"""

import socket
import threading
import time

from chatkit.grader.limits import EXPECT_TIMEOUT
from chatkit.grader.peer import unfinished
from chatkit.grader.results import words
from chatkit.grader.results.words import _
from chatkit.protocol import LineReader, LineTooLong, encode_line

MAX_LINE = 1 << 20  # characters of one line the client sends, at most


class TestRoom:
    """A one-client chat server the test drives line by line."""

    __test__ = False  # not a test class, whatever pytest thinks of the name

    def __init__(self, sandbox=None):
        self.sandbox = sandbox  # the student's process: a crash there ends every wait at once
        self.listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.listener.bind(("127.0.0.1", 0))
        self.listener.listen(1)
        self.port = self.listener.getsockname()[1]
        self.conn = None
        self.received = []  # the lines the client sent
        self.cursor = 0
        self.tail = b""  # what came after the last newline
        self.closed = False  # the client closed (or reset) its connection
        self.arrived = threading.Condition()
        self.reader = None
        if sandbox is not None:
            sandbox.listeners.append(self._wake)

    def _wake(self):
        with self.arrived:
            self.arrived.notify_all()

    def problem(self):
        return self.sandbox.trouble() if self.sandbox is not None else None

    def accept(self, timeout=EXPECT_TIMEOUT):
        """Take the client's connection; fail if it does not come."""
        self.listener.settimeout(timeout)
        try:
            self.conn, _ = self.listener.accept()
        except TimeoutError:
            raise AssertionError(_("your client did not connect to {address} within {timeout:g} s "
                                   "(connect() makes the TCP connection)").format(
                address=f"127.0.0.1:{self.port}", timeout=timeout)) from None
        self.conn.settimeout(None)
        self.conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)  # every send leaves at once
        self.reader = threading.Thread(target=self._read, name="test room reader", daemon=True)
        self.reader.start()

    def _read(self):
        reader = LineReader(MAX_LINE)
        while True:
            try:
                data = self.conn.recv(65536)
            except OSError:
                data = b""
            with self.arrived:
                if data:
                    self.tail = (self.tail + data)[-4096:]
                    try:
                        self.received += reader.feed(data)
                    except LineTooLong:
                        self.received.append(f"<more than {MAX_LINE} characters without a newline>")
                        reader = LineReader(MAX_LINE)
                else:
                    self.closed = True
                self.arrived.notify_all()
            if not data:
                return

    # -- what the room says ----------------------------------------------------------------

    def send_bytes(self, data):
        self.conn.sendall(data)

    def send_line(self, text):
        self.send_bytes(encode_line(text))

    def hang_up(self):
        """The server goes away: the client's recv() returns b''."""
        try:
            self.conn.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass

    # -- what the client said ---------------------------------------------------------------

    def expect_line(self, line, timeout=EXPECT_TIMEOUT, why=""):
        """Wait for exactly this line from the client, after the last one expected."""
        deadline = time.monotonic() + timeout
        with self.arrived:
            while True:
                for index in range(self.cursor, len(self.received)):
                    if self.received[index] == line:
                        self.cursor = index + 1
                        return line
                left = deadline - time.monotonic()
                if left <= 0 or self.closed or self.problem():
                    break
                self.arrived.wait(left)
            seen, partial = self.received[self.cursor:][-8:], self.tail.rpartition(b"\n")[2]
        problem = self.problem()
        if problem:
            raise problem.reworded(_("the test server was waiting for the line {line!r} from your client, "
                                     "but {problem}").format(line=line, problem=problem)) from None
        because = f" ({_(why)})" if why else ""  # a test's why: N_() marks it for the catalog
        ending = (_("your client closed the connection") if self.closed
                  else _("{timeout:g} s passed").format(timeout=timeout))
        message = _("the test server expected the line {line!r} from your client{because}, but {ending}.").format(
            line=line, because=because, ending=ending)
        message += "\n  " + (_("Lines it received meanwhile: {seen}").format(seen=seen) if seen
                             else _("It received no line meanwhile."))
        failure = AssertionError(message + ("\n  " + unfinished(partial) if partial else ""))
        if line and line in partial.decode("utf-8", errors="replace"):
            failure.chatkit_cause = words.no_newline("the test server", partial[-200:].decode("utf-8", "replace"))
        raise failure

    def lines(self):
        with self.arrived:
            return list(self.received)

    def wait_closed(self, timeout=EXPECT_TIMEOUT):
        """True once the client has closed its connection."""
        with self.arrived:
            return self.arrived.wait_for(lambda: self.closed, timeout)

    def close(self):
        if self.sandbox is not None and self._wake in self.sandbox.listeners:
            self.sandbox.listeners.remove(self._wake)
        if self.conn is not None:
            self.hang_up()  # wakes the reader: close() alone would not
        for sock in (self.conn, self.listener):
            if sock is not None:
                try:
                    sock.close()
                except OSError:
                    pass
        if self.reader is not None:
            self.reader.join(1)
