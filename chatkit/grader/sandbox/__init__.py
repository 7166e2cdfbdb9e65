"""Student code in a child process we can always kill.

    __init__.py   the grader's end: Sandbox, Remote objects, the problems a test meets
    child.py      the child's end: imports the student's file, answers requests
    pipe.py       the JSON lines between them, encoded the same way on both ends
    launch.py     starting the child: forked from a fork server (fast), or spawned; the walls it gets
    preload.py    what the fork server loads for every child: child.py, the kit's code it builds on
    namespaces.py in the child, first: PID and mount namespaces (every process found, answers hidden)
    walls.py      in the child, before the student's file: limits, a user of its own, the guard
    watch.py      in the child: what the grader watches there (uses of room.members), as events
    probes.py     the grader's checks, run in the grader's process: a socket handed over, watch events
    diagnose.py   what a stuck or crashed student program was doing, in words

    sandbox = Sandbox("exercises/ex03_threads.py")   # starts child.py
    server = sandbox.module.RunServer("127.0.0.1", 0)  # a Remote: the object lives in the child
    server.server_open()                               # a call, at most CALL_TIMEOUT seconds
    running = server.run.background()                  # a call that goes on: Pending
    port = server.port                                 # attributes come back as plain data
    sandbox.close()                                    # kills the child's whole process group

Every wait has a deadline. A call that does not return in time raises
StudentHang, which says what the child's threads were doing (diagnose.py);
an exception in the student's code raises StudentError; a child that died
(``os._exit``, a crash) raises StudentGone. All three are AssertionErrors:
they fail the test that met them, never the run. Uncaught exceptions in
the student's own threads are collected in ``sandbox.thread_errors``;
what the guard refused (walls.py) in ``sandbox.tampered``. What the child
prints is kept line by line, each line cut at MAX_LOG_LINE characters and
only the last LOG_LINES_KEPT lines, however much it prints.
"""

import itertools
import json
import os
import socket
import threading
import time

from chatkit.grader import processes
from chatkit.grader.limits import (CALL_TIMEOUT, EXIT_GRACE, LOG_LINES_KEPT, MAX_LOG_LINE, READER_JOIN,
                                   STACK_SAMPLE_GAP, STACKS_TIMEOUT, START_TIMEOUT)
from chatkit.grader.results.words import _
from chatkit.grader.sandbox import diagnose, launch, pipe, probes


class StudentProblem(AssertionError):
    """Something the student's code did (or did not do) that fails a test."""

    def reworded(self, text):
        """The same problem (same type and details), told with a new message."""
        problem = type(self).__new__(type(self))
        problem.__dict__.update(self.__dict__)
        problem.args = (text,)
        return problem


class StudentError(StudentProblem):
    """The student's code raised an exception."""

    def __init__(self, label, error, path):
        self.label, self.error, self.path = label, error, path
        self.kinds = error["kinds"]
        super().__init__(diagnose.explain_error(label, error, path))


class StudentHang(StudentProblem):
    """A call into the student's code did not return in time (`cause`: the mistake, if the stacks name one)."""

    def __init__(self, label, timeout, stacks, path):
        self.label, self.timeout, self.stacks = label, timeout, stacks
        self.cause = diagnose.named_cause(stacks, path)
        super().__init__(_("{label} did not return within {timeout:g} s.").format(label=diagnose.said(label), timeout=timeout)
                         + "\n" + diagnose.explain_stacks(stacks, path))


class StudentGone(StudentProblem):
    """The child process ended while the grader still needed it."""

    def __init__(self, label, returncode, log):
        why = diagnose.explain_exit(returncode)
        tail = "".join(f"\n    {line}" for line in log[-5:])
        super().__init__(_("{label}: the process running your code ended ({why}).").format(
            label=diagnose.said(label), why=why) + ("\n  " + _("Its last output:") + tail if tail else ""))


class Sandbox:
    """One child process running one student file."""

    def __init__(self, path, start_timeout=START_TIMEOUT, wait=True):
        self.path = str(path)
        self.name = os.path.basename(self.path)
        self.log = []  # what the student's code printed (stderr), line by line
        self.printed = 0  # lines printed so far, the ones no longer kept included
        self.thread_errors = []  # (thread name, error) from the student's own threads
        self.changed = threading.Condition()  # notified on every reply, event and exit
        self.replies = {}
        self.ids = itertools.count(1)
        self.returncode = None  # set once the child has exited
        self.ready = None
        self.tampered = []  # what the guard refused, in words ("imports chatkit.grader.sandbox.probes, ...")
        self.watched = {}  # watch number -> the events watch.py sent
        self.missing_walls = []  # walls the child could not raise (no limits on this OS, say)
        self.confined = False  # True once the child said it runs in a PID namespace of its own
        self.listeners = []  # callables told when something goes wrong (Peer.expect wakes up)
        self.import_looks = []  # what the main thread was doing, if importing the file took long
        self.process = launch.start(self.path)
        self.readers = [threading.Thread(target=self._read_replies, name=f"sandbox replies {self.name}", daemon=True),
                        threading.Thread(target=self._read_log, name=f"sandbox log {self.name}", daemon=True)]
        for reader in self.readers:
            reader.start()
        self.start_timeout = start_timeout
        if wait:
            self.wait_ready()

    def wait_ready(self):
        """Wait for the student's file to be imported; raise what went wrong (a Sandbox made with wait=False)."""
        with self.changed:
            self.changed.wait_for(lambda: self.ready is not None or self.returncode is not None, self.start_timeout)
        start_timeout = self.start_timeout
        if self.ready is None:
            problem = (StudentGone(f"importing {self.name}", self.returncode, self.log) if self.returncode is not None
                       else StudentHang(f"importing {self.name}", start_timeout, self.import_looks, self.path))
        elif not self.ready["ready"]:
            problem = StudentError(f"importing {self.name}", self.ready["error"], self.path)
        else:
            problem = None
        self.missing_walls = (self.ready or {}).get("missing_walls", [])
        self.confined = bool((self.ready or {}).get("confined"))  # in a PID namespace: nothing escapes it
        if problem is not None:
            self.close()
            problem.tampered, problem.missing_walls = list(self.tampered), self.missing_walls
            problem.confined = self.confined
            raise problem
        self.module = Remote(self, self.ready["module"], self.name.removesuffix(".py"))

    # -- the pipes -----------------------------------------------------------

    def _read_replies(self):
        for line in self.process.stdout:
            try:
                message = json.loads(line)
            except ValueError:
                continue  # not the child's: the pipe is ours and the child's alone
            with self.changed:
                event = message.get("event") if isinstance(message, dict) else None
                if not isinstance(message, dict):
                    pass
                elif "ready" in message:
                    self.ready = message
                elif "id" in message:
                    self.replies[message["id"]] = message
                elif event == "thread_error":
                    self.thread_errors.append((message["thread"], message["error"]))
                elif event == "tampered" and message.get("what") not in self.tampered:
                    self.tampered.append(str(message.get("what"))[:MAX_LOG_LINE])
                elif event == "members":
                    self.watched.setdefault(message.get("watch"), []).append(message)
                elif event == "import_stacks" and isinstance(message.get("looks"), list):
                    self.import_looks = message["looks"]
                self.changed.notify_all()
            self._tell_listeners()  # a reply may be run() ending: a waiting Peer should look
        self.process.stdout.close()
        returncode = self.process.wait()  # only this thread waits for the child
        with self.changed:
            self.returncode = returncode
            self.changed.notify_all()
        self._tell_listeners()

    def _read_log(self):
        """Keep what the child prints, line by line, each line cut short, the newest lines only."""
        fd, pending, cut = self.process.stderr.fileno(), b"", False
        while True:
            try:
                data = os.read(fd, 65536)
            except OSError:
                data = b""
            if not data:
                break
            *lines, pending = (pending + data).split(b"\n")
            if len(pending) > MAX_LOG_LINE * 4:  # a line without end: keep its start, drop the rest
                lines.append(pending[:MAX_LOG_LINE] + b" [cut]")
                pending, cut = b"", True
            kept = []
            for raw in lines:
                if cut:  # the end of a line already cut
                    cut = False
                    continue
                line = raw.decode("utf-8", errors="replace")
                kept.append(line if len(line) <= MAX_LOG_LINE else line[:MAX_LOG_LINE] + " [cut]")
            if kept:
                with self.changed:
                    self.log.extend(kept[-LOG_LINES_KEPT:])
                    self.printed += len(kept)
                    del self.log[:-LOG_LINES_KEPT]
                    self.changed.notify_all()  # a test waiting for what the program shows (a client) looks
        if pending:
            with self.changed:
                self.log.append(pending[:MAX_LOG_LINE].decode("utf-8", errors="replace"))
        self.process.stderr.close()

    def _tell_listeners(self):
        for listener in list(self.listeners):
            listener()

    def send(self, op, label, **fields):
        """Send a request; return its id (the reply is awaited with wait_reply)."""
        request_id = next(self.ids)
        data = pipe.line({"id": request_id, "op": op, "label": label, **fields})
        try:
            self.process.stdin.write(data.encode("utf-8"))
            self.process.stdin.flush()
        except (BrokenPipeError, OSError, ValueError):
            pass  # the child is gone: wait_reply will say so
        return request_id

    def wait_reply(self, request_id, label, timeout):
        """The value of a reply, or StudentError / StudentHang / StudentGone."""
        with self.changed:
            self.changed.wait_for(lambda: request_id in self.replies or self.returncode is not None, timeout)
            reply = self.replies.pop(request_id, None)
        if reply is None:
            if self.returncode is not None:
                raise StudentGone(label, self.returncode, self.log)
            raise StudentHang(label, timeout, self.stacks(samples=3), self.path)
        if "error" in reply:
            raise StudentError(label, reply["error"], self.path)
        return self.decode(reply["value"])

    def request(self, op, label, timeout=CALL_TIMEOUT, **fields):
        return self.wait_reply(self.send(op, label, **fields), label, timeout)

    def encode(self, value):
        def as_handle(remote):
            if not isinstance(remote, Remote):
                raise TypeError(f"{type(remote).__name__} cannot be sent to the student's process")
            return {"__handle__": remote._handle}
        return pipe.encode(value, as_handle)

    def decode(self, value):
        return pipe.decode(value, lambda handle: Remote(self, handle, handle["type"]))

    # -- asking the child ----------------------------------------------------

    def stacks(self, timeout=STACKS_TIMEOUT, samples=1):
        """What every thread of the child is doing right now ([] if it cannot say).

        With samples > 1: a list of that many looks, 50 ms apart, to tell a
        thread stuck waiting from one busy in a loop (diagnose.explain_stacks).
        """
        looks = []
        for number in range(samples):
            if self.returncode is not None:
                break
            if number:
                time.sleep(STACK_SAMPLE_GAP)  # looking at another process from outside: nothing to wait on
            try:
                looks.append(self.request("stacks", "stacks", timeout=timeout))
            except StudentProblem:
                break
        return looks if samples > 1 else (looks[0]["threads"] if looks else [])

    def sync(self, timeout=CALL_TIMEOUT):
        """Wait until the child has answered everything sent before now (a crash report, say)."""
        if self.returncode is None:
            try:
                self.request("ping", "ping", timeout=timeout)
            except StudentProblem:
                pass

    def probe(self, name, *args, timeout=CALL_TIMEOUT):
        """Run one of the grader's checks (probes.py), here in the grader's process, on this child."""
        return probes.CHECKS[name](self, *args, timeout=timeout)

    def receive_socket(self, timeout=CALL_TIMEOUT):
        """A socket the child handed over on the side door (a copy: closing it leaves the child's open)."""
        side = getattr(self.process, "side", None)
        if side is None:
            return None
        side.settimeout(timeout)
        try:
            _, fds, _, _ = socket.recv_fds(side, 1, 1)
        except OSError:
            return None
        for extra in fds[1:]:
            os.close(extra)
        return socket.socket(fileno=fds[0]) if fds else None

    def trouble(self):
        """The first sign of a broken student program: a crashed thread, or a dead process."""
        if self.thread_errors:
            thread, error = self.thread_errors[0]
            return StudentError(f"thread {thread!r} of your program", error, self.path)
        if self.returncode is not None:
            return StudentGone(self.name, self.returncode, self.log)
        return None

    def close(self):
        """End the child and everything it started; safe to call twice."""
        if self.returncode is None:
            self.send("exit", "exit")
            with self.changed:
                self.changed.wait_for(lambda: self.returncode is not None, EXIT_GRACE)
        processes.kill_group(self.process)  # threads or processes it left behind
        try:
            self.process.stdin.close()
        except OSError:
            pass
        if getattr(self.process, "side", None) is not None:
            self.process.side.close()
        # A process the student started may hold our pipes open a while (until the run's sweep
        # kills it): the readers end on their own then; nobody waits for them here.
        for reader in self.readers:
            reader.join(READER_JOIN)

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        self.close()


class Pending:
    """A call running in the background in the child (server.run.background())."""

    def __init__(self, sandbox, request_id, label):
        self.sandbox, self.request_id, self.label = sandbox, request_id, label
        self.finished = False
        self.value = self.error = None

    def done(self):
        """True once the call returned or raised (looks without waiting)."""
        if not self.finished:
            with self.sandbox.changed:
                arrived = self.request_id in self.sandbox.replies or self.sandbox.returncode is not None
            if arrived:
                try:
                    self.result(0)
                except StudentProblem:
                    pass  # kept in self.error
        return self.finished

    def result(self, timeout=CALL_TIMEOUT):
        """The call's return value; raises what it raised, or StudentHang if still running."""
        if not self.finished:
            try:
                self.value = self.sandbox.wait_reply(self.request_id, self.label, timeout)
            except StudentHang:
                raise
            except StudentProblem as error:
                self.error = error
            self.finished = True
        if self.error is not None:
            raise self.error
        return self.value


class Remote:
    """An object living in the child: attributes and calls go over the pipe."""

    def __init__(self, sandbox, handle, label):
        object.__setattr__(self, "_sandbox", sandbox)
        object.__setattr__(self, "_handle", handle["__handle__"])
        object.__setattr__(self, "_label", label)
        object.__setattr__(self, "_callable", handle.get("callable", False))

    def __getattr__(self, name):
        if name.startswith("__"):
            raise AttributeError(name)
        value = self._sandbox.request("getattr", f"{self._label}.{name}", target=self._handle, name=name)
        if isinstance(value, Remote):
            object.__setattr__(value, "_label", f"{self._label}.{name}")
            if value._callable:  # a method: keep it, the next call needs no round trip to look it up
                object.__setattr__(self, name, value)
        return value

    def __setattr__(self, name, value):
        self._sandbox.request("setattr", f"{self._label}.{name}", target=self._handle, name=name,
                              value=self._sandbox.encode(value))

    def __call__(self, *args, timeout=CALL_TIMEOUT, **kwargs):
        return self.background(*args, **kwargs).result(timeout)

    def background(self, *args, **kwargs):
        """Start the call and return at once with a Pending."""
        label = f"{self._label}()"
        request_id = self._sandbox.send("call", label, target=self._handle,
                                        args=self._sandbox.encode(list(args)), kwargs=self._sandbox.encode(kwargs))
        return Pending(self._sandbox, request_id, label)

    def __repr__(self):
        return f"<{self._label} in {self._sandbox.name}>"
