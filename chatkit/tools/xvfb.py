"""A virtual screen (Xvfb) for the tkinter client where there is no screen at all.

    with VirtualDisplay(1120, 460) as screen:       # Xvfb on a free display number
        alice = screen.open_gui(port, nick="alice", geometry="560x460+0+0")
        alice.type_text("안녕하세요")                 # into the entry line
        alice.press("Return")                         # a real key press
        alice.wait_for_text("bob: hi")
        screen.screenshot("artifacts/gui.png")

The kit's tests and notebook 07 use it; from a shell, `xvfb-run` does the
same job. Only the programs started here see the virtual screen (DISPLAY is
set for them, not for this process).

`GuiWindow` drives a running `python -m chatkit gui` from outside, as a
user would: keys go through xdotool (the X server's XTEST extension, the
same path as a keyboard). xdotool cannot type Hangul, so text goes in
through Tk's own `send` command, which runs a Tk command inside the other
process (here: insert text into the entry line, read the message list).
"""

import json
import os
import selectors
import shutil
import subprocess
import sys
import time

STARTUP_TIMEOUT = 20.0  # seconds for Xvfb or a window to come up on a busy machine
POLL_INTERVAL = 0.05  # between two looks at a window that should change

# A Tk interpreter of our own on the virtual screen: it relays `send` requests
# (one JSON list per line: the app or null for itself, whether the answer is a
# Tcl list, then a Tk command) and prints each answer as one JSON line.
REMOTE_LOOP = r"""
import json, sys, tkinter
root = tkinter.Tk(baseName="chatkit-remote")
root.withdraw()
for request in sys.stdin:
    app, is_list, *command = json.loads(request)
    try:
        if app is None:
            result = root.tk.call(*command)
        else:
            result = root.tk.call("send", app, root.tk.call("list", *command))
        answer = {"result": list(root.tk.splitlist(result)) if is_list else str(result)}
    except tkinter.TclError as error:
        answer = {"error": str(error)}
    print(json.dumps(answer), flush=True)
"""


def xvfb_available():
    """True if the Xvfb program is installed (Debian/Ubuntu: apt install xvfb)."""
    return shutil.which("Xvfb") is not None


def missing_programs():
    """What is missing to run and drive the GUI on a virtual screen (Debian: apt install xvfb xdotool)."""
    return [program for program in ("Xvfb", "xdotool") if shutil.which(program) is None]


class VirtualDisplay:
    """An Xvfb server on a display number it chooses itself (-displayfd): no clash, no guessing."""

    def __init__(self, width=1120, height=460):
        self.width, self.height = width, height
        self.process = None
        self.name = None  # ":N" once started
        self.remote = None  # the relay process for Tk `send`, started on first use
        self.windows = []
        self.errors = ""  # what Xvfb printed on stderr, once stopped

    def start(self):
        if not xvfb_available():
            raise RuntimeError("Xvfb is not installed: sudo apt install xvfb (or your system's xorg-x11-server-Xvfb)")
        read_end, write_end = os.pipe()
        try:
            self.process = subprocess.Popen(
                ["Xvfb", "-displayfd", str(write_end), "-screen", "0", f"{self.width}x{self.height}x24",
                 "-nolisten", "tcp"],
                pass_fds=[write_end], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
            os.close(write_end)
            write_end = None
            number = read_until_newline(read_end, STARTUP_TIMEOUT)
        finally:
            os.close(read_end)
            if write_end is not None:
                os.close(write_end)
        if not number:
            self.stop()
            why = self.errors or f"no display number within {STARTUP_TIMEOUT:g} s"
            raise RuntimeError(f"Xvfb did not start: {why}")
        self.name = f":{number}"
        return self

    def env(self):
        """The environment for a program that should draw on this screen."""
        env = dict(os.environ, DISPLAY=self.name)
        env.pop("WAYLAND_DISPLAY", None)
        return env

    def screenshot(self, path=None):
        """The whole screen as a Pillow image, saved as PNG if a path is given."""
        from PIL import ImageGrab

        image = ImageGrab.grab(xdisplay=self.name)
        if path is not None:
            os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
            image.save(path)
        return image

    def open_gui(self, port, nick=None, geometry="560x460+0+0", host="127.0.0.1"):
        """Start `python -m chatkit gui` on this screen; return its GuiWindow once it is up."""
        window = GuiWindow(self, host, port, nick, geometry)
        self.windows.append(window)
        return window

    def tk(self, app, *command, is_list=False):
        """Run a Tk command in the Tk application `app` on this screen (None: in the relay).

        The answer is a string, or a list of strings if `is_list`.
        """
        if self.remote is None:
            self.remote = subprocess.Popen([sys.executable, "-c", REMOTE_LOOP], env=self.env(), text=True,
                                           encoding="utf-8", stdin=subprocess.PIPE, stdout=subprocess.PIPE)
        self.remote.stdin.write(json.dumps([app, is_list, *command]) + "\n")
        self.remote.stdin.flush()
        answer = read_until_newline(self.remote.stdout.fileno(), STARTUP_TIMEOUT, self.remote.stdout)
        if not answer:
            raise RuntimeError(f"no answer from {app!r} within {STARTUP_TIMEOUT:g} s to {command}")
        answer = json.loads(answer)
        if "error" in answer:
            raise RuntimeError(f"{app}: {' '.join(map(str, command))}: {answer['error']}")
        return answer["result"]

    def stop(self):
        """Close the windows still open, the relay and Xvfb."""
        for window in self.windows:
            window.stop()
        if self.remote is not None:
            self.remote.stdin.close()
            self.remote.wait(STARTUP_TIMEOUT)
            self.remote.stdout.close()
            self.remote = None
        if self.process is not None:
            self.process.terminate()
            self.errors = self.process.communicate(timeout=STARTUP_TIMEOUT)[1].decode(errors="replace").strip()
            self.process = None

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc_info):
        self.stop()


def read_until_newline(fd, timeout, stream=None):
    """Read one line from a pipe, waiting at most `timeout` seconds; "" if none came."""
    with selectors.DefaultSelector() as selector:
        selector.register(fd, selectors.EVENT_READ)
        if stream is not None:  # a text stream: one line is all the other side sends at a time
            return stream.readline().strip() if selector.select(timeout) else ""
        data = b""
        deadline = time.monotonic() + timeout
        while not data.endswith(b"\n") and selector.select(max(0, deadline - time.monotonic())):
            chunk = os.read(fd, 64)
            if not chunk:
                break
            data += chunk
        return data.decode().strip()


class GuiWindow:
    """A `python -m chatkit gui` process on a VirtualDisplay, driven from outside."""

    def __init__(self, screen, host, port, nick, geometry):
        self.screen = screen
        command = [sys.executable, "-m", "chatkit", "gui", "--host", host, "--port", str(port), "--geometry", geometry]
        if nick:
            command += ["--nick", nick]
        self.process = subprocess.Popen(command, env=screen.env(), text=True, encoding="utf-8",
                                        stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        self.output = None  # (stdout, stderr) once it exited
        try:
            self.app = self.find_app()
        except Exception:
            self.stop()
            raise

    def find_app(self):
        """The Tk application name of our process (its `pid` answers with our process id)."""
        deadline = time.monotonic() + STARTUP_TIMEOUT
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"the GUI exited with status {self.process.returncode}: {self.wait_exit()[1]}")
            for app in self.screen.tk(None, "winfo", "interps", is_list=True):
                if app.startswith("chatkit") and self.try_tk(app, "pid") == str(self.process.pid):
                    return app
            time.sleep(POLL_INTERVAL)
        raise RuntimeError(f"no chatkit window appeared on {self.screen.name} within {STARTUP_TIMEOUT:g} s")

    def try_tk(self, app, *command):
        try:
            return self.screen.tk(app, *command)
        except RuntimeError:  # that application exited meanwhile
            return None

    def tk(self, *command):
        """Run a Tk command inside the GUI process."""
        return self.screen.tk(self.app, *command)

    def type_text(self, text):
        """Put text into the entry line, where the cursor is (any language)."""
        self.tk(".entrybar.entry", "insert", "insert", text)

    def type_keys(self, text):
        """Type ASCII text with real key presses (xdotool cannot type Hangul: use type_text)."""
        self.focus()
        self.xdotool("type", "--delay", "15", text)

    def press(self, key):
        """Press a key (an X keysym: Return, Escape, ctrl+a) in this window."""
        self.focus()
        self.xdotool("key", key)

    def focus(self):
        """Point at the window: with no window manager, the keyboard follows the mouse."""
        if self.tk("focus"):
            return  # already has it
        x = int(self.tk("winfo", "rootx", ".")) + int(self.tk("winfo", "width", ".")) // 2
        y = int(self.tk("winfo", "rooty", ".")) + int(self.tk("winfo", "height", ".")) // 2
        self.xdotool("mousemove", str(x), str(y))
        self.wait_until(lambda: self.tk("focus"), "the window to have the keyboard focus")

    def xdotool(self, *arguments):
        subprocess.run(["xdotool", *arguments], env=self.screen.env(), check=True, timeout=STARTUP_TIMEOUT,
                       stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)

    def messages(self):
        """The text of the message list."""
        return self.tk(".conversation.messages", "get", "1.0", "end-1c")

    def members(self):
        """The member list as shown, e.g. ["alice (you)", "bob"]."""
        return self.screen.tk(self.app, ".sidebar.members", "get", "0", "end", is_list=True)

    def status(self):
        return self.tk(".status", "cget", "-text")

    def wait_for_text(self, text, timeout=10.0):
        """Wait until the message list contains `text`; return the whole list's text."""
        return self.wait_until(lambda: text in (shown := self.messages()) and shown, f"{text!r} in the message list",
                               timeout)

    def wait_until(self, condition, what, timeout=10.0):
        deadline = time.monotonic() + timeout
        while not (result := condition()):
            if time.monotonic() > deadline:
                raise AssertionError(f"{self.app}: waited {timeout:g} s for {what}; "
                                     f"message list:\n{self.messages()}\nstatus: {self.status()}")
            time.sleep(POLL_INTERVAL)
        return result

    def click_close(self):
        """What the window manager does when the close button is clicked: run the WM_DELETE_WINDOW handler."""
        self.tk(self.tk("wm", "protocol", ".", "WM_DELETE_WINDOW"))

    def wait_exit(self, timeout=10.0):
        """Wait for the process to end; return (exit status, stderr)."""
        if self.output is None:
            self.output = self.process.communicate(timeout=timeout)
        return self.process.returncode, self.output[1]

    def stop(self):
        """End the process if it still runs."""
        if self.process.poll() is None:
            self.process.terminate()
        try:
            self.wait_exit(STARTUP_TIMEOUT)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.wait_exit(STARTUP_TIMEOUT)
