"""A Korean student's buggy submission: what went wrong is told in Korean, the English unchanged.

`CHATKIT_LANG=ko pytest exercises/` on an add_user() that hangs (a lock the
thread holds already) and on one that raises: the diagnosis under the hint
(what the threads were doing, the exception at its line, the line of the
test that noticed) is Korean, with the code, the file:line and the
exception's name left as they are. The same submissions graded in English
say it in English (the samples test holds the English words).
"""

import pytest

from chatkit.grader import layout
from grading_helpers import grade_copy, solution_text

pytestmark = pytest.mark.timeout(180)

TAKEN = "        with self.lock:\n            self.members.append(client)\n"
HANGS = TAKEN.replace("self.members.append(client)", "with self.lock:  # taken again: waits forever\n"
                      "                self.members.append(client)")
RAISES = TAKEN + "        raise KeyError(client.nick)\n"


def graded(tmp_path, body, lang):
    text = solution_text("ex04_broadcast")
    assert TAKEN in text
    run = grade_copy(tmp_path, "ex04_broadcast", text.replace(TAKEN, body, 1), env={"CHATKIT_LANG": lang})
    failed = [test for test in run.results.tests if test.status == "failed"]
    assert failed, run.output
    return failed[0].output, run.output


def test_a_hang_is_diagnosed_in_korean(tmp_path):
    output, printed = graded(tmp_path, HANGS, "ko")
    assert "그 순간 프로그램이 하고 있던 일:" in output
    assert "다른 스레드가(또는 이 스레드 자신이) 잡고 있는 락을 기다리는 중. 위치: exercises/ex04_broadcast.py:" in output
    assert "테스트가 문제를 알아챈 곳: ex04_broadcast_test.py:" in output
    assert "What your program was doing" not in output and "waiting for a lock" not in output
    assert "with self.lock:" in output  # the code as it is
    assert "그 순간 프로그램이 하고 있던 일:" in printed  # pytest's own report too


def test_an_exception_is_diagnosed_in_korean(tmp_path):
    output, _ = graded(tmp_path, RAISES, "ko")
    assert "KeyError 예외가 발생했습니다" in output
    assert "이런 일이 생겼습니다" in output  # the reworded wait: who was waiting for what
    assert "위치: exercises/ex04_broadcast.py:" in output
    assert "raise KeyError(client.nick)" in output
    assert " raised KeyError" not in output and "was waiting for" not in output


def test_the_same_submissions_in_english_say_it_in_english(tmp_path):
    hang, _ = graded(tmp_path / "hang", HANGS, "en")
    error, _ = graded(tmp_path / "error", RAISES, "en")
    assert "What your program was doing at that moment:" in hang
    assert "waiting for a lock that another thread (or this one) holds, at exercises/ex04_broadcast.py:" in hang
    assert "(noticed at ex04_broadcast_test.py:" in hang
    assert " raised KeyError: " in error and "\n  at exercises/ex04_broadcast.py:" in error
    assert not any("\uac00" <= char <= "\ud7a3" for char in hang + error)  # no Hangul in the English


def test_the_hints_kept_in_constants_are_korean_in_a_failed_part_too(tmp_path):
    """ex02's hints live in constants (GREET, ECHO), ex07's in a dict: a Korean run shows them in Korean,
    above the traceback and in each failed part's line; the stub's TODO is said in Korean too."""
    stub = (layout.exercises_dir() / "ex02_accept_loop.py").read_text(encoding="utf-8")
    run = grade_copy(tmp_path / "ex02", "ex02_accept_loop", stub, env={"CHATKIT_LANG": "ko"})
    assert "이 부분(1점)을 통과하지 못했어요: serve_client()는 먼저 self.greeting을 한 줄로 보냅니다" in run.output
    assert "힌트: serve_client()는 먼저 self.greeting을" in run.output
    assert "serve_client() sends self.greeting first" not in run.output
    assert "Each recv() goes back with" not in run.output
    assert "아직 작성하지 않은 부분입니다(TODO: 루프: conn = self.wait_for_client(); None이면 return" in run.output
    assert "return when it is None" not in run.output  # the stub's TODO, from the catalog

    busy = solution_text("ex07_slow_reader").replace("            while not self.chunks and not self.closed:\n"
                                                     "                self.changed.wait()\n", "", 1)
    run = grade_copy(tmp_path / "ex07", "ex07_slow_reader", busy, env={"CHATKIT_LANG": "ko"})
    assert "outbox가 비어 있는데 take()가 곧바로 반환했습니다" in run.output
    assert "take() returned at once" not in run.output
