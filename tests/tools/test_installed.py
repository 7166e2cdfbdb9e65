"""chatkit installed the way hubs and Binder install it (`pip install .`, not editable), used from a students' folder.

A fresh virtual environment gets the students' edition installed as a
package; the folder the student works in is a copy of that edition without
its chatkit/ source, so the only chatkit there is the installed one. From
that folder (and from below it, and with CHATKIT_ROOT from anywhere else),
`pytest exercises/` grades, `python -m chatkit progress` names the next
exercise, `python -m chatkit grade` grades a class, and notebook 01 run
headless grades its exercise in its last cell.
"""

import csv
import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from chatkit.grader import layout
from editions import KIT, base_python, run, scores, student_edition, student_env  # noqa: F401

UV = shutil.which("uv") or shutil.which("uv", path=str(Path(sys.executable).parent))


@pytest.fixture(scope="module")
def installed(student_edition, tmp_path_factory):  # noqa: F811
    """(the fresh environment's Python, the student's folder)."""
    root = tmp_path_factory.mktemp("installed")
    venv, python = root / "hub-python", root / "hub-python" / "bin" / "python"
    if UV:
        run([UV, "venv", "--quiet", "--python", base_python(), str(venv)], root)
        run([UV, "pip", "install", "--quiet", "--python", str(python), f"{student_edition}[lab]"], root, timeout=900)
    else:
        run([base_python(), "-m", "venv", str(venv)], root)
        run([str(python), "-m", "pip", "install", "--quiet", f"{student_edition}[lab]"], root, timeout=900)
    folder = root / "chatkit-students"
    shutil.copytree(student_edition, folder, ignore=shutil.ignore_patterns(".venv", "chatkit", "__pycache__", "*.egg-info"))
    return python, folder


def test_the_kit_comes_from_the_installed_package(installed):
    python, folder = installed
    where = run([str(python), "-c", "import chatkit; print(chatkit.__file__)"], folder).stdout.strip()
    assert "site-packages" in where and not where.startswith(str(folder)), where
    assert not (Path(where).parent.parent / "exercises").exists()


def test_pytest_exercises_grades(installed):
    python, folder = installed
    done = run([str(python.parent / "pytest"), "exercises/", "-p", "no:cacheprovider"], folder, check=False)
    assert done.returncode == 1, done.stdout[-3000:]  # the stubs fail, every one of them graded
    table = scores(done.stdout)
    assert set(table) == {*layout.exercise_ids(KIT), "total"} and table["total"][0] == 0, done.stdout[-3000:]


@pytest.mark.parametrize("where", ["the folder", "a folder below", "CHATKIT_ROOT"])
def test_progress_names_the_next_exercise(installed, where, tmp_path):
    python, folder = installed
    cwd, env = {"the folder": (folder, student_env()), "a folder below": (folder / "notebooks", student_env()),
                "CHATKIT_ROOT": (tmp_path, student_env(CHATKIT_ROOT=str(folder)))}[where]
    done = run([str(python), "-m", "chatkit", "progress"], cwd, env=env)
    first = layout.exercise_ids(KIT)[0]
    assert f"Next: {first} (" in done.stdout, done.stdout


def test_grade_finds_the_kits_tests(installed, tmp_path):
    python, folder = installed
    first = layout.exercise_ids(KIT)[0]
    submission = tmp_path / "submissions" / "alice"
    submission.mkdir(parents=True)
    shutil.copy(KIT / "solutions" / f"{first}.py", submission)
    run([str(python), "-m", "chatkit", "grade", str(tmp_path / "submissions"), "--out", str(tmp_path / "grades.csv"),
         "-j", "1"], folder)
    with open(tmp_path / "grades.csv", encoding="utf-8") as file:
        alice = next(csv.DictReader(file))
    assert alice["status"] == "ok" and float(alice[first]) > 0, alice


def test_notebook_01_grades_its_exercise_in_its_last_cell(installed, tmp_path):
    python, folder = installed
    notebook = next(path for path in sorted((folder / "notebooks").glob("01-*.ipynb")))
    out = tmp_path / "run.ipynb"
    run([str(python), "-m", "jupyter", "nbconvert", "--to", "notebook", "--execute", str(notebook),
         "--output", str(out), "--ExecutePreprocessor.timeout=120"], folder / "notebooks",
        env=student_env(PATH=f"{python.parent}:{student_env()['PATH']}"), timeout=300)
    cells = json.loads(out.read_text(encoding="utf-8"))["cells"]
    grading = [cell for cell in cells if "grade" in cell["metadata"].get("tags", [])]
    assert grading and grading[-1] is [cell for cell in cells if cell["cell_type"] == "code"][-1], \
        "notebook 01 grades in its last cell"
    shown = json.dumps(grading[-1]["outputs"])
    first = layout.exercise_ids(KIT)[0]
    assert first in shown and "points" in shown and "there is no exercise" not in shown, shown[:2000]


def test_jupyter_kernels_of_this_environment_import_the_installed_kit(installed):
    """The kernel nbconvert (and a hub) starts is this environment's Python, not whatever `python` is on PATH."""
    python, folder = installed
    spec = subprocess.run([str(python), "-m", "jupyter", "kernelspec", "list", "--json"], capture_output=True,
                          text=True, env=student_env(), timeout=60, check=True)
    assert "python3" in json.loads(spec.stdout)["kernelspecs"]
