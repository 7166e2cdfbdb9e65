"""What the grader watches inside the student's process, reported to the grader as it happens.

    watch_members(room, watched, send)   every use of room.members by a `watched` method

The watch only observes: each use of ``room.members`` by ``add_user``,
``delete_user`` or ``send_all`` sends one event line to the grader, saying
which thread used the list, where, and whether that thread held
``room.lock`` at that moment. The grader decides what the events mean
(probes.py); a watch that reports nothing counts against the student, so
replacing the watched list or lock earns nothing.
"""

import sys
from _thread import get_ident  # taken before the student's file is imported: replacing it later changes nothing

_getframe = sys._getframe


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
