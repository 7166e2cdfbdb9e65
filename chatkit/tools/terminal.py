"""The shell of a JupyterLab terminal that chatkit starts: the kit's Python comes first.

JupyterLab runs $SHELL for a terminal, and a login shell when the server
was started without a terminal of its own (by a hub, a service, or in the
background). The user's startup files then decide what ``python`` and
``pytest`` are: pyenv or conda put their own first in ~/.bashrc, Debian's
/etc/profile sets PATH anew. `pytest exercises/` then runs another
Python's pytest, which cannot import chatkit.

This shell is bash with the kit's startup file (terminal.bashrc beside this
module): it reads the files bash would have read for that kind of shell,
then puts the folder of the Python that runs JupyterLab (the kit's) first
on PATH. Where there is no bash (Windows), JupyterLab's own shell runs,
with the PATH the server was given.

    command(login)     the terminal command for JupyterLab's terminado_settings
"""

import os
import shutil
import sys
from pathlib import Path

RCFILE = Path(__file__).with_name("terminal.bashrc")


def command(login):
    """[program, args...] that starts this shell; None on Windows, and where there is no bash."""
    if os.name == "nt" or shutil.which("bash") is None:  # Windows' bash.exe would be WSL's: another machine
        return None
    return [sys.executable, "-m", "chatkit.tools.terminal", *(["--login"] if login else [])]


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    bash = shutil.which("bash")
    environment = dict(os.environ, CHATKIT_BIN=str(Path(sys.executable).parent),
                       CHATKIT_LOGIN_SHELL="1" if "--login" in argv else "")
    os.execve(bash, [bash, "--rcfile", str(RCFILE), "-i"], environment)


if __name__ == "__main__":
    main()
