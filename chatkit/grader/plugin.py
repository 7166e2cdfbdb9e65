"""The grader, as a pytest plugin (exercises/conftest.py turns it on).

    @pytest.mark.points(2)                       weights, in the test file
    with part(1, "hint"): / with hint("..."):    partial credit and hints (scoring.py)
    def test_x(student): ...                     the fixture: the student's file, in a sandbox

    pytest exercises/                            grade the student's files
    pytest exercises/ --solutions                grade solutions/ instead
    --grade-json results.json                    Gradescope's format, rewritten after every test
    --grade-classroom result.json                GitHub Classroom's runner format

Every failure starts with its hint, then what happened, then the line of
the test that noticed; the score table (per exercise and total) comes at
the very end of the run, with the next thing to do and any tampering found
(authoring/tamper.py). Results are saved after each test, so a run that is killed
still leaves every result it reached.

`pytest exercises/` never grades in the process it was started in: that
process has already loaded whatever the student's repository holds
(conftest.py files, pytest settings, -p plugins, customize modules). It
grades a clean copy instead, in a fresh interpreter (commands/run.py), and
says what it ignored; only --solutions grades in place. Exercise code that
touches the grader (the guard of sandbox/walls.py refuses it) earns its
exercise 0 points and is named in the table; so does an edited test file.
"""

import json
import os
import sys
import time
from pathlib import Path

import pytest

from chatkit.grader import forks, layout, processes, scoring
from chatkit.grader.authoring import tamper
from chatkit.grader.commands import run
from chatkit.grader.harness import Exercise, next_test_grades
from chatkit.grader.limits import MAX_OUTPUT
from chatkit.grader.results import Results, TestResult, classroom
from chatkit.grader.results.tables import number, text_table
from chatkit.grader.results.tables import points as points_text
from chatkit.grader.results.words import _
from chatkit.grader.sandbox import launch


def pytest_addoption(parser, pluginmanager):
    if not pluginmanager.has_plugin("timeout"):
        # pyproject.toml sets `timeout` for pytest-timeout (a dev dependency); without it,
        # pytest would stop at the unknown setting before grading anything.
        parser.addini("timeout", "per-test time limit, used by pytest-timeout when it is installed")
    group = parser.getgroup("chatkit", "chatkit grader")
    group.addoption("--solutions", action="store_true",
                    help="grade the reference answers in solutions/ instead of the files in exercises/")
    group.addoption("--grade-json", metavar="FILE",
                    help="write the results in Gradescope's results.json format (rewritten after every test)")
    group.addoption("--grade-classroom", metavar="FILE",
                    help="write the results as a GitHub Classroom runner result (see docs/github-classroom.md)")


def pytest_configure(config):
    config.addinivalue_line("markers", "points(n, hint=''): how many points a graded test is worth")
    config.pluginmanager.register(Grading(config), "chatkit-grading")


@pytest.hookimpl(tryfirst=True)
def pytest_cmdline_main(config):
    """`pytest exercises/` from a student's repository: grade a clean copy instead (see above)."""
    if os.environ.get(run.CLEAN_RUN) or config.getoption("solutions") or config.getoption("collectonly"):
        return None
    graded = [Path(arg.split("::")[0]).resolve() for arg in config.args if is_graded_path(arg.split("::")[0])]
    if not graded:
        return None
    passed_on = chosen_options(config.invocation_params.args)  # typed by the user, not ini addopts
    if config.getoption("grade_classroom"):
        passed_on += ["--grade-classroom", str(Path(config.getoption("grade_classroom")).resolve())]
    results_path = Path(config.getoption("grade_json")).resolve() if config.getoption("grade_json") else None
    ignored = foreign(config, graded)
    outcome = run.run_grader(graded, results_path, extra_args=passed_on, echo=True, ignored=ignored,
                             time_limit=run.STUDENT_RUN_LIMIT)
    if outcome.timed_out:
        print(f"\nThe grading run was stopped after {run.STUDENT_RUN_LIMIT} s.")
    return outcome.returncode if outcome.returncode in (0, 1) else pytest.ExitCode.INTERNAL_ERROR


PASSED_ON = {"-k": 1, "--maxfail": 1, "-x": 0, "--exitfirst": 0, "-v": 0, "-vv": 0, "-q": 0, "--verbose": 0,
             "--quiet": 0, "--tb": 1}


def chosen_options(args):
    """The options of the command line that the clean run honours too (-k, -x, -v, ...)."""
    chosen, args = [], list(args)
    while args:
        arg = args.pop(0)
        name, _sep, value = arg.partition("=")
        if name in PASSED_ON:
            chosen.append(name)
            if PASSED_ON[name]:
                chosen.append(value or (args.pop(0) if args else ""))
    return chosen


def is_graded_path(arg):
    path = Path(arg)
    if path.is_dir():
        return any(layout.exercise_of(test) for test in path.glob("ex[0-9][0-9]_*_test.py"))
    return layout.exercise_of(path) is not None


def foreign(config, graded):
    """What this pytest loaded from outside the kit, in words: the clean run ignores all of it."""
    kit_conftests = {(path if path.is_dir() else path.parent) / "conftest.py" for path in graded}
    found = []
    for plugin in config.pluginmanager.get_plugins():
        where = getattr(plugin, "__file__", None)
        if where and Path(where).name == "conftest.py" and Path(where).resolve() not in kit_conftests:
            found.append(f"{relative(where, config)} (a conftest.py that is not the kit's)")
    if config.inipath is not None and (config.inipath.name != "pyproject.toml"
                                       or tamper.pytest_settings(config.inipath) != tamper.load_manifest().get(
                                           "pytest_settings", {})):
        found.append(f"the pytest settings in {relative(config.inipath, config)}")
    found += [f"-p {name}" for name in config.option.plugins or [] if not name.startswith("no:")]
    for name in ("PYTEST_ADDOPTS", "PYTEST_PLUGINS", "PYTHONPATH", "PYTHONSTARTUP"):
        if os.environ.get(name):
            found.append(f"{name}={os.environ[name][:80]}")
    for name in ("sitecustomize", "usercustomize"):
        module = sys.modules.get(name)
        where = getattr(module, "__file__", None)
        if where and Path(where).resolve().is_relative_to(config.rootpath):
            found.append(f"{relative(where, config)}")
    return found


def relative(path, config):
    try:
        return Path(path).resolve().relative_to(config.rootpath).as_posix()
    except ValueError:
        return str(path)


def graded_file(config, test_path):
    """The file a graded test file's tests grade: the student's exercise, or the solution (--solutions)."""
    exercise_id = layout.exercise_of(test_path)
    if exercise_id is None:
        return None
    folder = Path(test_path).parent.parent / "solutions" if config.getoption("solutions") else Path(test_path).parent
    return folder / f"{exercise_id}.py"


@pytest.fixture
def student(request):
    """The exercise under test: start_server(), module, all cleaned up after the test."""
    path = graded_file(request.config, request.path)
    if path is None:
        raise pytest.UsageError("the student fixture is for exercises/exNN_name_test.py files")
    exercise = Exercise(layout.exercise_of(request.path), path)
    yield exercise
    exercise.close()


class PartsFailed(AssertionError):
    """Some `part` blocks of a test failed (the test went on after each)."""

    def __init__(self, failed, then=None):
        self.failed = failed
        self.chatkit_hint = scoring.hint_for(failed[0][3], failed[0][2])  # the first failed part's, evidence first
        self.kind = scoring.kind_of(failed[0][3])  # a stub's part fails on its TODO: not attempted, not wrong
        text = "\n".join(_("This part ({points}) failed: {hint}").format(points=points_text(points), hint=_(hint) if hint else "")
                         + f"\n{indent(str(error))}" for points, _passed, hint, error in failed)
        if then is not None:  # what stopped the test after those parts
            text += "\n" + _("Then the test stopped: {hint}").format(hint=scoring.hint_for(then)) + f"\n{indent(str(then))}"
        super().__init__(text)


class Grading:
    """The state of one grading run: expected tests, results so far, where to save them."""

    def __init__(self, config):
        self.config = config
        self.solutions = config.getoption("solutions")
        self.json_path = config.getoption("grade_json")
        self.classroom_path = config.getoption("grade_classroom")
        self.results = None  # made once we know which exercises are collected
        self.by_nodeid = {}
        self.started = time.monotonic()
        self.touched = {}  # exercise -> what its code did to the grader (it earns 0 points)
        self.save_failed = None
        if not self.solutions:
            self.raise_walls()
        forks.server()  # now, while this process runs one thread: the sandboxes are forked from it

    def raise_walls(self):
        """What student code in this run may not touch, and who it runs as (sandbox/walls.py)."""
        processes.adopt_orphans()  # whatever the student's code starts becomes ours to sweep
        uid = processes.student_uid()
        results = [os.path.abspath(p) for p in (self.json_path, self.classroom_path) if p]
        hidden = [layout.solutions_dir(), *filter(None, os.environ.get(run.ANSWERS, "").split(os.pathsep))]
        launch.configure(uid=uid, protected=results, secret=hidden,
                         tasks=0 if uid is not None else processes.tasks_of_user())

    # -- which tests -----------------------------------------------------------

    @pytest.hookimpl(trylast=True)
    def pytest_collection_modifyitems(self, session, config, items):
        graded = [item for item in items if layout.exercise_of(item.path)]
        if not graded:
            return
        exercises_folder = graded[0].path.parent
        launch.configure(protected=[str(exercises_folder), *([str(config.inipath)] if config.inipath else [])])
        manifest = tamper.load_manifest()
        tampered = tamper.problems(exercises_folder, manifest, config)
        chosen = list(dict.fromkeys(layout.exercise_of(item.path) for item in graded))
        expected = []  # every test the kit grades for the chosen exercises, 'not run' until it runs
        for exercise in chosen:
            for test in manifest.get("tests", {}).get(exercise, []):
                expected.append(TestResult(exercise, test["test"], test["description"], 0, test["points"], "not run",
                                           optional=exercise in manifest.get("optional", [])))
        known = {(t.exercise, t.test) for t in expected}
        for item in graded:
            key = (layout.exercise_of(item.path), item.originalname)
            marker = item.get_closest_marker("points")
            if marker is None:
                raise pytest.UsageError(f"{item.nodeid} has no @pytest.mark.points(n): every graded test needs one")
            if key not in known:  # a test the manifest does not know: graded, and reported as added
                expected.append(TestResult(*key, first_line(item.obj.__doc__), 0, marker.args[0], "not run"))
                tampered.append(f"{item.nodeid} is not one of the kit's graded tests")
        ignored = json.loads(os.environ.get(run.IGNORED, "[]"))
        self.results = Results(expected, tampered, complete=False, solutions=self.solutions, ignored=ignored)
        self.by_nodeid = {item.nodeid: item for item in graded}
        for problem in tampered:  # an edited test file: its exercise earns nothing
            for exercise in tamper.exercises_named(problem, chosen):
                self.touched.setdefault(exercise, []).append(problem)
        self.save()

    def result_for(self, item):
        key = (layout.exercise_of(item.path), item.originalname)
        return next(t for t in self.results.tests if (t.exercise, t.test) == key)

    # -- running one test ----------------------------------------------------

    @pytest.hookimpl(tryfirst=True)
    def pytest_runtest_protocol(self, item, nextitem):
        """Tell the harness what the next test grades: it starts that test's first sandbox ahead."""
        graded = nextitem is not None and nextitem.nodeid in self.by_nodeid
        current = graded_file(self.config, item.path) if item.nodeid in self.by_nodeid else None
        next_test_grades(graded_file(self.config, nextitem.path) if graded else None, current)

    @pytest.hookimpl(tryfirst=True)
    def pytest_runtest_setup(self, item):
        if item.nodeid in self.by_nodeid:
            scoring.start_test(item.get_closest_marker("points").args[0])

    @pytest.hookimpl(wrapper=True)
    def pytest_runtest_call(self, item):
        try:
            outcome = yield
        except Exception as error:  # a failure after failed parts: the first failure is the one to explain
            if item.nodeid in self.by_nodeid and scoring.current_test().failed_parts:
                raise PartsFailed(scoring.current_test().failed_parts, then=error) from None
            raise
        if item.nodeid not in self.by_nodeid:
            return outcome
        record = scoring.current_test()
        if record.failed_parts:
            raise PartsFailed(record.failed_parts)
        student = item.funcargs.get("student")
        for server in getattr(student, "servers", []):
            problem = server.problem()  # a thread that crashed while the test still passed
            if problem is not None:
                raise problem
        return outcome

    @pytest.hookimpl(wrapper=True)
    def pytest_runtest_makereport(self, item, call):
        report = yield
        if item.nodeid not in self.by_nodeid:
            return report
        result = self.result_for(item)
        if report.when == "teardown":  # the test's processes are gone: all the guard saw has arrived
            student = item.funcargs.get("student")
            for what in getattr(student, "tampered", []):
                self.touched.setdefault(result.exercise, []).append(f"your code {what}")
                for note in (f"{result.exercise}: your code {what}",):
                    if note not in self.results.tampered:
                        self.results.tampered.append(note)
            for missing in getattr(student, "missing_walls", []):
                if missing not in self.results.notes:
                    self.results.notes.append(missing)
            self.zero_touched()
            if report.passed:
                return report
        marker = item.get_closest_marker("points")
        if report.when == "call" or report.failed or report.skipped:
            result.seconds += report.duration
            if report.passed:
                result.status, result.score, result.hint, result.output = "passed", result.max_score, "", ""
            elif report.skipped:
                result.status, result.score = "not run", 0
                if result.optional and isinstance(report.longrepr, tuple):  # e.g. no redis-server here: says why
                    reason = str(report.longrepr[2]).removeprefix("Skipped: ")
                    result.output, result.hint = f"skipped: {reason}", reason.splitlines()[0]
                else:
                    result.output = "skipped: graded tests are never skipped; was the test edited?"
            elif result.status != "failed":  # the first failure of a test is the one to explain
                record = scoring.current_test()
                result.status = "failed"
                result.score = record.earned_on_failure() if report.when == "call" else 0
                error = call.excinfo.value if call.excinfo else None
                result.hint = scoring.hint_for(error, marker.kwargs.get("hint", ""))
                result.kind = scoring.kind_of(error) if error is not None else "wrong"
                result.output = explain_failure(item, call, result.hint, report.when)[:MAX_OUTPUT]
                if self.config.getoption("tbstyle") in ("auto", "short"):
                    report.longrepr = f"{result.output}\n" + _("({score} of {points})").format(score=number(result.score), points=points_text(result.max_score))
        self.zero_touched()
        return report

    def zero_touched(self):
        """Every test of an exercise whose code touched the grader: 0 points, and why."""
        for test in self.results.tests:
            reasons = self.touched.get(test.exercise)
            if reasons and (test.kind != "tampered" or test.score or test.status != "failed"):  # ran since
                test.status, test.score, test.kind = "failed", 0, "tampered"
                test.hint = scoring.GENERIC_HINTS["tampered"]
                test.output = _("Hint: {hint}").format(hint=test.hint) + "\n" + "\n".join(dict.fromkeys(reasons))[:MAX_OUTPUT]

    def pytest_runtest_logfinish(self, nodeid):
        if nodeid in self.by_nodeid:
            self.results.seconds = time.monotonic() - self.started
            self.save()

    # -- the end ---------------------------------------------------------------

    def pytest_sessionfinish(self, session, exitstatus):
        next_test_grades(None)  # no spare sandbox outlives the run
        if self.results is not None:
            self.results.complete = exitstatus in (pytest.ExitCode.OK, pytest.ExitCode.TESTS_FAILED)
            self.results.seconds = time.monotonic() - self.started
            self.save()

    def pytest_report_header(self, config):
        if self.solutions:
            return _("chatkit grader: grading the reference answers in solutions/; the score table comes at the end.")
        return _("chatkit grader: grading your files in exercises/; the score table comes at the end.")

    @pytest.hookimpl(wrapper=True, tryfirst=True)
    def pytest_terminal_summary(self, terminalreporter):
        result = yield
        if self.results is not None:
            terminalreporter.write_sep("=", _("chatkit grades (solutions)") if self.solutions else _("chatkit grades"))
            terminalreporter.write_line(text_table(self.results))
        return result

    def save(self):
        if self.results is None:
            return
        try:
            if self.json_path:
                self.results.save(self.json_path)
            if self.classroom_path:
                classroom.save(self.results, self.classroom_path)
        except OSError as error:  # said once, at the end; the run goes on
            self.save_failed = error
            note = f"the results file could not be written: {error}"
            if note not in self.results.notes:
                self.results.notes.append(note)


def explain_failure(item, call, hint, when):
    """Hint first, then what happened, then the line of the test that noticed."""
    error = call.excinfo.value if call.excinfo else None
    lines = [_("Hint: {hint}").format(hint=hint)] if hint else []
    if error is None:
        lines.append(_("the test failed"))
    else:
        message = str(error).strip() or call.excinfo.exconly()
        if isinstance(error, AssertionError):
            lines.append(without_introspection(message))
        else:
            lines.append(f"{type(error).__name__}: {message}")
    if when == "call" and call.excinfo is not None:
        entries = [entry for entry in call.excinfo.traceback if Path(str(entry.path)) == item.path]
        if entries:
            entry = entries[-1]
            try:  # the test file may have changed since it was imported: then the line is unknown
                source = str(entry.statement).strip().splitlines()[0] if entry.statement else ""
            except (IndexError, ValueError, OSError):
                source = "?"
            lines.append(_("(noticed at {place}: {source})").format(place=f"{item.path.name}:{entry.lineno + 1}",
                                                                     source=source))
    elif when == "setup":
        lines.append(_("(while preparing the test)"))
    return "\n".join(lines)


def without_introspection(message):
    """A test's own assertion message, without pytest's 'assert ... where ...' after it (if it has one)."""
    lines = message.splitlines()
    cut = next((i for i, line in enumerate(lines) if i and line.startswith("assert ")), None)
    return "\n".join(lines[:cut]) if cut else message


def first_line(text):
    return (text or "").strip().splitlines()[0].strip() if (text or "").strip() else ""


def indent(text, prefix="    "):
    return "\n".join(prefix + line for line in text.splitlines())
