"""Ending the grader's processes with everything they started; the user student code runs as.

    kill_group(process)    a process and every process in its group (its session); a tree on Windows
    adopt_orphans()        make this process the one that inherits whatever its children leave behind
    sweep(keep)            kill every child of this process but `keep` (orphans it adopted included)
    student_uid()          the user id student code runs as when the grader is root (None otherwise)
    kill_user(uid)         kill every process of that user
    run_clock(pid)         how long each thread of a process has run, and whether one is ready to run now

A test starts a fresh process for every server or module it tries, so
nothing leaks from one test into the next: 33 of them for one student.
They are forked from the grader's own fork server (forks.py), a copy of
the grading process with the kit imported: a few milliseconds each,
where starting Python and importing the kit takes ~50. The bulk grader
forks its pytest runs the same way (commands/run.py); sandbox/launch.py
starts the sandboxes.

Finding every process a student started, in order of strength:

- Linux, where namespaces are allowed (sandbox/namespaces.py): each child
  is process 1 of a PID namespace of its own, and everything it started
  dies with it, whatever it did to hide;
- the grader is root (Gradescope, containers): student code runs as a user
  id of its own (student_uid(), one per grading run), so `kill_user` ends
  all of it, and the per-user process limit counts only the student;
- Linux: the grading process adopts orphans (PR_SET_CHILD_SUBREAPER), so a
  child that called setsid() or double-forked still becomes our child when
  its parent dies, and `sweep` kills it after each test;
- everywhere: each child has a session of its own, and `kill_group` ends it
  (on Windows, where there are no process groups, `taskkill /T` ends the tree).
"""

import contextlib
import os
import signal
import subprocess
import sys

PR_SET_CHILD_SUBREAPER = 36
STUDENT_UID_BASE = 2_000_000_000  # + the grading run's pid: no real user has such an id
SWEEP_ROUNDS = 50  # a process tree killed level by level: deeper than any real program's


def kill_group(process):
    """Kill a process and everything in its process group (on Windows: its process tree)."""
    if not hasattr(os, "killpg"):  # Windows: no process groups
        subprocess.run(["taskkill", "/F", "/T", "/PID", str(process.pid)], capture_output=True, check=False)
        with contextlib.suppress(OSError):
            process.kill()
        return
    try:
        os.killpg(process.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass


def adopt_orphans():
    """Become the subreaper of our descendants (Linux): True if we are one now."""
    if not sys.platform.startswith("linux"):
        return False
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        return libc.prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) == 0
    except (OSError, AttributeError):
        return False


def children():
    """The pids of this process's children (Linux; [] elsewhere)."""
    found = set()
    try:
        for task in os.listdir("/proc/self/task"):
            with open(f"/proc/self/task/{task}/children", encoding="ascii") as file:
                found.update(int(pid) for pid in file.read().split())
    except OSError:
        return []
    return sorted(found)


def sweep(keep=()):
    """Kill every child of ours except `keep`, then the children they leave to us, until none is left.

    Returns how many processes were killed. Only useful once adopt_orphans()
    made us the heir of everything our children started.
    """
    killed = 0
    keep = set(keep)
    for _ in range(SWEEP_ROUNDS):
        strays = [pid for pid in children() if pid not in keep]
        if not strays:
            break
        for pid in strays:
            with contextlib.suppress(OSError):
                os.kill(pid, signal.SIGKILL)
        for pid in strays:
            with contextlib.suppress(ChildProcessError, OSError):
                os.waitpid(pid, 0)  # our child now: reap it, and its children come to us next
        killed += len(strays)
    return killed


def student_uid():
    """The user id for student code in this grading run, or None when we cannot switch users.

    Only root can run code as another user. CHATKIT_STUDENT_UID chooses the
    id; by default it is one no account has, different for every run, so the
    per-user limits and kill_user() concern one student only.
    """
    if not hasattr(os, "geteuid") or os.geteuid() != 0:
        return None
    chosen = os.environ.get("CHATKIT_STUDENT_UID")
    return int(chosen) if chosen else STUDENT_UID_BASE + os.getpid()


def run_clock(pid):
    """(is a thread of process `pid` running or ready to run?, {thread id: nanoseconds it has run}).

    Read from the kernel (Linux: /proc/PID/task), so the process cannot
    say otherwise; None elsewhere, or once the process is gone. Two looks
    alike, with no thread ready at either, mean nothing of it ran between
    them: whatever woke it has been dealt with.
    """
    ready, clocks = False, {}
    try:
        for task in os.listdir(f"/proc/{pid}/task"):
            with open(f"/proc/{pid}/task/{task}/stat", encoding="ascii", errors="replace") as file:
                state = file.read().rpartition(")")[2].split()[0]  # the name may hold spaces and ')'
            with open(f"/proc/{pid}/task/{task}/schedstat", encoding="ascii") as file:
                clocks[task] = int(file.read().split()[0])
            ready = ready or state == "R"
    except (OSError, IndexError, ValueError):
        return None  # gone (a thread or the process), or no /proc
    return ready, clocks


def tasks_of_user():
    """How many processes and threads our user runs now (Linux; 0 elsewhere): RLIMIT_NPROC counts them all."""
    uid, count = os.getuid() if hasattr(os, "getuid") else None, 0
    try:
        entries = os.listdir("/proc")
    except OSError:
        return 0
    for entry in entries:
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/status", encoding="ascii", errors="replace") as file:
                fields = dict(line.split(":", 1) for line in file if ":" in line)
        except OSError:
            continue
        if fields.get("Uid", "").split()[:1] == [str(uid)]:
            count += int(fields.get("Threads", "1"))
    return count


def drop_privileges(uid):
    """Become `uid` for good (its group too, no supplementary groups). Raises OSError if refused."""
    os.setgroups([])
    os.setgid(uid)
    os.setuid(uid)


def kill_user(uid):
    """Kill every process running as `uid` (as root): a helper becomes that user and signals them all."""
    if uid is None or uid == 0:
        return
    pid = os.fork()
    if pid == 0:  # the helper: kill(-1) reaches every process of the user it runs as
        try:
            drop_privileges(uid)
            for _ in range(SWEEP_ROUNDS):
                os.kill(-1, signal.SIGKILL)
        except OSError:
            pass  # ProcessLookupError: none left
        os._exit(0)
    with contextlib.suppress(ChildProcessError):
        os.waitpid(pid, 0)
