"""The command-line chat client (the report's client, with its rough edges fixed).

    main thread:     input() -> send_message() -> socket
    receive thread:  socket -> LineReader -> show() above what you are typing

Two threads share one terminal: while you type, a message may arrive.
`Terminal.show` prints it *above* the line you are typing and then redraws
your unfinished line, so incoming text never garbles your input.

Run it:  python -m chatkit join --port PORT [--nick NAME]
Leave:   /quit, Ctrl+D or Ctrl+C
"""

import os
import signal
import socket
import sys
import threading
from pathlib import Path

from chatkit import protocol
from chatkit.protocol import LineReader, encode_line

PROMPT = "> "
LAST_SERVER_FILE = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "chatkit" / "last-server"


class Terminal:
    """Print lines from any thread without breaking the line being typed."""

    def __init__(self, stdin=sys.stdin, stdout=sys.stdout):
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
        reader = LineReader()
        while True:
            try:
                data = self.sock.recv(4096)
            except OSError:
                data = b""
            if not data:
                break
            for line in reader.feed(data):
                self.terminal.show(line)
                if line == protocol.PROMPT and self.nick:
                    self.send_message(self.nick)
                    self.nick = None  # if it is refused, the user types another one
        self.server_closed.set()
        if not self.leaving:
            self.terminal.show("* Disconnected by the server.")
            os.kill(os.getpid(), signal.SIGINT)  # wakes the input() in the main thread

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
    parser.add_argument("--host", default=None, help="server address (default: the last server started here, else 127.0.0.1)")
    parser.add_argument("--port", type=int, default=None, help="server port (default: the last server started here)")
    if nick:
        parser.add_argument("--nick", help="nickname (asked for if not given)")


def remember_address(host, port):
    """Note where a server listens (`serve` does), so `join` and `gui` find it without --port."""
    try:
        LAST_SERVER_FILE.parent.mkdir(parents=True, exist_ok=True)
        LAST_SERVER_FILE.write_text(f"{host} {port}\n")
    except OSError:
        pass  # a read-only home: the user passes --port instead


def last_address():
    """(host, port) of the last server started here, or None."""
    try:
        host, port = LAST_SERVER_FILE.read_text().split()
        return host, int(port)
    except (OSError, ValueError):
        return None


def server_address(args):
    """(host, port) from the arguments, falling back to the last server started here."""
    last = last_address()
    if args.port is None and last is None:
        raise SystemExit("Which port? Give --port PORT, the number `python -m chatkit serve` printed.")
    host = args.host or (last[0] if last and args.port is None else "127.0.0.1")
    return host, args.port if args.port is not None else last[1]


def main(args):
    """`python -m chatkit join`: connect and chat."""
    args.host, args.port = server_address(args)
    client = Client(args.host, args.port, args.nick)
    try:
        client.connect()
    except OSError as error:
        print(f"Cannot connect to {args.host}:{args.port}: {error.strerror or error}.", file=sys.stderr)
        print("Is the server running? Start one with: python -m chatkit serve", file=sys.stderr)
        return 1
    try:
        client.run()
    except KeyboardInterrupt:  # Ctrl+C while leaving, or the receive thread's wake-up arriving late
        client.sock.close()
    return 0
