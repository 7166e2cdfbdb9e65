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


def watched_list(lock, watched, tell):
    """A list class whose every use from a `watched` function is told to the grader."""

    def check(operation):
        caller = _getframe(2)
        if caller.f_code.co_name in watched:
            tell(caller.f_code.co_filename, caller.f_lineno, caller.f_code.co_name, operation,
                 getattr(lock, "owner", None) == get_ident())

    class WatchedList(list):
        def append(self, item):
            check("append")
            return super().append(item)

        def remove(self, item):
            check("remove")
            return super().remove(item)

        def insert(self, index, item):
            check("insert")
            return super().insert(index, item)

        def pop(self, *index):
            check("pop")
            return super().pop(*index)

        def __iter__(self):
            check("loop over")
            return super().__iter__()

        def __contains__(self, item):
            check("look in")
            return super().__contains__(item)

        def __delitem__(self, index):
            check("delete from")
            return super().__delitem__(index)

        def __getitem__(self, index):
            check("read from")
            return super().__getitem__(index)

        def __len__(self):
            check("count")
            return super().__len__()

        def __add__(self, other):
            check("copy")
            return super().__add__(other)

        def __iadd__(self, other):
            check("extend")
            return super().__iadd__(other)

        def extend(self, items):
            check("extend")
            return super().extend(items)

        def copy(self):
            check("copy")
            return super().copy()

        def index(self, *args):
            check("look in")
            return super().index(*args)

    return WatchedList


def watch_members(room, watched, send):
    """Start reporting each use of room.members by the `watched` methods; returns the watch's number."""
    number = id(room)
    room.lock = OwnedLock(room.lock)

    def tell(filename, line, function, operation, held):
        send({"event": "members", "watch": number, "file": filename, "line": line, "function": function,
              "operation": operation, "held": held})

    room.members = watched_list(room.lock, set(watched), tell)(room.members)
    return number
