"""`python -m chatkit doctor`: why a Tk window cannot open here, and the one fix to try first.

A Tk window needs three things, checked in this order:

    1. tkinter in this Python      its C half, _tkinter, is linked to Tcl/Tk when
                                   Python is built; pyenv and minimal images may lack it
    2. a display to draw on        on Linux Tk speaks X11 only: DISPLAY names the X
                                   server (":0" this machine, "localhost:10.0" ssh -X)
    3. that server answering       exporting DISPLAY does not start a server: the
                                   report's `couldn't connect to display ":0.0"`

Each check reads facts (environment variables, /proc/version, a few files)
from arguments the tests replace, so every diagnosis is tested on any machine.
The last line printed is the verdict: OK, or the one fix to try first.

Notes that never stop a window from opening come before it: fonts for
Hangul and for emoji (without one, the window names a symbol it cannot
draw, 👍 as :thumbs up sign:, with `symbol_fallback`, instead of a box).
"""

import bisect
import functools
import importlib
import os
import re
import shutil
import socket
import subprocess
import sys
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path

from chatkit.tools.language import N_, translator

_ = translator()  # the diagnosis in the kit's language (CHATKIT_LANG, else the locale)

PROBE_TIMEOUT = 10.0  # seconds for Tk to open a window; a firewalled X server never answers
TK_PROBE = "import tkinter; tkinter.Tk().destroy()"
DISPLAY_NAME = re.compile(r"(?P<host>[^:]*):(?P<number>\d+)(?:\.\d+)?")
NOTEBOOK_CLIENT = N_("chat from a notebook instead, no screen needed: from chatkit.lab.panel import ChatPanel")
XVFB_RUN = "xvfb-run python -m chatkit gui"  # a virtual screen: nobody sees it, screenshots do
THUMBS_UP = "\U0001f44d"  # 👍: the emoji a font for emoji must have
EMOJI_FONTS = {  # platform -> (a file that is there when the system has its emoji font, how to get it)
    "darwin": ("/System/Library/Fonts/Apple Color Emoji.ttc", N_("Apple Color Emoji comes with macOS: reinstall "
                                                                 "or update macOS to get it back")),
    "win32": ("{windir}/Fonts/seguiemj.ttf", N_("Segoe UI Emoji comes with Windows 10 and 11 (on Windows 7: "
                                                "update KB2729094)")),
}
EMOJI_PACKAGES = N_("sudo apt install fonts-noto-color-emoji, or fonts-symbola; Fedora: "
                    "google-noto-emoji-color-fonts")


@dataclass
class Diagnosis:
    findings: list = field(default_factory=list)  # (mark, text): mark is ok, FAIL, note
    fix: str = ""  # the one thing to try first; empty if a window can open

    def add(self, mark, text):
        self.findings.append((mark, text))

    @property
    def verdict(self):
        return _("Fix first: {fix}").format(fix=self.fix) if self.fix else _("OK: Tk can open a window here.")

    def report(self):
        lines = [_("chatkit doctor: can a Tk window open here?"), ""]
        lines += [f"  {mark:4}  {text}" for mark, text in self.findings]
        return "\n".join([*lines, "", self.verdict])


class Machine:
    """The facts the checks read; each can be replaced to fake another machine."""

    def __init__(self, environ=None, root="/", platform=sys.platform, python_prefix=sys.base_prefix,
                 probe=None, listening=None):
        self.environ = dict(os.environ if environ is None else environ)
        self.root = Path(root)  # where /proc, /mnt/wslg and /etc are looked up
        self.platform = platform
        self.python_prefix = python_prefix
        self.probe = probe or open_window  # probe(environ) -> None, or why Tk could not open a window
        self.listening = listening or x_server_listening  # listening(display) -> is an X server there?

    def file_text(self, path):
        try:
            return (self.root / path.lstrip("/")).read_text(errors="replace")
        except OSError:
            return ""

    def exists(self, path):
        return (self.root / path.lstrip("/")).exists()

    def which(self, program):
        return shutil.which(program, path=self.environ.get("PATH", ""))

    @property
    def wsl(self):
        """'WSL1', 'WSL2' or '' (not Windows Subsystem for Linux)."""
        version = self.file_text("/proc/version").lower()
        if "microsoft" not in version and "WSL_DISTRO_NAME" not in self.environ:
            return ""
        return "WSL2" if "wsl2" in version else "WSL1"

    @property
    def ssh(self):
        return any(name in self.environ for name in ("SSH_CONNECTION", "SSH_CLIENT", "SSH_TTY"))


def open_window(environ, timeout=PROBE_TIMEOUT):
    """Try to open (and close) a Tk window in a fresh Python; None if it worked, else why not."""
    try:
        # PYTHON_COLORS=0: Python 3.13 colours the traceback read below when FORCE_COLOR is set (ipykernel sets it)
        result = subprocess.run([sys.executable, "-c", TK_PROBE], env={**environ, "PYTHON_COLORS": "0"},
                                capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        return f"no answer within {timeout:g} s"
    if result.returncode == 0:
        return None
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    errors = [line for line in lines if "TclError" in line] or lines[-1:] or ["it failed"]
    xlib = [line for line in lines if "authoriz" in line.lower() or "protocol specified" in line]
    return "; ".join(xlib + [errors[-1].removeprefix("_tkinter.TclError: ")])


def x_server_listening(display, timeout=2.0):
    """True if something accepts connections where `display` (":0", "host:10.0") points."""
    match = DISPLAY_NAME.fullmatch(display or "")
    if not match:
        return False
    number = int(match["number"])
    if match["host"] in ("", "unix"):
        addresses = [(socket.AF_UNIX, f"\0/tmp/.X11-unix/X{number}"), (socket.AF_UNIX, f"/tmp/.X11-unix/X{number}")]
    else:
        addresses = [(socket.AF_INET, (match["host"], 6000 + number))]
    for family, address in addresses:
        try:
            with socket.socket(family, socket.SOCK_STREAM) as sock:
                sock.settimeout(timeout)
                sock.connect(address)
                return True
        except OSError:
            continue
    return False


def unused_display(start=90):
    """A display name no X server listens on (to show what happens without one)."""
    return next(f":{n}" for n in range(start, start + 100) if not x_server_listening(f":{n}"))


def check_tkinter(machine, diagnosis):
    """1. Is tkinter there? Return the fix if not."""
    try:
        importlib.import_module("_tkinter")
        tkinter = importlib.import_module("tkinter")
    except ImportError as error:
        diagnosis.add("FAIL", _("this Python ({executable}) has no tkinter: {error}").format(
            executable=sys.executable, error=error))
        return install_tkinter(machine)
    diagnosis.add("ok", _("Python {python} has tkinter (Tk {tk})").format(
        python=sys.version.split()[0], tk=tkinter.TkVersion))
    return None


def install_tkinter(machine):
    """How to get tkinter for this kind of Python.

    On macOS, Tk 8.6 is what works: python.org's installer includes it;
    Homebrew's python-tk now links Tk 9, which tkinter does not fully
    support (some calls fail); pyenv builds against Homebrew's Tk, so it
    needs tcl-tk@8 installed first.
    """
    prefix = machine.python_prefix
    version = ".".join(map(str, sys.version_info[:3]))
    minor = ".".join(map(str, sys.version_info[:2]))
    if "/.pyenv/" in prefix + "/":
        if machine.platform == "darwin":
            return (_("pyenv built this Python without Tk: brew install tcl-tk@8, then pyenv install --force "
                      "{version} (pyenv needs Tk 8; Homebrew's tcl-tk is Tk 9 now)").format(version=version))
        return _("pyenv built this Python without Tk: sudo apt install tk-dev, "
                 "then pyenv install --force {version}").format(version=version)
    if "conda" in prefix or "mamba" in prefix:
        return _("conda install tk")
    if machine.platform == "darwin":
        return (_("install Python {minor} from python.org: its installer includes Tk 8.6 (Homebrew's "
                  "python-tk@{minor} links Tk 9, which tkinter does not fully support)").format(minor=minor))
    if machine.platform == "win32":
        return _("run the python.org installer again: Modify, and tick 'tcl/tk and IDLE'")
    if machine.exists("/etc/debian_version"):
        return _("sudo apt install python3-tk")
    if machine.exists("/etc/fedora-release") or machine.exists("/etc/redhat-release"):
        return _("sudo dnf install python3-tkinter")
    return _("install a Python built with Tk (the python.org installers are), or {notebook_client}").format(
        notebook_client=_(NOTEBOOK_CLIENT))


def window_fix(machine):
    """What to try when tkinter is there but no window opens on Windows or macOS."""
    if machine.platform == "darwin":
        return _("install Python from python.org: its installer includes Tk 8.6, the Tk tkinter is made for")
    return _("reinstall Python from python.org, with 'tcl/tk and IDLE' ticked (it includes Tk)")


def check_display(machine, diagnosis):
    """2 and 3. Is there a display, and does it answer? Return the fix if not."""
    env = machine.environ
    if machine.platform in ("win32", "darwin"):
        diagnosis.add("ok", _("Windows and macOS draw Tk windows themselves: no DISPLAY needed"))
        return check_window(machine, diagnosis, window_fix(machine))
    describe_machine(machine, diagnosis)
    display = env.get("DISPLAY", "")
    if not display:
        if env.get("WAYLAND_DISPLAY") and not machine.wsl:  # WSLg sets both; its fix is below
            diagnosis.add("FAIL", _("WAYLAND_DISPLAY={wayland} but no DISPLAY: Tk needs X11 (XWayland)").format(
                wayland=env['WAYLAND_DISPLAY']))
            return _("install XWayland (it sets DISPLAY in a Wayland session), or log in with an X11 session")
        diagnosis.add("FAIL", _("DISPLAY is not set: there is no screen for Tk to draw on"))
        return no_display_fix(machine)
    if not DISPLAY_NAME.fullmatch(display):
        diagnosis.add("FAIL", _("DISPLAY={display} is not a display name "
                                "(like :0, or localhost:10.0 over ssh -X)").format(display=display))
        return _("correct DISPLAY (now {display!r}); on this machine's own screen it is usually :0").format(
            display=display)
    warn_about_startup_files(machine, diagnosis)
    if not machine.listening(display):
        diagnosis.add("FAIL", _("DISPLAY={display}, but no X server is listening there; setting DISPLAY does not "
                                "start one").format(display=display))
        return no_server_fix(machine, display)
    diagnosis.add("ok", _("an X server is listening at DISPLAY={display}").format(display=display))
    return check_window(machine, diagnosis, access_fix(machine))


def describe_machine(machine, diagnosis):
    if machine.wsl:
        wslg = _("with WSLg (Windows' own X server)") if machine.exists("/mnt/wslg") else _("without WSLg")
        diagnosis.add("note", _("Windows Subsystem for Linux ({wsl}), {wslg}").format(wsl=machine.wsl, wslg=wslg))
    if machine.ssh:
        forwarded = machine.environ.get("DISPLAY", "").startswith("localhost:")
        diagnosis.add("note", _("logged in over SSH, with X forwarding") if forwarded
                      else _("logged in over SSH, without X forwarding"))
    if "JUPYTERHUB_USER" in machine.environ:
        diagnosis.add("note", _("running on a JupyterHub: its server has no screen"))


def no_display_fix(machine):
    if machine.wsl == "WSL2":
        if machine.exists("/mnt/wslg"):
            return _("export DISPLAY=:0 (WSLg's screen; something in your shell startup unset it)")
        return _("in Windows PowerShell: wsl --update, then wsl --shutdown; reopen Linux: WSLg gives it a screen")
    if machine.wsl == "WSL1":
        return (_("start an X server on Windows (VcXsrv: XLaunch, tick 'Disable access control'), then export "
                  "DISPLAY=localhost:0; or convert to WSL 2: wsl --set-version <distro> 2"))
    if machine.ssh:
        return _("log in again with ssh -X (the server needs X11Forwarding yes and xauth); ssh sets DISPLAY itself")
    if "JUPYTERHUB_USER" in machine.environ or machine.exists("/.dockerenv"):
        return _(NOTEBOOK_CLIENT)
    return _("run it in a desktop session (not a text console), or {xvfb}").format(xvfb=use_xvfb(machine))


def no_server_fix(machine, display):
    if machine.ssh and not display.startswith("localhost:"):
        return (_("over SSH, {display} is the server's own screen, not yours: remove 'export DISPLAY' from your "
                  "shell startup files and log in again with ssh -X").format(display=display))
    if machine.ssh:
        return _("log in again with ssh -X: this session's X forwarding is gone")
    if machine.wsl == "WSL2" and machine.exists("/mnt/wslg"):
        return _("in Windows PowerShell: wsl --shutdown; reopen Linux so WSLg starts its X server at :0 again")
    if machine.wsl == "WSL2":
        return (_("in Windows PowerShell: wsl --update, then wsl --shutdown (gives you WSLg); or start VcXsrv and "
                  "export DISPLAY=$(ip route show default | awk '{print $3}'):0"))
    if machine.wsl == "WSL1":
        return _("start an X server on Windows (VcXsrv: XLaunch, tick 'Disable access control'), then export "
                 "DISPLAY=localhost:0")
    return _("start the X server for {display} (log in to the desktop), or {xvfb}").format(
        display=display, xvfb=use_xvfb(machine))


def use_xvfb(machine):
    if machine.which("Xvfb"):
        return _("draw on a virtual screen: {xvfb_run}").format(xvfb_run=XVFB_RUN)
    return _("draw on a virtual screen: sudo apt install xvfb, then {xvfb_run}").format(xvfb_run=XVFB_RUN)


def access_fix(machine):
    if machine.ssh:
        return _("install xauth on the server and log in again with ssh -X (or ssh -Y)")
    return _("run it as the user logged in to the desktop (sudo drops the X authority: run without sudo)")


def check_window(machine, diagnosis, fix):
    """3. The real test: can a fresh Python open a Tk window with this environment?"""
    problem = machine.probe(machine.environ)
    if problem is None:
        diagnosis.add("ok", _("a Tk window opened and closed"))
        return None
    diagnosis.add("FAIL", _("Tk could not open a window: {problem}").format(problem=problem))
    return fix


def warn_about_startup_files(machine, diagnosis):
    """The report's trap: a DISPLAY written into .bash_profile overrides the right one."""
    home = Path(machine.environ.get("HOME", "~")).expanduser()
    for name in (".bash_profile", ".bashrc", ".profile", ".zshrc"):
        try:
            lines = (home / name).read_text(errors="replace").splitlines()
        except OSError:
            continue
        for number, line in enumerate(lines, 1):
            if re.match(r"\s*(export\s+)?DISPLAY=", line):
                diagnosis.add("note", _("~/{name} line {number} sets DISPLAY ({line}): it wins over what ssh -X or "
                                        "WSLg set").format(name=name, number=number, line=line.strip()))


def notes(machine, diagnosis):
    """Useful to know, never the reason a window cannot open."""
    if machine.platform.startswith("linux"):
        if machine.which("Xvfb"):
            diagnosis.add("note", _("Xvfb is installed: `{xvfb_run}` draws on a virtual screen "
                                    "(tests, screenshots)").format(xvfb_run=XVFB_RUN))
        families = font_families(machine, ":lang=ko")
        if families:
            diagnosis.add("ok", _("fonts with Hangul: {families}").format(families=', '.join(families[:3])))
        elif families is not None:
            diagnosis.add("note", _("no font with Hangul: Korean shows as boxes (sudo apt install fonts-nanum)"))
    check_emoji_font(machine, diagnosis)


def font_families(machine, pattern):
    """The font families fontconfig finds for `pattern` (":lang=ko"); None without fc-list."""
    fc_list = machine.which("fc-list")
    if not fc_list:
        return None
    result = subprocess.run([fc_list, pattern, "family"], capture_output=True, text=True,
                            env=machine.environ, timeout=PROBE_TIMEOUT)
    return sorted({line.split(",")[0] for line in result.stdout.splitlines() if line.strip()})


def check_emoji_font(machine, diagnosis):
    """A colour-emoji or symbol font: without one, 👍 is an empty box (the window names it instead)."""
    missing = _("no font with emoji: the window shows {emoji} as {name}").format(
        emoji=THUMBS_UP, name=symbol_name(THUMBS_UP))
    if machine.platform in EMOJI_FONTS:
        path, how = EMOJI_FONTS[machine.platform]
        path = path.format(windir=machine.environ.get("WINDIR", "C:/Windows").replace("\\", "/"))
        if machine.exists(path):
            diagnosis.add("ok", _("a font with emoji: {font}").format(font=Path(path).stem))
        else:
            diagnosis.add("note", f"{missing} ({_(how)})")
        return
    families = font_families(machine, f":charset={ord(THUMBS_UP):x}")
    if families:
        diagnosis.add("ok", _("fonts with emoji: {families}").format(families=', '.join(families[:3])))
    elif families is not None:
        diagnosis.add("note", f"{missing} ({_(EMOJI_PACKAGES)})")


def font_coverage(machine=None):
    """A test `covered(char)`: can some installed font draw it? None if fontconfig cannot tell (not Linux)."""
    machine = machine or Machine()
    fc_list = machine.which("fc-list") if machine.platform.startswith("linux") else None
    if not fc_list:
        return None
    try:
        result = subprocess.run([fc_list, "--format", "%{charset}\n"], capture_output=True, text=True,
                                env=machine.environ, timeout=PROBE_TIMEOUT)
    except (OSError, subprocess.TimeoutExpired):
        return None
    ranges = []  # (first, last) code points, from "20-7e a0-17f 2764 ..."
    for part in result.stdout.split():
        first, _, last = part.partition("-")
        try:
            ranges.append((int(first, 16), int(last or first, 16)))
        except ValueError:
            continue
    if not ranges:
        return None
    ranges.sort()
    firsts = [first for first, _ in ranges]
    lasts = list(ranges_reach(ranges))

    def covered(char):
        index = bisect.bisect_right(firsts, ord(char)) - 1
        return index >= 0 and ord(char) <= lasts[index]

    return covered


def ranges_reach(ranges):
    """For sorted ranges, the highest code point covered by each range or one before it."""
    reach = -1
    for _, last in ranges:
        reach = max(reach, last)
        yield reach


def symbol_name(char):
    return f":{unicodedata.name(char, f'U+{ord(char):04X}').lower()}:"


def symbol_fallback(covered):
    """text -> text naming each symbol no font can draw (👍 -> :thumbs up sign:); covered None: as it is.

    Letters are left alone (a missing Hangul font is the doctor's to fix:
    every syllable spelt out would be unreadable); what only modifies a
    symbol no font draws (a skin tone, a joiner, an emoji selector) goes.
    """
    if covered is None:
        return lambda text: text

    @functools.lru_cache(maxsize=4096)
    def shown(char):
        if char.isascii() or covered(char):
            return char
        category = unicodedata.category(char)
        if category == "So":
            return symbol_name(char)
        if category == "Sk" or char in "\u200d\ufe0e\ufe0f":
            return ""
        return char

    return lambda text: "".join(map(shown, text))


def diagnose(machine=None):
    """Run the checks; the first one that fails gives the fix."""
    machine = machine or Machine()
    diagnosis = Diagnosis()
    diagnosis.fix = check_tkinter(machine, diagnosis) or check_display(machine, diagnosis) or ""
    notes(machine, diagnosis)
    return diagnosis


def verdict():
    """One line: OK, or the fix to try first (shown by `chatkit gui` when Tk fails)."""
    return diagnose().verdict


def add_arguments(parser):
    pass


def main(args):
    diagnosis = diagnose()
    print(diagnosis.report())
    return 1 if diagnosis.fix else 0
