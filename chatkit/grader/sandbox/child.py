"""The sandbox process: it imports one student file and does what the grader asks.

Requests and replies are JSON lines (pipe.py) on private copies of stdin and stdout;
whatever the student's code prints goes to stderr, which the grader keeps as
the server's log (it never costs points). Every call runs in a thread of its
own, so a call stuck in ``accept()`` or in an endless loop never stops the
child from answering the next request, such as "what are your threads
doing?". Objects that are not plain data stay here and are referred to by
number (a handle). The grader never imports student code itself.

Run by chatkit.grader.sandbox as:  python -m chatkit.grader.sandbox.child FILE
(or forked from a fork server that has it imported already: forked_main)
"""

import importlib.util
import json
import linecache
import os
import sys
import threading
import time
import traceback

from chatkit.grader.limits import CHILD_LIFETIME
from chatkit.grader.sandbox import pipe, probes


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


class Child:
    def __init__(self, path, channel):
        self.path = os.path.abspath(path)
        self.channel = channel
        self.objects = {}  # handle -> object
        self.handles = {}  # id(object) -> handle, so one object keeps one handle
        self.main_thread = threading.current_thread()

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
        return {
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
            if op in ("call", "kit"):
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
        if op == "kit":  # one of the grader's own helpers, run here (only probes.py)
            function = getattr(probes, request["name"])
            return function(self, *self.decode(request["args"]))
        if op == "stacks":  # with the CPU time used so far: a busy loop burns it, a waiting thread does not
            return {"cpu": time.process_time(), "threads": self.stacks()}
        if op == "ping":  # answered in order: everything sent before it has been read
            return None
        raise ValueError(f"unknown request {op!r}")

    def stacks(self):
        """Every thread but ours: its name and frames, outermost first, as [file, line, function, code]."""
        names = {thread.ident: thread.name for thread in threading.enumerate()}
        result = []
        for ident, frame in sys._current_frames().items():
            if ident == self.main_thread.ident or names.get(ident) == "grader lifetime":
                continue
            frames = []
            while frame is not None:
                code = frame.f_code
                source = linecache.getline(code.co_filename, frame.f_lineno).strip()
                frames.append([code.co_filename, frame.f_lineno, code.co_name, source])
                frame = frame.f_back
            result.append({"thread": names.get(ident, f"thread {ident}"), "frames": frames[::-1]})
        return result

    def report_thread_error(self, args):
        if args.exc_value is None:
            return
        error = self.describe_error(args.exc_value)
        thread = args.thread.name if args.thread is not None else "a thread"
        self.channel.send({"event": "thread_error", "thread": thread, "error": error})


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


def load_module(path):
    """Import the student's file under its own name (ex03_threads), from its own folder."""
    name = os.path.splitext(os.path.basename(path))[0]
    sys.path.insert(0, os.path.dirname(path))
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


def main(path):
    requests = os.fdopen(os.dup(0), "r", encoding="utf-8")
    channel = Channel(os.fdopen(os.dup(1), "w", encoding="utf-8"))
    os.dup2(2, 1)  # print() in student code lands in the log (stderr), not in our replies
    null = os.open(os.devnull, os.O_RDONLY)
    os.dup2(null, 0)  # input() in student code gets end-of-file at once
    sys.stdout.reconfigure(line_buffering=True)
    sys.dont_write_bytecode = True
    threading.Thread(target=watchdog, name="grader lifetime", daemon=True).start()
    child = Child(path, channel)
    threading.excepthook = child.report_thread_error
    try:
        module = load_module(child.path)
    except BaseException as error:
        channel.send({"ready": False, "error": child.describe_error(error)})
        os._exit(1)  # what was sent stays readable in the pipe
    channel.send({"ready": True, "module": child.encode(module)})
    child.serve(requests)


def forked_main(path, requests, replies, log):
    """Start in a child forked from the fork server (chatkit.grader.processes): its pipes become fds 0, 1, 2."""
    os.setsid()  # a process group of our own: the grader kills it whole
    for connection, fd in ((requests, 0), (replies, 1), (log, 2)):
        os.dup2(connection.fileno(), fd)
        connection.close()
    sys.stdin = open(0, encoding="utf-8", closefd=False)
    sys.stdout = open(1, "w", encoding="utf-8", closefd=False)
    sys.stderr = open(2, "w", encoding="utf-8", closefd=False, buffering=1)
    main(path)


if __name__ == "__main__":
    main(sys.argv[1])
