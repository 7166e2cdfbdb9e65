"""Run the grader (pytest on the kit's exercise tests) in a process of its own.

Used by ``check()`` in a notebook, by ``python -m chatkit progress`` and by
the bulk grader. The process gets a session (process group) of its own and
a time limit: when the limit passes, the whole group is killed, and the
results written so far (the plugin saves them after every test) are kept.
"""

import os
import subprocess
import sys
import time
from dataclasses import dataclass

from chatkit.grader import layout, processes
from chatkit.grader.limits import RUN_TIME_LIMIT
from chatkit.grader.results import Results


@dataclass
class Run:
    results: Results
    output: str  # what pytest printed
    returncode: int
    timed_out: bool
    seconds: float


def pytest_arguments(paths, results_path, solutions, extra_args):
    arguments = [*map(str, paths), "-p", "no:cacheprovider", "--grade-json", str(results_path), "-q",
                 "--color=no", *extra_args]
    return arguments + ["--solutions"] if solutions else arguments


def run_grader(paths, results_path, solutions=False, time_limit=RUN_TIME_LIMIT, cwd=None, extra_args=(), env=None):
    """Grade `paths` (test files or folders) in a new Python process; return a Run."""
    command = [sys.executable, "-m", "pytest", *pytest_arguments(paths, results_path, solutions, extra_args)]
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
        processes.kill_group(process)
        output, _ = process.communicate()
    finally:
        processes.kill_group(process)  # anything the run left behind in its group
    return finish(results_path, output.decode("utf-8", errors="replace"), process.returncode, timed_out, started)


def run_grader_forked(paths, results_path, cwd, time_limit=RUN_TIME_LIMIT):
    """The same as run_grader, in a process forked from one that has pytest imported already.

    For the bulk grader: importing pytest and the plugin takes ~0.6 s, more
    than grading a good submission's 33 tests; a fork takes 5 ms. The child
    is still a process of its own, with a session of its own and the time
    limit. Falls back to run_grader where there is no fork server.
    """
    context = processes.fork_server(GRADING_PRELOAD)
    if context is None:
        return run_grader(paths, results_path, time_limit=time_limit, cwd=cwd)
    output_path = os.path.join(cwd, "pytest-output.txt")
    started = time.monotonic()
    process = context.Process(target=pytest_in_child, name="chatkit grading",
                              args=(pytest_arguments(paths, results_path, False, ()), str(cwd), output_path))
    with processes.main_module_hidden():
        process.start()
    process.join(time_limit)
    timed_out = process.exitcode is None
    processes.kill_group(process)  # after a timeout, and anything a finished run left behind
    process.join()
    try:
        with open(output_path, encoding="utf-8", errors="replace") as file:
            output = file.read()
    except OSError:
        output = ""
    return finish(results_path, output, process.exitcode, timed_out, started)


def pytest_in_child(arguments, cwd, output_path):
    """Run pytest in this forked process, its output to a file, in a session of its own."""
    os.setsid()
    os.chdir(cwd)
    out = os.open(output_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    for fd in (1, 2):
        os.dup2(out, fd)
    os.close(out)
    sys.stdout = open(1, "w", encoding="utf-8", errors="replace", closefd=False)
    sys.stderr = open(2, "w", encoding="utf-8", errors="replace", closefd=False)
    os.environ["PYTEST_DISABLE_PLUGIN_AUTOLOAD"] = "1"
    sys.dont_write_bytecode = True
    import pytest

    status = pytest.main(arguments)
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(int(status))


# Not chatkit.grader.plugin itself: pytest rewrites its asserts, so it must import it.
GRADING_PRELOAD = ["pytest", "chatkit.grader.harness", "chatkit.grader.results", "chatkit.grader.authoring.tamper",
                   "chatkit.grader.commands.run"]


def finish(results_path, output, returncode, timed_out, started):
    try:
        results = Results.load(results_path)
    except (OSError, ValueError):
        results = Results(complete=False)
    if timed_out:
        results.complete = False
    return Run(results, output, returncode, timed_out, time.monotonic() - started)
