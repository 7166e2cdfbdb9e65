"""`python -m chatkit serve`: run the reference server, one of the stages, or the event loop."""

import signal
import sys

from chatkit.client import remember_address
from chatkit.tools import servers


def add_arguments(parser):
    parser.add_argument("--host", default="127.0.0.1",
                        help="address to listen on (default 127.0.0.1, this machine only; 0.0.0.0 opens it to the network)")
    parser.add_argument("--port", type=int, default=0, help="port to listen on (default 0: any free port)")
    parser.add_argument("--stage", type=int, choices=servers.numbers(),
                        help="run a staged server (6: the event loop) instead of the reference server")


def main(args):
    """Listen, print the address, serve until Ctrl+C (or SIGTERM)."""
    module = servers.choose(args.stage).load()
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
