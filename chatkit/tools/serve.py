"""`python -m chatkit serve`: run the reference server, one of the stages, or the event loop.

``--room redis://HOST:PORT/ROOM`` makes the reference server (or stage 6)
one of several servers sharing a room through Redis (chatkit.sharedroom):
start it on several machines, or twice on this one, with the same address.

Ctrl+C (SIGINT) and `kill` (SIGTERM) stop every server cleanly, at any
moment: the signal handler only starts ``stop()`` in a thread of its own and
returns, so no exception lands between two lines of the server's main
thread (inside a ``with lock:``, say); ``run()`` then returns by itself.
"""

import inspect
import re
import signal
import sys
import threading

from chatkit.sharedroom import RoomAddress, RoomUnreachable
from chatkit.tools import addresses, servers
from chatkit.tools.language import LANGUAGES, translator

_ = translator()


def add_arguments(parser):
    parser.add_argument("--host", default="127.0.0.1",
                        help=_("address to listen on (default 127.0.0.1, this machine only; 0.0.0.0 opens it to the network)"))
    parser.add_argument("--port", type=int, default=0, help=_("port to listen on (default 0: any free port)"))
    parser.add_argument("--stage", type=int, choices=servers.numbers(),
                        help=_("run a staged server (6: the event loop) instead of the reference server"))
    parser.add_argument("--nickname-seconds", type=float,
                        help=_("reference server and stage 6: disconnect a newcomer without a nickname after this long"))
    parser.add_argument("--max-joining", type=int,
                        help=_("reference server and stage 6: connections that may wait to choose a nickname at once"))
    parser.add_argument("--room", metavar="redis://HOST:PORT/ROOM",
                        help=_("reference server and stage 6: share the room ROOM with the other servers "
                               "that use this Redis (see chatkit/sharedroom.py)"))
    parser.add_argument("--name", help=_("with --room: what the other servers call this one (default HOST:PORT)"))
    parser.add_argument("--lang", choices=LANGUAGES, default="en",
                        help=_("reference server and stage 6: the language the server speaks to its members "
                               "(default en; the stages speak the report's English)"))
    parser.add_argument("--presence-seconds", type=float,
                        help=_("with --room: how long the others wait before saying this server's members left, "
                               "if it dies (default 5)"))


def shared_room_problem(module, args):
    """Why --lang or --room cannot be used as given, or None."""
    if args.lang != "en" and "lang" not in inspect.signature(module.RunServer).parameters:
        return _("--lang: only the reference server and stage 6 (--stage 6) speak another language than English")
    if args.room is None:
        alone = [flag for flag, value in (("--presence-seconds", args.presence_seconds), ("--name", args.name)) if value]
        return _("{option} only means something with --room").format(option=alone[0]) if alone else None
    if args.name is not None and not re.fullmatch(r"\S{1,40}", args.name):
        return _("--name: at most 40 characters, no spaces")
    if "room" not in inspect.signature(module.RunServer).parameters:
        return _("--room: only the reference server and stage 6 (--stage 6) can share a room")
    try:
        RoomAddress.parse(args.room)
    except ValueError as error:
        return f"--room: {error}"
    if args.presence_seconds is not None and args.presence_seconds <= 0:
        return _("--presence-seconds must be more than 0")
    return None


def main(args):
    """Listen, print the address, serve until Ctrl+C (or SIGTERM)."""
    module = servers.choose(args.stage).load()
    problem = shared_room_problem(module, args)
    if problem is not None:
        print(problem, file=sys.stderr)
        return 2
    options = {"room": args.room} if args.room else {}
    if args.lang != "en":
        options["lang"] = args.lang
    chat_server = module.RunServer(args.host, args.port, **options)
    for option in ("nickname_seconds", "max_joining", "presence_seconds"):
        if getattr(args, option, None) is not None:
            setattr(chat_server, option, getattr(args, option))
    if args.name is not None:
        chat_server.room_name = args.name
    # The thread that will call stop() starts now, while threads can still be had: the signal
    # handler only sets an Event, which cannot fail (no new thread, no exception in run()).
    stop_requested = threading.Event()

    def stop_when_asked():
        stop_requested.wait()
        chat_server.stop()

    stopper = threading.Thread(target=stop_when_asked, name="stop")
    stopper.start()

    def on_signal(signum, frame):
        signal.signal(signal.SIGINT, signal.SIG_DFL)  # a second Ctrl+C ends it at once
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        stop_requested.set()

    for signum in (signal.SIGINT, signal.SIGTERM):  # `kill` stops it like Ctrl+C, even in the background
        signal.signal(signum, on_signal)
    try:
        try:
            chat_server.server_open()
        except RoomUnreachable as error:
            print(f"{str(error)[0].upper()}{str(error)[1:]}. " + _("Is redis-server running there? "
                  "(Debian, Ubuntu: sudo apt install redis-server; macOS: brew install redis)"), file=sys.stderr)
            return 1
        except OSError as error:
            print(_("Cannot listen on {host}:{port}: {error}.").format(host=args.host, port=args.port,
                                                                        error=error.strerror or error), file=sys.stderr)
            return 1
        print(f"listening on {chat_server.host}:{chat_server.port}", flush=True)  # English always: tools read it
        print(_("Press Ctrl+C to stop."), flush=True)
        addresses.remember(chat_server.host, chat_server.port)
        chat_server.run()  # returns once stop() was called
    finally:
        signalled = stop_requested.is_set()
        stop_requested.set()  # (run() ended by itself, or server_open() failed: stop anyway)
        stopper.join()
    if signalled:
        print(flush=True)  # after the ^C the terminal shows
    print(_("Server stopped."), flush=True)
    return 0
