"""Without make, on any machine: a bare Python runs `python -m chatkit check` and `lab` in a fresh copy.

The copy is the students' edition without its .venv; the Python is the one
this run's .venv was made from, with nothing installed. It makes the kit's
.venv itself, then grades (or serves JupyterLab). Also: `make PYTHON=...`
takes a pyenv shim, a .venv of another Python version is made anew, and a
pytest whose Python has no chatkit says in one line what to run instead.
"""

import json
import re
import shutil
import signal
import subprocess
import sys
import time

import pytest

from chatkit.tools import kitenv
from editions import KIT, base_python, run, scores, student_edition, student_env  # noqa: F401

URL = re.compile(r"http://127\.0\.0\.1:\d+/lab/tree/notebooks/00-")  # make lab's first page
UV = shutil.which("uv") or shutil.which("uv", path=str(kitenv.bin_dir(sys.prefix)))


@pytest.fixture(scope="module")
def fresh_copy(student_edition, tmp_path_factory):  # noqa: F811
    folder = tmp_path_factory.mktemp("no-make") / "chatkit-students"
    shutil.copytree(student_edition, folder, ignore=shutil.ignore_patterns(".venv*", "__pycache__"))
    return folder


@pytest.mark.timeout(600)  # it makes a .venv
def test_a_bare_python_makes_the_venv_then_grades(fresh_copy):
    done = run([base_python(), "-m", "chatkit", "check"], fresh_copy, timeout=600)
    assert "Making .venv" in done.stdout, done.stdout[-3000:]
    assert scores(done.stdout)["total"][0] == 0, done.stdout[-3000:]
    recorded = json.loads((fresh_copy / ".venv" / kitenv.STAMP).read_text())
    assert recorded["extras"] == ["lab"], "a student's .venv has only what the walkthrough needs"
    again = run([base_python(), "-m", "chatkit", "check", "ex01", "-q"], fresh_copy)
    assert "Making .venv" not in again.stdout and "ex01" in again.stdout.rsplit("chatkit grades", 1)[-1]


@pytest.mark.timeout(600)
def test_a_bare_python_opens_the_walkthrough(fresh_copy, tmp_path):
    run([base_python(), "-m", "chatkit.tools.kitenv"], fresh_copy)  # the .venv, if the test above did not make it
    log = tmp_path / "lab.log"
    with open(log, "w") as output:
        lab = subprocess.Popen([base_python(), "-m", "chatkit", "lab", "--no-browser", "--ServerApp.port=0"],
                               cwd=fresh_copy, env=student_env(JUPYTER_RUNTIME_DIR=str(tmp_path)),
                               stdin=subprocess.DEVNULL, stdout=output, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 120
        while not URL.search(log.read_text(errors="replace")) and lab.poll() is None and time.monotonic() < deadline:
            time.sleep(0.2)  # polling the log, bounded by the deadline
    finally:
        lab.send_signal(signal.SIGTERM)
        lab.wait(30)
    assert URL.search(log.read_text(errors="replace")), log.read_text(errors="replace")[-3000:]


@pytest.mark.skipif(shutil.which("pyenv") is None, reason="pyenv is not installed")
def test_make_python_takes_a_pyenv_shim():
    versions = subprocess.run(["pyenv", "versions", "--bare"], capture_output=True, text=True).stdout.split()
    newest = max((v for v in versions if re.fullmatch(r"3\.1\d\.\d+", v)), key=lambda v: tuple(map(int, v.split("."))))
    minor = ".".join(newest.split(".")[:2])
    done = run(["make", "-n", "venv", f"PYTHON=python{minor}"], KIT)
    assert f"/versions/{newest}/bin/python{minor} -m chatkit.tools.kitenv" in done.stdout, done.stdout
    refused = run(["make", "venv", "PYTHON=no-such-python"], KIT, check=False)
    assert refused.returncode != 0 and "pyenv prefix" in refused.stdout, refused.stdout


def test_a_venv_of_another_python_or_an_older_pyproject_is_not_up_to_date(tmp_path):
    shutil.copy(KIT / "pyproject.toml", tmp_path)
    venv = tmp_path / ".venv"
    kitenv.python_in(venv).parent.mkdir(parents=True)
    kitenv.python_in(venv).touch()
    (venv / "pyvenv.cfg").write_text("home = /usr/bin\nversion = 3.9.18\n")
    state = kitenv.wanted_state(tmp_path, ["lab"])
    (venv / kitenv.STAMP).write_text(json.dumps(state))
    assert kitenv.venv_version(venv) == "3.9"
    assert kitenv.up_to_date(tmp_path, ["lab"], venv) and not kitenv.up_to_date(tmp_path, ["dev"], venv)
    (venv / kitenv.STAMP).write_text(json.dumps({**state, "python": "3.9"}))
    assert not kitenv.up_to_date(tmp_path, ["lab"], venv), "made by another Python: made anew"
    (venv / kitenv.STAMP).write_text(json.dumps(state))
    (tmp_path / "pyproject.toml").write_text((KIT / "pyproject.toml").read_text() + "\n# changed\n")
    assert not kitenv.up_to_date(tmp_path, ["lab"], venv), "pyproject.toml changed: installed again"


@pytest.mark.skipif(UV is None, reason="uv is not installed (make installs it into .venv)")
def test_a_pytest_without_chatkit_says_in_one_line_what_to_run(fresh_copy, tmp_path):
    other = tmp_path / "other-python"
    run([UV, "venv", "--quiet", "--python", base_python(), str(other)], tmp_path)
    run([UV, "pip", "install", "--quiet", "--python", str(kitenv.python_in(other)), "pytest"], tmp_path)
    done = run([str(kitenv.bin_dir(other) / "pytest"), "exercises/"], fresh_copy, check=False)
    lines = done.stdout.strip().splitlines()
    assert done.returncode != 0 and len(lines) == 1, done.stdout
    assert "cannot import chatkit" in lines[0] and "python -m chatkit check" in lines[0], lines[0]
