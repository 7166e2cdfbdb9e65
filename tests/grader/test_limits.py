"""Limits on student code, enforced by the OS, said in words; as root, student code runs as a user of its own."""

import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from grading_helpers import grade_copy, solution_text

RUNAWAY = solution_text("ex06_framing").replace(
    "        self.pending += self.decoder.decode(data)\n",
    "        self.pending += self.decoder.decode(data)\n        hoard = []\n"
    "        while True:\n            hoard.append(bytearray(1 << 20))\n", 1)
THREADS = solution_text("ex06_framing") + (
    "\nimport threading, time\nfor _ in range(1000):\n"
    "    threading.Thread(target=time.sleep, args=(30,), daemon=True).start()\n")
FILES = solution_text("ex06_framing") + "\nimport socket\nhandles = [socket.socket() for _ in range(2000)]\n"
WHO = solution_text("ex06_framing") + "\nimport os\nassert os.getuid() != 0, 'student code runs as root'\n"


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
    assert run.results.score == 7, first_output(run)


@pytest.mark.skipif(not hasattr(os, "geteuid") or os.geteuid() != 0 or not shutil.which("setpriv"),
                    reason="needs root and setpriv to run the grader as an ordinary user")
def test_as_an_ordinary_user_the_process_limit_still_holds():
    """RLIMIT_NPROC counts every task of the user: the grader adds what the user runs already."""
    runs = subprocess.run(["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", sys.executable, "-c",
                           "import chatkit"], capture_output=True, timeout=30)
    if runs.returncode != 0:
        pytest.skip("this Python or the kit cannot be read by an ordinary user (nobody) here")
    tmp_path = Path(tempfile.mkdtemp(prefix="chatkit-nobody-"))
    os.chmod(tmp_path, 0o777)
    script = ("import sys; sys.path.insert(0, sys.argv[1]); from grading_helpers import grade_copy; "
              "run = grade_copy(sys.argv[2], 'ex06_framing', open(sys.argv[3]).read()); "
              "print('\\n'.join(t.output for t in run.results.tests))")
    source = tmp_path / "threads.py"
    source.write_text(THREADS, encoding="utf-8")
    os.chmod(source, 0o644)
    done = subprocess.run(["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", sys.executable, "-c",
                           script, os.path.dirname(__file__) + "/..", str(tmp_path / "work"), str(source)],
                          capture_output=True, text=True, timeout=120, env={**os.environ, "HOME": str(tmp_path)})
    shutil.rmtree(tmp_path, ignore_errors=True)
    assert "processes and threads at once" in done.stdout, done.stdout[-2000:] + done.stderr[-2000:]
