"""`make lab` as a student meets it: a terminal in JupyterLab runs the kit's Python, whatever ~/.bashrc does.

The students' edition runs `make lab` with a HOME whose ~/.bashrc puts
another Python's bin/ first on PATH (as pyenv or conda do), and whose
~/.bash_profile starts from a fresh PATH (as Debian's /etc/profile does).
JupyterLab makes its terminals login shells when it has no terminal of its
own (stdout piped here, as under a hub) and plain interactive shells
otherwise (stdout on a pty here). Through JupyterLab's terminal API (REST to
open one, the websocket to type into it), `python` and `pytest exercises/`
must be the kit's in both.
"""

import asyncio
import json
import os
import pty
import re
import secrets
import shutil
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from types import SimpleNamespace

import pytest
from tornado.websocket import websocket_connect  # JupyterLab's own web server library

from chatkit.grader import layout
from chatkit.tools import labserver
from chatkit.tools.nbstrip import pre_save_hook
from editions import KIT, base_python, student_edition, student_env  # noqa: F401

MAKE = shutil.which("make")
STARTUP = 180  # seconds for make lab to serve (it may make .venv first)
pytestmark = [pytest.mark.skipif(MAKE is None or shutil.which("bash") is None,
                                 reason="needs make and bash (Debian: apt-get install make)"),
              pytest.mark.timeout(STARTUP + 180)]


def another_python(folder):
    """A bin/ folder with another Python first, and a pytest that is not the kit's."""
    bin_dir = folder / "other-python" / "bin"
    bin_dir.mkdir(parents=True)
    for name in ("python", "python3"):
        (bin_dir / name).symlink_to(base_python())
    (bin_dir / "pytest").write_text("#!/bin/sh\necho \"another Python's pytest: No module named 'chatkit'\"\nexit 4\n")
    (bin_dir / "pytest").chmod(0o755)
    return bin_dir


def student_home(folder, other_bin):
    home = folder / "home"
    home.mkdir()
    (home / ".bashrc").write_text(f'export PATH="{other_bin}:$PATH"\n')
    (home / ".bash_profile").write_text('PATH=/usr/local/bin:/usr/bin:/bin\nexport PATH\n. ~/.bashrc\n')
    return home


@pytest.fixture(params=["login shell (no terminal: a hub)", "interactive shell (from a terminal)"])
def lab(request, student_edition, tmp_path):  # noqa: F811
    """`make lab` in the students' edition; yields (base url, token, the terminal kind)."""
    login = request.param.startswith("login")
    home = student_home(tmp_path, another_python(tmp_path))
    token = secrets.token_hex(16)
    env = student_env(HOME=str(home), JUPYTER_RUNTIME_DIR=str(tmp_path / "runtime"),
                      JUPYTERLAB_WORKSPACES_DIR=str(tmp_path / "workspaces"))
    command = [MAKE, "-s", "lab", f"PYTHON={base_python()}",
               f"LAB_ARGS=--no-browser --ServerApp.port=0 --IdentityProvider.token={token}"]
    log = tmp_path / "lab.log"
    with open(log, "w") as output:
        if login:
            process = subprocess.Popen(command, cwd=student_edition, env=env, stdout=output, stderr=subprocess.STDOUT,
                                       stdin=subprocess.DEVNULL, start_new_session=True)
        else:  # stdout on a terminal, as when a student types make lab
            controller, terminal = pty.openpty()
            process = subprocess.Popen(command, cwd=student_edition, env=env, stdout=terminal, stderr=output,
                                       stdin=subprocess.DEVNULL, start_new_session=True)
            os.close(terminal)
    try:
        base = wait_for_url(log, process)
        yield base, token, login
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
        if not login:
            os.close(controller)


def wait_for_url(log, process):
    deadline = time.monotonic() + STARTUP
    while time.monotonic() < deadline:
        found = re.search(r"(http://127\.0\.0\.1:\d+)/lab", log.read_text(errors="replace"))
        if found:
            return found.group(1)
        if process.poll() is not None:
            break
        time.sleep(0.2)  # polling a log file, bounded by the deadline
    pytest.fail(f"make lab did not serve within {STARTUP} s:\n{log.read_text(errors='replace')[-3000:]}")


def type_into_a_terminal(base, token, line, until, timeout=120):
    """Open a terminal (REST), type `line` (websocket), return what it printed up to `until`."""
    request = urllib.request.Request(f"{base}/api/terminals?token={token}", data=b"{}", method="POST",
                                     headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=30) as answer:
        name = json.load(answer)["name"]

    async def talk():
        socket = await websocket_connect(f"{base.replace('http', 'ws')}/terminals/websocket/{name}?token={token}")
        shown = ""
        try:
            socket.write_message(json.dumps(["stdin", line + "\r"]))
            deadline = time.monotonic() + timeout
            while until not in shown:  # the shell prints it; the echo of the typed line does not hold it
                message = await asyncio.wait_for(socket.read_message(), max(0.1, deadline - time.monotonic()))
                if message is None:
                    break
                kind, *content = json.loads(message)
                if kind == "stdout":
                    shown += content[0]
        finally:
            socket.close()
            while await asyncio.wait_for(socket.read_message(), 10) is not None:
                pass  # the rest, until the server's answer to the close: then the socket is closed
        return shown

    try:
        return asyncio.run(talk())
    finally:
        delete = urllib.request.Request(f"{base}/api/terminals/{name}?token={token}", method="DELETE")
        urllib.request.urlopen(delete, timeout=30).close()


def test_a_terminal_runs_the_kits_python_and_pytest(lab, student_edition):  # noqa: F811
    base, token, login = lab
    line = ("echo kind=$(shopt -q login_shell && echo login || echo plain); "
            "python -c 'import sys, chatkit; print(\"python:\", sys.executable)'; "
            "pytest exercises/ -q -p no:cacheprovider 2>&1 | grep -E '^total|No module'; echo END-$((6*7))")
    shown = re.sub(r"\x1b\[[0-9;?]*[a-zA-Z]", "", type_into_a_terminal(base, token, line, "END-42"))
    assert f"python: {student_edition}/.venv/bin/python" in shown, shown
    assert re.search(r"^total\s+0/\d+", shown, re.MULTILINE), shown
    assert "another Python" not in shown and "No module named 'chatkit'" not in shown, shown


def test_the_kits_settings_for_a_hosted_jupyterlab(tmp_path):
    """--install-config's files: the save hook, the kit's terminals, culling, no news; an image's own settings kept."""
    (tmp_path / "jupyter_server_config.json").write_text(json.dumps({"ServerApp": {"ip": "0.0.0.0"}}))
    written = labserver.write_config(tmp_path, login=True, hosted=True)
    server = json.loads((tmp_path / "jupyter_server_config.json").read_text())
    assert server["ServerApp"]["ip"] == "0.0.0.0", "what the image had stays"
    assert server["ServerApp"]["terminado_settings"]["shell_command"] == [sys.executable, "-m", "chatkit.tools.terminal",
                                                                       "--login"]
    assert server["ContentsManager"]["pre_save_hook"] == "chatkit.tools.nbstrip.pre_save_hook"
    assert server["MappingKernelManager"]["cull_idle_timeout"] == 3600
    page = json.loads((tmp_path / "labconfig" / "page_config.d" / "chatkit.json").read_text())
    assert page["disabledExtensions"] == {"@jupyterlab/apputils-extension:announcements": True}
    assert len(written) == 2 and not any(Path(path).is_relative_to(KIT) for path in written)


def test_the_save_hook_strips_only_the_walkthrough_in_a_kit_folder(tmp_path):
    """On a hub the hook applies to every notebook saved: a student's own 01-analysis.ipynb keeps its outputs."""
    (tmp_path / "kit" / "exercises").mkdir(parents=True)
    (tmp_path / "kit" / "exercises" / "conftest.py").write_text("")
    manager = SimpleNamespace(root_dir=str(tmp_path))

    def outputs_after_saving(path):
        cell = {"cell_type": "code", "source": "1", "execution_count": 1, "metadata": {},
                "outputs": [{"output_type": "stream", "name": "stdout", "text": "1"}]}
        model = {"type": "notebook", "name": Path(path).name,
                 "content": {"cells": [cell], "metadata": {}, "nbformat": 4, "nbformat_minor": 5}}
        pre_save_hook(model=model, path=path, contents_manager=manager)
        return model["content"]["cells"][0]["outputs"]

    assert outputs_after_saving("kit/notebooks/01-listen.ipynb") == []
    assert outputs_after_saving("kit/notebooks/ko/01-listen.ipynb") == [], "the Korean twins are the walkthrough too"
    assert outputs_after_saving("projects/01-analysis.ipynb") != []
    assert outputs_after_saving("projects/ko/01-analysis.ipynb") != []
    assert outputs_after_saving("kit/notebooks/my-notes.ipynb") != []
    assert outputs_after_saving("kit/notebooks/ko/my-notes.ipynb") != []
    assert outputs_after_saving("kit/notebooks/mine/01-listen.ipynb") != [], "a student's own copy keeps its outputs"


@pytest.mark.parametrize("lang, first", [("en", "notebooks/00-"), ("ko", "notebooks/ko/00-")])
def test_jupyterlab_opens_the_walkthrough_in_the_kits_language(monkeypatch, lang, first):
    monkeypatch.setenv("CHATKIT_LANG", lang)
    arguments = labserver.lab_arguments(layout.KIT_ROOT)
    url = next(argument for argument in arguments if argument.startswith("--LabApp.default_url="))
    assert url.startswith(f"--LabApp.default_url=/lab/tree/{first}"), arguments
