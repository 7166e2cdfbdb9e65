"""Starting the child processes that run student code, quickly.

A test starts a fresh process for every server or module it tries, so
nothing leaks from one test into the next: 33 of them for one student.
Starting Python and importing the kit takes ~50 ms each time; forking a
copy of a "fork server" that has the kit imported already takes ~5 ms. On
Linux and macOS we fork (multiprocessing's forkserver: a process with no
threads, so forking it is safe); elsewhere we start Python afresh. Either
way the child gets a session of its own, so killing its process group
ends everything the student's code started.
"""

import contextlib
import importlib.machinery
import multiprocessing
import os
import subprocess
import sys
from multiprocessing.connection import Connection

from chatkit.grader import layout

PRELOAD = ["chatkit.grader.child", "chatkit.grader.probes", "chatkit.protocol", "chatkit.server",
           "chatkit.stages.stage1_listen", "chatkit.stages.stage2_accept", "chatkit.stages.stage3_threads",
           "chatkit.stages.stage4_broadcast", "chatkit.stages.stage5_report"]
_context = None


def fork_server():
    """multiprocessing's forkserver context with the kit preloaded, or None where there is none."""
    global _context
    if _context is None and "forkserver" in multiprocessing.get_all_start_methods():
        _context = multiprocessing.get_context("forkserver")
        _context.set_forkserver_preload(PRELOAD)
    return _context


@contextlib.contextmanager
def main_module_hidden():
    """Keep multiprocessing from importing our __main__ again in the child.

    It does so for functions defined in __main__; ours live in chatkit, and
    re-importing the `pytest` script in every child costs 0.3 s each. A
    main module whose spec is named "__main__" is left alone.
    """
    main = sys.modules["__main__"]
    saved = getattr(main, "__spec__", None)
    main.__spec__ = importlib.machinery.ModuleSpec("__main__", None)
    try:
        yield
    finally:
        main.__spec__ = saved


class Forked:
    """A child forked from the fork server: pid, pipes, wait()."""

    def __init__(self, context, path):
        pipes = [os.pipe() for _ in range(3)]  # requests, replies, log
        child_ends = [Connection(pipes[0][0], writable=False), Connection(pipes[1][1], readable=False),
                      Connection(pipes[2][1], readable=False)]
        from chatkit.grader import child

        self.process = context.Process(target=child.forked_main, args=(path, *child_ends), daemon=True,
                                       name=f"sandbox {os.path.basename(path)}")
        with main_module_hidden():
            self.process.start()
        for end in child_ends:
            end.close()  # the child has its copies; ours would keep the pipes open after it died
        self.pid = self.process.pid
        self.stdin = open(pipes[0][1], "wb")
        self.stdout = open(pipes[1][0], "rb")
        self.stderr = open(pipes[2][0], "rb")

    def wait(self):
        """Wait for the child to end; its exit status (negative: killed by that signal)."""
        self.process.join()
        return self.process.exitcode

    def kill(self):
        self.process.kill()


class Spawned:
    """A child started as a new Python process (where there is no fork server)."""

    def __init__(self, path):
        environment = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1", "PYTHONUNBUFFERED": "1",
                       "PYTHONIOENCODING": "utf-8"}
        environment["PYTHONPATH"] = os.pathsep.join(filter(None, [str(layout.KIT_ROOT), os.environ.get("PYTHONPATH")]))
        self.process = subprocess.Popen([sys.executable, "-m", "chatkit.grader.child", path],
                                        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                        env=environment, start_new_session=True)
        self.pid = self.process.pid
        self.stdin, self.stdout, self.stderr = self.process.stdin, self.process.stdout, self.process.stderr

    def wait(self):
        return self.process.wait()

    def kill(self):
        self.process.kill()


def start(path):
    """A child process running chatkit.grader.child on the student's file at `path`."""
    context = fork_server() if os.environ.get("CHATKIT_GRADER_SPAWN") != "1" else None
    return Forked(context, path) if context is not None else Spawned(path)
