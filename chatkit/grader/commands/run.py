"""Run the grader (pytest on the kit's exercise tests) in a process of its own, on a clean copy.

Used by `pytest exercises/` (the plugin hands its run over to here), by
``check()`` in a notebook, by ``python -m chatkit progress`` and by the bulk
grader. Grading never happens where the student's files are: a scratch
folder gets the kit's graded tests and conftest.py (KitTests), a
pyproject.toml made from the manifest's pytest settings, and the student's
exercise files (exercises/exNN_*.py), nothing else; pytest runs there in a
fresh interpreter in isolated mode (``python -I``: no PYTHONPATH, no user
site, not the current folder), with plugin autoloading off. Conftest files,
pytest settings, plugins and customize modules of the student's repository
are never loaded. The process gets a session of its own and a time limit:
when the limit passes, the whole group is killed, and the results written
so far (the plugin saves them after every test) are kept.
"""

import hashlib
import importlib
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import pytest
import redis  # noqa: F401  (exercise 10's tests import it: ~0.2 CPU-s a student, were each run to load it)
from _pytest.config import default_plugins

# harness (the sandboxes, and the kit's code they load) and pytest are imported before the fork server is
# made (run_grader_forked): every student's run forked from it has them already
from chatkit.grader import forks, harness, layout, processes  # noqa: F401
from chatkit.grader.authoring import tamper
from chatkit.grader.limits import RUN_TIME_LIMIT
from chatkit.grader.results import Results
from chatkit.tools import redisserver  # noqa: F401  (exercise 10's tests use it)

for _plugin in default_plugins:  # pytest imports its own plugins when a run starts: here, once for every run
    importlib.import_module(f"_pytest.{_plugin}" if "." not in _plugin else _plugin)

CLEAN_RUN = "CHATKIT_CLEAN_RUN"  # set in every run made here: the plugin grades where it is
ANSWERS = "CHATKIT_ANSWERS"  # the solutions/ folders student code must not see, os.pathsep between them
IGNORED = "CHATKIT_IGNORED"  # JSON: what the student's repository held that the run ignored
STUDENT_RUN_LIMIT = 600  # `pytest exercises/`: every step has its own, far shorter, limit
PACKAGE_PARENT = str(Path(__file__).resolve().parents[3])  # the folder the running chatkit is imported from
# pytest in isolated mode, importing the same chatkit as the grader that started it
BOOT = "import sys; sys.path.insert(0, sys.argv[1]); import pytest; sys.exit(pytest.main(sys.argv[2:]))"


@dataclass
class Run:
    results: Results
    output: str  # what pytest printed
    returncode: int
    timed_out: bool
    seconds: float


@dataclass
class KitTests:
    """The kit's graded tests and conftest.py, read once (bytes), and how they differ from the manifest."""

    files: dict  # name -> bytes
    settings: dict  # the pytest settings the manifest records
    problems: list  # sentences: edited or missing files

    @classmethod
    def read(cls, exercises_dir, manifest=None):
        manifest = manifest or tamper.load_manifest()
        files, problems = {}, []
        for name, expected in manifest.get("files", {}).items():
            try:
                data = (Path(exercises_dir) / name).read_bytes()
            except OSError:
                problems.append(f"exercises/{name} is missing")
                continue
            files[name] = data
            if hashlib.sha256(data).hexdigest() != expected:
                problems.append(f"exercises/{name} was edited (it differs from the kit's copy)")
        return cls(files, manifest.get("pytest_settings", {}), problems)

    def write(self, root, exercise_files):
        """root/exercises: these tests and `exercise_files` ({exercise: bytes}); root/pyproject.toml."""
        exercises = Path(root) / "exercises"
        exercises.mkdir(parents=True, exist_ok=True)
        for name, data in self.files.items():
            (exercises / name).write_bytes(data)
        for exercise, data in exercise_files.items():
            (exercises / f"{exercise}.py").write_bytes(data)
        settings = "".join(f"{key} = {json.dumps(value)}\n" for key, value in self.settings.items())
        (Path(root) / "pyproject.toml").write_text(f"[tool.pytest.ini_options]\n{settings}", encoding="utf-8")
        return exercises


def added_files(exercises_dir):
    """Test files and conftest.py in the student's exercises folder that are not the kit's (never copied)."""
    return [problem.replace(" was added (", " (") for problem in
            tamper.problems(exercises_dir, tamper.load_manifest(), complete=False) if " was added " in problem]


def exercise_sources(exercises_dir, exercise_ids):
    """{exercise: bytes} of the exercise files found in a folder."""
    found = {}
    for exercise in exercise_ids:
        path = Path(exercises_dir) / f"{exercise}.py"
        if path.is_file():
            found[exercise] = path.read_bytes()
    return found


# pytest's own plugins a grading run has no use for; each costs time in every test (~12 % of a run's CPU);
# unraisableexception collects the garbage of the whole process when the run ends (~10 % of a student's run),
# to find exceptions raised in __del__: the grader's own, never the student's (that code runs in sandboxes)
UNUSED_PLUGINS = ["cacheprovider", "logging", "junitxml", "doctest", "pastebin", "legacypath", "warnings",
                  "unraisableexception"]


def pytest_arguments(paths, results_path, solutions, extra_args):
    unused = [option for name in UNUSED_PLUGINS for option in ("-p", f"no:{name}")]
    arguments = [*map(str, paths), *unused, "--capture=no", "--grade-json", str(results_path), "-q",
                 "--color=no", *extra_args]
    return arguments + ["--solutions"] if solutions else arguments


def run_grader(paths, results_path=None, solutions=False, time_limit=RUN_TIME_LIMIT, cwd=None, extra_args=(),
               env=None, echo=False, ignored=()):
    """Grade `paths` (test files, or the exercises folder) on a clean copy, in a new Python; return a Run.

    solutions=True grades the reference answers where they are (nothing of
    a student's is involved). echo=True prints pytest's output as it comes.
    """
    with tempfile.TemporaryDirectory(prefix="chatkit-clean-") as clean:
        results_path = results_path or Path(clean) / "results.json"
        if solutions:
            selection, cwd = [Path(p) for p in paths], cwd or layout.KIT_ROOT
        else:
            folders = {Path(p) if Path(p).is_dir() else Path(p).parent for p in paths}
            if len(folders) != 1:
                raise ValueError(f"grade one exercises folder at a time, not {sorted(map(str, folders))}")
            folder = folders.pop()
            kit = KitTests.read(folder)
            ignored = [*ignored, *added_files(folder)]
            manifest_ids = list(tamper.load_manifest().get("tests", {})) or layout.exercise_ids()
            target = kit.write(clean, exercise_sources(folder, manifest_ids))
            selection = [target if Path(p).is_dir() else target / Path(p).name for p in paths]
            cwd = clean
            extra_args = ["--rootdir", clean, "-c", str(Path(clean) / "pyproject.toml"), "--confcutdir", clean,
                          *extra_args]
        command = [sys.executable, "-I", "-c", BOOT, PACKAGE_PARENT,
                   *pytest_arguments(selection, results_path, solutions, extra_args)]
        # Only the grader plugin: pytest plugins installed for other work (anyio, hypothesis, ...) cost
        # seconds of start-up and could change how tests run.
        environment = {key: value for key, value in {**os.environ, **(env or {})}.items()
                       if key not in ("PYTEST_ADDOPTS", "PYTEST_PLUGINS")}
        environment.update({"PYTHONDONTWRITEBYTECODE": "1", "PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1", CLEAN_RUN: "1",
                            IGNORED: json.dumps(list(ignored)), "PYTHONIOENCODING": "utf-8",
                            # the kit of this run is the folder it grades (the clean copy); the answers to
                            # hide are those of the kit the exercises came from, and of this installation
                            layout.ROOT_VARIABLE: str(cwd), ANSWERS: os.pathsep.join(answers(paths))})
        return run_command(command, cwd, environment, results_path, time_limit, echo)


def answers(paths):
    """The solutions/ folders student code must not see: near what is graded, of the kit this
    process works in, and of this installation (a clean copy has none of its own)."""
    kits = [layout.kit_root(path) for path in paths] + [layout.kit_root(), Path(PACKAGE_PARENT)]
    return sorted({str(layout.solutions_dir(kit).resolve()) for kit in kits})


def run_command(command, cwd, environment, results_path, time_limit, echo):
    """Run a grading command in a session of its own, within `time_limit`; read its results."""
    started = time.monotonic()
    process = subprocess.Popen(command, cwd=cwd, env=environment, stdin=subprocess.DEVNULL,
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, start_new_session=True)
    chunks = []

    def read():
        for line in process.stdout:
            chunks.append(line)
            if echo:
                sys.stdout.write(line.decode("utf-8", errors="replace"))
                sys.stdout.flush()

    reader = threading.Thread(target=read, name="grading output", daemon=True)
    reader.start()
    timed_out = False
    try:
        process.wait(timeout=time_limit)
    except subprocess.TimeoutExpired:
        timed_out = True
    finally:
        processes.kill_group(process)  # after a timeout, and anything the run left behind in its group
        process.wait()
    reader.join(2)  # a process that escaped the group may hold the pipe: its output is not waited for
    if not reader.is_alive():
        process.stdout.close()
    output = b"".join(chunks).decode("utf-8", errors="replace")
    return finish(results_path, output, process.returncode, timed_out, started)


def run_grader_forked(paths, results_path, cwd, time_limit=RUN_TIME_LIMIT):
    """The same as run_grader, in a process forked from one that has pytest imported already.

    For the bulk grader: starting Python and importing pytest, the plugin
    and the kit takes ~0.6 s, more than grading a good submission's 33
    tests; a fork of the grader's fork server (forks.py) takes a few ms.
    The child is still a process of its own, with a session of its own and
    the time limit. Falls back to run_grader where there is no fork server.
    """
    server = forks.server()
    if server is None:
        return run_grader(paths, results_path, time_limit=time_limit, cwd=cwd)
    output_path = os.path.join(cwd, "pytest-output.txt")
    started = time.monotonic()
    process = server.start(pytest_in_child, (pytest_arguments(paths, results_path, False, ()), str(cwd), output_path,
                                             answers(paths)))
    timed_out = process.wait(time_limit) is None
    processes.kill_group(process)  # after a timeout, and anything a finished run left behind
    process.wait()
    try:
        with open(output_path, encoding="utf-8", errors="replace") as file:
            output = file.read()
    except OSError:
        output = ""
    return finish(results_path, output, process.exitcode, timed_out, started)


def pytest_in_child(arguments, cwd, output_path, hidden):
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
    os.environ[CLEAN_RUN] = "1"  # the bulk grader made the clean copy itself
    os.environ[layout.ROOT_VARIABLE] = str(cwd)
    os.environ[ANSWERS] = os.pathsep.join(hidden)
    sys.dont_write_bytecode = True
    status = pytest.main(arguments)
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(int(status))


def finish(results_path, output, returncode, timed_out, started):
    try:
        results = Results.load(results_path)
    except (OSError, ValueError):
        results = Results(complete=False)
    if timed_out:
        results.complete = False
    return Run(results, output, returncode, timed_out, time.monotonic() - started)
