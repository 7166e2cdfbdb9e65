"""What went wrong in the student's program, in words a student can act on.

The child process reports exceptions and thread stacks as data (file, line,
function, source line). This module turns them into a sentence or two that
points at the student's own file: where the error happened, and what a
stuck thread was waiting for ("waiting in accept() for a new client").
"""

import os
import re
import signal

# (a pattern in the line of code, what a thread stopped on that line is doing)
WAITS = [
    (r"\.accept\(", "waiting in accept() for a new client"),
    (r"\.recv(_into)?\(", "waiting in recv() for data that has not come"),
    (r"\.send(all)?\(", "stuck sending: the other side is not reading, its buffers are full"),
    (r"\.join\(", "waiting for another thread to finish (join)"),
    (r"\.acquire\(|^with\b.*\block\b", "waiting for a lock that another thread (or this one) holds"),
    (r"\.wait(_for)?\(", "waiting for an event or condition that nobody sets"),
    (r"\binput\(", "waiting for keyboard input, which never comes here"),
    (r"\bsleep\(", "sleeping"),
    (r"\.get\(", "waiting for something to arrive in a queue"),
]


def short(path):
    """A path as a student knows it: exercises/ex03_threads.py, chatkit/stages/stage2_accept.py."""
    parts = os.path.normpath(path).split(os.sep)
    for anchor in ("exercises", "solutions", "chatkit"):
        if anchor in parts:
            return "/".join(parts[len(parts) - parts[::-1].index(anchor) - 1:])
    return os.path.basename(path)


KIT_CODE = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "")
GRADER_CODE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "")


def ours(filename, student_path):
    """Frames worth showing: the student's file and the kit's stage code it builds on."""
    filename = os.path.abspath(filename)
    return filename == os.path.abspath(student_path) or (
        filename.startswith(KIT_CODE) and not filename.startswith(GRADER_CODE))


def place(frame):
    filename, line, function, source = frame
    return f"{short(filename)}:{line} in {function}" + (f": {source}" if source else "")


def explain_error(label, error, student_path):
    """'RunServer.run() raised KeyError: ...' and where, in the student's file first."""
    kind, message = error["type"], error["message"]
    frames = error["frames"]
    mine = [f for f in frames if os.path.abspath(f[0]) == os.path.abspath(student_path)]
    where = mine[-1] if mine else (frames[-1] if frames else None)
    if kind == "NotImplementedError":
        text = f"{label}: not written yet ({message or 'NotImplementedError'})."
        if where:
            text += f"\n  The TODO is at {short(where[0])}:{where[1]}, in {where[2]}()."
        return text
    if kind == "SystemExit":
        text = f"{label}: your code called {message}, which ends the whole program."
    elif kind == "SyntaxError" or "SyntaxError" in error["kinds"]:
        return f"{label}: Python cannot read the file: {message}"
    else:
        text = f"{label} raised {kind}: {message}"
    if where:
        text += f"\n  at {place(where)}"
        if frames and frames[-1] is not where and ours(frames[-1][0], student_path):
            text += f"\n  (inside {place(frames[-1])})"
    return text


def doing(frames, student_path):
    """What a thread with these frames (outermost first) is doing, in words."""
    if not frames:
        return "doing something we cannot see"
    innermost_function = frames[-1][2]
    mine = [f for f in frames if ours(f[0], student_path)]
    where = mine[-1] if mine else frames[-1]
    if innermost_function == "accept":
        return f"waiting in accept() for a new client, at {place(where)}"
    source = where[3] or ""
    for pattern, meaning in WAITS:
        if re.search(pattern, source):
            return f"{meaning}, at {place(where)}"
    if where is frames[-1]:  # busy in Python code: the loop is most likely in the student's file
        student = [f for f in frames if os.path.abspath(f[0]) == os.path.abspath(student_path)]
        return f"running Python code without waiting (a loop that never ends?), at {place((student or [where])[-1])}"
    return f"at {place(where)}"


def explain_stacks(stacks, student_path):
    """One line per thread of the student's program that is in the student's (or the kit's) code."""
    lines = []
    for thread in stacks:
        frames = thread["frames"]
        if not any(ours(f[0], student_path) for f in frames):
            continue
        name = thread["thread"]
        if name.startswith("grader call "):
            name = f"the thread running {name.removeprefix('grader call ')}"
        else:
            name = f"thread {name!r}"
        lines.append(f"  {name} is {doing(frames, student_path)}")
    if not lines:
        return "  (No thread of your program was found in your code.)"
    return "What your program was doing at that moment:\n" + "\n".join(lines)


def explain_exit(returncode):
    if returncode is None:
        return "still running"
    if returncode < 0:
        try:
            return f"killed by signal {signal.Signals(-returncode).name}"
        except ValueError:
            return f"killed by signal {-returncode}"
    return f"exit status {returncode}: os._exit() or a crash?" if returncode else "exit status 0"
