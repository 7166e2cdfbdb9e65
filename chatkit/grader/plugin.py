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
"""

import time
from pathlib import Path

import pytest

from chatkit.grader import layout, scoring
from chatkit.grader.authoring import tamper
from chatkit.grader.harness import Exercise
from chatkit.grader.results import Results, TestResult, classroom
from chatkit.grader.results.tables import number, text_table
from chatkit.grader.results.tables import points as points_text


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


@pytest.fixture
def student(request):
    """The exercise under test: start_server(), module, all cleaned up after the test."""
    exercise_id = layout.exercise_of(request.path)
    if exercise_id is None:
        raise pytest.UsageError("the student fixture is for exercises/exNN_name_test.py files")
    folder = request.path.parent.parent / "solutions" if request.config.getoption("solutions") else request.path.parent
    exercise = Exercise(exercise_id, folder / f"{exercise_id}.py")
    yield exercise
    exercise.close()


class PartsFailed(AssertionError):
    """Some `part` blocks of a test failed (the test went on after each)."""

    def __init__(self, failed):
        self.failed = failed
        self.chatkit_hint = failed[0][2]
        super().__init__("\n".join(f"This part ({points_text(points)}) failed: {hint}\n"
                                   f"{indent(str(error))}" for points, _, hint, error in failed))


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

    # -- which tests -----------------------------------------------------------

    @pytest.hookimpl(trylast=True)
    def pytest_collection_modifyitems(self, session, config, items):
        graded = [item for item in items if layout.exercise_of(item.path)]
        if not graded:
            return
        exercises_folder = graded[0].path.parent
        manifest = tamper.load_manifest()
        tampered = tamper.problems(exercises_folder, manifest, config)
        chosen = list(dict.fromkeys(layout.exercise_of(item.path) for item in graded))
        expected = []  # every test the kit grades for the chosen exercises, 'not run' until it runs
        for exercise in chosen:
            for test in manifest.get("tests", {}).get(exercise, []):
                expected.append(TestResult(exercise, test["test"], test["description"], 0, test["points"], "not run"))
        known = {(t.exercise, t.test) for t in expected}
        for item in graded:
            key = (layout.exercise_of(item.path), item.originalname)
            marker = item.get_closest_marker("points")
            if marker is None:
                raise pytest.UsageError(f"{item.nodeid} has no @pytest.mark.points(n): every graded test needs one")
            if key not in known:  # a test the manifest does not know: graded, and reported as added
                expected.append(TestResult(*key, first_line(item.obj.__doc__), 0, marker.args[0], "not run"))
                tampered.append(f"{item.nodeid} is not one of the kit's graded tests")
        self.results = Results(expected, tampered, complete=False, solutions=self.solutions)
        self.by_nodeid = {item.nodeid: item for item in graded}
        self.save()

    def result_for(self, item):
        key = (layout.exercise_of(item.path), item.originalname)
        return next(t for t in self.results.tests if (t.exercise, t.test) == key)

    # -- running one test ----------------------------------------------------

    @pytest.hookimpl(tryfirst=True)
    def pytest_runtest_setup(self, item):
        if item.nodeid in self.by_nodeid:
            scoring.start_test(item.get_closest_marker("points").args[0])

    @pytest.hookimpl(wrapper=True)
    def pytest_runtest_call(self, item):
        outcome = yield
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
        if item.nodeid not in self.by_nodeid or report.when == "teardown" and report.passed:
            return report
        result = self.result_for(item)
        marker = item.get_closest_marker("points")
        if report.when == "call" or report.failed or report.skipped:
            result.seconds += report.duration
            if report.passed:
                result.status, result.score, result.hint, result.output = "passed", result.max_score, "", ""
            elif report.skipped:
                result.status, result.score = "not run", 0
                result.output = "skipped: graded tests are never skipped; was the test edited?"
            elif result.status != "failed":  # the first failure of a test is the one to explain
                record = scoring.current_test()
                result.status = "failed"
                result.score = record.earned_on_failure() if report.when == "call" else 0
                error = call.excinfo.value if call.excinfo else None
                result.hint = scoring.hint_for(error, marker.kwargs.get("hint", ""))
                result.output = explain_failure(item, call, result.hint, report.when)
                if self.config.getoption("tbstyle") in ("auto", "short"):
                    report.longrepr = f"{result.output}\n({number(result.score)} of {points_text(result.max_score)})"
        return report

    def pytest_runtest_logfinish(self, nodeid):
        if nodeid in self.by_nodeid:
            self.results.seconds = time.monotonic() - self.started
            self.save()

    # -- the end ---------------------------------------------------------------

    def pytest_sessionfinish(self, session, exitstatus):
        if self.results is not None:
            self.results.complete = exitstatus in (pytest.ExitCode.OK, pytest.ExitCode.TESTS_FAILED)
            self.results.seconds = time.monotonic() - self.started
            self.save()

    def pytest_report_header(self, config):
        source = "the reference answers in solutions/" if self.solutions else "your files in exercises/"
        return f"chatkit grader: grading {source}; the score table comes at the end."

    @pytest.hookimpl(wrapper=True, tryfirst=True)
    def pytest_terminal_summary(self, terminalreporter):
        result = yield
        if self.results is not None:
            terminalreporter.write_sep("=", "chatkit grades" + (" (solutions)" if self.solutions else ""))
            terminalreporter.write_line(text_table(self.results))
        return result

    def save(self):
        if self.results is None:
            return
        if self.json_path:
            self.results.save(self.json_path)
        if self.classroom_path:
            classroom.save(self.results, self.classroom_path)


def explain_failure(item, call, hint, when):
    """Hint first, then what happened, then the line of the test that noticed."""
    error = call.excinfo.value if call.excinfo else None
    lines = [f"Hint: {hint}"] if hint else []
    if error is None:
        lines.append("the test failed")
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
            source = str(entry.statement).strip().splitlines()[0] if entry.statement else ""
            lines.append(f"(noticed at {item.path.name}:{entry.lineno + 1}: {source})")
    elif when == "setup":
        lines.append("(while preparing the test)")
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
