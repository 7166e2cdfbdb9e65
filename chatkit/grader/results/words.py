"""Every sentence the grader says to a student, in one place, through gettext.

Every sentence goes through ``_()``, gettext's marker: with the Korean
catalog (domain "chatkit", in chatkit/locale/), the hints, the diagnoses,
the commands and the feedback files come out in Korean when the kit speaks
Korean (``CHATKIT_LANG=ko``, or a Korean locale: chatkit.tools.language). The graded
tests' own hints (``hint("...")``, ``part(n, "...")``) are looked up in the
same catalog when they are shown (scoring.py), so a translator extracts
them with the keywords ``hint`` and ``part:2``.

    feedback_texts(_)   the feedback file's words, in the language `_` translates to
    _, ngettext         this process's translator; the sections below use it
"""

from chatkit.tools.language import translation, translator  # noqa: F401 - translator: for other languages (feedback.py)

_ = translation().gettext
ngettext = translation().ngettext


def feedback_texts(_):
    """The feedback file's sentences, in the language `_` translates to."""
    return {
        "title": _("chatkit exercises: your results"),
        "score": _("Your score: {score} of {max_score} points."),
        "exercise": _("exercise"),
        "tests": _("tests passed"),
        "points": _("points"),
        "total": _("total"),
        "failed": _("What to look at"),
        "hint": _("Hint"),
        "happened": _("What happened"),
        "all_pass": _("Every graded test passes. Well done!"),
        "not_attempted": _("not attempted yet"),
        "status": _("Grading status: {status}."),
        "problems": _("The grader noticed"),
        "translate": _,  # a test's description, in the same language
    }


# -- the first hint of a failure, when no piece of evidence names the mistake (scoring.py) --------

GENERIC_HINTS = {
    "todo": _("Write the TODO named below: it is what this test needs first."),
    "syntax": _("Python cannot read your file: fix the line named below (a missing colon, bracket or quote?)."),
    "limit": _("Your program used more than the grader allows (see below): look for something that keeps growing."),
    "tampered": _("Your code touched the grader's own files or code: this exercise earns 0 points."),
    "hang": _("Your code waits for something that never happens: see what your program was doing, below."),
    "gone": _("Your program ended while being tested: look for sys.exit(), os._exit() or a crash."),
    "error": _("Your code raised an exception: fix it first (where it happened is named below)."),
    "other": _("Compare what the test expected with what actually happened, below."),
}

# -- evidence: what the student's own program did, which leads the hint -------------------------


def raised(kind, message, place, source):
    """Your code raised TypeError at exercises/ex01_listen.py:35 in server_open() (the line): message"""
    line = _("Your code raised {kind} at {place}").format(kind=kind, place=place)
    if source:
        line += f" ({source})"
    line += f": {message}" if message else ""
    return line if line.endswith((".", "!", "?")) else line + "."


def exited(call, place):
    return _("Your code called {call} at {place}, which ends the whole program: return instead.").format(
        call=call, place=place)


def in_thread(text, thread):
    """The same, in one of the student's own threads (it died there)."""
    return _("{text} That was in thread {thread!r}, which died of it.").format(text=text, thread=thread)


def self_deadlock(holder, lock, holder_line, taker, taker_line):
    return _("`{holder}` holds {lock} (line {holder_line}) and calls `{taker}`, which takes it again "
             "(line {taker_line}): a threading.Lock taken twice by one thread waits forever. "
             "Call `{taker}` after the `with` block, once the lock is released.").format(
        holder=holder, lock=lock, holder_line=holder_line, taker=taker, taker_line=taker_line)


def import_loops(place):
    return _("Importing your file never finishes: the code at {place} runs when the file is imported "
             "(it is outside any function) and loops forever. Put it inside a function, or remove it.").format(
        place=place)


def import_waits(place, reason):
    return _("Importing your file never finishes: at {place}, outside any function, your code is {reason}. "
             "Code at the top level of a file runs at import: put it inside a function.").format(
        place=place, reason=reason)


def spins_on_empty(place):
    return _("Your loop goes on after recv() returned b'' (the client left), at {place}: recv() returns b'' "
             "again at once, forever. Leave the loop when data is empty.").format(place=place)


def busy_loop(place):
    return _("Your code runs in a loop that never waits, at {place}: it burns a CPU and never gets anywhere.").format(
        place=place)


def run_returned():
    return _("Your run() returned although nobody called stop(): after the first client the server accepts "
             "nobody. Loop: go back to wait_for_client() after each client.")


def listener_closed():
    return _("Your code closed self.listener, the listening socket, though nobody called stop(): "
             "the clients waiting in the backlog are dropped, and nobody else can connect. "
             "Close the client's socket (conn), never the listener.")


def no_newline(name, partial):
    return _("{name} received {partial!r} without a '\\n' after it: a line is not complete until its "
             "'\\n' arrives, so a client shows nothing. End every line you send with '\\n'.").format(
        name=name, partial=partial)


def run_together(name, line, wanted):
    return _("{name} received {line!r}: the line {wanted!r} ran together with what came after it, with no "
             "'\\n' between them (a '\\n' left out, or dropped, or two lines taken as one?).").format(
        name=name, line=line, wanted=wanted)


def nickname_not_stripped(nick):
    return _("The nickname kept the '\\n' the client typed after it: the room announced {announced!r} and "
             "' joined...' on two lines. Strip the answer: nick = text.strip().").format(announced=f"* {nick}")


def not_written_here(name, where):
    return _("{name} comes from {where}, not from your file: this exercise is yours to write. "
             "Write {name} in your file (the notebook shows one way to do it after the exercise).").format(
        name=name, where=where)


def threads_not_joined(names):
    return _("run() returned while its client threads were still running ({names}): after the loop, "
             "join() every thread you started, so that nothing runs once the server has stopped.").format(
        names=", ".join(names))


# -- the score tables and progress (results/tables.py, commands/progress.py) --------------------

WHERE = _("at")

RUNG_NAMES = {"guided": _("guided"), "specified": _("specified"), "open": _("open"), "optional": _("optional")}
STATES = {"done": _("done"), "not started": _("not started"), "in progress": _("in progress")}
TOTAL = _("total")
NEXT = _("Next")
NEXT_TEST = _("next")
HINT = _("Hint")
ALL_DONE = _("Every exercise passes. Well done!")
CHECKING = _("Checking your exercises (this takes a few seconds)...")
GRADER_DID_NOT_RUN = _("The grader could not run. What it printed:")


def on_the_ladder(rung, number, count, done):
    return _("You are on the {rung} rung: exercise {number} of {count} ({done} done).").format(
        rung=rung, number=number, count=count, done=done)


def check_it(exercise):
    return _("Check it with: pytest exercises/{exercise}_test.py  (or: python -m chatkit watch)").format(
        exercise=exercise)


def error(error):
    """A command's error line: error: there is no exercise 'ex42'; ..."""
    return _("error: {error}").format(error=error)


def warning(problem):
    """A line the grader adds when it saw tampering: WARNING: exercises/conftest.py was edited ..."""
    return _("WARNING: {problem}").format(problem=problem)


def no_exercises_folder(root):
    return _("There is no exercises/ folder in {root}.").format(root=root)


def stopped_after(seconds):
    return _("(The check was stopped after {seconds:g} s; tests not reached count as failed.)").format(seconds=seconds)


# -- python -m chatkit watch and reset (commands/watch.py, commands/reset.py) -------------------

WATCH_STOPPED = _("Stopped watching.")
YES_ANSWERS = {"y", "yes", "ㅛ", _("y"), _("yes")}  # ㅛ: y typed with the Korean keyboard on


def watch_starting(exercise):
    return _("Watching {exercise}: save the file and it is graded again (Ctrl+C stops).").format(exercise=exercise)


def watch_score(clock, exercise, score, max_score):
    return _("[{clock}] {exercise}: {score}/{max_score} points").format(
        clock=clock, exercise=exercise, score=score, max_score=max_score)


def first_to_fix(test, worth, description):
    return _("First to fix: {test} ({worth}): {description}").format(test=test, worth=worth, description=description)


def watch_passes(exercise):
    return _("{exercise} passes. On to the next exercise.").format(exercise=exercise)


def save_again(path):
    return _("Save {path} to grade it again (Ctrl+C stops).").format(path=path)


def no_stub(exercise):
    return _("The grader's manifest has no stub for {exercise}: run python -m chatkit stubs.").format(
        exercise=exercise)


def already_a_stub(path):
    return _("{path} is already the stub the kit hands out: nothing to do.").format(path=path)


def reset_question(path, backup):
    return _("Restore {path} to its stub? What you wrote in it is kept as {backup}. [y/N] ").format(
        path=path, backup=backup)


def reset_not_done(exercise):
    return _("Nothing was changed (to restore it without being asked: python -m chatkit reset {exercise} --yes).").format(
        exercise=exercise)


def reset_done(path, backup):
    if backup is None:
        return _("{path} is the stub again.").format(path=path)
    return _("{path} is the stub again; what you had written is in {backup}.").format(path=path, backup=backup)
