"""Run the grader (pytest on the kit's exercise tests) in a process of its own.

Used by ``check()`` in a notebook, by ``python -m chatkit progress`` and by
the bulk grader. The process gets a session (process group) of its own and
a time limit: when the limit passes, the whole group is killed, and the
results written so far (the plugin saves them after every test) are kept.
"""

import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass

from chatkit.grader import layout
from chatkit.grader.results import Results


@dataclass
class Run:
    results: Results
    output: str  # what pytest printed
    returncode: int
    timed_out: bool
    seconds: float


def run_grader(paths, results_path, solutions=False, time_limit=120, cwd=None, extra_args=(), env=None):
    """Grade `paths` (test files or folders) in a subprocess; return a Run."""
    command = [sys.executable, "-m", "pytest", *map(str, paths), "-p", "no:cacheprovider",
               "--grade-json", str(results_path), "-q", "--color=no", *extra_args]
    if solutions:
        command.append("--solutions")
    # Only the grader plugin: pytest plugins installed for other work (anyio, hypothesis, ...) cost
    # seconds of start-up and could change how tests run.
    environment = {**os.environ, **(env or {}), "PYTHONDONTWRITEBYTECODE": "1", "PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1"}
    environment["PYTHONPATH"] = os.pathsep.join(filter(None, [str(layout.KIT_ROOT), environment.get("PYTHONPATH")]))
    started = time.monotonic()
    process = subprocess.Popen(command, cwd=cwd or layout.KIT_ROOT, env=environment, stdin=subprocess.DEVNULL,
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, start_new_session=True)
    timed_out = False
    try:
        output, _ = process.communicate(timeout=time_limit)
    except subprocess.TimeoutExpired:
        timed_out = True
        kill_group(process)
        output, _ = process.communicate()
    finally:
        kill_group(process)  # anything the run left behind in its group
    seconds = time.monotonic() - started
    try:
        results = Results.load(results_path)
    except (OSError, ValueError):
        results = Results(complete=False)
    if timed_out:
        results.complete = False
    return Run(results, output.decode("utf-8", errors="replace"), process.returncode, timed_out, seconds)


def kill_group(process):
    """Kill a process and everything in its process group."""
    try:
        os.killpg(process.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError, AttributeError):
        pass
