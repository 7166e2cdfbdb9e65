"""Exercise 8 (specified): the report's client: a receive thread, and the input loop.

The report's client has two halves: ``sendMessage`` reads what the user
types and sends it, ``recvMessage`` prints what the others said. They must
run at the same time: while the user thinks about what to type (``input()``
waits), lines keep arriving and must be shown at once. So the receiving
runs in a thread of its own, and the main loop only reads the keyboard::

    run():              the receive thread --start-->  recv() -> lines -> show() ...
                        ask() -> send_message() -> ask() -> ...

Write ``Client`` (``python -m chatkit join`` is the kit's own, with more
around it; notebook 00 maps the report's client onto it). What it must do:

* ``connect()``: a TCP connection to ``(self.host, self.port)``, kept in
  ``self.sock`` (report: ``Client.socket``).
* ``send_message(text)``: one line to the server: UTF-8, ending in ``"\\n"``.
* ``recv_message()``, the receive thread: shows every line the server
  sends with ``self.show(line)``, one call per line, whole however TCP cut
  it (two lines in one ``recv()``, a Korean character cut in half:
  ``chatkit.protocol.ClientLineReader`` or your own LineReader of exercise
  6). When the server closes the connection it sets
  ``self.server_closed`` and, unless the user is leaving, shows
  ``* Disconnected by the server.``
* ``run()``: starts the receive thread, then reads lines with
  ``self.ask()`` and sends each one (an empty line is not sent) until:
  the user types ``/quit``, or ends the input (Ctrl+D: ``ask()`` raises
  ``EOFError``); either way the client sends ``/quit`` and waits (at most
  2 s) for the server to close. Or the server has closed: the next line
  typed is not sent, the loop just ends. Then it closes the socket and
  returns.

Given: ``__init__``, ``show(line)`` (the screen: each line cleaned, as
every client of the kit does) and ``ask()`` (the keyboard).

Check it:  pytest exercises/ex08_client_test.py
"""

import socket
import threading

from chatkit.protocol import ClientLineReader, display_text, encode_line

DISCONNECTED = "* Disconnected by the server."


class Client:
    """A connection to the chat server (report: class Client), with its two threads."""

    def __init__(self, host, port):
        self.host = host
        self.port = port
        self.sock = None
        self.server_closed = threading.Event()  # set by the receive thread once the server hung up
        self.leaving = False  # the user asked to leave: the hang-up that follows is no surprise

    def show(self, line):
        """Show one line from the server on the screen (cleaned: no escape sequences)."""
        print(f"{display_text(line)}\n", end="", flush=True)  # one write: lines never run together

    def ask(self):
        """The next line the user types (without its newline); EOFError once the input ends (Ctrl+D)."""
        return input()

    def connect(self):
        """Create an IPv4 TCP socket connected to the server (report: the socket method)."""
        # TODO: connect a TCP socket to (self.host, self.port) and keep it in self.sock
        raise NotImplementedError('TODO: connect a TCP socket to (self.host, self.port) and keep it in self.sock')

    def send_message(self, text):
        """Send one line to the server."""
        # TODO: send text as one line: UTF-8, ending in "\n"
        raise NotImplementedError('TODO: send text as one line: UTF-8, ending in "\\n"')

    def recv_message(self):
        """The receive thread: show every line the server sends; when it hangs up, say so."""
        # TODO: recv, cut into whole lines, show each; on b"" (or an error) set server_closed, say so
        raise NotImplementedError('TODO: recv, cut into whole lines, show each; on b"" (or an error) set server_closed, say so')

    def run(self):
        """Start the receive thread, then send what the user types until /quit, Ctrl+D or the server leaves."""
        # TODO: start recv_message in a thread; loop ask() -> send; /quit or EOF: say /quit, wait, close
        raise NotImplementedError('TODO: start recv_message in a thread; loop ask() -> send; /quit or EOF: say /quit, wait, close')
