"""The hosted classrooms' files, checked as far as this machine can: Binder's dry run, Codespaces' config.

There is no Docker engine here: repo2docker builds nothing (--no-build), but
it reads binder/ as Binder would and writes the Dockerfile it would build,
which must have the Python of runtime.txt, the packages of apt.txt and the
postBuild that installs the kit (with only what the walkthrough needs) and
its JupyterLab settings. The devcontainer.json is read as JSON with
comments, checked against the properties the Dev Container spec defines
(and, where the devcontainer CLI is installed, read by it too).
"""

import json
import os
import re
import shutil
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from chatkit.tools import system
from editions import KIT, run, student_edition, student_env  # noqa: F401

REPO2DOCKER = shutil.which("repo2docker") or shutil.which("repo2docker", path=str(Path(sys.executable).parent))
DEVCONTAINER_CLI = shutil.which("devcontainer")
# devcontainer.json properties (containers.dev/implementors/json_reference), with their JSON types
DEVCONTAINER_PROPERTIES = {
    "name": str, "image": str, "build": dict, "features": dict, "forwardPorts": list, "portsAttributes": dict,
    "otherPortsAttributes": dict, "containerEnv": dict, "remoteEnv": dict, "remoteUser": str, "containerUser": str,
    "updateRemoteUserUID": bool, "userEnvProbe": str, "overrideCommand": bool, "shutdownAction": str, "init": bool,
    "privileged": bool, "capAdd": list, "securityOpt": list, "mounts": list, "runArgs": list, "appPort": (int, str, list),
    "workspaceFolder": str, "workspaceMount": str, "initializeCommand": (str, list, dict), "onCreateCommand": (str, list, dict),
    "updateContentCommand": (str, list, dict), "postCreateCommand": (str, list, dict),
    "postStartCommand": (str, list, dict), "postAttachCommand": (str, list, dict), "waitFor": str,
    "customizations": dict, "hostRequirements": dict,
}
PORT_ATTRIBUTES = {"label", "protocol", "onAutoForward", "requireLocalPort", "elevateIfNeeded"}


def jsonc(text):
    """JSON with // comments and trailing commas (what devcontainer.json is written in)."""
    text = re.sub(r'("(?:\\.|[^"\\])*")|//[^\n]*', lambda match: match.group(1) or "", text)
    return json.loads(re.sub(r",(\s*[}\]])", r"\1", text))


def binder(name):
    return (KIT / "binder" / name).read_text(encoding="utf-8")


def apt_packages():
    return [line.strip() for line in binder("apt.txt").splitlines() if line.strip() and not line.startswith("#")]


def test_binder_installs_the_light_kit_its_settings_and_the_window_packages():
    post_build = KIT / "binder" / "postBuild"
    assert post_build.stat().st_mode & stat.S_IXUSR, "postBuild must be executable"
    script = post_build.read_text(encoding="utf-8")
    assert "pip install --no-cache-dir '.[lab]'" in script, "only what the walkthrough needs (no test tools)"
    assert "python -m chatkit lab --install-config" in script
    debian = {package for tool in system.TOOLS for package in tool.debian}
    assert set(apt_packages()) <= debian and {"xvfb", "fonts-nanum"} <= set(apt_packages())
    assert re.fullmatch(r"python-3\.1[0-9]\n", binder("runtime.txt"))


@pytest.mark.skipif(REPO2DOCKER is None, reason="jupyter-repo2docker is not installed (pip install "
                                                "jupyter-repo2docker; the kit's dev extra has it)")
def test_binder_dry_run_of_the_students_edition(student_edition):  # noqa: F811
    done = run([REPO2DOCKER, "--no-build", "--no-run", "--debug", str(student_edition)], student_edition,
               env=student_env(), timeout=300)
    version = binder("runtime.txt").strip().removeprefix("python-")
    assert f"python={version}" in done.stdout, done.stdout[-3000:]
    apt_line = next(line for line in done.stdout.splitlines() if "apt-get install" in line and "--yes" in line)
    assert set(apt_packages()) <= set(apt_line.replace("&&", " ").split()), apt_line
    assert "./binder/postBuild" in done.stdout


def devcontainer():
    return jsonc((KIT / ".devcontainer" / "devcontainer.json").read_text(encoding="utf-8"))


def test_devcontainer_uses_only_properties_of_the_spec_with_their_types():
    config = devcontainer()
    unknown = set(config) - set(DEVCONTAINER_PROPERTIES)
    assert not unknown, f"not devcontainer.json properties: {unknown}"
    for key, value in config.items():
        assert isinstance(value, DEVCONTAINER_PROPERTIES[key]), (key, value)
    for attributes in config["portsAttributes"].values():
        assert set(attributes) <= PORT_ATTRIBUTES


def test_devcontainer_installs_python_the_kit_fonts_xvfb_and_forwards_jupyterlab():
    config = devcontainer()
    python = re.search(r"python:(3\.\d+)$", config["image"])
    assert python and python.group(1) == binder("runtime.txt").strip().removeprefix("python-"), "Binder's Python"
    create = config["postCreateCommand"]
    assert {"xvfb", "fonts-nanum", "xdotool"} <= set(create.split()), create
    assert "pip install --no-cache-dir -e '.[lab]'" in create and "python -m chatkit lab --install-config" in create
    lab = " ".join(config["postAttachCommand"].values())
    port = int(re.search(r"--port=(\d+)", lab).group(1))
    assert "python -m chatkit lab" in lab and port in config["forwardPorts"] and str(port) in config["portsAttributes"]


@pytest.mark.skipif(DEVCONTAINER_CLI is None, reason="the devcontainer CLI is not installed (npm install -g @devcontainers/cli)")
def test_the_devcontainer_cli_reads_it(tmp_path):
    fake_docker = tmp_path / "docker"  # no Docker here: `docker ps` answers that no container exists yet
    fake_docker.write_text("#!/bin/sh\nexit 0\n")
    fake_docker.chmod(0o755)
    env = dict(os.environ, PATH=f"{tmp_path}{os.pathsep}{os.environ['PATH']}")
    done = subprocess.run([DEVCONTAINER_CLI, "read-configuration", "--workspace-folder", str(KIT)], env=env,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    assert json.loads(done.stdout)["configuration"]["forwardPorts"] == devcontainer()["forwardPorts"]
