"""`python -m chatkit lab`: JupyterLab on the walkthrough, set up the way a class needs it.

    python -m chatkit lab                    what `make lab` runs, on any OS and without make
    python -m chatkit lab --no-browser ...   anything it does not know goes to JupyterLab
    python -m chatkit lab --install-config   for hosted classrooms: the settings, into this environment

What it sets, and why:

* notebook 00 opens first, with the whole kit in the file browser (the
  exercises are edited there too);
* walkthrough notebooks are saved without outputs (nbstrip's pre_save_hook),
  so working through them never dirties the checkout;
* a terminal runs the kit's Python and pytest first, whatever the shell's
  startup files do (terminal.py);
* no pop-up over notebook 00 asking about JupyterLab's news, and no update
  check (JupyterLab's announcements plugin is off);
* 127.0.0.1 only, and --allow-root when run as root (containers);
* JupyterLab's menus in Korean when the kit speaks Korean (CHATKIT_LANG=ko,
  or a Korean locale): the language pack (jupyterlab-language-pack-ko-kr, in
  the lab extra) and its locale, ko_KR, as the default of JupyterLab's
  language setting (Settings > Language still changes it).

Run by a Python that has no chatkit installed (a fresh clone), it makes the
kit's .venv first and runs again in it (kitenv.py, from chatkit/__main__.py),
as `make lab` does.

The server's settings are JupyterLab configuration files, written by
``write_config``: this command puts them in a folder of its own on
JUPYTER_CONFIG_PATH for as long as JupyterLab runs; ``--install-config``
writes them into this Python's environment (``sys.prefix/etc/jupyter``) for
Binder, Codespaces or a hub's image, where the service starts JupyterLab
itself; there they also cull kernels idle for an hour.
"""

import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
from pathlib import Path

from chatkit.grader import layout
from chatkit.tools import kitenv, language, terminal
from chatkit.tools.nbstrip import walkthrough_notebooks

_ = language.translator()  # the command's help and messages in the kit's language

NEEDS = ["jupyterlab", "ipykernel", "ipywidgets"]
PAGE_CONFIG = {"disabledExtensions": {"@jupyterlab/apputils-extension:announcements": True}}
LANGUAGE_SETTING = "@jupyterlab/translation-extension:plugin"  # JupyterLab's Settings > Language
LAB_LOCALES = {"ko": "ko_KR"}  # the kit's language -> the locale of JupyterLab's language pack
HOSTED_KERNEL_CULLING = {"cull_idle_timeout": 3600, "cull_interval": 300, "cull_connected": True}


def server_config(login, hosted=False):
    """The Jupyter server settings the kit needs (JSON config: class name -> trait -> value)."""
    config = {"ContentsManager": {"pre_save_hook": "chatkit.tools.nbstrip.pre_save_hook"}}
    shell = terminal.command(login)
    if shell is not None:
        config["ServerApp"] = {"terminado_settings": {"shell_command": shell}}
    if hosted:
        config["MappingKernelManager"] = dict(HOSTED_KERNEL_CULLING)
    return config


def write_config(folder, login, hosted=False):
    """Write the kit's settings into a Jupyter configuration folder; return the files written.

    The server's settings join what the folder's jupyter_server_config.json already holds
    (an image may have one); JupyterLab's page settings get a file of their own.
    """
    folder = Path(folder)
    server_file = folder / "jupyter_server_config.json"
    settings = read_json(server_file)
    for section, values in server_config(login, hosted).items():
        settings.setdefault(section, {}).update(values)
    files = {server_file: settings, folder / "labconfig" / "page_config.d" / "chatkit.json": PAGE_CONFIG}
    for path, data in files.items():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")
    return list(files)


def settings_overrides(kit_language):
    """JupyterLab's default settings for the kit's language: {} for English, the Korean menus for "ko"."""
    locale = LAB_LOCALES.get(kit_language)
    return {LANGUAGE_SETTING: {"locale": locale}} if locale else {}


def app_settings_dir():
    """Where JupyterLab reads its default settings (overrides.json) in this environment."""
    app_dir = os.environ.get("JUPYTERLAB_DIR") or os.path.join(sys.prefix, "share", "jupyter", "lab")
    return Path(app_dir) / "settings"


def write_overrides(folder, overrides):
    """Write `overrides` as the kit's file of JupyterLab's default settings in an app settings folder."""
    path = Path(folder) / "overrides.d" / "chatkit.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(overrides, indent=2) + "\n", encoding="utf-8")
    return path


def read_json(path):
    try:
        return json.loads(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {}


def lab_arguments(root):
    """The arguments of this one start: where the kit is and what opens first."""
    folder = "notebooks"
    if language.current() != "en" and walkthrough_notebooks(Path(root) / "notebooks" / language.current()):
        folder = f"notebooks/{language.current()}"  # a Korean student starts in the Korean twins
    notebooks = walkthrough_notebooks(Path(root) / folder)
    arguments = ["--ip=127.0.0.1", f"--ServerApp.root_dir={root}"]
    if notebooks:
        arguments += [f"--ContentsManager.preferred_dir={folder}",
                      f"--LabApp.default_url=/lab/tree/{folder}/{notebooks[0].name}"]
    if hasattr(os, "getuid") and os.getuid() == 0:
        arguments.append("--allow-root")  # JupyterLab refuses root otherwise (containers run as root)
    return arguments


def environment(config_folder):
    """This process's environment, with the kit's settings and the kit's Python first on PATH."""
    env = dict(os.environ)
    env["JUPYTER_CONFIG_PATH"] = os.pathsep.join(filter(None, [str(config_folder), env.get("JUPYTER_CONFIG_PATH")]))
    env["PATH"] = os.pathsep.join(filter(None, [str(Path(sys.executable).parent), env.get("PATH")]))
    if sys.prefix != sys.base_prefix:
        env["VIRTUAL_ENV"] = sys.prefix
    return env


def run_jupyter(command, env):
    """Run JupyterLab until it stops; Ctrl+C is JupyterLab's to answer, SIGTERM is passed on."""
    process = subprocess.Popen(command, env=env)
    previous = {signal.SIGINT: signal.signal(signal.SIGINT, signal.SIG_IGN)}
    if hasattr(signal, "SIGTERM"):
        previous[signal.SIGTERM] = signal.signal(signal.SIGTERM, lambda number, frame: process.terminate())
    try:
        return process.wait()
    finally:
        for number, handler in previous.items():
            signal.signal(number, handler)


def add_arguments(parser):
    parser.add_argument("--root", help=_("the kit's folder (default: found from the current directory)"))
    parser.add_argument("--install-config", action="store_true",
                        help=_("write the kit's JupyterLab settings into this Python's environment (for hosted "
                               "classrooms, where the service starts JupyterLab) and exit"))
    parser.epilog = _("Other options (--no-browser, --port=N, ...) are passed on to JupyterLab.")


def main(args, jupyter_args=()):
    overrides = settings_overrides(language.current())
    if args.install_config:
        written = write_config(Path(sys.prefix) / "etc" / "jupyter", login=True, hosted=True)
        if overrides:  # an image made for Korean students (CHATKIT_LANG=ko when it is built)
            written.append(write_overrides(app_settings_dir(), overrides))
        for path in written:
            print(f"wrote {path}")
        return 0
    root = Path(args.root).resolve() if args.root else layout.kit_root()
    if not (root / "notebooks").is_dir():
        print(_("There is no notebooks/ folder in {root}: run this in the kit's folder (or set {variable}).").format(
            root=root, variable=layout.ROOT_VARIABLE), file=sys.stderr)
        return 2
    missing = kitenv.missing_modules(NEEDS)
    if missing:
        print(_("This Python ({executable}) has chatkit but not {missing}: pip install 'chatkit[lab]' (in the kit's "
                "folder: make lab, or pip install '.[lab]')").format(
            executable=sys.executable, missing=', '.join(missing)), file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory(prefix="chatkit-jupyter-config-") as config_folder:
        # JupyterLab makes terminals login shells when it has no terminal of its own: so does the kit's
        write_config(config_folder, login=not sys.stdout.isatty())
        settings = []
        if overrides:  # this environment's default settings, and the kit's language on top
            folder = Path(config_folder) / "lab-settings"
            if app_settings_dir().is_dir():
                shutil.copytree(app_settings_dir(), folder)
            write_overrides(folder, overrides)
            settings = [f"--LabApp.app_settings_dir={folder}"]
        command = [sys.executable, "-m", "jupyterlab", *lab_arguments(root), *settings, *jupyter_args]
        return run_jupyter(command, environment(config_folder))
