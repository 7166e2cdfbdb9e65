"""Limits on student code, enforced by the OS, said in words; as root, student code runs as a user of its own."""

import json
import os
import subprocess
import sys

import pytest

from grading_helpers import grade_copy, points, solution_text

# A list that grows forever. bytes(n) comes from calloc: the limit on address space is reached at
# once, not after zero-filling 512 MB (0.2 s a call here, which a busy machine stretched past the
# 2 s a call may take: the test then saw a hang, not the limit).
RUNAWAY = solution_text("ex06_framing").replace(
    "        self.pending += self.decoder.decode(data)\n",
    "        self.pending += self.decoder.decode(data)\n        hoard = []\n"
    "        while True:\n            hoard.append(bytes(1 << 20))\n", 1)
THREADS = solution_text("ex06_framing") + (
    "\nimport threading, time\nfor _ in range(1000):\n"
    "    threading.Thread(target=time.sleep, args=(30,), daemon=True).start()\n")
FILES = solution_text("ex06_framing") + "\nimport socket\nhandles = [socket.socket() for _ in range(2000)]\n"
WHO = solution_text("ex06_framing") + "\nimport os\nassert os.getuid() != 0, 'student code runs as root'\n"
# modules nothing loads before the student's file: the student's own user must be able to read Python's files
IMPORTS = solution_text("ex06_framing") + "\nimport wave, xml.dom.minidom  # noqa\n"


def first_output(run):
    return "\n".join(t.output for t in run.results.tests)


def test_memory(tmp_path):
    run = grade_copy(tmp_path, "ex06_framing", RUNAWAY)
    assert "your program used more than 512 MB of memory, the most the grader allows" in first_output(run)
    assert {t.kind for t in run.results.tests if not t.passed} == {"limit"}


def test_threads_and_processes(tmp_path):
    run = grade_copy(tmp_path, "ex06_framing", THREADS)
    assert "started more than 128 processes and threads at once, the most the grader allows" in first_output(run)


def test_open_files(tmp_path):
    run = grade_copy(tmp_path, "ex06_framing", FILES)
    assert "had more than 256 files and sockets open at once, the most the grader allows" in first_output(run)


@pytest.mark.skipif(not hasattr(os, "geteuid") or os.geteuid() != 0, reason="only root can switch users")
def test_as_root_student_code_runs_as_another_user(tmp_path):
    run = grade_copy(tmp_path, "ex06_framing", WHO)
    assert run.results.score == points("ex06_framing"), first_output(run)


@pytest.mark.skipif(not hasattr(os, "geteuid") or os.geteuid() != 0, reason="only root can switch users")
def test_as_another_user_student_code_imports_what_it_likes(tmp_path):
    """Even where Python is installed in a private folder (a pyenv in /root)."""
    run = grade_copy(tmp_path, "ex06_framing", IMPORTS)
    assert run.results.score == points("ex06_framing"), first_output(run)



GRADED_BY_A_LARGE_GRADER = """
import json, mmap, sys
held = mmap.mmap(-1, 700 << 20)  # address space only, never touched: a grader grown by a long batch
from chatkit.grader.commands import grade
graded = grade.grade_submission("alice", sys.argv[1])
print(json.dumps({"scores": graded.scores, "first": [t.output for t in graded.tests][:1]}))
"""


def test_a_large_grader_leaves_student_code_all_its_memory(tmp_path):
    """The limit is on what student code adds: `grade` forks each sandbox from itself, and a grader
    that has grown (a long batch, many threads' malloc arenas) would leave its copies little."""
    (tmp_path / "exercises").mkdir()
    (tmp_path / "exercises" / "ex06_framing.py").write_text(solution_text("ex06_framing"), encoding="utf-8")
    done = subprocess.run([sys.executable, "-c", GRADED_BY_A_LARGE_GRADER, str(tmp_path)],
                          capture_output=True, text=True, timeout=120)
    graded = json.loads(done.stdout.strip().splitlines()[-1])
    assert graded["scores"].get("ex06_framing") == points("ex06_framing"), graded["first"]
