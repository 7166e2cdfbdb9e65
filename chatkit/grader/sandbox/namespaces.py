"""Namespaces around student code (Linux): every process it starts is found, the answers are out of sight.

    enter(walls)   first thing in the child, before any thread: returns what could not be done, in words

The child moves into a PID namespace of its own and becomes its first
process (process 1). Whatever the student's code starts lives in that
namespace, in its own session or not, double-forked or not; when process 1
ends, the kernel kills every process left in it, and the grader's processes
are not even visible from inside (no signal can reach them). As root, the
fork server makes the child process 1 of a new namespace itself (forks.py):
the grader's handle on it is process 1, and killing it ends it all.
Otherwise the child unshares and forks here: a "keeper" stays behind outside
the namespace as the grader's handle, waits for process 1 and ends with its
exit status, and process 1 dies with it (PR_SET_PDEATHSIG), so killing the
child's process group ends it all too.

It also gets a mount namespace of its own, seen by it and its processes
only: the reference answers (walls["secret"]) are covered by an empty
read-only folder, and the kit's code and the run's files (walls["protected"])
are mounted read-only. When student code will run as a user of its own
(walls["uid"], as root), folders of the Python installation that user could
not enter (a pyenv under a private /root) are opened up to it the same way:
a readable empty folder over the private one, with just the Python
installation mounted back inside.

Root does this directly; any other user through a user namespace, where
the mounts are then locked by a second one (student code cannot undo
them). Where neither works (an older kernel, a container that forbids it,
macOS, Windows), nothing changes and the grader finds stray processes by
their session, by adoption and by their user (processes.py), as before.
"""

import ctypes
import errno
import os
import signal
import stat
import sys

CLONE_NEWNS, CLONE_NEWUSER, CLONE_NEWPID = 0x00020000, 0x10000000, 0x20000000
MS_RDONLY, MS_NOSUID, MS_NODEV, MS_NOEXEC = 1, 2, 4, 8
MS_REMOUNT, MS_BIND, MS_REC, MS_PRIVATE = 32, 4096, 16384, 1 << 18
PR_SET_PDEATHSIG = 1
OPENING_ROUNDS = 8  # private folders nested in private folders, opened up one level a round

_libc = None


def libc():
    global _libc
    if _libc is None:
        _libc = ctypes.CDLL(None, use_errno=True)
    return _libc


def call(name, *args):
    if getattr(libc(), name)(*args) != 0:
        number = ctypes.get_errno()
        raise OSError(number, f"{name}: {os.strerror(number)}")


def encoded(text):
    return None if text is None else os.fsencode(text)


def mount(source, target, fstype=None, flags=0, data=None):
    call("mount", encoded(source), encoded(target), encoded(fstype), ctypes.c_ulong(flags), encoded(data))


def enter(walls):
    """Move this (single-threaded) process into namespaces of its own; return what could not be done."""
    if not sys.platform.startswith("linux") or not walls.get("namespaces"):
        return []
    as_root = os.geteuid() == 0
    uid, gid = os.geteuid(), os.getegid()
    made_for_us = os.getpid() == 1  # the fork server made our PID namespace already (forks.py, as root)
    try:
        call("unshare", CLONE_NEWNS | (0 if made_for_us else CLONE_NEWPID) | (0 if as_root else CLONE_NEWUSER))
        if not as_root:
            map_ourselves(uid, gid)
    except OSError as error:
        return [f"no PID namespace for student code here ({error.strerror}): its stray processes are found "
                "by their session, by adoption and by their user instead"]
    if not made_for_us:
        become_process_one()
    missing = []
    try:
        mount(None, "/", None, MS_REC | MS_PRIVATE)  # nothing mounted here reaches the grader's view
        mount("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC)  # only this namespace's processes
        if walls.get("uid") is not None:
            open_up(python_folders(), walls["uid"])
        for path in walls.get("protected", ()):
            read_only(path)
        for path in walls.get("secret", ()):
            cover(path)
        if not as_root:  # lock the mounts: a second user namespace cannot undo its parent's
            call("unshare", CLONE_NEWUSER | CLONE_NEWNS)
            map_ourselves(uid, gid)
    except OSError as error:
        missing.append(f"the reference answers and the kit's files could not be hidden from student code "
                       f"({error.strerror})")
    return missing


def map_ourselves(uid, gid):
    """In a new user namespace: be the same user (and group) as outside it."""
    for name, text in (("setgroups", "deny"), ("uid_map", f"{uid} {uid} 1"), ("gid_map", f"{gid} {gid} 1")):
        with open(f"/proc/self/{name}", "w", encoding="ascii") as file:
            file.write(text)


def become_process_one():
    """Fork: the child is process 1 of the new PID namespace; this process waits for it and ends as it ended."""
    pid = os.fork()
    if pid == 0:
        call("prctl", PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)  # the keeper killed: process 1, and all, too
        return
    os.closerange(0, os.sysconf("SC_OPEN_MAX") if hasattr(os, "sysconf") else 1024)  # the pipes are process 1's
    while True:
        try:
            _, status = os.waitpid(pid, 0)
            break
        except InterruptedError:
            continue
        except ChildProcessError:
            os._exit(1)
    if os.WIFSIGNALED(status):  # end the same way, so the grader can say what happened
        number = os.WTERMSIG(status)
        try:
            import resource

            resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
        except (ImportError, OSError, ValueError):
            pass
        signal.signal(number, signal.SIG_DFL)
        os.kill(os.getpid(), number)
    os._exit(os.WEXITSTATUS(status) if os.WIFEXITED(status) else 1)


def read_only(path):
    """Mount `path` (a folder or a file) read-only over itself, in this namespace only."""
    if not os.path.exists(path):
        return
    mount(path, path, None, MS_BIND | MS_REC)
    mount(None, path, None, MS_BIND | MS_REMOUNT | MS_RDONLY | MS_NOSUID | MS_NODEV)


def cover(path):
    """Put an empty read-only folder over `path`: what was there cannot be read."""
    if os.path.isdir(path):
        mount("tmpfs", path, "tmpfs", MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC, "size=4k,mode=0555")


KIT_FOLDER = os.path.dirname(os.path.dirname(os.path.dirname(os.path.realpath(__file__))))  # chatkit/


def python_folders():
    """The folders Python imports from, the one its executable is in, and the kit's own.

    The kit's is not on sys.path in an editable install (a finder maps
    it), yet student code imports from it (chatkit.client, say).
    """
    folders = {os.path.realpath(path) for path in sys.path if path and os.path.isdir(path)}
    folders.add(os.path.dirname(os.path.realpath(sys.executable)))
    folders.add(KIT_FOLDER)
    return sorted(folders)


def blocked_at(path):
    """(the first folder on the way to `path` that others may not enter, the next name), or None."""
    parts = path.strip(os.sep).split(os.sep)
    folder = os.sep
    for name in parts:
        try:
            mode = os.stat(folder).st_mode
        except OSError:
            return None
        if not mode & stat.S_IXOTH:
            return folder, name
        folder = os.path.join(folder, name)
    return None


def open_up(folders, uid):
    """Make `folders` reachable for `uid`: over each private folder on the way, a readable one holding them."""
    for _ in range(OPENING_ROUNDS):
        blocked = {}
        for path in folders:
            found = blocked_at(path)
            if found:
                blocked.setdefault(found[0], set()).add(found[1])
        if not blocked:
            return
        for folder, names in sorted(blocked.items()):
            keep = {name: os.open(os.path.join(folder, name), os.O_PATH) for name in sorted(names)}
            try:
                mount("tmpfs", folder, "tmpfs", MS_NOSUID | MS_NODEV, "size=64k,mode=0755")
                for name, fd in keep.items():
                    target = os.path.join(folder, name)
                    if stat.S_ISDIR(os.fstat(fd).st_mode):
                        os.mkdir(target)
                    else:
                        open(target, "w").close()
                    mount(f"/proc/self/fd/{fd}", target, None, MS_BIND | MS_REC)
                mount(None, folder, None, MS_REMOUNT | MS_RDONLY | MS_NOSUID | MS_NODEV)
            finally:
                for fd in keep.values():
                    os.close(fd)
    raise OSError(errno.ELOOP, "too many private folders nested on the way to Python")
