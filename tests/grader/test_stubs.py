"""exercises/ is made from solutions/ by `python -m chatkit stubs`, and never drifts from it."""

import shutil

import pytest

from chatkit.grader import layout
from chatkit.grader.authoring import stubs, tamper

SOLUTION = '''"""An answer."""


def add(a, b):
    """Add."""
    # BEGIN SOLUTION (TODO: return the sum)
    return a + b
    # END SOLUTION
'''


def test_exercises_and_manifest_match_solutions():
    """If this fails, run `python -m chatkit stubs` and commit what it wrote."""
    assert stubs.drift() == []


def test_stub_keeps_the_todo_and_raises():
    stub = stubs.make_stub(SOLUTION)
    assert "    # TODO: return the sum\n    raise NotImplementedError('TODO: return the sum')\n" in stub
    assert "a + b" not in stub and "SOLUTION" not in stub


@pytest.mark.parametrize("broken, problem", [
    (SOLUTION.replace(" (TODO: return the sum)", ""), "write what to do"),
    (SOLUTION.replace("    # END SOLUTION\n", ""), "never ended"),
    (SOLUTION.replace("    # BEGIN SOLUTION (TODO: return the sum)\n", ""), "END SOLUTION without BEGIN"),
    ('"""No markers."""\n', "no # BEGIN SOLUTION block"),
])
def test_broken_markers_are_refused(broken, problem):
    with pytest.raises(stubs.StubError, match=problem):
        stubs.make_stub(broken)


def test_graded_tests_are_read_without_importing():
    tests = stubs.graded_tests(layout.test_file("ex06_framing"))
    assert tests[0] == {"test": "test_one_line", "points": 1,
                        "description": "One complete line comes out without its newline, and otherwise as it was sent."}
    assert sum(test["points"] for test in tests) == 8


def test_a_students_edits_are_never_overwritten(tmp_path):
    for folder in ("exercises", "solutions"):
        shutil.copytree(layout.KIT_ROOT / folder, tmp_path / folder, ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(layout.KIT_ROOT / "pyproject.toml", tmp_path)
    manifest = tmp_path / "manifest.json"
    shutil.copy(tamper.MANIFEST, manifest)
    mine = tmp_path / "exercises" / "ex03_threads.py"
    mine.write_text(mine.read_text(encoding="utf-8") + "# my work\n", encoding="utf-8")
    untouched = tmp_path / "exercises" / "ex04_broadcast.py"
    untouched.unlink()
    said = []
    kept = stubs.write(tmp_path, manifest_path=manifest, say=said.append)
    assert kept == [mine] and mine.read_text(encoding="utf-8").endswith("# my work\n")
    assert untouched.exists(), "a missing stub is written again"
    assert any("has your edits" in line for line in said)
    stubs.write(tmp_path, force=True, manifest_path=manifest, say=said.append)
    assert not mine.read_text(encoding="utf-8").endswith("# my work\n")


def test_check_mode_reports_drift(tmp_path, capsys):
    for folder in ("exercises", "solutions"):
        shutil.copytree(layout.KIT_ROOT / folder, tmp_path / folder, ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(layout.KIT_ROOT / "pyproject.toml", tmp_path)
    solution = tmp_path / "solutions" / "ex01_listen.py"
    solution.write_text(solution.read_text(encoding="utf-8").replace("backlog = 5", "backlog = 8"), encoding="utf-8")
    found = stubs.drift(tmp_path)
    assert "exercises/ex01_listen.py differs from the stub made from solutions/ex01_listen.py" in found


def test_a_top_level_block_leaves_only_its_todo():
    """Helpers of an open exercise sit at the top of the file: their stub is a comment, and the file imports."""
    solution = '"""An answer."""\n\n# BEGIN SOLUTION (TODO: your helpers)\nHELPER = 1\n# END SOLUTION\n\n' + SOLUTION[18:]
    stub = stubs.make_stub(solution)
    assert "# TODO: your helpers\n" in stub and "HELPER" not in stub
    assert stub.count("raise NotImplementedError") == 1, "only the function's block raises"
    exec(compile(stub, "stub", "exec"), {})  # imports without raising
