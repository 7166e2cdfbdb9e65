"""What went wrong in the student's program, in words a student can act on.

The child process reports exceptions and thread stacks as data (file, line,
function, source line). This module turns them into a sentence or two that
points at the student's own file: where the error happened, and what a
stuck thread was waiting for ("waiting in accept() for a new client").
"""

import os
import re
import signal

from chatkit.grader.limits import STUDENT_LIMITS

LIMIT_WORDS = "the most the grader allows"
# (what the error says, what it means): the OS limits of walls.py, in words
LIMITS_HIT = [
    (r"^MemoryError", f"your program used more than {STUDENT_LIMITS['memory_mb']} MB of memory"),
    (r"can't start new thread|Resource temporarily unavailable|\[Errno 11\]",
     f"your program started more than {STUDENT_LIMITS['processes']} processes and threads at once"),
    (r"Too many open files|\[Errno 24\]",
     f"your program had more than {STUDENT_LIMITS['open_files']} files and sockets open at once"),
]


def hit_limit(text):
    """True if a failure's text says a resource limit was hit (as the words below put it)."""
    return LIMIT_WORDS in text


def limit_words(kind, message):
    """'your program used more than 512 MB of memory, the most the grader allows', or None."""
    for pattern, words in LIMITS_HIT:
        if re.search(pattern, f"{kind}: {message}"):
            return f"{words}, {LIMIT_WORDS}"
    return None

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


GRADER_CODE = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "")  # chatkit/grader/
KIT_CODE = os.path.join(os.path.dirname(os.path.dirname(GRADER_CODE)), "")  # chatkit/


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
    limit = limit_words(kind, message)
    if kind == "SystemExit":
        text = f"{label}: your code called {message}, which ends the whole program."
    elif kind == "SyntaxError" or "SyntaxError" in error["kinds"]:
        text = f"{label}: Python cannot read the file: {message}"
        filename, line, source = error.get("syntax") or (None, None, None)
        if line:
            text += f"\n  at {short(filename or student_path)}:{line}" + (f": {source.strip()}" if source else "")
        return text
    elif limit:
        text = f"{label}: {limit} ({kind}: {message})." if message else f"{label}: {limit} ({kind})."
    else:
        text = f"{label} raised {kind}: {message}"
    if where:
        text += f"\n  at {place(where)}"
        if frames and frames[-1] is not where and ours(frames[-1][0], student_path):
            text += f"\n  (inside {place(frames[-1])})"
    return text


def waiting_for(frames):
    """What a thread stopped in these frames waits for, in words; None if it is running code."""
    if not frames:
        return None
    filename, _, function, source = frames[-1]
    functions = [frame[2] for frame in frames[-3:]]
    if function == "accept" or "accept" in functions and filename.endswith("socket.py"):
        return "waiting in accept() for a new client"
    if os.path.basename(filename) == "threading.py":
        if "join" in functions or "_wait_for_tstate_lock" in functions:
            return "waiting for another thread to finish (join)"
        if "wait" in functions or "wait_for" in functions:
            return "waiting for an event or condition that nobody sets"
    for pattern, meaning in WAITS:
        if re.search(pattern, source or ""):
            return meaning
    return None


def spot(frames, student_path):
    """The frame to show: the innermost in the student's file, else in the kit's code, else the last."""
    student = [f for f in frames if os.path.abspath(f[0]) == os.path.abspath(student_path)]
    kit = [f for f in frames if ours(f[0], student_path)]
    return (student or kit or frames)[-1]


def explain_stacks(samples, student_path):
    """One line per thread of the student's program that runs the student's (or the kit's) code.

    `samples` are a few looks at the threads, taken a moment apart: a thread
    found waiting on the same thing every time is stuck there; one found
    anywhere else is busy running code.
    """
    if samples and isinstance(samples[0], dict) and "thread" in samples[0]:
        samples = [samples]  # a single look
    cpu = [sample["cpu"] for sample in samples if isinstance(sample, dict)]
    busy = len(cpu) > 1 and cpu[-1] - cpu[0] > 0.05  # the process kept a CPU busy between the looks
    samples = [sample["threads"] if isinstance(sample, dict) else sample for sample in samples]
    seen = {}  # thread name -> [frames of each sample]
    for sample in samples:
        for thread in sample:
            seen.setdefault(thread["thread"], []).append(thread["frames"])
    lines = []
    for name, looks in seen.items():
        if not any(ours(f[0], student_path) for frames in looks for f in frames):
            continue
        reasons = {waiting_for(frames) for frames in looks}
        place_of = place(spot(looks[-1], student_path))
        if len(reasons) == 1 and None not in reasons:
            reason = reasons.pop()
            if busy and reason.startswith(("waiting in recv", "stuck sending")):  # it returns, and is called again
                what = f"busy in a loop around this line (does recv() return b'' again and again?), at {place_of}"
            else:
                what = f"{reason}, at {place_of}"
        else:
            student = [spot(frames, student_path) for frames in looks]
            what = f"running Python code without waiting (a loop that never ends?), at {place(student[-1])}"
        label = (f"the thread running {name.removeprefix('grader call ')}" if name.startswith("grader call ")
                 else f"thread {name!r}")
        lines.append(f"  {label} is {what}")
    if not lines:
        return "  (No thread of your program was found in your code.)"
    return "What your program was doing at that moment:\n" + "\n".join(lines)


def explain_exit(returncode):
    if returncode is None:
        return "still running"
    if returncode == -getattr(signal, "SIGXCPU", 0):
        return f"it used more than {STUDENT_LIMITS['cpu_seconds']} s of CPU time, {LIMIT_WORDS}"
    if returncode < 0:
        try:
            return f"killed by signal {signal.Signals(-returncode).name}"
        except ValueError:
            return f"killed by signal {-returncode}"
    return f"exit status {returncode}: os._exit() or a crash?" if returncode else "exit status 0"
