"""The sandbox process: it imports one student file and does what the grader asks.

Requests and replies are JSON lines (pipe.py) on private copies of stdin and stdout;
whatever the student's code prints goes to stderr, which the grader keeps as
the server's log (it never costs points). Every call runs in a thread of its
own, so a call stuck in ``accept()`` or in an endless loop never stops the
child from answering the next request, such as "what are your threads
doing?". Objects that are not plain data stay here and are referred to by
number (a handle). The grader never imports student code itself.

Before the student's file is imported, the child raises its walls
(walls.py: limits, a user of its own, the guard) and the grader's modules
leave sys.modules; the child keeps what it needs itself. The grader's checks
run in the grader (probes.py): the child only answers plain requests
(an attribute, a length, a socket handed over) and reports what watch.py
observes.

Forked from a fork server that has it imported already (forked_main), or
started as  python -m chatkit.grader.sandbox.preload FILE [WALLS-JSON]  (main).
"""

import importlib.util
import json
import linecache
import os
import socket
import sys
import threading
import time
import traceback

from chatkit.grader.limits import CHILD_LIFETIME, IMPORT_LOOK_AFTER, MAX_LOG_LINE
from chatkit.grader.sandbox import namespaces, pipe, probes, walls, watch


class Channel:
    """JSON lines to the grader; one writer at a time."""

    def __init__(self, out):
        self.out = out
        self.lock = threading.Lock()

    def send(self, message):
        data = pipe.line(message)
        with self.lock:
            self.out.write(data)
            self.out.flush()


OUR_THREADS = ("grader lifetime", "grader import watch")  # the child's own threads, never the student's


class Keyboard:
    """What input() reads in the child: nothing (end-of-file at once) until the grader types."""

    def __init__(self):
        self.writer = None

    def type(self, text):
        """Type `text` (a line, with its newline) for input(); None closes the keyboard (Ctrl+D)."""
        if self.writer is None:
            reader, writer = os.pipe()
            os.dup2(reader, 0)
            os.close(reader)
            self.writer = writer
            sys.stdin = open(0, encoding="utf-8", errors="replace", closefd=False)
        if text is None:
            os.close(self.writer)
            return None
        os.write(self.writer, text.encode("utf-8"))
        return None


class Child:
    def __init__(self, path, channel, side=None):
        self.path = os.path.abspath(path)
        self.channel = channel
        self.side = side  # a Unix socket to the grader, for handing over sockets (None: spawned child)
        self.objects = {}  # handle -> object
        self.handles = {}  # id(object) -> handle, so one object keeps one handle
        self.main_thread = threading.current_thread()
        self.keyboard = Keyboard()

    # -- values crossing the pipe ------------------------------------------

    def encode(self, value):
        return pipe.encode(value, self.handle)

    def handle(self, value):
        number = self.handles.get(id(value))
        if number is None:
            number = len(self.objects) + 1
            self.objects[number] = value
            self.handles[id(value)] = number
        return {"__handle__": number, "type": type(value).__name__, "callable": callable(value)}

    def decode(self, value):
        return pipe.decode(value, lambda handle: self.objects[handle["__handle__"]])

    def describe_error(self, error):
        """An exception as data: its type, message and where in the student's file it happened."""
        frames = traceback.extract_tb(error.__traceback__)
        message = str(error)
        if isinstance(error, SystemExit):
            message = f"sys.exit({error.code!r})"
        syntax = [error.filename, error.lineno, error.text] if isinstance(error, SyntaxError) else None
        return {
            "syntax": syntax,
            "type": type(error).__name__,
            "kinds": [cls.__name__ for cls in type(error).__mro__],
            "message": message,
            "frames": [[f.filename, f.lineno, f.name, f.line] for f in frames],
            "traceback": "".join(traceback.format_exception(type(error), error, error.__traceback__)),
        }

    # -- requests ----------------------------------------------------------

    def serve(self, requests):
        for line in requests:
            request = json.loads(line)
            op = request["op"]
            if op == "exit":
                break
            if op == "call":
                name = f"grader call {request.get('label', op)}"
                threading.Thread(target=self.answer, args=(request,), name=name, daemon=True).start()
            else:
                self.answer(request)
        os._exit(0)  # the grader closed the pipe or said exit: leave, whatever threads remain

    def answer(self, request):
        reply = {"id": request["id"]}
        try:
            reply["value"] = self.encode(self.perform(request))
        except BaseException as error:  # SystemExit too: a student's sys.exit() fails the call, not us
            reply["error"] = self.describe_error(error)
        self.channel.send(reply)

    def perform(self, request):
        op = request["op"]
        if op == "getattr":
            return getattr(self.objects[request["target"]], request["name"])
        if op == "setattr":
            return setattr(self.objects[request["target"]], request["name"], self.decode(request["value"]))
        if op == "call":
            target = self.objects[request["target"]]
            return target(*self.decode(request["args"]), **self.decode(request["kwargs"]))
        if op == "len":
            target = self.objects[request["target"]]
            return len(getattr(target, request["name"]) if request.get("name") else target)
        if op == "watch_members":  # watch.py reports each use of room.members from now on
            return watch.watch_members(self.objects[request["target"]], request["watched"], self.channel.send)
        if op == "socket":  # hand a socket over to the grader, which looks at it itself
            return self.hand_over(self.objects[request["target"]])
        if op == "stacks":  # with the CPU time used so far: a busy loop burns it, a waiting thread does not
            return {"cpu": time.process_time(), "threads": self.stacks()}
        if op == "ping":  # answered in order: everything sent before it has been read
            return None
        if op == "threads_started":  # which threads a call's thread started, and which of them it joined
            return watch.threads_started_by(request["creator"])
        if op == "threads_ended":  # wait a moment for them to end: what they still do is then seen
            return watch.wait_threads_started_by(request["creator"], request["timeout_seconds"])
        if op == "threads_receiving":  # wait a moment for them all to sit in recv(): the client is idle
            return watch.wait_threads_receiving(request["creator"], request["timeout_seconds"])
        if op == "break_sends":  # from now on, sending to this member's socket fails (a broken connection)
            return watch.break_sends(self.objects[request["target"]])
        if op == "defined_in":  # the files the named functions and classes of an object come from
            return watch.defined_in(self.objects[request["target"]], request["names"])
        if op == "origins":  # the modules the student's module's globals come from
            return watch.origins(self.objects[request["target"]])
        if op == "type":  # what the user types, for input(): text, or None for end-of-file (Ctrl+D)
            return self.keyboard.type(request["text"])
        raise ValueError(f"unknown request {op!r}")

    def hand_over(self, sock):
        """Send a copy of the socket's file descriptor to the grader; say what it is if not a socket."""
        if not isinstance(sock, socket.socket):
            return {"socket": False, "what": type(sock).__name__}
        if sock.fileno() == -1:
            return {"socket": True, "closed": True}
        if self.side is None:  # a spawned child has no side door: it says what the socket is itself
            return {**probes.socket_facts(sock), "handed": False}
        socket.send_fds(self.side, [b"s"], [sock.fileno()])
        return {"socket": True, "closed": False, "handed": True}

    def stacks(self, main=False):
        """Every thread but ours: its name and frames, outermost first, as [file, line, function, code].

        main=True includes the main thread: while the student's file is being
        imported, it is the one running the student's code.
        """
        names = {thread.ident: thread.name for thread in threading.enumerate()}
        result = []
        for ident, frame in sys._current_frames().items():
            if (ident == self.main_thread.ident and not main) or names.get(ident) in OUR_THREADS:
                continue
            frames = []
            while frame is not None:
                code = frame.f_code
                source = linecache.getline(code.co_filename, frame.f_lineno).strip()
                frames.append([code.co_filename, frame.f_lineno, code.co_name, source])
                frame = frame.f_back
            result.append({"thread": names.get(ident, f"thread {ident}"), "frames": frames[::-1],
                           "cpu": thread_cpu(ident)})
        return result

    def report_thread_error(self, args):
        if args.exc_value is None:
            return
        error = self.describe_error(args.exc_value)
        thread = args.thread.name if args.thread is not None else "a thread"
        self.channel.send({"event": "thread_error", "thread": thread, "error": error})


def thread_cpu(ident):
    """The CPU seconds one thread has used (None where the OS does not say: a busy loop shows in it)."""
    try:
        return time.clock_gettime(time.pthread_getcpuclockid(ident))
    except (AttributeError, OSError):
        return None


def watchdog():
    """End this process if whoever started it is gone (a killed grader), or after CHILD_LIFETIME seconds.

    The grader kills its children itself; this covers a grader killed from
    outside, while a child is stuck where it cannot read our pipe (an endless
    loop at import time).
    """
    parent = os.getppid()
    deadline = time.monotonic() + CHILD_LIFETIME
    while os.getppid() == parent and time.monotonic() < deadline:
        time.sleep(0.5)  # nothing to wait on: a parent's death is no event we can block for
    os._exit(3)


def watch_the_import(child, imported):
    """If importing the student's file takes long, tell the grader what the main thread is doing there.

    The import runs in the main thread, before the child answers any request:
    a `while True:` at the top of the file would otherwise leave the grader
    nothing to say but that the import did not return.
    """
    if imported.wait(IMPORT_LOOK_AFTER):
        return
    looks = []
    for _ in range(3):
        looks.append({"cpu": time.process_time(), "threads": child.stacks(main=True)})
        if imported.wait(0.05):
            return
    child.channel.send({"event": "import_stacks", "looks": looks})


def read_source(path):
    """The student's file, read now: after the walls go up, this user may not be able to read it."""
    with open(path, "rb") as file:
        source = file.read()
    text = source.decode("utf-8", errors="replace")
    linecache.cache[path] = (len(text), None, text.splitlines(True), path)  # tracebacks still show the lines
    return source


def load_module(path, source):
    """Import the student's file under its own name (ex03_threads), from its own folder."""
    name = os.path.splitext(os.path.basename(path))[0]
    sys.path.insert(0, os.path.dirname(path))
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    exec(compile(source, path, "exec", dont_inherit=True), module.__dict__)  # noqa: S102 - what a sandbox is for
    return module


class LineLimited:
    """stderr for student code: a megabyte without a newline reaches the grader cut short."""

    def __init__(self, stream):
        self.stream = stream
        self.run = 0  # characters since the last newline

    def write(self, text):
        out = []
        for piece in text.splitlines(True):
            ends = piece.endswith("\n")
            body = piece[:-1] if ends else piece
            room = MAX_LOG_LINE - self.run
            if room > 0:
                out.append(body[:room])
                if len(body) > room:
                    out.append(" [the rest of this line was cut]\n")
                elif ends:
                    out.append("\n")
            self.run = 0 if ends else self.run + len(body)
        self.stream.write("".join(out))
        return len(text)

    def __getattr__(self, name):
        return getattr(self.stream, name)


def main(path, walls_wanted=None, side=None):
    entered = namespaces.enter(walls_wanted or {})  # first: it forks, and no thread may run yet
    requests = os.fdopen(os.dup(0), "r", encoding="utf-8")
    channel = Channel(os.fdopen(os.dup(1), "w", encoding="utf-8"))
    os.dup2(2, 1)  # print() in student code lands in the log (stderr), not in our replies
    null = os.open(os.devnull, os.O_RDONLY)
    os.dup2(null, 0)  # input() in student code gets end-of-file at once
    sys.stdout = LineLimited(open(1, "w", encoding="utf-8", errors="replace", closefd=False, buffering=1))
    sys.stderr = LineLimited(open(2, "w", encoding="utf-8", errors="replace", closefd=False, buffering=1))
    sys.dont_write_bytecode = True
    threading.Thread(target=watchdog, name="grader lifetime", daemon=True).start()
    child = Child(path, channel, side)
    threading.excepthook = lambda args: child.report_thread_error(args)  # noqa: PLW0108 - no bound method to reach us by
    missing = list(entered)
    confined = os.getpid() == 1  # the first process of a PID namespace of our own: all we start dies with us
    imported = threading.Event()
    threading.Thread(target=watch_the_import, args=(child, imported), name="grader import watch", daemon=True).start()
    try:
        source = read_source(child.path)
        missing += walls.raise_walls(walls_wanted, lambda what: channel.send({"event": "tampered", "what": what}))
        watch.watch_threads()
        module = load_module(child.path, source)
        imported.set()
    except BaseException as error:
        imported.set()
        channel.send({"ready": False, "error": child.describe_error(error), "missing_walls": missing,
                      "confined": confined})
        os._exit(1)  # what was sent stays readable in the pipe
    channel.send({"ready": True, "module": child.encode(module), "missing_walls": missing, "confined": confined})
    child.serve(requests)


def forked_main(path, requests, replies, log, side, walls_wanted):
    """Start in a child forked from the fork server (chatkit.grader.forks): its pipes (fds) become fds 0, 1, 2."""
    os.setsid()  # a process group of our own: the grader kills it whole
    for fd, target in ((requests, 0), (replies, 1), (log, 2)):
        os.dup2(fd, target)
        if fd not in (0, 1, 2):
            os.close(fd)
    sys.stdin = open(0, encoding="utf-8", closefd=False)
    main(path, walls_wanted, socket.socket(fileno=side))
