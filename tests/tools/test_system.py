"""A machine without the optional programs: make test passes what can run, and says once what it skipped.

The kit's tests that need nc, Xvfb, xdotool or chromium run in a subprocess
whose PATH has every program of this machine but those: nothing fails, and
the end of the run names what was skipped, what is missing, and the one
command that installs it. The README and .ci/run name the same packages.
"""

import os
import re
import sys
from pathlib import Path

import pytest

from chatkit.tools import system
from editions import KIT, run

HIDDEN = {"nc", "Xvfb", "xvfb-run", "xdotool", "chromium", "chromium-browser", "tmux"}
NEEDING_THEM = ["tests/test_client.py", "tests/test_gui.py", "tests/test_browser.py", "tests/tools/test_doctor.py",
                "tests/test_notebooks.py::test_notebook_runs_and_shows_what_it_should[07-what-was-hard-the-gui]"]


def path_without(hidden, folder):
    """A PATH of one folder, with a link to every program on this PATH except those `hidden`."""
    folder.mkdir()
    for directory in os.environ["PATH"].split(os.pathsep):
        for program in Path(directory).glob("*") if Path(directory).is_dir() else []:
            if program.name not in hidden and not (folder / program.name).exists() and os.access(program, os.X_OK):
                (folder / program.name).symlink_to(program)
    return str(folder)


@pytest.mark.timeout(300)
def test_without_the_programs_nothing_fails_and_the_end_says_what_to_install(tmp_path):
    env = dict(os.environ, PATH=path_without(HIDDEN, tmp_path / "bin"))
    done = run([sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-q", *NEEDING_THEM], KIT, env=env,
               timeout=300, check=False)
    assert done.returncode == 0, done.stdout[-4000:]
    assert re.search(r"\d+ passed, \d+ skipped", done.stdout), done.stdout[-2000:]
    tail = done.stdout.split("= skipped: ")[-1]
    assert done.stdout.count("= skipped: ") == 1 and done.stdout.count("Install them") == 1, done.stdout[-3000:]
    for program in ("nc", "Xvfb", "xdotool", "chromium", "tmux"):
        assert f"{program} (" in tail.split("This machine lacks:")[1], tail
    assert "sudo apt-get install netcat-openbsd xvfb" in tail or system.this_system() != "debian", tail
    assert "07-what-was-hard-the-gui: checked all but cell" in tail, "notebook 07 ran, all but its screenshot checked"


def test_the_readme_and_ci_name_the_same_packages():
    readme = (KIT / "README.md").read_text(encoding="utf-8")
    section = readme.split("## What the checks need", 1)[1]
    for line in system.readme_lines():
        assert line in section, f"the README's 'What the checks need' should say: {line}"
    assert "chatkit.tools.system --debian" in (KIT / ".ci" / "run").read_text(encoding="utf-8")
