"""`python -m chatkit watch` in a real terminal (a pty), and `python -m chatkit reset`.

The watcher runs on a copy of the kit's exercises (stubs) in a scratch
folder; the test saves files in it and waits for what the terminal shows
(a line, with a deadline), never for a fixed time.
"""

import os
import pty
import select
import signal
import subprocess
import sys
import time

import pytest

from chatkit.grader import layout
from chatkit.grader.authoring import stubs, tamper
from chatkit.grader.authoring.samples import BUGS
from chatkit.grader.commands import reset
from grading_helpers import exercises_copy, solution_text

SHOWN_WITHIN = 30  # seconds a grading may take to show on a busy, shared machine (a save shows in ~1-2 s)
BIND_TWO_ARGUMENTS = next(bug for bug in BUGS if bug.name == "bind() given two arguments")


class Terminal:
    """A command in a pty: what it shows, read as it comes."""

    def __init__(self, command, cwd, env):
        self.screen = bytearray()
        self.master, child_side = pty.openpty()
        self.process = subprocess.Popen(command, cwd=cwd, env=env, stdin=child_side, stdout=child_side,
                                        stderr=child_side, start_new_session=True)
        os.close(child_side)

    def read_until(self, text, timeout=SHOWN_WITHIN, start=0):
        """Wait until `text` shows after position `start`; the position right after it."""
        deadline = time.monotonic() + timeout
        while (found := self.screen.find(text.encode(), start)) < 0:
            left = deadline - time.monotonic()
            assert left > 0, f"the terminal never showed {text!r}; it shows:\n{self.text(start)[-3000:]}"
            if select.select([self.master], [], [], left)[0]:
                try:
                    self.screen.extend(os.read(self.master, 65536))
                except OSError:  # the command ended and closed the terminal
                    assert False, f"the command ended before showing {text!r}:\n{self.text(start)[-3000:]}"
        return found + len(text.encode())

    def text(self, start=0):
        return bytes(self.screen[start:]).decode("utf-8", errors="replace")

    def close(self):
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait()
        os.close(self.master)


@pytest.fixture
def kit(tmp_path):
    """A student's copy of the kit: the stubs, the tests, pyproject.toml."""
    exercises_copy(tmp_path)
    return tmp_path


@pytest.fixture
def watching(kit):
    env = {**os.environ, "CHATKIT_ROOT": str(kit), "PYTHON_COLORS": "0", "LANGUAGE": "en"}
    terminal = Terminal([sys.executable, "-m", "chatkit", "watch"], kit, env)
    yield terminal
    terminal.close()


def save(kit, exercise, text):
    """Save the file the way an editor does: write a new file beside it, then rename it into place."""
    path = kit / "exercises" / f"{exercise}.py"
    fresh = path.with_name(f".{path.name}.saving")
    fresh.write_text(text, encoding="utf-8")
    os.replace(fresh, path)
    return time.monotonic()


def test_watch_grades_each_save_and_climbs_the_ladder(kit, watching):
    """Untouched stubs: it starts at ex01 and names the first test to fix with its hint; a save with a mistake shows the student's
    own exception at their line; a save that passes moves on to ex02; Ctrl+C stops it."""
    at = watching.read_until("Watching ex01_listen (Exercise 1 (guided)")
    at = watching.read_until("ex01_listen: 0/5 points", start=at)
    at = watching.read_until("First to fix: test_reports_the_real_port", start=at)
    at = watching.read_until("Hint: ", start=at)
    at = watching.read_until("Save exercises/ex01_listen.py to grade it again", start=at)

    saved = save(kit, "ex01_listen", BIND_TWO_ARGUMENTS.apply(solution_text("ex01_listen")))
    at = watching.read_until("Hint: Your code raised TypeError at exercises/ex01_listen.py:", start=at)
    first = time.monotonic() - saved

    saved = save(kit, "ex01_listen", solution_text("ex01_listen"))
    at = watching.read_until("ex01_listen: 5/5 points", start=at)
    second = time.monotonic() - saved
    at = watching.read_until("ex01_listen passes. On to the next exercise.", start=at)
    at = watching.read_until("Watching ex02_accept_loop", start=at)
    at = watching.read_until("Save exercises/ex02_accept_loop.py to grade it again", start=at)
    assert "ex01_listen" not in watching.text(at), "it watches ex02 now"
    print(f"a save was graded and shown {first:.2f} s and {second:.2f} s after it")

    watching.process.send_signal(signal.SIGINT)  # what Ctrl+C does in a terminal
    watching.read_until("Stopped watching.", start=at)
    assert watching.process.wait(SHOWN_WITHIN) == 0
    assert "Traceback" not in watching.text()


def test_watch_starts_where_the_student_stands(kit):
    """With exercises 1 and 2 solved, `watch` starts at exercise 3, not 1."""
    for exercise in ("ex01_listen", "ex02_accept_loop"):
        save(kit, exercise, solution_text(exercise))
    env = {**os.environ, "CHATKIT_ROOT": str(kit), "LANGUAGE": "en"}
    terminal = Terminal([sys.executable, "-m", "chatkit", "watch"], kit, env)
    try:
        at = terminal.read_until("Watching ex03_threads")
        assert "Watching ex01" not in terminal.text() and "Watching ex02" not in terminal.text()
        terminal.read_until("Hint:", start=at)
    finally:
        terminal.close()


def reset_command(kit, *arguments, answer="", language="en"):
    env = {**os.environ, "CHATKIT_ROOT": str(kit), "LANGUAGE": language, "CHATKIT_LANG": language}
    return subprocess.run([sys.executable, "-m", "chatkit", "reset", *arguments], cwd=kit, env=env,
                          input=answer, capture_output=True, text=True, timeout=60)


def test_reset_asks_first_and_keeps_what_was_written(kit):
    path = kit / "exercises" / "ex03_threads.py"
    stub = path.read_text(encoding="utf-8")
    work = solution_text("ex03_threads") + "# my own notes\n"
    path.write_text(work, encoding="utf-8")

    refused = reset_command(kit, "ex03", answer="n\n")
    assert refused.returncode == 1 and "Restore exercises/ex03_threads.py to its stub?" in refused.stdout
    assert path.read_text(encoding="utf-8") == work, "no means no"
    no_keyboard = reset_command(kit, "ex03")  # stdin ends at once: never reset without a yes
    assert no_keyboard.returncode == 1 and path.read_text(encoding="utf-8") == work

    done = reset_command(kit, "3", answer="y\n")
    assert done.returncode == 0, done.stdout + done.stderr
    assert path.read_text(encoding="utf-8") == stub
    assert tamper.checksum(path) == tamper.load_manifest()["stubs"]["ex03_threads"]
    assert (kit / "exercises" / "ex03_threads.py.bak").read_text(encoding="utf-8") == work
    assert "exercises/ex03_threads.py.bak" in done.stdout

    path.write_text(work + "# later work\n", encoding="utf-8")
    again = reset_command(kit, "ex03_threads", "--yes")
    assert again.returncode == 0 and path.read_text(encoding="utf-8") == stub
    assert (kit / "exercises" / "ex03_threads.py.bak").read_text(encoding="utf-8") == work, "never overwritten"
    assert (kit / "exercises" / "ex03_threads.py.bak2").read_text(encoding="utf-8") == work + "# later work\n"
    assert "already the stub" in reset_command(kit, "ex03", "--yes").stdout


@pytest.mark.parametrize("yes", ["예", "네", "y", "YES"])
def test_reset_asks_a_korean_student_in_korean_and_takes_a_korean_yes(kit, yes):
    path = kit / "exercises" / "ex03_threads.py"
    stub = path.read_text(encoding="utf-8")
    path.write_text(stub + "# 내 메모\n", encoding="utf-8")
    refused = reset_command(kit, "ex03", answer="아니요\n", language="ko")
    assert refused.returncode == 1 and "되돌릴까요?" in refused.stdout and "[y/예, N/아니요]" in refused.stdout
    assert "아무것도 바꾸지 않았습니다" in refused.stdout and path.read_text(encoding="utf-8") != stub
    done = reset_command(kit, "ex03", answer=f"{yes}\n", language="ko")
    assert done.returncode == 0 and path.read_text(encoding="utf-8") == stub, done.stdout + done.stderr
    assert "exercises/ex03_threads.py.bak" in done.stdout and "되돌렸습니다" in done.stdout


def test_reset_names_the_exercises_when_it_knows_none(kit):
    wrong = reset_command(kit, "ex42", "--yes")
    assert wrong.returncode == 2 and "there is no exercise 'ex42'" in wrong.stderr and "ex03_threads" in wrong.stderr


def test_the_stub_reset_restores_is_the_one_made_from_solutions():
    for exercise in layout.exercise_ids():
        assert reset.stub_text(exercise) == stubs.make_stub(solution_text(exercise)), exercise
