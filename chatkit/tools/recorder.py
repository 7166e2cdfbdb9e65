"""A chat client driven from code that records every line it receives, with the time.

    client = Recorder(("127.0.0.1", port), "alice", started=time.monotonic())
    client.start_reading()                  # a thread reads and records, line by line
    client.say("hello")
    client.wait_for(lambda line: "alice: hello" in line, timeout=2)   # the line, or None

It is what the lab's ``LiveClient`` (notebooks) and the grader's ``Peer``
(graded tests) are made of; each adds its own words for what went wrong.
Every wait has a deadline, and a wait ends early when the connection
closes. Lines are framed by ``chatkit.protocol.LineReader``; a server that
sends megabytes without a newline is recorded as one marker line, never as
an error in the reading thread.
"""

import socket
import struct
import threading
import time

from chatkit.protocol import LineReader, LineTooLong, encode_line

CONNECT_TIMEOUT = 5.0  # seconds for the TCP handshake
JOIN_TIMEOUT = 5.0  # seconds to wait for the reading thread when closing
MAX_LINE = 1 << 20  # characters: longer is recorded as a marker


class Recorder:
    """One TCP connection; once started, a thread records every line received."""

    def __init__(self, address, name, started, receive_buffer=None, timeout=CONNECT_TIMEOUT, nodelay=True):
        self.name = name
        self.started = started  # time.monotonic() that the recorded times count from
        self.received = []  # (seconds since `started`, line)
        self.cursor = 0  # waits look at the lines after this index
        self.arrived = threading.Condition()  # notified on every line, and when the connection closes
        self.closed = False  # the other side closed (or reset) the connection
        self.thread = None
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        if receive_buffer:  # a small receive buffer fills sooner (set before connecting)
            self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, receive_buffer)
        self.sock.settimeout(timeout)
        try:
            self.sock.connect(address)
        except OSError:
            self.sock.close()
            raise
        if nodelay:  # send each line at once: Nagle's algorithm would hold a small line back for up
            # to 40 ms, and the recorded times would blame the server for it
            self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.port = self.sock.getsockname()[1]

    def now(self):
        return time.monotonic() - self.started

    def start_reading(self, thread_name):
        self.thread = threading.Thread(target=self._receive, name=thread_name, daemon=True)
        self.thread.start()

    def read(self):
        """The next bytes from the server; b"" once the connection is closed; None: stop reading."""
        try:
            return self.sock.recv(65536)
        except (OSError, ValueError):  # reset, or closed here (ValueError: no file descriptor)
            return b""

    def _receive(self):
        reader = LineReader(max_chars=MAX_LINE)
        while True:
            data = self.read()
            if data is None:
                return
            with self.arrived:
                if data:
                    now = self.now()
                    try:
                        lines = reader.feed(data)
                    except LineTooLong:
                        lines, reader = [f"<more than {MAX_LINE} characters without a newline>"], LineReader(MAX_LINE)
                    self.received.extend((now, line) for line in lines)
                else:
                    self.closed = True
                self.arrived.notify_all()
            if not data:
                return

    def say(self, text):
        """Send one line."""
        self.send_bytes(encode_line(text))

    def send_bytes(self, data):
        """Send raw bytes, no newline added (to cut lines and characters on purpose)."""
        self.sock.sendall(data)

    def lines(self):
        """Every line received so far."""
        with self.arrived:
            return [line for _, line in self.received]

    def seen(self, text):
        """Did any line received so far contain `text`?"""
        with self.arrived:
            return any(text in line for _, line in self.received)

    def unread(self, last=10):
        """The last lines received after the cursor (what a failed wait saw instead)."""
        with self.arrived:
            return [line for _, line in self.received[self.cursor:]][-last:]

    def wait_for(self, matches, timeout, stop=None):
        """The first line after the cursor for which matches(line) is true, within `timeout` s.

        None if the time runs out, the connection closes or stop() becomes
        true first; a line found moves the cursor past it.
        """
        deadline = time.monotonic() + timeout
        with self.arrived:
            while True:
                for index in range(self.cursor, len(self.received)):
                    if matches(self.received[index][1]):
                        self.cursor = index + 1
                        return self.received[index][1]
                left = deadline - time.monotonic()
                if left <= 0 or self.closed or (stop is not None and stop()):
                    return None
                self.arrived.wait(left)

    def wait_closed(self, timeout):
        """Wait until the server closes the connection; False if it did not."""
        with self.arrived:
            return self.arrived.wait_for(lambda: self.closed, timeout)

    def shutdown_write(self):
        """Tell the server we will send nothing more (it reads end-of-file), but keep reading."""
        self.sock.shutdown(socket.SHUT_WR)

    def wake_reader(self):
        """Make sure the reading thread sees the connection end (a paused reader, say)."""

    def hang_up(self, reset=False):
        """Close the connection and wait for the reading thread; reset=True vanishes with a TCP reset.

        A reset is what a crashed client or a pulled cable looks like to the
        server: SHUT_RD wakes our reader without telling the server anything,
        and close() with a zero linger then sends RST instead of FIN.
        """
        if self.sock.fileno() != -1:
            try:
                if reset:
                    self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                    self.sock.shutdown(socket.SHUT_RD)
                else:
                    self.sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        self.wake_reader()
        if self.thread is not None and self.thread is not threading.current_thread():
            self.thread.join(JOIN_TIMEOUT)
        self.sock.close()
