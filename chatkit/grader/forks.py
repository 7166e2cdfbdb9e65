"""A fork server of our own: a copy of the grading process, made while it has one thread, that forks children.

    server = forks.server()                       # None where we cannot fork safely (see below)
    child = server.start(function, args, fds)     # function(*args) in a new process: a Child
    child.pid, child.wait(timeout), child.exitcode, child.kill()
    server.start(function, args, fds, own_pids=True)   # the child is process 1 of a PID namespace of its own

Starting Python afresh and importing the kit costs a child ~0.3 CPU-s;
multiprocessing's "forkserver" pays that once per grading process, for a
fork server that is itself a new Python importing everything again. This
one is a fork of the grading process itself, made before it starts any
thread (forking a process with threads can leave a lock held forever in
the child), so it holds every module the grader has imported already and
starts in a millisecond. It forks the children it is asked for: each gets
the file descriptors sent with the request (`Fd(n)` in `args` stands for
the n-th of them) and nothing else of ours open, runs `function(*args)`,
and ends. Its exit status reaches the grader through a pipe of its own,
so waiting for one child never waits for the server.

With own_pids=True (a sandbox child: sandbox/namespaces.py says why) the
server makes the child the first process of a new PID namespace itself,
where it may (as root on Linux): one fork, not the two a child makes to
get there on its own (each fork of a 46 MB process costs ~2 ms). The
child then dies with the server; elsewhere it is an ordinary child, and
gets its namespaces as before.

The server dies with the process that made it (PR_SET_PDEATHSIG) and
when that process closes its end of the socket. One server per process,
made by the first call of server() (the plugin makes it when a grading
run starts, the bulk grader before its worker threads).
"""

import contextlib
import ctypes
import gc
import os
import pickle
import select
import signal
import socket
import struct
import sys
import threading
from dataclasses import dataclass

MAX_REQUEST = 1 << 16  # bytes of one pickled request
MAX_FDS = 8
PR_SET_PDEATHSIG = 1
CLONE_NEWPID = 0x20000000
STATUS = struct.Struct("i")

_server = None
_made_in = None  # the pid of the process the server belongs to (a forked child must make its own)


@dataclass(frozen=True)
class Fd:
    """In a request's arguments: the n-th file descriptor sent with it, as the child sees it."""

    index: int


def single_threaded():
    """True if this process runs one thread only (the OS's count: C libraries' threads count too)."""
    try:
        with open("/proc/self/status", encoding="ascii") as file:
            return next(int(line.split()[1]) for line in file if line.startswith("Threads:")) == 1
    except (OSError, StopIteration, ValueError):
        return threading.active_count() == 1


def server():
    """This process's fork server, made now if need be; None where there is no fork, or threads already run."""
    global _server, _made_in
    if _server is not None and _made_in == os.getpid():
        return _server
    if not hasattr(os, "fork") or not hasattr(socket, "send_fds") or not single_threaded():
        return None
    _server, _made_in = ForkServer(), os.getpid()
    return _server


class ForkServer:
    """The grader's end: requests go over a SOCK_SEQPACKET socket, one message each."""

    def __init__(self):
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        parent = os.getpid()
        # Every object alive now (pytest, the kit, disarm's tables) is here for good: the garbage
        # collector leaves them alone from now on, here and in every child. Otherwise each collection
        # walks them all, and in a child, touching them copies the memory it shares with us.
        gc.freeze()
        pid = os.fork()
        if pid == 0:
            ours.close()
            serve(theirs, parent)
        theirs.close()
        self.pid = pid
        self.socket = ours
        self.lock = threading.Lock()  # one request and its answer at a time

    def start(self, function, args, fds=(), own_pids=False):
        """Run function(*args) in a new child; `fds` are sent along (Fd(n) in args is the n-th).

        own_pids: make it process 1 of a new PID namespace, where the server may.
        """
        status_r, status_w = os.pipe()
        try:
            with self.lock:
                socket.send_fds(self.socket, [bytes([own_pids]) + pickle.dumps((function, args))], [status_w, *fds])
                answer = self.socket.recv(STATUS.size)
        finally:
            os.close(status_w)
        if len(answer) != STATUS.size:
            os.close(status_r)
            raise OSError("the grader's fork server is gone")
        return Child(STATUS.unpack(answer)[0], status_r)


class Child:
    """A process the fork server made: its exit status arrives on a pipe when it ends."""

    def __init__(self, pid, status_pipe):
        self.pid = pid
        self.pipe = status_pipe
        self.exitcode = None  # like multiprocessing's: negative for a signal; None while it runs

    def wait(self, timeout=None):
        """Wait (at most `timeout` s) for the child to end; its exit code, or None if it still runs."""
        if self.exitcode is None and self.pipe is not None:
            ready, _, _ = select.select([self.pipe], [], [], timeout)
            if not ready:
                return None
            data = os.read(self.pipe, STATUS.size)
            os.close(self.pipe)
            self.pipe = None
            self.exitcode = exit_code(STATUS.unpack(data)[0]) if len(data) == STATUS.size else -signal.SIGKILL
        return self.exitcode

    def kill(self):
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.kill(self.pid, signal.SIGKILL)

    def __del__(self):
        if self.pipe is not None:
            with contextlib.suppress(OSError):
                os.close(self.pipe)


def exit_code(status):
    return -os.WTERMSIG(status) if os.WIFSIGNALED(status) else os.WEXITSTATUS(status)


def serve(requests, parent):
    """The server's loop (in the forked copy): fork a child per request; tell each end how it ended."""
    libc = ctypes.CDLL(None, use_errno=True)
    with contextlib.suppress(Exception):
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    if os.getppid() != parent:  # the grader died before we could ask to die with it
        os._exit(0)
    waiting, ended = {}, {}  # pid -> status pipe; pid -> status of a child that ended before it was filed

    def reap(*_):
        while True:
            try:
                pid, status = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                return
            if pid == 0:
                return
            if pid in waiting:
                tell(waiting.pop(pid), status)
            else:
                ended[pid] = status

    own_pid_namespace = pid_namespace()
    signal.signal(signal.SIGCHLD, reap)
    for name in ("SIGINT", "SIGTERM"):
        signal.signal(getattr(signal, name), signal.SIG_DFL)
    while True:
        try:
            message, fds, _, _ = socket.recv_fds(requests, MAX_REQUEST, MAX_FDS)
        except OSError:
            os._exit(0)
        if not message:
            os._exit(0)  # the grader closed its end (or ended)
        status_pipe, given = fds[0], fds[1:]
        own_pids = message[0] == 1 and own_pid_namespace is not None and libc.unshare(CLONE_NEWPID) == 0
        pid = os.fork()
        if pid == 0:
            if own_pids:  # process 1 of its namespace: when we die, it and all it started die too
                libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
            run_child(message, given, close=[requests.fileno(), status_pipe, *waiting.values()])
        if own_pids and libc.setns(own_pid_namespace, CLONE_NEWPID) != 0:
            os._exit(1)  # our next children would be born in that namespace: better no server than that
        for fd in given:
            os.close(fd)
        waiting[pid] = status_pipe
        if pid in ended:
            tell(waiting.pop(pid), ended.pop(pid))
        with contextlib.suppress(OSError):
            requests.send(STATUS.pack(pid))


def pid_namespace():
    """A file descriptor of our PID namespace, where we may make new ones (Linux, as root); else None."""
    if not sys.platform.startswith("linux") or os.geteuid() != 0:
        return None
    try:
        return os.open("/proc/self/ns/pid", os.O_RDONLY)
    except OSError:
        return None


def tell(pipe, status):
    with contextlib.suppress(OSError):
        os.write(pipe, STATUS.pack(status))
    with contextlib.suppress(OSError):
        os.close(pipe)


def run_child(message, given, close):
    """In the new child: nothing of the server's left open but `given`; run the request; end."""
    signal.signal(signal.SIGCHLD, signal.SIG_DFL)
    status = 1
    try:
        for fd in close:
            with contextlib.suppress(OSError):
                os.close(fd)
        close_all_but(given)
        function, args = pickle.loads(message[1:])
        function(*[given[arg.index] if isinstance(arg, Fd) else arg for arg in args])
        status = 0
    except SystemExit as done:
        status = done.code if isinstance(done.code, int) else 1
    except BaseException:  # noqa: BLE001 - said on stderr, then the child ends
        with contextlib.suppress(Exception):
            import traceback

            traceback.print_exc()
    finally:
        with contextlib.suppress(Exception):
            sys.stdout.flush()
            sys.stderr.flush()
        os._exit(status)


def close_all_but(fds):
    """Close every file descriptor of this process except 0, 1, 2 and `fds`."""
    start = 3
    for fd in sorted(set(fds)):
        if fd >= start:
            os.closerange(start, fd)
            start = fd + 1
    os.closerange(start, os.sysconf("SC_OPEN_MAX") if hasattr(os, "sysconf") else 4096)
