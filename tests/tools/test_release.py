"""The students' edition: made from this checkout, without the answers, and it works with only its README.

A student's Python (the one this run's .venv was made from, with nothing of
ours on PATH) runs the README's commands in the edition: `make test` with one
exercise half done (the kit's checks pass, the partial score is shown),
`make check` untouched (0 points shown, not a failure) and with every answer
from solutions/ copied in (full marks).
"""

import re
import shutil
import sys
from pathlib import Path

import pytest

from chatkit.grader import layout
from chatkit.grader.authoring import stubs, tamper
from chatkit.tools import release
import early
from editions import KIT, base_python, partly_done, run, scores, student_edition, student_env  # noqa: F401

MAKE = shutil.which("make")
needs_make = pytest.mark.skipif(MAKE is None, reason="make is not installed (Debian: apt-get install make)")


def files(folder):
    return {path.relative_to(folder).as_posix() for path in folder.rglob("*")
            if path.is_file() and "__pycache__" not in path.parts and ".venv" not in path.parts}


def test_no_answers_and_nothing_that_needs_them(student_edition):
    found = files(student_edition)
    assert not any(name.startswith("solutions/") for name in found)
    assert not release.INSTRUCTORS_ONLY & found, "the made-up submissions are the answers with one bug each"
    assert {f"tests/{name}" for name in release.STUDENT_TESTS} == {name for name in found if name.startswith("tests/")}
    assert not any(name.startswith((".ci/", "benchmarks/", "docs/")) for name in found)
    for name in found:
        text = (student_edition / name).read_bytes()
        # the marker's own name is in the stubs command's messages (and their translations): it is no answer
        assert b"BEGIN SOLUTION" not in text or name == "chatkit/grader/authoring/stubs.py" \
            or name.startswith("chatkit/locale/"), name
    answers = {(KIT / "solutions" / f"{exercise}.py").read_bytes() for exercise in layout.exercise_ids(KIT)}
    assert not any((student_edition / name).read_bytes() in answers for name in found)


def test_the_same_kit_notebooks_and_graded_tests_and_fresh_stubs(student_edition):
    stub_texts, manifest = stubs.build(KIT)
    for path, text in stub_texts.items():
        assert (student_edition / "exercises" / path.name).read_text(encoding="utf-8") == text
    assert tamper.problems(student_edition / "exercises", manifest) == [], "the graded tests are the kit's own"
    for name in files(KIT / "notebooks"):
        assert (student_edition / "notebooks" / name).read_bytes() == (KIT / "notebooks" / name).read_bytes()
    kit_code = {name for name in files(KIT / "chatkit")} - {Path(name).relative_to("chatkit").as_posix()
                                                           for name in release.INSTRUCTORS_ONLY}
    assert {name for name in files(student_edition / "chatkit")} == kit_code


def test_the_readme_is_for_students_and_names_what_exists(student_edition):
    readme = (student_edition / "README.md").read_text(encoding="utf-8")
    assert readme.splitlines()[0] == "# chatkit (students' edition)"
    first_block = readme.split("```")[1]
    assert [line.split()[:2] for line in first_block.strip().splitlines()] == [["make", "lab"], ["make", "check"]]
    assert "solutions" not in readme and "For instructors" not in readme
    headings = [line.removeprefix("## ") for line in readme.splitlines() if line.startswith("## ")]
    assert [next(w for w in release.STUDENT_SECTIONS if h.startswith(w)) for h in headings] == release.STUDENT_SECTIONS
    for path in set(re.findall(r"`((?:chatkit|exercises|notebooks|tests)/[\w/.-]+)`", readme)):
        if "NN" in path:  # a pattern (exercises/exNN_name.py), not a file
            continue
        assert (student_edition / path.rstrip("/")).exists(), f"the students' README names {path}, which it lacks"


def test_release_keeps_a_clone_and_refuses_what_it_should(tmp_path):
    out = tmp_path / "students"
    (out / ".git").mkdir(parents=True)
    (out / ".git" / "HEAD").write_text("ref: refs/heads/main\n")
    (out / "old.txt").write_text("from the last release")
    with pytest.raises(release.ReleaseError, match="--force"):
        release.write(KIT, out)
    release.write(KIT, out, force=True)
    assert (out / ".git" / "HEAD").exists() and not (out / "old.txt").exists() and (out / "Makefile").exists()
    with pytest.raises(release.ReleaseError, match="outside the kit"):
        release.write(KIT, KIT / "artifacts" / "students")


def start_make_test_with_an_exercise_half_done(folder):
    """A students' edition of its own in `folder`, one exercise half done, its `make test` started.

    The Korean walkthrough runs there, in the edition a Korean class gets (the English one runs in
    the kit's own make test: tests/test_notebooks.py, each notebook once). It takes two minutes of
    mostly waiting, so it starts with the session (tests/early.py).
    """
    if MAKE is None:
        return None
    edition = folder / "chatkit-students"
    release.write(KIT, edition)
    exercise, text = partly_done(folder / "tries")
    (edition / "exercises" / f"{exercise}.py").write_text(text, encoding="utf-8")
    return exercise, early.Command([MAKE, "test", f"PYTHON={base_python()}"], edition, output=folder / "make-test.txt",
                                   env=student_env(CHATKIT_NOTEBOOKS="ko"))


@needs_make
@pytest.mark.early(start=start_make_test_with_an_exercise_half_done)
@pytest.mark.timeout(900)  # the students' whole make test, after making their .venv
def test_a_half_done_exercise_make_test_passes_and_shows_the_partial_score(early):
    """What a student sees after `make test` in the middle of an exercise (the kit's own checks run too)."""
    exercise, make_test = early
    done = make_test.wait(timeout=840)
    assert done.returncode == 0, f"make test exited {done.returncode}:\n{done.stdout[-6000:]}"
    kit_checks = re.search(r"^=+ (.*) in [\d.]+s", done.stdout, re.MULTILINE).group(1)  # the first session: the kit's
    assert "passed" in kit_checks and "failed" not in kit_checks and "error" not in kit_checks, done.stdout[-6000:]
    points, maximum = scores(done.stdout)[exercise]
    assert 0 < points < maximum, done.stdout[-3000:]
    assert not (Path(make_test.cwd) / ".venv" / "bin" / "playwright").exists(), "a student's install has no test tools"


@needs_make
@pytest.mark.timeout(600)
def test_untouched_stubs_and_every_answer_make_check_shows_the_score(student_edition):
    untouched = run([MAKE, "check", f"PYTHON={base_python()}"], student_edition)
    assert scores(untouched.stdout)["total"] == (0, tamper_total()), untouched.stdout[-3000:]
    for exercise in layout.exercise_ids(KIT):
        shutil.copy(KIT / "solutions" / f"{exercise}.py", student_edition / "exercises")
    try:
        solved = run([MAKE, "check", f"PYTHON={base_python()}"], student_edition)
        progress = run([str(student_edition / ".venv" / "bin" / "python"), "-m", "chatkit", "progress"], student_edition)
    finally:
        for exercise in layout.exercise_ids(KIT):
            shutil.copy(KIT / "exercises" / f"{exercise}.py", student_edition / "exercises")
    assert scores(solved.stdout)["total"] == (tamper_total(), tamper_total()), solved.stdout[-3000:]
    assert "Every exercise passes" in progress.stdout


def tamper_total():
    return tamper.required_points()  # the optional exercise's points are extra, not in the total


def test_instructors_make_test_says_what_to_do_with_work_in_exercises(tmp_path):
    """Here make test proves the stubs are solutions/ minus the answers: with work in exercises/ it says so first."""
    for folder in ("exercises", "solutions", "tests"):
        shutil.copytree(KIT / folder, tmp_path / folder, ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(KIT / "pyproject.toml", tmp_path)
    first = layout.exercise_ids(KIT)[0]
    mine = tmp_path / "exercises" / f"{first}.py"
    mine.write_text(mine.read_text(encoding="utf-8") + "# my work\n", encoding="utf-8")
    done = run([sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "tests/grader/test_stubs.py"], tmp_path,
               env=student_env(), check=False)
    assert done.returncode == 4, done.stdout
    assert f"exercises/ holds edited exercises (exercises/{first}.py)" in done.stdout
    assert "python -m chatkit check" in done.stdout and "python -m chatkit stubs --force" in done.stdout
    assert " passed" not in done.stdout and " failed" not in done.stdout, "nothing ran"


@pytest.mark.parametrize("spoil, says", [
    (lambda kit: (kit / "exercises" / f"{layout.exercise_ids(kit)[0]}_test.py").write_text("# mine\n"),
     "graded tests or the grader's manifest changed"),
    (lambda kit: (kit / "notebooks" / "01-listen.ipynb").write_text(
        (kit / "notebooks" / "01-listen.ipynb").read_text(encoding="utf-8").replace(
            '"execution_count": null', '"execution_count": 7', 1), encoding="utf-8"), "is not clean"),
    (lambda kit: (kit / "notebooks" / "ko" / "01-listen.ipynb").write_text(
        (kit / "notebooks" / "ko" / "01-listen.ipynb").read_text(encoding="utf-8").replace(
            '"execution_count": null', '"execution_count": 7', 1), encoding="utf-8"), "ko/01-listen.ipynb is not clean"),
])
def test_release_refuses_a_kit_whose_tests_or_notebooks_are_not_the_kits(tmp_path, spoil, says):
    kit = tmp_path / "kit"
    for folder in ("chatkit", "exercises", "solutions", "notebooks", "tests"):
        shutil.copytree(KIT / folder, kit / folder, ignore=shutil.ignore_patterns("__pycache__"))
    for name in ("README.md", "Makefile", "pyproject.toml"):
        shutil.copy(KIT / name, kit)
    release.write(kit, tmp_path / "fine")  # the copy as it is releases
    spoil(kit)
    with pytest.raises(release.ReleaseError, match=says):
        release.write(kit, tmp_path / "students")
