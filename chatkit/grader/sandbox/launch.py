"""Starting the child that runs one student file: forked from a fork server, or spawned.

    start(path)   a child running child.py on the student's file at `path`

Forking a copy of a fork server that has the kit imported takes ~5 ms;
starting Python afresh ~50 ms (the way on Windows, or with
CHATKIT_GRADER_SPAWN=1). The child gets a session of its own either way.
"""

import os
import subprocess
import sys
from multiprocessing.connection import Connection

from chatkit.grader import layout, processes
from chatkit.grader.sandbox import child

PRELOAD = ["chatkit.grader.sandbox.child", "chatkit.grader.sandbox.probes", "chatkit.protocol",
           "chatkit.server", "chatkit.stages.stage1_listen", "chatkit.stages.stage2_accept",
           "chatkit.stages.stage3_threads", "chatkit.stages.stage4_broadcast", "chatkit.stages.stage5_report"]


class Forked:
    """A sandbox child forked from the fork server: pid, pipes, wait()."""

    def __init__(self, context, path):
        pipes = [os.pipe() for _ in range(3)]  # requests, replies, log
        child_ends = [Connection(pipes[0][0], writable=False), Connection(pipes[1][1], readable=False),
                      Connection(pipes[2][1], readable=False)]
        self.process = context.Process(target=child.forked_main, args=(path, *child_ends), daemon=True,
                                       name=f"sandbox {os.path.basename(path)}")
        with processes.main_module_hidden():
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
    """A sandbox child started as a new Python process (where there is no fork server)."""

    def __init__(self, path):
        environment = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1", "PYTHONUNBUFFERED": "1",
                       "PYTHONIOENCODING": "utf-8"}
        environment["PYTHONPATH"] = os.pathsep.join(filter(None, [str(layout.KIT_ROOT), os.environ.get("PYTHONPATH")]))
        self.process = subprocess.Popen([sys.executable, "-m", "chatkit.grader.sandbox.child", path],
                                        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                        env=environment, start_new_session=True)
        self.pid = self.process.pid
        self.stdin, self.stdout, self.stderr = self.process.stdin, self.process.stdout, self.process.stderr

    def wait(self):
        return self.process.wait()

    def kill(self):
        self.process.kill()


def start(path):
    """A child process running child.py on the student's file at `path`."""
    context = processes.fork_server(PRELOAD) if os.environ.get("CHATKIT_GRADER_SPAWN") != "1" else None
    return Forked(context, path) if context is not None else Spawned(path)
