"""The grader's helpers that run *inside* the student's process (see child.py).

`guard_members` watches a ChattingRoom: from then on, every use of
``room.members`` by the student's methods is checked to happen while the
same thread holds ``room.lock``. A missing lock is found on the first
unguarded use, every time, instead of by a race that shows up once in a
hundred runs.
"""

import sys
import threading

from chatkit.grader.limits import MEMBERS_TIMEOUT


class OwnedLock:
    """A lock that remembers which thread holds it (threading.Lock does not say)."""

    def __init__(self, lock):
        self.lock = lock
        self.owner = None

    def acquire(self, blocking=True, timeout=-1):
        acquired = self.lock.acquire(blocking, timeout)
        if acquired:
            self.owner = threading.get_ident()
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


def guarded_list(room, watched, found):
    """A list class whose every use from a `watched` function must hold room.lock."""

    def check(operation):
        caller = sys._getframe(2)
        if caller.f_code.co_name in watched and getattr(room.lock, "owner", None) != threading.get_ident():
            place = (caller.f_code.co_filename, caller.f_lineno, caller.f_code.co_name, operation)
            if place not in found:
                found.append(place)

    class GuardedList(list):
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

    return GuardedList


def guard_members(child, room, watched=("add_user", "delete_user", "send_all")):
    """Start checking that `watched` methods hold room.lock whenever they use room.members."""
    found = []
    room.lock = OwnedLock(room.lock)
    room.members = guarded_list(room, set(watched), found)(room.members)
    room._grader_unguarded = found
    return True


def unguarded_uses(child, room):
    """[(file, line, function, operation)] where room.members was used without room.lock."""
    return [list(place) for place in getattr(room, "_grader_unguarded", [])]


def listener_facts(child, server):
    """What server.listener is: a socket? IPv4 TCP? SO_REUSEADDR on? listening? bound where?"""
    import socket

    sock = getattr(server, "listener", None)
    if not isinstance(sock, socket.socket):
        return {"socket": False, "what": type(sock).__name__}
    if sock.fileno() == -1:
        return {"socket": True, "closed": True}
    return {
        "socket": True, "closed": False,
        "family": socket.AddressFamily(sock.family).name, "type": socket.SocketKind(sock.type).name,
        "reuseaddr": bool(sock.getsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR)),
        "listening": bool(sock.getsockopt(socket.SOL_SOCKET, socket.SO_ACCEPTCONN)),
        "address": list(sock.getsockname()),
    }


def members_become(child, room, count, timeout=MEMBERS_TIMEOUT):
    """Wait (at most `timeout` s) until the room has `count` members; return how many it has."""
    import time

    deadline = time.monotonic() + timeout
    while len(room.members) != count and time.monotonic() < deadline:
        time.sleep(0.01)  # watching another thread's progress from outside: nothing to wait on
    return len(room.members)
