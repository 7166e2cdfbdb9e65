"""What went wrong in the student's program, in words a student can act on.

The child process reports exceptions and thread stacks as data (file, line,
function, source line). This module turns them into a sentence or two that
points at the student's own file: where the error happened, and what a
stuck thread was waiting for ("waiting in accept() for a new client").

The sentences are in the kit's language (``_()``, results/words.py); the
words the grader matches on (a thread's reason, a call's label) stay
English, and are translated where they are shown.
"""

import ast
import os
import re
import signal

from chatkit.grader.limits import BUSY_PROCESS_CPU, BUSY_THREAD_CPU, STUDENT_LIMITS
from chatkit.grader.results import words
from chatkit.grader.results.words import _
from chatkit.tools.language import N_

LIMIT_WORDS = N_("the most the grader allows")
# (what the error says, what it means): the OS limits of walls.py, in words
LIMITS_HIT = [
    (r"^MemoryError", N_("your program used more than {memory_mb} MB of memory")),
    (r"can't start new thread|Resource temporarily unavailable|\[Errno 11\]",
     N_("your program started more than {processes} processes and threads at once")),
    (r"Too many open files|\[Errno 24\]",
     N_("your program had more than {open_files} files and sockets open at once")),
]


def hit_limit(text):
    """True if a failure's text says a resource limit was hit (as the words below put it)."""
    return LIMIT_WORDS in text or _(LIMIT_WORDS) in text


def at_the_limit(what):
    """'..., the most the grader allows': a limit hit, in the kit's language."""
    return _("{what}, {most}").format(what=what, most=_(LIMIT_WORDS))


def limit_words(kind, message):
    """'your program used more than 512 MB of memory, the most the grader allows', or None."""
    for pattern, words in LIMITS_HIT:
        if re.search(pattern, f"{kind}: {message}"):
            return at_the_limit(_(words).format(**STUDENT_LIMITS))
    return None

# (a pattern in the line of code, what a thread stopped on that line is doing): English, the
# grader matches on them (state_of, harness.py); shown through _()
WAITS = [
    (r"\.accept\(", N_("waiting in accept() for a new client")),
    (r"\.recv(_into)?\(", N_("waiting in recv() for data that has not come")),
    (r"\.send(all)?\(", N_("stuck sending: the other side is not reading, its buffers are full")),
    (r"\.join\(", N_("waiting for another thread to finish (join)")),
    (r"\.acquire\(|^with\b.*\block\b", N_("waiting for a lock that another thread (or this one) holds")),
    (r"\.wait(_for)?\(", N_("waiting for an event or condition that nobody sets")),
    (r"\binput\(", N_("waiting for keyboard input, which never comes here")),
    (r"\bsleep\(", N_("sleeping")),
    (r"\.get\(", N_("waiting for something to arrive in a queue")),
]
DOING = N_("What your program was doing at that moment:")


def shows_threads(text):
    """True if a failure's text tells what the program's threads were doing (explain_stacks)."""
    return "What your program was doing" in text or _(DOING) in text


def said(label):
    """A call's label as the student reads it: 'importing ex03_threads.py', "thread 'x' of your program"
    in the kit's language (the label itself stays English: scoring.py reads it)."""
    if label.startswith("importing "):
        return _("importing {file}").format(file=label.removeprefix("importing "))
    thread = re.fullmatch(r"thread (.+) of your program", label)
    if thread:
        return _("thread {name} of your program").format(name=thread[1])
    return label


def short(path):
    """A path as a student knows it: exercises/ex03_threads.py, chatkit/stages/stage2_accept.py."""
    parts = os.path.normpath(path).split(os.sep)
    anchors = [index for index, part in enumerate(parts[:-1]) if part in ("exercises", "solutions", "chatkit")]
    return "/".join(parts[anchors[-1]:]) if anchors else os.path.basename(path)


GRADER_CODE = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "")  # chatkit/grader/
KIT_CODE = os.path.join(os.path.dirname(os.path.dirname(GRADER_CODE)), "")  # chatkit/


def ours(filename, student_path):
    """Frames worth showing: the student's file and the kit's stage code it builds on."""
    filename = os.path.abspath(filename)
    return filename == os.path.abspath(student_path) or (
        filename.startswith(KIT_CODE) and not filename.startswith(GRADER_CODE))


def same_file(filename, student_path):
    return os.path.abspath(filename) == os.path.abspath(student_path)


def place(frame):
    filename, line, function, source = frame
    return f"{short(filename)}:{line} in {function}" + (f": {source}" if source else "")


def todo(message):
    """A stub's 'TODO: ...' in the student's language (the catalog has each TODO of solutions/)."""
    prefix = "TODO: "
    return prefix + _(message[len(prefix):]) if message.startswith(prefix) and len(message) > len(prefix) else message


def explain_error(label, error, student_path):
    """'RunServer.run() raised KeyError: ...' and where, in the student's file first."""
    kind, message = error["type"], error["message"]
    label = said(label)
    frames = error["frames"]
    mine = [f for f in frames if os.path.abspath(f[0]) == os.path.abspath(student_path)]
    where = mine[-1] if mine else (frames[-1] if frames else None)
    if kind == "NotImplementedError":
        text = _("{label}: not written yet ({message}).").format(label=label, message=todo(message) or "NotImplementedError")
        if where:
            text += "\n  " + _("The TODO is at {place}, in {function}().").format(
                place=f"{short(where[0])}:{where[1]}", function=where[2])
        return text
    limit = limit_words(kind, message)
    if kind == "SystemExit":
        text = _("{label}: your code called {call}, which ends the whole program.").format(label=label, call=message)
    elif kind == "SyntaxError" or "SyntaxError" in error["kinds"]:
        text = _("{label}: Python cannot read the file: {message}").format(label=label, message=message)
        filename, line, source = error.get("syntax") or (None, None, None)
        if line:
            text += "\n  " + at(f"{short(filename or student_path)}:{line}" + (f": {source.strip()}" if source else ""))
        return text
    elif limit:
        text = f"{label}: {limit} ({kind}: {message})." if message else f"{label}: {limit} ({kind})."
    else:
        text = _("{label} raised {kind}: {message}").format(label=label, kind=kind, message=message)
    if where:
        text += "\n  " + at(place(where))
        if frames and frames[-1] is not where and ours(frames[-1][0], student_path):
            text += "\n  " + _("(inside {place})").format(place=place(frames[-1]))
    return text


def at(place):
    """'at exercises/ex04_broadcast.py:52 in add_user: ...', the line under a diagnosis."""
    return _("at {place}").format(place=place)


def waiting_for(frames):
    """What a thread stopped in these frames waits for, in words; None if it is running code."""
    if not frames:
        return None
    filename, _line, function, source = frames[-1]
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


MAIN_THREAD = "MainThread"  # the only thread running the student's code while their file is imported


def threads_seen(samples, student_path):
    """[(thread name, [frames of each look], busy)] for the threads that run the student's or the kit's code.

    `samples` are a few looks at the threads, taken a moment apart (or one
    look). A thread is busy when it kept running between the looks: its own
    CPU time grew (where the OS tells each thread's, as Linux does), else
    the whole process's. A thread's own time is what a busy machine cannot
    hide: a loop given a tenth of a CPU still gains milliseconds, and the
    looks themselves (our thread) are not counted.
    """
    if samples and isinstance(samples[0], dict) and "thread" in samples[0]:
        samples = [samples]  # a single look
    cpu = [sample["cpu"] for sample in samples if isinstance(sample, dict)]
    process_busy = len(cpu) > 1 and cpu[-1] - cpu[0] > BUSY_PROCESS_CPU
    samples = [sample["threads"] if isinstance(sample, dict) else sample for sample in samples]
    seen, times = {}, {}  # thread name -> [frames of each sample], [its CPU time at each sample]
    for sample in samples:
        for thread in sample:
            seen.setdefault(thread["thread"], []).append(thread["frames"])
            times.setdefault(thread["thread"], []).append(thread.get("cpu"))

    def busy(name):
        own = times[name]
        if len(own) > 1 and None not in own:
            return own[-1] - own[0] > BUSY_THREAD_CPU
        return process_busy

    return [(name, looks, busy(name)) for name, looks in seen.items()
            if any(ours(f[0], student_path) for frames in looks for f in frames)]


def state_of(looks, busy, student_path):
    """('waiting', reason, frame), ('spinning', reason, frame) or ('running', None, frame) for one thread."""
    reasons = {waiting_for(frames) for frames in looks}
    if len(reasons) == 1 and None not in reasons:
        reason = reasons.pop()
        if busy and reason.startswith(("waiting in recv", "stuck sending")):  # it returns, and is called again
            return "spinning", reason, spot(looks[-1], student_path)
        return "waiting", reason, spot(looks[-1], student_path)
    return "running", None, spot(looks[-1], student_path)


def explain_stacks(samples, student_path):
    """One line per thread of the student's program that runs the student's (or the kit's) code.

    A thread found waiting on the same thing every time is stuck there; one
    found anywhere else is busy running code.
    """
    lines = []
    for name, looks, busy in threads_seen(samples, student_path):
        state, reason, frame = state_of(looks, busy, student_path)
        if name == MAIN_THREAD:
            label = _("the main thread (importing your file)")
        elif name.startswith("grader call "):
            label = _("the thread running {call}").format(call=name.removeprefix("grader call "))
        else:
            label = _("thread {name!r}").format(name=name)
        if state == "spinning":
            line = _("{thread} is busy in a loop around this line (does recv() return b'' again and again?), "
                     "at {place}").format(thread=label, place=place(frame))
        elif state == "waiting":
            line = _("{thread} is {reason}, at {place}").format(thread=label, reason=_(reason), place=place(frame))
        else:
            line = _("{thread} is running Python code without waiting (a loop that never ends?), at {place}").format(
                thread=label, place=place(frame))
        lines.append(f"  {line}")
    if not lines:
        return "  " + _("(No thread of your program was found in your code.)")
    return _(DOING) + "\n" + "\n".join(lines)


def named_cause(samples, student_path):
    """The mistake the threads' stacks show, in a sentence that leads the hint; None if they name none.

    In order: a thread waiting for a lock it holds itself; the file's import
    looping or waiting at its top level; a loop around recv() returning b'';
    a loop that never waits.
    """
    found = []
    for name, looks, busy in threads_seen(samples, student_path):
        state, reason, frame = state_of(looks, busy, student_path)
        mine = os.path.abspath(frame[0]) == os.path.abspath(student_path)
        if state == "waiting" and reason.startswith("waiting for a lock"):
            deadlock = held_by_itself(looks[-1], student_path)
            if deadlock:
                found.append((0, deadlock))
        if name == MAIN_THREAD and mine:
            where = f"{short(frame[0])}:{frame[1]}"
            found.append((1, words.import_loops(where) if state != "waiting" else words.import_waits(where, _(reason))))
        elif state == "spinning" and mine:
            found.append((2, words.spins_on_empty(f"{short(frame[0])}:{frame[1]} in {frame[2]}()")))
        elif state == "running" and mine and busy:
            found.append((3, words.busy_loop(f"{short(frame[0])}:{frame[1]} in {frame[2]}()")))
    return min(found)[1] if found else None


LOCK_TAKEN = re.compile(r"^with\s+(?P<lock>[\w.\[\]]+)\s*(?:as\s+\w+\s*)?:|^(?P<acquired>[\w.\[\]]+)\.acquire\(")


def held_by_itself(frames, student_path):
    """The sentence for a thread waiting to take a lock that one of its own callers holds, or None.

    The innermost frame of the student's file waits at ``with self.lock:``
    (or ``self.lock.acquire()``); if an outer frame of the same thread is
    stopped inside a ``with self.lock:`` block of its own function, the thread
    holds that lock already: a threading.Lock never lets it in.
    """
    student = os.path.abspath(student_path)
    mine = [frame for frame in frames if os.path.abspath(frame[0]) == student]
    if len(mine) < 2:
        return None
    waiting = LOCK_TAKEN.match(mine[-1][3] or "")
    if not waiting:
        return None
    lock = waiting["lock"] or waiting["acquired"]
    try:
        tree = ast.parse(open(student_path, encoding="utf-8", errors="replace").read())
    except (OSError, SyntaxError, ValueError):
        return None
    blocks = [node for node in ast.walk(tree) if isinstance(node, ast.With)
              and any(ast.unparse(item.context_expr) == lock for item in node.items)]
    for frame in reversed(mine[:-1]):
        line = frame[1]
        for block in blocks:
            if block.body[0].lineno <= line <= block.end_lineno:
                return words.self_deadlock(frame[2], lock, block.lineno, mine[-1][2], mine[-1][1])
    return None


def explain_exit(returncode):
    """Why the child process ended, in a few words: 'killed by signal SIGKILL'."""
    if returncode is None:
        return _("still running")
    if returncode == -getattr(signal, "SIGXCPU", 0):
        return at_the_limit(_("it used more than {cpu_seconds} s of CPU time").format(**STUDENT_LIMITS))
    if returncode < 0:
        try:
            name = signal.Signals(-returncode).name
        except ValueError:
            name = -returncode
        return _("killed by signal {signal}").format(signal=name)
    if returncode:
        return _("exit status {status}: os._exit() or a crash?").format(status=returncode)
    return _("exit status {status}").format(status=0)
