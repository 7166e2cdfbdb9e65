"""`python -m chatkit serve`: run the reference server, or one of the stages."""

import os
import signal
import sys
from pathlib import Path

LAST_SERVER_FILE = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "chatkit" / "last-server"


def add_arguments(parser):
    parser.add_argument("--host", default="127.0.0.1",
                        help="address to listen on (default 127.0.0.1, this machine only; 0.0.0.0 opens it to the network)")
    parser.add_argument("--port", type=int, default=0, help="port to listen on (default 0: any free port)")
    from chatkit.stages import STAGES

    parser.add_argument("--stage", type=int, choices=sorted(STAGES),
                        help="run a staged server instead of the reference server")


def remember_address(host, port):
    """Note where the server listens, so `join` and `gui` can find it without --port."""
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


def main(args):
    """Listen, print the address, serve until Ctrl+C (or SIGTERM)."""
    from chatkit import server, stages

    module = stages.load(args.stage) if args.stage else server
    chat_server = module.RunServer(args.host, args.port)
    try:
        chat_server.server_open()
    except OSError as error:
        print(f"Cannot listen on {args.host}:{args.port}: {error.strerror or error}.", file=sys.stderr)
        return 1
    for signum in (signal.SIGINT, signal.SIGTERM):  # `kill` stops it like Ctrl+C, even in the background
        signal.signal(signum, signal.default_int_handler)
    try:  # from the first line on, Ctrl+C means a clean stop
        print(f"listening on {chat_server.host}:{chat_server.port}", flush=True)
        print("Press Ctrl+C to stop.", flush=True)
        remember_address(chat_server.host, chat_server.port)
        chat_server.run()
    except KeyboardInterrupt:
        print(flush=True)  # after the ^C the terminal shows
    finally:
        signal.signal(signal.SIGINT, signal.SIG_DFL)  # a second Ctrl+C ends it at once
        chat_server.stop()
    print("Server stopped.", flush=True)
    return 0
