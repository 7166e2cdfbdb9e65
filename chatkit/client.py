"""The command-line chat client (the report's client, with its rough edges fixed).

    main thread:     input() -> send_message() -> socket
    receive thread:  socket -> LineReader -> show() above what you are typing

Two threads share one terminal: while you type, a message may arrive.
`Terminal.show` prints it *above* the line you are typing and then redraws
your unfinished line, so incoming text never garbles your input.

A server may send anything, and the staged servers relay raw bytes on
purpose: every line passes `display_text` before it reaches the terminal
(no escape sequence from a classmate may clear your screen, retitle your
window or write to your clipboard), a line too long is shown cut and
marked, and the receive thread always ends by telling the input loop.

Run it:  python -m chatkit join --port PORT [--nick NAME]
Leave:   /quit, Ctrl+D or Ctrl+C
"""

import os
import signal
import socket
import sys
import threading

from chatkit import protocol
from chatkit.protocol import ClientLineReader, display_text, encode_line
from chatkit.tools import addresses
from chatkit.tools.language import translator

PROMPT = "> "
_ = translator()  # the client's own lines in the kit's language (CHATKIT_LANG, else the locale)


class Terminal:
    """Print lines from any thread without breaking the line being typed."""

    def __init__(self, stdin=sys.stdin, stdout=sys.stdout):
        if hasattr(stdout, "reconfigure"):
            stdout.reconfigure(errors="replace")  # a terminal that cannot show Korean shows '?', not a traceback
        self.stdout = stdout
        self.lock = threading.Lock()
        self.interactive = stdin.isatty() and stdout.isatty()
        self.readline = None
        if self.interactive:
            try:
                import readline  # line editing and history; absent on Windows

                self.readline = readline
            except ImportError:
                pass

    def show(self, line):
        """Print `line` above the prompt and redraw what the user has typed so far."""
        with self.lock:
            if self.interactive:
                typed = self.readline.get_line_buffer() if self.readline else ""
                # \r: back to column 0; \x1b[2K: erase the line (prompt and typing).
                self.stdout.write(f"\r\x1b[2K{line}\n{PROMPT}{typed}")
            else:
                self.stdout.write(line + "\n")
            self.stdout.flush()

    def ask(self):
        """Read one line typed by the user; raise EOFError on Ctrl+D."""
        return input(PROMPT if self.interactive else "")


class Client:
    """A connection to the chat server (report: class Client)."""

    def __init__(self, host, port, nick=None, terminal=None):
        self.host = host
        self.port = port
        self.nick = nick
        self.terminal = terminal or Terminal()
        self.sock = None
        self.server_closed = threading.Event()
        self.leaving = False

    def connect(self):
        """Create an IPv4 TCP socket and connect it (report: the socket method)."""
        self.sock = socket.create_connection((self.host, self.port), timeout=5)
        self.sock.settimeout(None)

    def recv_message(self):
        """Show every line the server sends; when it hangs up, stop the input loop."""
        reader = ClientLineReader()  # a line too long is shown cut, never the end of this thread
        try:
            while True:
                try:
                    data = self.sock.recv(65536)
                except OSError:
                    data = b""
                lines = reader.feed(data) if data else reader.close()  # close(): a line cut by the hang-up
                for line in lines:
                    self.show_line(line)
                if not data:
                    break
        finally:  # whatever happened above, the input loop must hear that the server is gone
            self.server_closed.set()
            if not self.leaving:
                self.terminal.show(_("* Disconnected by the server."))
                os.kill(os.getpid(), signal.SIGINT)  # wakes the input() in the main thread

    def show_line(self, line):
        """Show one line from the server, cleaned; answer the nickname question if asked."""
        line = display_text(line)
        self.terminal.show(line)
        if protocol.said(line, protocol.PROMPT) and self.nick:  # asked in English or Korean
            self.send_message(protocol.normal_nickname(self.nick))
            self.nick = None  # if it is refused, the user types another one

    def send_message(self, text):
        """Send one line to the server."""
        self.sock.sendall(encode_line(text))

    def run(self):
        """Read lines from the user and send them until /quit, Ctrl+D or Ctrl+C."""
        try:
            threading.Thread(target=self.recv_message, name="receive", daemon=True).start()
            while not self.server_closed.is_set():
                text = self.terminal.ask()
                if text.strip() == "/quit":
                    break
                if text:  # an empty line is not a message
                    self.send_message(text)
        except (EOFError, KeyboardInterrupt, ConnectionError):
            if self.terminal.interactive:
                print()  # leave the half-typed line, so the shell prompt starts afresh
        self.leave()

    def leave(self):
        """Say /quit, wait briefly for the server's goodbye, close."""
        if not self.server_closed.is_set():
            self.leaving = True
            try:
                self.send_message("/quit")
                self.server_closed.wait(2)
            except OSError:
                pass
        self.sock.close()


def add_arguments(parser, nick=True):
    """--host, --port and --nick, shared by `join` and `gui`."""
    parser.add_argument("--host", default=None, help=_("server address (default: your server's, else 127.0.0.1)"))
    parser.add_argument("--port", type=int, default=None,
                        help=_("server port (default: the server you started with `python -m chatkit serve`)"))
    if nick:
        parser.add_argument("--nick", help=_("nickname (asked for if not given)"))


def server_address(args):
    """(host, port, the remembered server or None): --port, else the server you started."""
    if args.port is not None:
        return args.host or "127.0.0.1", args.port, None
    server, why_not = addresses.choose(args.host)
    if server is None:
        raise SystemExit(why_not)
    return server.host, server.port, server


def cannot_connect(host, port, error, server):
    """Explain why a connection failed (stderr); a remembered server that refuses is forgotten."""
    print(_("Cannot connect to {host}:{port}: {error}.").format(host=host, port=port, error=error.strerror or error),
          file=sys.stderr)
    print(_("Is the server running? Start one with: python -m chatkit serve"), file=sys.stderr)
    if server is not None:
        addresses.forget(server)
    return 1


def main(args):
    """`python -m chatkit join`: connect and chat."""
    host, port, server = server_address(args)
    client = Client(host, port, args.nick)
    try:
        client.connect()
    except OSError as error:
        return cannot_connect(host, port, error, server)
    if server is not None:
        client.terminal.show(_("* Connected to {host}:{port}, the server started {origin}.").format(
            host=host, port=port, origin=server.origin()))
    else:
        client.terminal.show(_("* Connected to {host}:{port}.").format(host=host, port=port))
    try:
        client.run()
    except KeyboardInterrupt:  # Ctrl+C while leaving, or the receive thread's wake-up arriving late
        client.sock.close()
    return 0
