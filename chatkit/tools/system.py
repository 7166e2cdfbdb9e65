"""The programs outside Python that the kit's full checks use, and how each OS installs them.

    python -m chatkit.tools.system            what this machine lacks, and the command that installs it
    python -m chatkit.tools.system --debian   the Debian packages, one line (what .ci/run installs)

Learning with the kit needs none of them: the walkthrough, the exercises
and the grader need Python only. Without them `make test` passes what can
run, skips the checks that need them and names, once at the end, what it
skipped and the command that installs it. The README's "What the checks
need" lists these same lines (a test compares them).

Only the standard library here: .ci/run calls this before anything is installed.
"""

import argparse
import shutil
import sys
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Tool:
    program: str  # what is looked for on PATH
    used_for: str
    debian: tuple  # packages, Debian and Ubuntu
    fedora: tuple
    macos: tuple = ()  # Homebrew formulas; () where the checks that need it are Linux-only

    def present(self):
        return (chromium() if self.program == "chromium" else shutil.which(self.program)) is not None


TOOLS = [
    Tool("nc", "a real nc as a chat client (test_client, test_gui)", ("netcat-openbsd",), ("nmap-ncat",)),
    Tool("Xvfb", "the tkinter window on a virtual screen, with Hangul fonts (test_gui, notebook 07's screenshot)",
         ("xvfb", "x11-utils", "fonts-nanum", "fonts-dejavu-core"), ("xorg-x11-server-Xvfb", "xorg-x11-utils",
                                                                   "naver-nanum-gothic-fonts", "dejavu-sans-fonts")),
    Tool("xdotool", "key presses into that window (test_gui, notebook 07)", ("xdotool",), ("xdotool",)),
    Tool("chromium", "JupyterLab in a real browser (test_browser)", ("chromium",), ("chromium",), ("--cask chromium",)),
    Tool("tmux", "the terminal client driven like a user", ("tmux",), ("tmux",), ("tmux",)),
    Tool("node", "GitHub Classroom's own reporter run on the kit's results (test_hosted)", ("nodejs",), ("nodejs",),
         ("node",)),
    Tool("redis-server", "one room across several servers (test_sharedroom, notebook 09)",
         ("redis-server",), ("redis",), ("redis",)),
]
DEBIAN_CHROMIUM = "/usr/lib/chromium/chromium"  # the browser itself, behind Debian's /usr/bin/chromium script


def chromium():
    """The chromium on PATH (the browser test drives it), or None."""
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if found and Path(found).resolve() == Path("/usr/bin/chromium") and Path(DEBIAN_CHROMIUM).exists():
        return DEBIAN_CHROMIUM
    return found


def missing():
    return [tool for tool in TOOLS if not tool.present()]


def install_command(tools, system=None):
    """The one command that installs `tools` on this kind of machine ('' if it cannot)."""
    system = system or this_system()
    if system == "debian":
        return "sudo apt-get install " + " ".join(package for tool in tools for package in tool.debian)
    if system == "fedora":
        return "sudo dnf install " + " ".join(package for tool in tools for package in tool.fedora)
    if system == "macos":
        formulas = [formula for tool in tools for formula in tool.macos]
        casks = [formula.removeprefix("--cask ") for formula in formulas if formula.startswith("--cask ")]
        commands = [f"brew install {' '.join(f for f in formulas if not f.startswith('--cask '))}".strip()]
        if casks:
            commands.append(f"brew install --cask {' '.join(casks)}")
        return "; ".join(command for command in commands if command != "brew install")
    return ""


def readme_lines():
    """One line per OS: what the README says the full checks need."""
    return [f"Debian, Ubuntu: {install_command(TOOLS, 'debian')}",
            f"Fedora: {install_command(TOOLS, 'fedora')}",
            f"macOS: {install_command(TOOLS, 'macos')} (the window tests need X11: they run on Linux)",
            "Windows: none; the kit's own checks (make test) run on Linux and macOS, students use python -m chatkit lab "
            "and check"]


def this_system():
    if sys.platform == "darwin":
        return "macos"
    if sys.platform.startswith("linux"):
        try:
            with open("/etc/os-release", encoding="utf-8") as release:
                text = release.read().lower()
        except OSError:
            text = ""
        if "fedora" in text or "rhel" in text:
            return "fedora"
        return "debian"
    return sys.platform


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m chatkit.tools.system", description=__doc__.splitlines()[0])
    parser.add_argument("--debian", action="store_true", help="print every Debian package the checks use, and exit")
    args = parser.parse_args(argv)
    if args.debian:
        print(" ".join(package for tool in TOOLS for package in tool.debian))
        return 0
    lacking = missing()
    for tool in TOOLS:
        print(f"{'ok' if tool not in lacking else 'MISSING':8} {tool.program:9} {tool.used_for}")
    if lacking:
        print(f"\nInstall them: {install_command(lacking) or 'not available on this system'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
