"""Each exercise file graded once a batch: a student whose file is byte for byte another's gets its results.

    same = SameFiles()
    known, mine, theirs = same.split(keys)       # {exercise: tests}, [exercises to grade], {exercise: Event}
    same.settle(keys, mine, grading)             # after grading `mine`: keep what was graded whole
    known.update(same.wait(keys, theirs, limit)) # what the other students' runs graded meanwhile

Two students who hand in the same file get the same points, always, not
those of two runs a busy machine could tell apart; and a class full of
untouched stubs, shared starter code or copied answers is graded faster.
Exercises are independent (each test file grades its own exercise file
only), so a student's run grades only the exercises whose files are new
to the batch; the key is the exercise and the file's SHA-256 (no file at
all is a key too). Only results of a run that graded the exercise whole
are kept: not after a timeout, a crashed run, or tampering.

While one student's run grades a file, another student with the same file
waits for it rather than grading it again (each run grades its own new
files first, so two runs never wait for each other); if that run did not
grade it whole, the one waiting grades it itself.
"""

import hashlib
import threading

WHOLE = ("passed", "failed")  # a test's status once it ran to its end


def file_key(exercise, data):
    """What makes two students' exercise files the same: the exercise, and the bytes (None: no file)."""
    return exercise, None if data is None else hashlib.sha256(data).hexdigest()


def graded_whole(grading, tests):
    """True if `grading` (a run.Run) ran every one of `tests` to its end, nothing tampered."""
    results = grading.results
    return bool(tests) and not grading.timed_out and grading.returncode in (0, 1) and results.complete \
        and not results.tampered and all(t.status in WHOLE and t.kind != "tampered" for t in tests)


class SameFiles:
    """The results of every exercise file graded whole so far in this batch, by file_key."""

    def __init__(self):
        self.lock = threading.Lock()
        self.known = {}  # key -> [TestResult]
        self.claimed = {}  # key -> Event: a run grades that file now; set when it is done
        self.reused = 0  # exercise files not graded again

    def split(self, keys):
        """For {exercise: key}: (known {exercise: tests}, mine [exercises to grade now], theirs {exercise: Event})."""
        known, mine, theirs = {}, [], {}
        with self.lock:
            for exercise, key in keys.items():
                if key in self.known:
                    known[exercise] = self.known[key]
                    self.reused += 1
                elif key in self.claimed:
                    theirs[exercise] = self.claimed[key]
                else:
                    self.claimed[key] = threading.Event()
                    mine.append(exercise)
        return known, mine, theirs

    def settle(self, keys, exercises, grading):
        """After a run graded `exercises`: keep each one's results if it was graded whole; wake who waits."""
        with self.lock:
            for exercise in exercises:
                tests = [test for test in grading.results.tests if test.exercise == exercise]
                if graded_whole(grading, tests):
                    self.known[keys[exercise]] = tests
                self.claimed.pop(keys[exercise]).set()

    def release(self, keys, exercises):
        """A run that could not grade `exercises` at all: whoever waits for them grades them."""
        with self.lock:
            for exercise in exercises:
                event = self.claimed.pop(keys[exercise], None)
                if event is not None:
                    event.set()

    def wait(self, keys, theirs, timeout):
        """Wait (at most `timeout` s each) for files other runs grade; {exercise: tests} of those graded whole."""
        got = {}
        for exercise, event in theirs.items():
            event.wait(timeout)
            with self.lock:
                if keys[exercise] in self.known:
                    got[exercise] = self.known[keys[exercise]]
                    self.reused += 1
        return got

    def forget(self):
        """Grade every file again from now on (the kit was found changed: nothing graded before is trusted)."""
        with self.lock:
            self.known.clear()
