"""Keep what background threads print out of the notebook: it goes to the server they work for.

In Jupyter, a print() from a background thread lands in whichever cell
happens to be running, often a cell that has nothing to do with it. So,
once `install(owner_of)` has run:

    a server thread prints        ->  owner.record(line)   (server.show_log() shows it)
    a server thread crashes       ->  owner.record(the traceback)
    anything else prints          ->  sys.stdout / sys.stderr as before

`owner_of(frames)` says, from a thread's stack, which server (if any) the
thread works for; chatkit.lab passes its own.
"""

import sys
import threading
import traceback

_owner_of = None  # frames -> an object with record(text), or None


def install(owner_of):
    """Wrap sys.stdout and sys.stderr, and catch uncaught exceptions of threads (once)."""
    global _owner_of
    _owner_of = owner_of
    for name in ("stdout", "stderr"):
        stream = getattr(sys, name)
        if stream is not None and not isinstance(stream, ThreadOutput):
            setattr(sys, name, ThreadOutput(stream))
    if threading.excepthook is not record_crash:
        record_crash.previous = threading.excepthook
        threading.excepthook = record_crash


def owner(frame):
    """Who the thread running `frame` works for, from its whole stack; None for the main thread."""
    if _owner_of is None or threading.current_thread() is threading.main_thread():
        return None
    frames = []
    while frame is not None:
        frames.append(frame)
        frame = frame.f_back
    return _owner_of(frames)


class ThreadOutput:
    """sys.stdout/sys.stderr stand-in: a line a server thread writes goes to that server."""

    def __init__(self, stream):
        self.stream = stream
        self.pending = {}  # thread ident -> text written since its last newline

    def write(self, text):
        server = owner(sys._getframe(1))
        if server is None:
            return self.stream.write(text)
        ident = threading.get_ident()
        *lines, self.pending[ident] = (self.pending.get(ident, "") + text).split("\n")
        for line in lines:
            server.record(line)
        return len(text)

    def flush(self):
        self.stream.flush()

    def __getattr__(self, name):  # fileno, encoding, isatty, Jupyter's set_parent, ...
        return getattr(self.stream, name)


def record_crash(args):
    """threading.excepthook: a server thread's crash goes to that server's log."""
    frames, tb = [], args.exc_traceback
    while tb is not None:
        frames.append(tb.tb_frame)
        tb = tb.tb_next
    server = _owner_of(frames) if _owner_of is not None else None
    if server is None:
        return record_crash.previous(args)
    text = "".join(traceback.format_exception(args.exc_type, args.exc_value, args.exc_traceback))
    server.record(f"thread {args.thread.name if args.thread else '?'} crashed:\n{text.rstrip()}")


record_crash.previous = threading.excepthook
