"""What the grader watches inside the student's process, reported to the grader as it happens.

    watch_members(room, watched, send)   every use of room.members by a `watched` method
    watch_threads()                      from before the import on: who started each thread, who joined it
    threads_started_by(name)             the threads the thread `name` started: alive? joined by it?
    wait_threads_started_by(name, t)     wait (at most t s) for them to end: those still alive
    wait_threads_receiving(name, t)      wait (at most t s) until they all sit in a recv(): those not
    break_sends(member)                  a member whose connection breaks: sending to it fails from now on
    defined_in(obj, names)               the file each named function or class of `obj` comes from
    origins(module)                      the module each global of the student's module comes from

The watch only observes: each use of ``room.members`` by ``add_user``,
``delete_user`` or ``send_all`` sends one event line to the grader, saying
which thread used the list, where, and whether that thread held
``room.lock`` at that moment. The grader decides what the events mean
(probes.py); a watch that reports nothing counts against the student, so
replacing the watched list or lock earns nothing.
"""

import dis
import errno
import inspect
import linecache
import sys
import threading
import time
from _thread import get_ident  # taken before the student's file is imported: replacing it later changes nothing

_getframe = sys._getframe
_current_frames = sys._current_frames
_monotonic, _sleep = time.monotonic, time.sleep
RECEIVING_LOOK_GAP = 0.005  # between two looks at where the threads are


class OwnedLock:
    """A lock that remembers which thread holds it (threading.Lock does not say)."""

    def __init__(self, lock):
        self.lock = lock
        self.owner = None

    def acquire(self, blocking=True, timeout=-1):
        acquired = self.lock.acquire(blocking, timeout)
        if acquired:
            self.owner = get_ident()
        return acquired

    def release(self):
        self.owner = None
        self.lock.release()

    def locked(self):
        return self.lock.locked()

    def __enter__(self):
        self.acquire()
        return self

    def __exit__(self, *exc_info):
        self.release()


# The list methods watched, and what each does to the members, in the words of a failure message
OPERATIONS = {"append": "append", "remove": "remove", "insert": "insert", "pop": "pop", "extend": "extend",
              "__iadd__": "extend", "__iter__": "loop over", "__contains__": "look in", "index": "look in",
              "__getitem__": "read from", "__delitem__": "delete from", "__len__": "count", "__add__": "copy",
              "copy": "copy"}


def watched_list(lock, watched, tell):
    """A list class whose every use from a `watched` function is told to the grader."""

    def check(operation):
        caller = _getframe(2)  # 0: check, 1: the list method, 2: the student's function
        if caller.f_code.co_name in watched:
            tell(caller.f_code.co_filename, caller.f_lineno, caller.f_code.co_name, operation,
                 getattr(lock, "owner", None) == get_ident())

    def watching(name, operation):
        original = getattr(list, name)

        def method(self, *args):
            check(operation)
            return original(self, *args)

        method.__name__ = name
        return method

    return type("WatchedList", (list,), {name: watching(name, operation) for name, operation in OPERATIONS.items()})


def watch_members(room, watched, send):
    """Start reporting each use of room.members by the `watched` methods; returns the watch's number."""
    number = id(room)
    room.lock = OwnedLock(room.lock)

    def tell(filename, line, function, operation, held):
        send({"event": "members", "watch": number, "file": filename, "line": line, "function": function,
              "operation": operation, "held": held})

    room.members = watched_list(room.lock, set(watched), tell)(room.members)
    return number


_started = []  # every thread started since watch_threads(): (thread, name of the thread that started it)
_real_join = threading.Thread.join  # taken at import, before watch_threads() replaces it (and the student's file loads)


def watch_threads():
    """Remember, for every thread started from now on, which thread started it and whether it was joined.

    Installed before the student's file is imported: a server's run() that
    returns without joining the client threads it started is then seen as
    such (exercise 3), whatever the threads were doing.
    """
    start = threading.Thread.start

    def watched_start(thread):
        _started.append((thread, threading.current_thread().name))
        return start(thread)

    def watched_join(thread, timeout=None):
        try:
            return _real_join(thread, timeout)
        finally:
            if not thread.is_alive():
                thread._chatkit_joined_by = threading.current_thread().name

    threading.Thread.start, threading.Thread.join = watched_start, watched_join


def threads_started_by(name):
    """[{name, alive, joined}] for every thread the thread called `name` started."""
    return [{"name": thread.name, "alive": thread.is_alive(),
             "joined": getattr(thread, "_chatkit_joined_by", None) == name}
            for thread, creator in list(_started) if creator == name]


def wait_threads_started_by(name, timeout):
    """Wait (at most `timeout` s in all) for the threads `name` started to end; the names of those still alive.

    Joined with the real Thread.join: this wait is the grader's, not a join by the student's code.
    """
    deadline = time.monotonic() + timeout
    for thread, creator in list(_started):
        if creator == name:
            _real_join(thread, max(0.0, deadline - time.monotonic()))
    return [thread.name for thread, creator in list(_started) if creator == name and thread.is_alive()]


def wait_threads_receiving(name, timeout):
    """Wait (at most `timeout` s) until the threads `name` started all sit in a recv(); the names of those that do not.

    A client the user has had open for a while waits for the server in its
    receive thread: what the user types then meets a thread blocked in
    recv(), not one still starting. Nothing in the student's code signals
    that moment, so this looks every few milliseconds. A thread whose
    innermost frame is at a call on a line that says recv, seen while this
    thread holds the GIL, has let go of the GIL in that call: it is inside it.
    Returns at once if the thread `name` ended without starting any.
    """
    deadline = _monotonic() + timeout
    while True:
        frames = _current_frames()
        started = [thread for thread, creator in list(_started) if creator == name]
        elsewhere = [thread.name for thread in started if thread.is_alive() and not _in_recv(frames.get(thread.ident))]
        creator_alive = any(thread.name == name for thread in threading.enumerate())
        if (started and not elsewhere) or (not started and not creator_alive) or _monotonic() >= deadline:
            return elsewhere if started else [name]
        _sleep(RECEIVING_LOOK_GAP)


def _in_recv(frame):
    """True if this frame is calling something on a line of code that says recv (recv, recv_into, recvfrom)."""
    if frame is None or frame.f_lasti < 0:
        return False
    code = frame.f_code
    calling = dis.opname[code.co_code[frame.f_lasti]].startswith("CALL")
    return calling and "recv" in linecache.getline(code.co_filename, frame.f_lineno)


class BrokenSending:
    """A socket whose sends fail as on a broken connection; everything else is the real socket's."""

    def __init__(self, sock):
        self._sock = sock

    def _broken(self, *args, **kwargs):
        raise BrokenPipeError(errno.EPIPE, "Broken pipe")

    send = sendall = sendmsg = _broken

    def __getattr__(self, name):
        return getattr(self._sock, name)


def break_sends(member):
    """From now on, member.sock.sendall() raises BrokenPipeError (as when the peer is gone); True."""
    member.sock = BrokenSending(member.sock)
    return True


def defined_in(obj, names):
    """{name: the file its code comes from (None if there is no such name)} for dotted names under `obj`."""
    found = {}
    for name in names:
        target = obj
        try:
            for part in name.split("."):
                target = inspect.getattr_static(target, part)
            target = getattr(target, "__func__", target)  # a classmethod or staticmethod
            found[name] = inspect.getsourcefile(target) or inspect.getfile(target)
        except (AttributeError, TypeError):
            found[name] = None
    return found


def origins(module):
    """{name: the module it comes from} for the student's module's globals, their bases and their methods."""
    found = {}
    for name, value in list(vars(module).items()):
        if name.startswith("__"):
            continue
        if inspect.ismodule(value):
            found[name] = value.__name__
            continue
        where = getattr(value, "__module__", None)
        if isinstance(where, str):
            found[name] = where
        if inspect.isclass(value):
            for base in value.__mro__[1:]:
                found[f"{name} (its base {base.__qualname__})"] = base.__module__
            for attribute, member in list(vars(value).items()):
                member = getattr(member, "__func__", member)
                if callable(member) and isinstance(getattr(member, "__module__", None), str):
                    found[f"{name}.{attribute}"] = member.__module__
    return found
