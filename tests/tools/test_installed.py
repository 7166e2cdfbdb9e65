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
import tempfile
from pathlib import Path

import pytest

from chatkit.grader import layout
from editions import KIT, base_python, run, scores, student_edition, student_env  # noqa: F401

pytestmark = pytest.mark.timeout(600)  # the first test also installs the kit into a fresh environment
UV = shutil.which("uv") or shutil.which("uv", path=str(Path(sys.executable).parent))


@pytest.fixture(scope="module")
def installed(student_edition, tmp_path_factory):  # noqa: F811
    """(the fresh environment's Python, the student's folder)."""
    root = tmp_path_factory.mktemp("installed")
    source = root / "source"  # building a wheel leaves build/ and *.egg-info behind: not in the edition
    shutil.copytree(student_edition, source, ignore=shutil.ignore_patterns(".venv*", "__pycache__"))
    venv, python = root / "hub-python", root / "hub-python" / "bin" / "python"
    if UV:
        run([UV, "venv", "--quiet", "--python", base_python(), str(venv)], root)
        run([UV, "pip", "install", "--quiet", "--python", str(python), f"{source}[lab]"], root, timeout=900)
    else:
        run([base_python(), "-m", "venv", str(venv)], root)
        run([str(python), "-m", "pip", "install", "--quiet", f"{source}[lab]"], root, timeout=900)
    folder = root / "chatkit-students"
    shutil.copytree(student_edition, folder, ignore=shutil.ignore_patterns(".venv*", "chatkit", "__pycache__"))
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
    sockets = tempfile.mkdtemp(prefix="chatkit-kernel-")  # Unix sockets: no TCP port another test can take first
    try:
        run([str(python), "-m", "jupyter", "nbconvert", "--to", "notebook", "--execute", str(notebook),
             "--output", str(out), "--ExecutePreprocessor.timeout=120", "--KernelManager.transport=ipc",
             f"--KernelManager.ip={sockets}/kernel"], folder / "notebooks",
            env=student_env(PATH=f"{python.parent}:{student_env()['PATH']}"), timeout=300)
    finally:
        shutil.rmtree(sockets, ignore_errors=True)
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


SHOW_SETTINGS = """
import json, os
from jupyter_server.serverapp import ServerApp
from jupyterlab_server.config import get_page_config
from chatkit.tools import terminal
app = ServerApp()
app.load_config_file()
shell = app.config.ServerApp.terminado_settings["shell_command"]
print(json.dumps({"hook": app.config.ContentsManager.pre_save_hook, "shell": shell,
                  "culling": app.config.MappingKernelManager.cull_idle_timeout,
                  "rcfile": os.path.exists(terminal.RCFILE),
                  "disabled": get_page_config([], "/nowhere")["disabledExtensions"]}))
"""


def test_install_config_gives_the_hosted_jupyterlab_the_kits_settings(installed, tmp_path):
    """What a hub's image, Binder's postBuild and Codespaces run: JupyterLab there then loads the kit's settings."""
    python, folder = installed
    env = student_env(HOME=str(tmp_path), JUPYTER_CONFIG_DIR=str(tmp_path / "jupyter"))  # no settings of this machine's
    done = run([str(python), "-m", "chatkit", "lab", "--install-config"], folder, env=env)
    assert str(python.parent.parent / "etc" / "jupyter") in done.stdout, done.stdout
    loaded = json.loads(run([str(python), "-c", SHOW_SETTINGS], tmp_path, env=env).stdout)
    assert loaded == {"hook": "chatkit.tools.nbstrip.pre_save_hook", "shell": [str(python), "-m", "chatkit.tools.terminal",
                                                                              "--login"],
                      "culling": 3600, "rcfile": True, "disabled": ["@jupyterlab/apputils-extension:announcements"]}
