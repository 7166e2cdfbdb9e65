"""`python -m chatkit doctor`: every diagnosis, on a faked machine (and a few on this real one)."""

import os
import subprocess
import sys

import pytest

from chatkit.tools import doctor
from chatkit.tools.doctor import Machine, diagnose
from chatkit.tools.xvfb import VirtualDisplay, xvfb_available

DEBIAN = "Linux version 6.1.0-18-amd64 (debian-kernel@lists.debian.org) #1 SMP Debian 6.1.76-1"
WSL2 = "Linux version 5.15.153.1-microsoft-standard-WSL2 (root@941d701f84f1) #1 SMP Fri Mar 29 23:14:13 UTC 2024"
WSL1 = "Linux version 4.4.0-19041-Microsoft (Microsoft@Microsoft.com) #1237-Microsoft Sat Sep 11 14:32:00 PST 2021"
needs_xvfb = pytest.mark.skipif(not xvfb_available(), reason="Xvfb is not installed (Debian: apt install xvfb)")


def fake_machine(tmp_path, env=None, proc_version=DEBIAN, files=(), programs=(), probe=None, **kwargs):
    """A Linux machine under tmp_path: /proc/version, files that exist, programs on PATH."""
    for path, text in [("proc/version", proc_version), *((name, "") for name in files)]:
        (tmp_path / path).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / path).write_text(text)
    bin_dir, home = tmp_path / "bin", tmp_path / "home"
    bin_dir.mkdir(exist_ok=True)
    home.mkdir(exist_ok=True)
    for name, script in dict(programs).items():
        (bin_dir / name).write_text(f"#!/bin/sh\n{script}\n")
        (bin_dir / name).chmod(0o755)
    environ = {"PATH": str(bin_dir), "HOME": str(home), **(env or {})}
    kwargs.setdefault("python_prefix", "/usr")
    kwargs.setdefault("platform", "linux")
    return Machine(environ, root=tmp_path, probe=probe or refuse_to_probe, **kwargs)


def refuse_to_probe(environ):
    raise AssertionError("the diagnosis should not have needed to open a window")


def failures(diagnosis):
    return [text for mark, text in diagnosis.findings if mark == "FAIL"]


def notes(diagnosis):
    return [text for mark, text in diagnosis.findings if mark == "note"]


@pytest.fixture
def no_tkinter(monkeypatch):
    """This Python, as if built without Tk (None in sys.modules makes the import fail)."""
    monkeypatch.setitem(sys.modules, "_tkinter", None)
    monkeypatch.setitem(sys.modules, "tkinter", None)


@pytest.mark.parametrize("prefix, files, platform, fix", [
    ("/home/student/.pyenv/versions/3.11.7", [], "linux", "sudo apt install tk-dev"),
    ("/usr", ["etc/debian_version"], "linux", "sudo apt install python3-tk"),
    ("/usr", ["etc/fedora-release"], "linux", "sudo dnf install python3-tkinter"),
    ("/opt/homebrew/opt/python@3.11", [], "darwin", "from python.org: its installer includes Tk 8.6"),
    ("/Users/student/.pyenv/versions/3.12.1", [], "darwin", "brew install tcl-tk@8, then pyenv install --force"),
    ("C:\\Users\\student\\AppData\\Local\\Programs\\Python\\Python312", [], "win32", "tick 'tcl/tk and IDLE'"),
    ("/home/student/miniconda3", [], "linux", "conda install tk"),
    ("/opt/python", [], "linux", "from chatkit.lab.panel import ChatPanel"),
])
def test_tkinter_missing_says_how_to_get_it_for_this_kind_of_python(tmp_path, no_tkinter, prefix, files, platform, fix):
    diagnosis = diagnose(fake_machine(tmp_path, files=files, python_prefix=prefix, platform=platform))
    assert "has no tkinter" in failures(diagnosis)[0]
    assert fix in diagnosis.fix
    assert diagnosis.verdict.startswith("Fix first:")


def test_pyenv_is_told_to_rebuild_its_python(tmp_path, no_tkinter):
    diagnosis = diagnose(fake_machine(tmp_path, python_prefix="/root/.pyenv/versions/3.11.7"))
    assert "pyenv install --force" in diagnosis.fix


def test_no_display_on_a_plain_linux_points_to_a_desktop_or_xvfb(tmp_path):
    with_xvfb = diagnose(fake_machine(tmp_path, programs={"Xvfb": "exit 0"}))
    assert failures(with_xvfb) == ["DISPLAY is not set: there is no screen for Tk to draw on"]
    assert "desktop session" in with_xvfb.fix and "xvfb-run python -m chatkit gui" in with_xvfb.fix
    assert any("Xvfb is installed" in note for note in notes(with_xvfb))
    os.remove(tmp_path / "bin" / "Xvfb")
    without = diagnose(fake_machine(tmp_path))
    assert "sudo apt install xvfb" in without.fix


@pytest.mark.parametrize("env, files", [({"JUPYTERHUB_USER": "student1"}, []), ({}, [".dockerenv"])])
def test_no_display_on_a_jupyterhub_or_in_a_container_points_to_the_notebook_panel(tmp_path, env, files):
    diagnosis = diagnose(fake_machine(tmp_path, env=env, files=files))
    assert diagnosis.fix == doctor.NOTEBOOK_CLIENT


def test_ssh_without_x_forwarding(tmp_path):
    diagnosis = diagnose(fake_machine(tmp_path, env={"SSH_CONNECTION": "10.0.0.5 52000 10.0.0.9 22"}))
    assert "logged in over SSH, without X forwarding" in notes(diagnosis)
    assert "ssh -X" in diagnosis.fix


def test_ssh_with_the_reports_display_export_in_bash_profile(tmp_path):
    """The report's author exported DISPLAY=:0.0 in .bash_profile: over SSH that is the wrong screen."""
    machine = fake_machine(tmp_path, env={"SSH_TTY": "/dev/pts/3", "DISPLAY": doctor.unused_display()})
    (tmp_path / "home" / ".bash_profile").write_text("# my settings\nexport DISPLAY=:0.0\n")
    diagnosis = diagnose(machine)
    assert "but no X server is listening there" in failures(diagnosis)[0]
    assert any(".bash_profile line 2 sets DISPLAY (export DISPLAY=:0.0)" in note for note in notes(diagnosis))
    assert "remove 'export DISPLAY'" in diagnosis.fix and "ssh -X" in diagnosis.fix


def test_ssh_whose_forwarded_display_is_gone(tmp_path):
    diagnosis = diagnose(fake_machine(tmp_path, env={"SSH_CLIENT": "10.0.0.5 52000 22", "DISPLAY": "localhost:59.0"}))
    assert "logged in over SSH, with X forwarding" in notes(diagnosis)
    assert "X forwarding is gone" in diagnosis.fix


@pytest.mark.parametrize("display, fix", [
    (None, "export DISPLAY=:0"),
    ("wayland only", "export DISPLAY=:0"),
    ("unused", "wsl --shutdown"),
])
def test_wsl2_with_wslg(tmp_path, display, fix):
    env = {"unused": {"DISPLAY": doctor.unused_display()}, "wayland only": {"WAYLAND_DISPLAY": "wayland-0"}}.get(display, {})
    diagnosis = diagnose(fake_machine(tmp_path, env=env, proc_version=WSL2, files=["mnt/wslg/.keep"]))
    assert "Windows Subsystem for Linux (WSL2), with WSLg (Windows' own X server)" in notes(diagnosis)
    assert fix in diagnosis.fix


@pytest.mark.parametrize("display", [None, "unused"])
def test_wsl2_without_wslg_is_told_to_update_wsl(tmp_path, display):
    env = {"DISPLAY": doctor.unused_display()} if display else {}
    diagnosis = diagnose(fake_machine(tmp_path, env=env, proc_version=WSL2))
    assert "Windows Subsystem for Linux (WSL2), without WSLg" in notes(diagnosis)
    assert "wsl --update" in diagnosis.fix


def test_wsl1_needs_an_x_server_on_windows(tmp_path):
    diagnosis = diagnose(fake_machine(tmp_path, proc_version=WSL1))
    assert "(WSL1)" in notes(diagnosis)[0]
    assert "VcXsrv" in diagnosis.fix and "DISPLAY=localhost:0" in diagnosis.fix


def test_wayland_without_xwayland(tmp_path):
    diagnosis = diagnose(fake_machine(tmp_path, env={"WAYLAND_DISPLAY": "wayland-0"}))
    assert "Tk needs X11" in failures(diagnosis)[0] and "XWayland" in diagnosis.fix


def test_a_display_name_that_is_not_one(tmp_path):
    diagnosis = diagnose(fake_machine(tmp_path, env={"DISPLAY": "0.0"}))
    assert "is not a display name" in failures(diagnosis)[0]


def test_display_set_but_no_server_answering_is_the_reports_error(tmp_path):
    display = doctor.unused_display()
    diagnosis = diagnose(fake_machine(tmp_path, env={"DISPLAY": display}, programs={"Xvfb": "exit 0"}))
    assert failures(diagnosis) == [f"DISPLAY={display}, but no X server is listening there; "
                                   "setting DISPLAY does not start one"]
    assert "xvfb-run" in diagnosis.fix
    # and Tk itself, asked to open a window there, fails exactly as in the report
    assert doctor.open_window({**os.environ, "DISPLAY": display}) == f"couldn't connect to display \"{display}\""


@needs_xvfb
def test_a_display_that_answers_is_ok(tmp_path):
    with VirtualDisplay(320, 200) as screen:
        machine = fake_machine(tmp_path, env={"DISPLAY": screen.name}, probe=doctor.open_window)
        diagnosis = diagnose(machine)
    assert diagnosis.fix == "" and diagnosis.verdict == "OK: Tk can open a window here."
    assert ("ok", "a Tk window opened and closed") in diagnosis.findings


@needs_xvfb
@pytest.mark.parametrize("env, fix", [({}, "run it as the user logged in"), ({"SSH_TTY": "/dev/pts/1"}, "xauth")])
def test_a_display_that_refuses_us(tmp_path, env, fix):
    refused = 'Authorization required, but no authorization protocol specified; couldn\'t connect to display ":0"'
    with VirtualDisplay(320, 200) as screen:
        diagnosis = diagnose(fake_machine(tmp_path, env={"DISPLAY": screen.name, **env}, probe=lambda environ: refused))
    assert failures(diagnosis) == [f"Tk could not open a window: {refused}"]
    assert fix in diagnosis.fix


def test_a_display_that_never_answers_times_out(monkeypatch):
    monkeypatch.setattr(doctor, "TK_PROBE", "import time; time.sleep(30)")
    assert doctor.open_window(dict(os.environ), timeout=0.5) == "no answer within 0.5 s"


@pytest.mark.parametrize("platform", ["win32", "darwin"])
def test_windows_and_macos_need_no_display(tmp_path, platform):
    diagnosis = diagnose(fake_machine(tmp_path, platform=platform, probe=lambda environ: None))
    assert diagnosis.verdict.startswith("OK")
    assert any("no DISPLAY needed" in text for _, text in diagnosis.findings)


@pytest.mark.parametrize("fonts, expected", [
    ("", ("note", "no font with Hangul: Korean shows as boxes (sudo apt install fonts-nanum)")),
    ("NanumGothic,나눔고딕\\nNanumGothic,나눔고딕\\nNoto Sans CJK KR", ("ok", "fonts with Hangul: NanumGothic, Noto Sans CJK KR")),
])
def test_fonts_for_hangul(tmp_path, fonts, expected):
    diagnosis = diagnose(fake_machine(tmp_path, programs={"fc-list": f"printf '{fonts}'"}))
    assert expected in diagnosis.findings


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="elsewhere Tk needs no DISPLAY")
def test_the_command_ends_with_the_verdict():
    env = {key: value for key, value in os.environ.items() if key not in ("DISPLAY", "WAYLAND_DISPLAY")}
    result = subprocess.run([sys.executable, "-m", "chatkit", "doctor"], capture_output=True, text=True, env=env,
                            timeout=60)
    lines = result.stdout.splitlines()
    assert lines[0] == "chatkit doctor: can a Tk window open here?"
    assert lines[-1].startswith("Fix first: ") and result.returncode == 1, result.stdout


@needs_xvfb
def test_the_command_says_ok_on_a_working_display():
    with VirtualDisplay(320, 200) as screen:
        result = subprocess.run([sys.executable, "-m", "chatkit", "doctor"], capture_output=True, text=True,
                                env=screen.env(), timeout=60)
    assert result.stdout.splitlines()[-1] == "OK: Tk can open a window here." and result.returncode == 0, result.stdout


FC_LIST_EMOJI = """case "$*" in *1f44d*) printf '%s' "$EMOJI" ;; *charset*) printf '%s' "$CHARSET" ;; esac"""


@pytest.mark.parametrize("emoji, expected", [
    ("", ("note", "no font with emoji: the window shows 👍 as :thumbs up sign: "
                  "(sudo apt install fonts-noto-color-emoji, or fonts-symbola; Fedora: google-noto-emoji-color-fonts)")),
    ("Noto Color Emoji,Noto Color Emoji\nNoto Color Emoji", ("ok", "fonts with emoji: Noto Color Emoji")),
])
def test_fonts_for_emoji_on_linux(tmp_path, emoji, expected):
    machine = fake_machine(tmp_path, env={"EMOJI": emoji}, programs={"fc-list": FC_LIST_EMOJI})
    assert expected in diagnose(machine).findings


@pytest.mark.parametrize("platform, font, how", [
    ("darwin", "System/Library/Fonts/Apple Color Emoji.ttc", "comes with macOS"),
    ("win32", "C:/Windows/Fonts/seguiemj.ttf", "Segoe UI Emoji comes with Windows 10 and 11"),
])
def test_fonts_for_emoji_on_macos_and_windows(tmp_path, platform, font, how):
    without = diagnose(fake_machine(tmp_path, platform=platform, probe=lambda environ: None))
    assert any(mark == "note" and "no font with emoji" in text and how in text for mark, text in without.findings)
    with_font = diagnose(fake_machine(tmp_path, platform=platform, files=[font], probe=lambda environ: None))
    assert ("ok", f"a font with emoji: {font.rsplit('/', 1)[1].rsplit('.', 1)[0]}") in with_font.findings


def test_the_window_names_the_symbols_no_font_can_draw(tmp_path):
    """fc-list's charsets: Latin, Hangul syllables and ❤ are drawn; 👍 and its skin tone are not."""
    machine = fake_machine(tmp_path, env={"CHARSET": "20-7e a0-ff\nac00-d7a3 2764 fe0f\n3131-318e"},
                           programs={"fc-list": FC_LIST_EMOJI})
    covered = doctor.font_coverage(machine)
    assert covered("a") and covered("한") and covered("❤") and not covered("👍")
    shown = doctor.symbol_fallback(covered)
    assert shown("좋아요 👍🏽 ❤\ufe0f ok ㅋㅋ") == "좋아요 :thumbs up sign: ❤\ufe0f ok ㅋㅋ"
    assert shown("letters stay: ไทย") == "letters stay: ไทย", "a missing letter is a font to install, not a name"
    assert doctor.symbol_fallback(None)("👍") == "👍", "where fontconfig cannot tell, nothing changes"
    assert doctor.font_coverage(fake_machine(tmp_path, platform="darwin")) is None
