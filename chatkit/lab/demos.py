"""Live demonstrations the notebooks run: each sets one situation up and reports what happened.

    close_does_not_wake_accept()       notebook 02: close() and shutdown() on a blocked accept()
    Flood(client, megabytes)           notebook 06: one client sends a lot, from a background thread
    remove_while_broadcasting(lock)    notebook 06: the report's shared list, with and without a lock
    wait_until(condition, timeout)     wait for something other threads do, with a deadline (lab.wait)

Everything here waits on events, or on a condition with a deadline: nothing
relies on a sleep being long enough.
"""

import contextlib
import platform
import socket
import sys
import threading
import time

from chatkit.lab.tables import Table
from chatkit.lab.wait import wait_until
from chatkit.tools.language import translated as _
from chatkit.stages import stage5_report

# Linux system call numbers, to tell "asleep inside send()" from "waiting for its turn to run".
SYSCALLS = {"x86_64": {"accept": 288, "send": 44}, "aarch64": {"accept": 242, "send": 206}}


def blocked_in(thread, function, syscall):
    """True if `thread` runs `function` and sleeps in the kernel inside `syscall` ("accept", "send").

    Being in the function is not enough: a thread can be there waiting for
    the interpreter lock, one step before the call that will block it.
    """
    frame = sys._current_frames().get(thread.ident)
    if frame is None or frame.f_code.co_name != function:
        return False
    try:
        with open(f"/proc/self/task/{thread.native_id}/syscall") as state:
            current = state.read().split()[0]  # a system call's number, or "running"
    except OSError:  # no /proc (macOS): being in the function is all we can see
        return True
    number = SYSCALLS.get(platform.machine(), {}).get(syscall)
    return current == str(number) if number is not None else current != "running"


def blocked_sending_to(server, nick):
    """True if one of a stage 4/5 server's threads is stuck in send_all(), sending to `nick`.

    Stuck, not just busy: asleep in the kernel inside sendall(), because
    that member's socket buffers are full.
    """
    frames = sys._current_frames()
    for thread in threading.enumerate():
        frame = frames.get(thread.ident)
        if frame is None or frame.f_code.co_name != "send_all" or frame.f_code.co_filename not in server.source_files:
            continue
        member = frame.f_locals.get("client")
        if getattr(member, "nick", None) == nick and blocked_in(thread, "send_all", "send"):
            return True
    return False


def accept_once(listener, outcome):
    """Thread body: wait in accept() and note how it ended."""
    try:
        conn, address = listener.accept()
        conn.close()
        outcome.append(f"accept() returned a connection from {address[0]}:{address[1]}")
    except OSError as error:
        outcome.append(f"accept() raised {error!r}")


def close_does_not_wake_accept(patience=1.0):
    """Block a thread in accept(); from this thread call close() (or shutdown()) on its socket.

    Returns a table: what woke the thread up in each case. After close()
    the kernel keeps the listening socket alive for the accept() in
    progress, so the port still answers: we connect to it to free the thread.
    """
    rows = []
    for how in ("listener.close()", "listener.shutdown(SHUT_RDWR)"):
        listener = socket.create_server(("127.0.0.1", 0))
        port = listener.getsockname()[1]
        outcome = []
        thread = threading.Thread(target=accept_once, args=(listener, outcome), name="blocked in accept()", daemon=True)
        thread.start()
        wait_until(lambda: blocked_in(thread, "accept", "accept"), 5, "the thread blocking in accept()")
        failed = ""
        try:
            if how.startswith("listener.close"):
                listener.close()
            else:
                listener.shutdown(socket.SHUT_RDWR)
        except OSError as error:  # some systems refuse shutdown() on a listening socket
            failed = f" ({how} itself failed: {error!r})"
        thread.join(patience)
        woke = (_("yes") if not thread.is_alive() else
                _("no, still blocked after {seconds:g} s").format(seconds=patience)) + failed
        if thread.is_alive():  # the only way left: a client connects to the port it still listens on
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=5):
                    thread.join(5)
            except OSError:
                pass
        listener.close()
        rows.append([how, woke, outcome[0] if outcome else _("(still blocked)")])
    return Table([_("called from another thread"), _("did accept() wake up?"), _("what accept() did then")], rows,
                 title=_("Waking a thread blocked in accept()"))


class Flood:
    """`client` sends `megabytes` of 1,000-byte lines, from a background thread.

    The thread is blocked as long as the server does not read; it ends when
    everything is sent or the connection is closed. It sends no faster than
    the notebook's other clients of that server read (a paused one aside):
    a reader that falls a megabyte behind (a busy machine, the GIL shared
    with the server and the other clients) would be cut off for not reading,
    and only the paused client should be.
    """

    def __init__(self, client, megabytes=8, line_bytes=1000):
        self.client = client
        self.line = (f"{client.label} floods the room ".encode() + b"." * line_bytes)[:line_bytes - 1] + b"\n"
        self.lines = megabytes * (1 << 20) // line_bytes
        self.sent_bytes = 0
        # every client of the server, the sender too (it hears its own flood back): lines each had already
        self.heard = {reader: len(reader.received) for reader in client.server.clients if not reader.closed}
        self.thread = threading.Thread(target=self.send, name=f"flood from {client.label}", daemon=True)
        self.thread.start()

    def send(self):
        batch = self.line * 64  # 64 lines per sendall(): fewer system calls, same bytes
        for number in range(1, self.lines // 64 + 1):
            try:
                self.client.sock.sendall(batch)
            except OSError:  # the connection was closed under us
                return
            self.sent_bytes += len(batch)
            if number > 8:  # at most 512 KB ahead of the readers: far less than the server lets a member fall behind
                self.let_the_room_read(64 * (number - 8))

    def let_the_room_read(self, lines):
        """Wait (10 s at most) until each reading client has received `lines` lines since the flood began."""
        deadline = time.monotonic() + 10
        for reader, heard in self.heard.items():
            with reader.arrived:
                reader.arrived.wait_for(lambda: (len(reader.received) >= heard + lines or reader.closed
                                                 or not reader.reading.is_set()), max(0.0, deadline - time.monotonic()))

    def wait(self, timeout=30):
        """Wait until the flood is sent (or cut off); False if it is still going."""
        self.thread.join(timeout)
        return not self.thread.is_alive()

    def __repr__(self):
        state = "sending" if self.thread.is_alive() else "done"
        return f"<Flood from {self.client.label}: {self.sent_bytes / (1 << 20):.1f} of {self.lines * len(self.line) / (1 << 20):.1f} MB sent, {state}>"


class RecordingSocket:
    """Stands in for a member's socket: keeps what it is sent; can hold up the sender."""

    def __init__(self):
        self.received = []
        self.hold = None  # a function to call inside sendall(), to pause the broadcast there

    def sendall(self, data):
        self.received.append(data.decode())
        if self.hold is not None:
            self.hold()


def remove_while_broadcasting(lock=True, patience=1.0):
    """The report's ChattingRoom: a member leaves while a broadcast is going through the list.

    Stage 5's room with three members, alice, bob and carol. One thread
    broadcasts "dave: hello"; while it is sending to alice (the first in
    the list), alice's own thread takes her out of the room. Events order
    the two threads exactly so, every time. lock=False runs the same thing
    with the room's lock taken out, as in the report.
    """
    room = stage5_report.ChattingRoom()
    if not lock:
        room.lock = contextlib.nullcontext()  # the report's room: no lock at all
    members = {nick: stage5_report.ChatClient(nick, RecordingSocket(), room) for nick in ("alice", "bob", "carol")}
    for member in members.values():
        room.add_user(member)
    for member in members.values():
        member.sock.received.clear()  # forget the join notices
    sending_to_alice, alice_removed = threading.Event(), threading.Event()

    def hold_the_broadcast():
        sending_to_alice.set()
        alice_removed.wait(patience)  # with the lock, alice cannot be removed yet: we wait in vain

    def alice_leaves():
        sending_to_alice.wait()
        room.delete_user(members["alice"])
        alice_removed.set()

    members["alice"].sock.hold = hold_the_broadcast
    leaver = threading.Thread(target=alice_leaves, name="alice's thread: delete_user")
    leaver.start()
    room.send_all("dave: hello\n")
    removed_during_broadcast = alice_removed.is_set()
    members["alice"].sock.hold = None
    leaver.join()
    rows = [[nick, _("yes") if member.sock.received else _("NO: skipped")] for nick, member in members.items()]
    table = Table([_("member"), _('heard "dave: hello"?')], rows,
                  title=_("Broadcast while alice leaves, with the room's lock") if lock else
                  _("Broadcast while alice leaves, WITHOUT the room's lock"),
                  note=_("alice was removed in the middle of the broadcast") if removed_during_broadcast
                  else _("alice's removal waited for the lock until the broadcast was over"))
    table.skipped = [nick for nick, member in members.items() if not member.sock.received]
    return table
