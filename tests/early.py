"""Checks that only wait for one long command start with the session and run beside the other tests.

    def start_it(folder):                       # in the test's module: prepare `folder`, start the command
        return details, early.Command([...], cwd=folder / "kit", output=folder / "output.txt", env=...)
    @pytest.mark.early(start=start_it)
    def test_it(early):                         # the fixture: what start_it returned
        details, command = early
        done = command.wait(timeout=900)        # a CompletedProcess: returncode, stdout (stderr in it)

    early.started(start_it)                     # the same, for a fixture shared by tests marked so

`make test` in the students' edition takes two minutes, and grading every
sample bug nearly as long, nearly all of it waiting: started first, they
run while the kit's other tests do. Once collection is done, conftest.py
calls the start function of every selected test marked `early` (once
each, however many tests name it), each with a scratch folder of its own
that is removed at the end. What a command prints goes to a file there;
it runs in a session of its own and is killed whole if it still runs when
the session ends. No thread here: the grader's fork server must be made in
a process that runs one.
"""

import os
import shutil
import signal
import subprocess
import tempfile
from pathlib import Path

import pytest

_started = {}  # start function -> what it returned
_folders = []
_commands = []


class Command:
    """A command running in the background, its output (stderr too) kept in a file."""

    def __init__(self, args, cwd, output, env=None):
        self.args = [str(arg) for arg in args]
        self.cwd = cwd
        self.log = output
        with open(output, "wb") as out:
            self.process = subprocess.Popen(self.args, cwd=cwd, env=env, stdin=subprocess.DEVNULL, stdout=out,
                                            stderr=subprocess.STDOUT, start_new_session=True)
        _commands.append(self)

    def wait(self, timeout):
        """The finished command as a CompletedProcess; fails the test if it runs past `timeout` seconds."""
        try:
            self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            self.kill()
            pytest.fail(f"{' '.join(self.args)} still ran after {timeout:g} s:\n{self.output()[-6000:]}")
        return subprocess.CompletedProcess(self.args, self.process.returncode, self.output())

    def output(self):
        with open(self.log, encoding="utf-8", errors="replace") as file:
            return file.read()

    def kill(self):
        if self.process.poll() is None:
            try:
                os.killpg(self.process.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            self.process.wait()


def start(items):
    """Start the command of every test in `items` marked early (once collection is done)."""
    for item in items:
        marker = item.get_closest_marker("early")
        function = marker.kwargs["start"] if marker else None
        if function is None or function in _started:
            continue
        folder = tempfile.mkdtemp(prefix="chatkit-early-")
        _folders.append(folder)
        try:
            _started[function] = function(Path(folder))
        except Exception as error:  # noqa: BLE001 - it fails the tests that need it, not the session
            _started[function] = error


def started(function):
    """What start function `function` returned (its exception is raised here)."""
    if function not in _started:
        pytest.fail(f"{function.__name__} was not started: mark the tests that need it "
                    f"@pytest.mark.early(start={function.__name__})")
    if isinstance(_started[function], Exception):
        raise _started[function]
    return _started[function]


def finish():
    """The session ends: kill what still runs, remove the scratch folders."""
    for command in _commands:
        command.kill()
    for folder in _folders:
        shutil.rmtree(folder, ignore_errors=True)
