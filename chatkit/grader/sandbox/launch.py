"""Starting the child that runs one student file: forked from a fork server, or spawned.

    configure(**settings)   what the walls of this run protect (the plugin sets it once)
    walls()                 the walls every child raises (sandbox/walls.py)
    start(path)             a child running child.py on the student's file at `path`
    sweep(by_user)          after a test: every process the student started, found and killed

Forking a copy of the fork server (forks.py: a copy of the grading process,
with the kit and preload.py imported) takes a few ms; starting Python
afresh ~50 ms (the way on Windows, where a process has threads before
the fork server could be made, or with CHATKIT_GRADER_SPAWN=1). The child gets a session of its own either way,
and a forked one a Unix socket on which it hands sockets over to the
grader (probes.py looks at them in the grader's process).
"""

import json
import os
import socket
import subprocess
import sys

from chatkit.grader import forks, processes
from chatkit.grader.limits import LIMITS_ON, NAMESPACES_ON, STUDENT_LIMITS
from chatkit.grader.sandbox import child, preload  # noqa: F401  (preload: in every process a fork server is made from)
from chatkit.grader.sandbox import namespaces
from chatkit.grader.sandbox import walls as walls_module

PACKAGE = namespaces.KIT_FOLDER  # chatkit/

_settings = {}


def configure(**settings):
    """protected=[paths], secret=[paths], uid=..., tasks=...: set once per grading run.

    Settings that name paths add to what earlier calls named.
    """
    for key in ("protected", "secret"):
        if key in settings:
            settings[key] = list(dict.fromkeys([*_settings.get(key, ()), *map(str, settings[key])]))
    _settings.update(settings)


def walls():
    """The walls for the next child: the kit's code and the run's files protected, the answers hidden."""
    server = forks.server()
    pids = [os.getpid(), server.pid if server else None]
    return {"guard": True, "limits": dict(STUDENT_LIMITS) if LIMITS_ON else None, "namespaces": NAMESPACES_ON,
            "protected": [PACKAGE, *_settings.get("protected", ())], "secret": list(_settings.get("secret", ())),
            "uid": _settings.get("uid"), "tasks": _settings.get("tasks", 0),
            "grader_pids": [pid for pid in pids if pid]}


class Forked:
    """A sandbox child forked from the fork server: pid, pipes, the socket side door, wait()."""

    def __init__(self, server, path):
        pipes = [os.pipe() for _ in range(3)]  # requests, replies, log
        self.side, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
        child_ends = [pipes[0][0], pipes[1][1], pipes[2][1], theirs.fileno()]
        try:
            # the fork server is a copy of this process: its children hold no grader module not named here
            wanted = {**walls(), "grader_modules": walls_module.grader_modules()}
            self.process = server.start(child.forked_main, (path, *map(forks.Fd, range(4)), wanted), child_ends,
                                        own_pids=wanted["namespaces"])
        finally:
            for fd in child_ends[:3]:
                os.close(fd)  # the child has its copies; ours would keep the pipes open after it died
            theirs.close()
        self.pid = self.process.pid
        self.stdin = open(pipes[0][1], "wb")
        self.stdout = open(pipes[1][0], "rb")
        self.stderr = open(pipes[2][0], "rb")

    def wait(self):
        """Wait for the child to end; its exit status (negative: killed by that signal)."""
        return self.process.wait()

    def kill(self):
        self.process.kill()


class Spawned:
    """A sandbox child started as a new Python process (where there is no fork server)."""

    side = None

    def __init__(self, path):
        environment = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1", "PYTHONUNBUFFERED": "1",
                       "PYTHONIOENCODING": "utf-8"}
        environment["PYTHONPATH"] = os.pathsep.join(filter(None, [os.path.dirname(PACKAGE), os.environ.get("PYTHONPATH")]))
        options = {"start_new_session": True} if hasattr(os, "setsid") else {
            "creationflags": getattr(subprocess, "CREATE_NEW_PROCESS_GROUP", 0)}
        self.process = subprocess.Popen([sys.executable, "-m", "chatkit.grader.sandbox.preload", path,
                                         json.dumps(walls())],
                                        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                        env=environment, **options)
        self.pid = self.process.pid
        self.stdin, self.stdout, self.stderr = self.process.stdin, self.process.stdout, self.process.stderr

    def wait(self):
        return self.process.wait()

    def kill(self):
        self.process.kill()


def sweep(by_user=True):
    """Kill what the test's children left behind: orphans we adopted, and (by_user) their user's processes.

    by_user=False when every child ran in a PID namespace of its own
    (namespaces.py): whatever it started died with it, and looking for its
    user's processes in every process of the machine costs a fork and a
    scan of them all.
    """
    if by_user:
        processes.kill_user(_settings.get("uid"))
    server = forks.server()
    return processes.sweep(keep=[server.pid] if server else [])


def start(path):
    """A child process running child.py on the student's file at `path`."""
    server = forks.server() if os.environ.get("CHATKIT_GRADER_SPAWN") != "1" else None
    return Forked(server, path) if server is not None else Spawned(path)
