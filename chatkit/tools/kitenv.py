"""The kit's own Python environment: .venv in the kit's folder, made the first time, kept in step.

    python -m chatkit.tools.kitenv [lab|dev]     make or update .venv (what `make` runs first)

`python -m chatkit lab`, `check`, `progress` and the other commands that
need the kit's dependencies use it by themselves when the Python that runs
them has no chatkit installed (a fresh clone, any OS, no make): they make
.venv, then run again in it. The kit is installed
editable with the extras the command needs: ``lab`` (the walkthrough:
JupyterLab, nbclient) for students, ``dev`` (the kit's own test tools too)
for `make test` in the instructors' edition. uv installs it when it can
(several times faster than pip), pip otherwise, with byte code compiled
(compile_kit says why). ``.venv/chatkit-installed`` records what was
installed and from which pyproject.toml, so a later run reinstalls only
when that changed or more extras are needed, and a .venv made by another
Python version is made anew.

Only the standard library here (and chatkit.tools.language, which is only
gettext): this module runs in whatever Python the student has, before
anything is installed.
"""

import argparse
import hashlib
import json
import os
import shutil
import subprocess
import sys
import venv
from importlib import metadata, util
from pathlib import Path

from chatkit.tools.language import translator  # the standard library only, like this module

_ = translator()  # what it says to a student, in the kit's language

VENV = ".venv"
SOURCE = Path(__file__).resolve().parents[2]  # the folder this chatkit runs from (a checkout, or site-packages)
STAMP = "chatkit-installed"
IN_KIT_VENV = "CHATKIT_IN_KIT_VENV"  # set when a command runs itself again in .venv: never a second time
EXTRAS = ("lab", "dev")  # each includes the one before it (pyproject.toml)


def python_in(venv_dir):
    """The Python of a virtual environment folder."""
    folder = Path(venv_dir)
    return folder / "Scripts" / "python.exe" if os.name == "nt" else folder / "bin" / "python"


def bin_dir(venv_dir):
    return python_in(venv_dir).parent


def installed_here():
    """Is chatkit installed in this Python (not merely importable from the kit's folder)?"""
    # The chatkit.egg-info that building the kit leaves in its folder does not count.
    places = [Path(found.locate_file("")).resolve() for found in metadata.distributions(name="chatkit")]
    return any(not is_checkout(place) for place in places)


def missing_modules(names):
    return [name for name in names if util.find_spec(name) is None]


def is_checkout(folder):
    """A folder the kit can be installed from (its pyproject.toml names the chatkit project)."""
    try:
        text = (Path(folder) / "pyproject.toml").read_text(encoding="utf-8")
    except OSError:
        return False
    return 'name = "chatkit"' in text and (Path(folder) / "chatkit" / "__init__.py").is_file()


def wanted_state(folder, extras):
    pyproject = (Path(folder) / "pyproject.toml").read_bytes()
    return {"pyproject": hashlib.sha256(pyproject).hexdigest(), "extras": sorted(extras),
            "python": ".".join(map(str, sys.version_info[:2]))}


def recorded_state(venv_dir):
    try:
        return json.loads((Path(venv_dir) / STAMP).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}


def venv_version(venv_dir):
    """'3.12' for a .venv made by Python 3.12 (from its pyvenv.cfg); None if there is none."""
    try:
        lines = (Path(venv_dir) / "pyvenv.cfg").read_text(encoding="utf-8").splitlines()
    except OSError:
        return None
    for line in lines:
        key, _, value = line.partition("=")
        if key.strip() in ("version", "version_info"):
            return ".".join(value.strip().split(".")[:2])
    return None


def up_to_date(folder, extras, venv_dir):
    recorded, wanted = recorded_state(venv_dir), wanted_state(folder, extras)
    return (python_in(venv_dir).exists() and recorded.get("pyproject") == wanted["pyproject"]
            and recorded.get("python") == wanted["python"] and set(extras) <= set(recorded.get("extras", [])))


def ensure(folder, extras=("lab",), venv_dir=None, say=print):
    """Make or update the kit's .venv with `extras`, from this Python; return the path of its Python.

    Run by the Python that should be in the .venv (`make PYTHON=...` picks it).
    """
    folder = Path(folder).resolve()
    venv_dir = Path(venv_dir or folder / VENV)
    if not venv_dir.is_absolute():
        venv_dir = folder / venv_dir
    if up_to_date(folder, extras, venv_dir):
        return python_in(venv_dir)
    version = ".".join(map(str, sys.version_info[:2]))
    made_by = venv_version(venv_dir)
    if made_by and made_by != version and Path(sys.prefix).resolve() != venv_dir.resolve():
        say(_("{venv} was made with Python {made_by}; making it again with Python {version} ({executable})").format(
            venv=venv_dir.name, made_by=made_by, version=version, executable=sys.executable))
        shutil.rmtree(venv_dir)
    if not python_in(venv_dir).exists():
        say(_("Making {venv} with Python {version} and installing the kit (about a minute, the first time)...").format(
            venv=venv_dir.name, version=version))
        venv.EnvBuilder(with_pip=True, clear=venv_dir.exists()).create(venv_dir)
    # Everything installed so far stays (lab after dev keeps the test tools).
    extras = sorted(set(extras) | set(recorded_state(venv_dir).get("extras", [])))
    install(folder, venv_dir, extras)
    (venv_dir / STAMP).write_text(json.dumps(wanted_state(folder, extras)) + "\n", encoding="utf-8")
    return python_in(venv_dir)


def install(folder, venv_dir, extras):
    python = str(python_in(venv_dir))
    target = f"{folder}[{','.join(extras)}]" if extras else str(folder)
    quiet = ["--quiet", "--disable-pip-version-check"]
    uv = bin_dir(venv_dir) / ("uv.exe" if os.name == "nt" else "uv")
    if not uv.exists():
        subprocess.run([python, "-m", "pip", "install", *quiet, "uv"], check=False)
    installed = False
    if uv.exists():
        # --compile-bytecode: what pip does by itself (uv leaves it to the first import)
        installed = subprocess.run([str(uv), "pip", "install", "--quiet", "--compile-bytecode", "--python", python,
                                    "-e", target], check=False).returncode == 0
    if not installed:
        subprocess.run([python, "-m", "pip", "install", *quiet, "-e", target], check=True)
    compile_kit(python, folder)


def compile_kit(python, folder):
    """Compile the kit's own modules now, as an install in site-packages would have been.

    A grading run never writes byte code (nor does any Python where
    PYTHONDONTWRITEBYTECODE is set): whatever it imports without a .pyc
    is compiled again every run, which cost `pytest exercises/` 0.6 CPU-s
    with pytest's own modules among them.
    """
    subprocess.run([python, "-m", "compileall", "-q", str(Path(folder) / "chatkit")], check=False,
                   stdout=subprocess.DEVNULL)


def run_elsewhere_if_needed(argv, root=SOURCE):
    """None if this Python has chatkit installed; else run `python -m chatkit ARGV` in the kit's
    .venv (made first if need be) and return its exit status."""
    if installed_here():
        os.environ.pop(IN_KIT_VENV, None)  # not for what this command starts
        return None
    if os.environ.get(IN_KIT_VENV):
        print(_("The kit's .venv ({prefix}) still has no chatkit installed: delete it and run this again").format(
            prefix=sys.prefix), file=sys.stderr)
        return 2
    if not is_checkout(root):
        print(_("This Python ({executable}) has no chatkit installed: pip install 'chatkit[lab]', "
                "or run this in the kit's folder").format(executable=sys.executable), file=sys.stderr)
        return 2
    python = ensure(root, ["lab"], say=lambda text: print(text, file=sys.stderr))
    os.environ[IN_KIT_VENV] = "1"
    return run_in_venv(python, argv)


def run_in_venv(python, argv):
    """Run `python -m chatkit ARGV` in the kit's .venv, as this process's replacement; return its status."""
    command = [str(python), "-m", "chatkit", *argv]
    if os.name == "nt":  # exec on Windows starts a new process and returns at once: wait for it instead
        return subprocess.call(command)
    sys.stdout.flush()
    os.execv(command[0], command)
    return 0  # not reached


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m chatkit.tools.kitenv", description=__doc__.splitlines()[0])
    parser.add_argument("extras", nargs="*", metavar="EXTRA",
                        help="what to install besides the kit: lab (the walkthrough, the default), dev (the kit's tests too)")
    parser.add_argument("--venv", default=VENV, help="the environment's folder (default: .venv in the kit's folder)")
    parser.add_argument("--root", default=".", help="the kit's folder (default: the current directory)")
    args = parser.parse_args(argv)
    unknown = sorted(set(args.extras) - set(EXTRAS))
    if unknown:
        parser.error(f"unknown extras {unknown}: choose from {', '.join(EXTRAS)}")
    if not is_checkout(args.root):
        parser.error(f"{Path(args.root).resolve()} is not the kit's folder (no pyproject.toml of chatkit there)")
    if sys.version_info < (3, 10):
        parser.error(f"chatkit needs Python 3.10 or newer; this is {sys.version.split()[0]} ({sys.executable})")
    print(ensure(args.root, args.extras or ["lab"], args.venv, say=lambda text: print(text, file=sys.stderr)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
