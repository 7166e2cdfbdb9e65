"""The grader's checks, run in the grader's process: what the graded tests ask with sandbox.probe().

    listener_facts(sandbox, server)        the listening socket, handed over and read here
    guard_members(sandbox, room)           start watching room.members (watch.py in the child)
    unguarded_uses(sandbox, room)          where the watch saw room.members used without room.lock
    members_become(sandbox, room, count)   wait until the room has `count` members

Nothing here runs in the student's process, so a student file cannot
replace a check. The socket's options are read from a copy of its file
descriptor that the child hands over (SCM_RIGHTS), and only if that socket
is the one listening on the port the test's clients connect to; the lock
check decides from the watch's events, and a watch that saw nothing at all
counts as a failure (the watched list or lock was replaced).
"""

import socket
import time

from chatkit.grader.limits import MEMBERS_TIMEOUT
from chatkit.grader.results.words import _

WATCHED = ("add_user", "delete_user", "send_all")


def socket_facts(sock):
    """What a socket is: IPv4 TCP? SO_REUSEADDR on? listening? bound where? (plain data)"""
    return {
        "socket": True, "closed": False,
        "family": socket.AddressFamily(sock.family).name, "type": socket.SocketKind(sock.type).name,
        "reuseaddr": bool(sock.getsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR)),
        "listening": bool(sock.getsockopt(socket.SOL_SOCKET, socket.SO_ACCEPTCONN)),
        "address": list(sock.getsockname()),
    }


def handle_of(remote):
    return object.__getattribute__(remote, "_handle")


def listener_facts(sandbox, server, timeout):
    """server.listener, looked at in the grader: the socket itself, not what the child says of it."""
    try:
        listener = server.listener
    except AssertionError as error:  # no such attribute: the student's problem, said as before
        if "AttributeError" in getattr(error, "kinds", []):
            return {"socket": False, "what": "NoneType"}
        raise
    if not hasattr(listener, "_sandbox"):  # plain data (None, a number): not a socket
        return {"socket": False, "what": type(listener).__name__}
    told = sandbox.request("socket", "server.listener", timeout=timeout, target=handle_of(listener))
    if not told.get("handed"):
        return told  # not a socket, or closed; or a spawned child, which has no side door
    sock = sandbox.receive_socket(timeout)
    if sock is None:
        raise AssertionError(_("the grader could not look at server.listener: your process did not hand it over"))
    with sock:
        facts = socket_facts(sock)
    port = server.port
    if facts["listening"] and facts["address"][1:2] != [port]:
        raise AssertionError(_("server.listener listens on port {actual}, but self.port is {port!r}").format(
            actual=facts["address"][1], port=port))
    return facts


def guard_members(sandbox, room, timeout):
    """From now on, every use of room.members by add_user, delete_user and send_all is reported."""
    number = sandbox.request("watch_members", "watching room.members", timeout=timeout, target=handle_of(room),
                             watched=list(WATCHED))
    sandbox.watches = {**getattr(sandbox, "watches", {}), handle_of(room): number}
    return True


def unguarded_uses(sandbox, room, timeout):
    """[(file, line, function, operation)] where room.members was used without holding room.lock."""
    sandbox.sync(timeout)  # every event sent before now has arrived
    number = getattr(sandbox, "watches", {}).get(handle_of(room))
    events = sandbox.watched.get(number, [])
    if not events:
        return [["", "?", " or ".join(WATCHED), "(the grader saw no use at all: was the list or lock replaced?) use"]]
    found = []
    for event in events:
        place = [event["file"], event["line"], event["function"], event["operation"]]
        if not event["held"] and place not in found:
            found.append(place)
    return found


def members_become(sandbox, room, count, timeout=MEMBERS_TIMEOUT):
    """Wait (at most MEMBERS_TIMEOUT s) until the room has `count` members; return how many it has."""
    deadline = time.monotonic() + MEMBERS_TIMEOUT
    while True:
        members = sandbox.request("len", "len(room.members)", timeout=timeout, target=handle_of(room), name="members")
        if members == count or time.monotonic() > deadline:
            return members
        time.sleep(0.01)  # another process's progress, seen from outside: nothing to wait on


CHECKS = {check.__name__: check for check in (listener_facts, guard_members, unguarded_uses, members_become)}
