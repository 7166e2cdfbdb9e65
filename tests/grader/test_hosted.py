"""Gradescope and GitHub Classroom, run here: the autograder zip on a simulated /autograder tree,
the Classroom workflow's grading step in a git repository, and its result through the real reporter."""

import base64
import json
import os
import re
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from chatkit.grader import layout
from chatkit.grader.authoring.samples import BUGS, write_submission
from chatkit.grader.hosted import classroom, gradescope
from chatkit.grader.results import Results, TestResult
from chatkit.grader.results import classroom as classroom_format
from grading_helpers import manifest_tests, points

SPEC_TOP = {"score", "execution_time", "output", "output_format", "test_output_format", "test_name_format",
            "visibility", "stdout_visibility", "extra_data", "tests", "leaderboard"}
SPEC_TEST = {"score", "max_score", "status", "name", "name_format", "number", "output", "output_format", "tags",
             "visibility", "extra_data"}
FORMATS = {"text", "simple_format", "html", "md", "ansi"}
VISIBILITY = {"hidden", "after_due_date", "after_published", "visible"}
NOT_CHECKED = "NOT CHECKED:"  # a skip that tests/grader/conftest.py repeats at the end of the run


def check_spec(data):
    """results.json holds only the fields of Gradescope's spec, with values it allows."""
    assert set(data) <= SPEC_TOP, set(data) - SPEC_TOP
    assert isinstance(data["score"], (int, float))
    assert data.get("output_format", "simple_format") in FORMATS and data.get("visibility", "visible") in VISIBILITY
    for test in data["tests"]:
        assert set(test) <= SPEC_TEST, set(test) - SPEC_TEST
        assert test.get("status", "passed") in ("passed", "failed")
        assert test.get("visibility", "visible") in VISIBILITY and test.get("output_format", "text") in FORMATS


@pytest.fixture(scope="module")
def autograder(tmp_path_factory):
    """The zip built by `python -m chatkit gradescope`, unpacked as Gradescope does."""
    root = tmp_path_factory.mktemp("autograder")
    bundle = gradescope.build(root / "autograder.zip")
    with zipfile.ZipFile(bundle) as archive:
        names = archive.namelist()
        archive.extractall(root / "source")
    assert {"setup.sh", "run_autograder", "requirements.txt"} <= set(names)
    assert not any(name.startswith(("solutions/", "kit/solutions/", "notebooks/")) for name in names)
    assert "kit/exercises/ex01_listen_test.py" in names and "kit/chatkit/grader/plugin.py" in names
    assert "pytest==" in (root / "source" / "requirements.txt").read_text()
    return root


def run_autograder(autograder, tmp_path, make_submission, python=sys.executable, limit="60"):
    tree = tmp_path / "autograder"
    shutil.copytree(autograder / "source", tree / "source")
    make_submission(tree / "submission")
    env = {**os.environ, "CHATKIT_AUTOGRADER_ROOT": str(tree), "CHATKIT_AUTOGRADER_PYTHON": python,
           "CHATKIT_AUTOGRADER_TIME_LIMIT": limit}
    done = subprocess.run(["bash", str(tree / "source" / "run_autograder")], env=env, capture_output=True, text=True,
                          timeout=180)
    data = json.loads((tree / "results" / "results.json").read_text(encoding="utf-8"))
    check_spec(data)
    return data, done


def test_a_good_submission(autograder, tmp_path):
    data, _ = run_autograder(autograder, tmp_path, lambda folder: write_submission(folder))
    assert data["score"] == points() and len(data["tests"]) == len(manifest_tests())
    numbers = [t["number"] for t in data["tests"]]
    expected = [f"{n}.{m}" for n, exercise in enumerate(layout.exercise_ids(), 1)
                for m in range(1, len(manifest_tests(exercise)) + 1)]
    assert numbers == expected, numbers  # exercise.test, in order
    assert data["output_format"] == "md" and data["output"].startswith("```")


def test_a_buggy_and_a_hostile_submission(autograder, tmp_path):
    def hostile(folder):
        write_submission(folder, bugs=[b for b in BUGS if b.name == "no lock"])
        (folder / "conftest.py").write_text("import pytest\n@pytest.hookimpl(wrapper=True)\n"
                                            "def pytest_runtest_makereport(item, call):\n"
                                            "    report = yield\n    report.outcome = 'passed'\n    return report\n")
        ex01 = folder / "exercises" / "ex01_listen.py"
        ex01.write_text(ex01.read_text() + "\nimport chatkit.grader.sandbox.probes as p\n"
                        "p.listener_facts = lambda *a, **k: {}\n")
    data, _ = run_autograder(autograder, tmp_path, hostile)
    by_name = {t["extra_data"]["test"]: t for t in data["tests"]}
    assert by_name["test_members_are_guarded_by_the_lock"]["score"] == 0
    assert all(t["score"] == 0 for t in data["tests"] if t["extra_data"]["exercise"] == "ex01_listen")
    no_lock = next(b for b in BUGS if b.name == "no lock")
    assert data["score"] == points() - sum(no_lock.loses.values()) - points("ex01_listen")
    assert "imports chatkit.grader.sandbox.probes" in data["output"] and data["extra_data"]["status"] == "tampered"


def test_a_hanging_submission(autograder, tmp_path):
    data, _ = run_autograder(autograder, tmp_path, lambda folder: write_submission(
        folder, exercises=["ex01_listen"], bugs=[b for b in BUGS if b.name == "an endless loop at import"]))
    assert data["score"] == points("ex01_listen")
    assert any("did not return" in t["output"] for t in data["tests"] if t["extra_data"]["exercise"] == "ex07_slow_reader")


def test_a_failure_before_grading_still_leaves_results(autograder, tmp_path):
    data, done = run_autograder(autograder, tmp_path, lambda folder: folder.mkdir(), python="/nonexistent/python")
    assert data["score"] == 0 and "could not grade" in data["output"], done.stderr


# -- GitHub Classroom --------------------------------------------------------------------

def sample_results():
    return Results([TestResult("ex01_listen", "test_a", "Does a.", 2, 2, "passed"),
                    TestResult("ex01_listen", "test_b", "Does b.", 1, 3, "failed", hint="Look at b.",
                               output="Hint: Look at b.\nb was 2, not 3"),
                    TestResult("ex02_accept_loop", "test_c", "Does c.", 0, 1, "failed", hint="Loop.",
                               output="Hint: Loop.\nnothing came back")])


def test_classroom_result_adds_up_either_way():
    data = classroom_format.payload(sample_results())
    passed = sum(t["status"] == "pass" for t in data["tests"])
    assert data["max_score"] == 6 and len(data["tests"]) == 6
    assert passed / len(data["tests"]) * data["max_score"] == sum(t["score"] for t in data["tests"]) == 3
    assert all(t["line_no"] == 0 for t in data["tests"])
    failed = [t for t in data["tests"] if "test_code" in t]
    assert [t["test_code"] for t in failed] == ["Hint: Look at b.\nWhat happened: b was 2, not 3",
                                                "Hint: Loop.\nWhat happened: nothing came back"]


REPORTER = "classroom-resources/autograding-grading-reporter"  # what the workflow runs, at its tag v1
KEPT_REPORTER = Path(__file__).parent / "classroom-reporter"  # its action.yml and dist/main.js at v1 (README there)


def reporter():
    """The real reporter, as GitHub Actions runs it: the `main` of its action.yml (dist/main.js) under Node.

    It is on GitHub only (no npm package), so the kit keeps a copy of it at
    its tag v1; CHATKIT_CLASSROOM_REPORTER names another checkout to run
    instead. Without Node the check is skipped, and tests/grader/conftest.py
    repeats at the end of the run exactly what is missing.
    """
    folder = Path(os.environ.get("CHATKIT_CLASSROOM_REPORTER") or KEPT_REPORTER)
    missing = []
    if not shutil.which("node"):
        missing.append("node (Node 20: Debian's nodejs)")
    action = folder / "action.yml"
    main = re.search(r"^\s*main:\s*[\"']?([^\"'\s]+)", action.read_text(encoding="utf-8"), re.MULTILINE) \
        if action.is_file() else None
    entry = folder / main.group(1) if main else None
    if entry is None or not entry.is_file():
        missing.append(f"{folder} holds no action.yml whose `main` file exists (dist/main.js of {REPORTER}@v1)")
    if missing:
        pytest.skip(f"{NOT_CHECKED} GitHub Classroom's reporter was not run: missing " + "; ".join(missing))
    return entry


def run_reporter(entry, result):
    """Run the reporter on a runner result (bytes): (what it printed, the scores it reported to Classroom).

    Classroom reads the score from the reporter's "Autograding report"
    annotation (a workflow command on the reporter's output, as in
    src/notify-classroom.js at v1).
    """
    env = {**{k: v for k, v in os.environ.items() if "proxy" not in k.lower() and not k.startswith("GITHUB_")},
           "INPUT_RUNNERS": "chatkit", "CHATKIT_RESULTS": base64.b64encode(result).decode(), "NO_COLOR": "1"}
    done = subprocess.run(["node", str(entry)], env=env, capture_output=True, text=True, timeout=60)
    out = done.stdout + done.stderr
    reported = [json.loads(found) for found in re.findall(r"^::notice title=Autograding report::(.*)$", out, re.MULTILINE)]
    return out, reported


def check_reporter(entry, data):
    """What a student and Classroom see of `data`: no undefined, every hint, both totals the points earned."""
    out, reported = run_reporter(entry, json.dumps(data).encode())
    earned, points = sum(t["score"] for t in data["tests"]), data["max_score"]
    assert "undefined" not in out, out
    for test in data["tests"]:
        if test.get("test_code"):
            assert test["test_code"] in out, (test, out)
    assert f"Total points for chatkit: {earned:.2f}/{points}" in out, out
    assert reported == [{"totalPoints": earned, "maxPoints": points}], (reported, out)
    return out


def test_the_real_reporter_shows_hints_and_the_recorded_total():
    entry = reporter()
    out = check_reporter(entry, classroom_format.payload(sample_results()))
    assert "Hint: Look at b." in out and "What happened: b was 2, not 3" in out and "Hint: Loop." in out, out


def test_the_real_reporter_on_a_real_result(classroom_run):
    """The result the workflow's grading step wrote for a student's repository, through the real reporter."""
    entry = reporter()
    out = check_reporter(entry, classroom_run["data"])
    assert f"Total points for chatkit: {points('ex06_framing')}.00/{points()}" in out and out.count("Hint: ") >= 6, out


def make_template(folder):
    """A template repository as GitHub Classroom hands it out: the kit without solutions/, one commit."""
    folder.mkdir()
    for name in ("chatkit", "exercises"):
        shutil.copytree(layout.KIT_ROOT / name, folder / name, ignore=shutil.ignore_patterns("__pycache__"))
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(layout.KIT_ROOT / name, folder / name)
    git = ["git", "-C", str(folder), "-c", "user.name=t", "-c", "user.email=t@example.com"]
    subprocess.run(["git", "init", "-q", str(folder)], check=True)
    subprocess.run([*git, "add", "-A"], check=True)
    subprocess.run([*git, "commit", "-qm", "template"], check=True)
    return git


@pytest.fixture(scope="module")
def classroom_run(tmp_path_factory):
    """The workflow's grading step, run in a student's clone (ex06 solved; the grader edited; a conftest.py)."""
    tmp_path = tmp_path_factory.mktemp("classroom")
    repo = tmp_path / "student-repo"
    git = make_template(repo)
    shutil.copy(layout.solutions_dir() / "ex06_framing.py", repo / "exercises" / "ex06_framing.py")
    plugin = repo / "chatkit" / "grader" / "scoring.py"  # the student "fixes" the grader in their copy
    plugin.write_text(plugin.read_text() + "\ndef kind_of(error):\n    raise SystemExit(0)\n")
    (repo / "conftest.py").write_text("raise SystemExit('the student conftest was loaded')\n")
    subprocess.run([*git, "add", "-A"], check=True)
    subprocess.run([*git, "commit", "-qm", "my work"], check=True)
    temp, output = tmp_path / "runner-temp", tmp_path / "github-output"
    temp.mkdir()
    script = classroom.script().replace('python -m venv "$RUNNER_TEMP/chatkit-venv"', "true").replace(
        '"$RUNNER_TEMP/chatkit-venv/bin/python" -m pip install --quiet --no-deps "$KIT"', "true").replace(
        '"$RUNNER_TEMP/chatkit-venv/bin/python" -m pip install', "true").replace(
        "$RUNNER_TEMP/chatkit-venv/bin/python", sys.executable)  # installing is pip's job; the rest is ours
    env = {**os.environ, "RUNNER_TEMP": str(temp), "GITHUB_WORKSPACE": str(repo), "GITHUB_OUTPUT": str(output)}
    subprocess.run(["bash", "-c", script], cwd=repo, env=env, check=True, timeout=300)
    encoded = output.read_text().split("result=", 1)[1].strip()
    return {"data": json.loads(base64.b64decode(encoded)), "repo": repo, "script": script, "env": env,
            "tmp_path": tmp_path}


def test_the_workflow_grades_with_the_template_kit(classroom_run):
    """The student's edits to the kit are ignored: ex06's points, out of all the exercises'."""
    data = classroom_run["data"]
    assert data["max_score"] == points() and sum(t["score"] for t in data["tests"]) == points("ex06_framing"), data


def test_the_workflow_records_a_score_when_grading_fails_early(classroom_run):
    tmp_path, script = classroom_run["tmp_path"], classroom_run["script"]
    (tmp_path / "fresh").mkdir()  # a new run: a new runner temp folder
    broken = subprocess.run(["bash", "-c", script.replace(sys.executable, "/nonexistent/python")],
                            cwd=classroom_run["repo"], timeout=120,
                            env={**classroom_run["env"], "RUNNER_TEMP": str(tmp_path / "fresh"),
                                 "GITHUB_OUTPUT": str(tmp_path / "second")})
    fallback = json.loads(base64.b64decode((tmp_path / "second").read_text().split("result=", 1)[1]))
    assert broken.returncode == 0 and fallback["status"] == "error" and fallback["max_score"] == points()


def without_pins(text):
    """The workflow with its pinned versions blanked: they are whatever this Python has installed."""
    return re.sub(r"'([A-Za-z0-9_.-]+)==[^']*'", r"'\1==…'", text)


def test_the_docs_show_the_workflow_the_kit_makes():
    docs = (layout.KIT_ROOT / "docs" / "github-classroom.md").read_text(encoding="utf-8")
    made = without_pins(classroom.workflow())
    # the backports are pinned only where this Python has them (3.10); the docs show the workflow as 3.11+ makes it
    made = re.sub(r" '(tomli|exceptiongroup)==…'", "", made)
    assert made in without_pins(docs), "docs/github-classroom.md: paste `python -m chatkit classroom --workflow`"
    assert "'pytest==" in docs
