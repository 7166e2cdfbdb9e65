"""Namespaces around student code (Linux): a program the student starts sees no answers, no grader, no kit to write.

Each submission is the reference answer of ex06 plus a few lines run at
import time by a shell the student's code starts (the guard of walls.py
only watches the student's own Python process, never a program it runs).
The lines raise, costing all 7 points, if the shell could read the
reference answers, see the grader's processes or write the kit's code.
Without namespaces (CHATKIT_GRADER_NAMESPACES=off) the same submission
reads the answers: that is what the namespaces add.
"""

import os
import subprocess
import sys
from pathlib import Path

import pytest

from chatkit.grader import layout
from chatkit.grader.sandbox import launch
from grading_helpers import grade_copy, points, solution_text

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="namespaces are Linux's")

ANSWERS = layout.solutions_dir() / "ex06_framing.py"
KIT_FILE = Path(launch.PACKAGE) / "protocol.py"


def available():
    """Can this machine give a process namespaces of its own (as the grader would)?"""
    flags = ["--pid", "--fork", "--mount"] + ([] if os.geteuid() == 0 else ["--user", "--map-current-user"])
    try:
        return subprocess.run(["unshare", *flags, "true"], capture_output=True, timeout=10).returncode == 0
    except (OSError, subprocess.TimeoutExpired):
        return False


def submission(shell_lines):
    """ex06's answer, plus a check run by a shell at import time: a failed check raises."""
    script = " && ".join(shell_lines)
    return solution_text("ex06_framing") + (
        "\nimport subprocess\n"
        f"_seen = subprocess.run(['sh', '-c', {script!r}], capture_output=True, text=True)\n"
        "if _seen.returncode != 0:\n"
        "    raise AssertionError('a program the student started could: ' + _seen.stdout + _seen.stderr)\n")


READS_ANSWERS = submission([f"if cat {ANSWERS} 2>/dev/null | grep -q decoder; then echo 'read the answers'; exit 1; fi"])
SEES_THE_GRADER = submission(
    ["n=$(ls /proc | grep -c '^[0-9]')", "if [ $n -gt 20 ]; then echo \"saw $n processes\"; exit 1; fi"])
WRITES_THE_KIT = submission(
    [f"if (echo >> {KIT_FILE}) 2>/dev/null; then echo 'wrote the kit'; exit 1; fi"])


@pytest.fixture(autouse=True)
def kit_unchanged():
    before = KIT_FILE.read_bytes()
    yield
    if KIT_FILE.read_bytes() != before:
        KIT_FILE.write_bytes(before)
        pytest.fail("a student's program changed the kit's protocol.py (put back)")


@pytest.mark.skipif(not available(), reason="this machine gives no PID and mount namespaces to a process")
@pytest.mark.parametrize("text", [READS_ANSWERS, SEES_THE_GRADER, WRITES_THE_KIT],
                         ids=["reads the answers", "sees the grader", "writes the kit"])
def test_a_program_the_student_starts_is_walled_in(tmp_path, text):
    run = grade_copy(tmp_path, "ex06_framing", text)
    assert run.results.score == points("ex06_framing"), "\n".join(t.output for t in run.results.tests)[:3000]
    assert not [note for note in run.results.notes if "namespace" in note or "hidden" in note], run.results.notes


@pytest.mark.skipif(not available(), reason="this machine gives no PID and mount namespaces to a process")
def test_without_namespaces_the_same_program_reads_the_answers(tmp_path, monkeypatch):
    """The proof that the check above can fail: with the namespaces off, the answers are there to read."""
    monkeypatch.setenv("CHATKIT_GRADER_NAMESPACES", "off")
    run = grade_copy(tmp_path, "ex06_framing", READS_ANSWERS)
    assert run.results.score == 0 and "read the answers" in run.results.tests[0].output, run.results.tests[0].output


@pytest.fixture(scope="module")
def graded_in_bulk(tmp_path_factory):
    """alice's hand-in graded as `grade` does (module-wide: the grader's fork server outlives one test)."""
    from chatkit.grader.commands import grade

    root = tmp_path_factory.mktemp("bulk")
    (root / "alice" / "exercises").mkdir(parents=True)
    (root / "alice" / "exercises" / "ex06_framing.py").write_text(READS_ANSWERS, encoding="utf-8")
    return grade.grade_submission("alice", root / "alice")


@pytest.mark.skipif(not available(), reason="this machine gives no PID and mount namespaces to a process")
def test_bulk_grading_hides_the_answers_too(graded_in_bulk):
    """`grade` grades in a scratch folder of its own: the answers hidden are still the kit's."""
    assert graded_in_bulk.scores.get("ex06_framing") == points("ex06_framing"), [
        t.output for t in graded_in_bulk.tests if t.exercise == "ex06_framing"][:1]


HOLDS_PROCESS_ONE = """
import sys
from chatkit.grader import forks
from chatkit.grader.sandbox import Sandbox
forks.server()
sandbox = Sandbox(sys.argv[1])
with open(f"/proc/{sandbox.process.pid}/status") as status:
    print(next(line for line in status if line.startswith("NSpid:")).split()[1:], sandbox.confined)
sandbox.close()
"""


@pytest.mark.skipif(os.geteuid() != 0 or not available(), reason="the fork server makes PID namespaces as root")
def test_as_root_the_child_the_grader_holds_is_process_one(tmp_path):
    """No keeper process between them: one fork per sandbox (forks.py), and killing it ends the namespace."""
    student = tmp_path / "ex01_listen.py"
    student.write_text(solution_text("ex01_listen"), encoding="utf-8")
    shown = subprocess.run([sys.executable, "-c", HOLDS_PROCESS_ONE, str(student)], capture_output=True, text=True,
                           timeout=60, cwd=layout.KIT_ROOT)
    assert shown.returncode == 0, shown.stderr
    numbers, confined = shown.stdout.rsplit("]", 1)
    assert numbers.endswith("'1'") and confined.strip() == "True", shown.stdout


def test_the_kits_folder_is_opened_up_too():
    """A kit cloned into a private folder (mktemp -d, /root) is still importable by student code's own user."""
    from chatkit.grader.sandbox import namespaces

    assert str(Path(launch.PACKAGE).resolve()) in namespaces.python_folders()
