"""``python -m chatkit grade SUBMISSIONS --out grades.csv [-j N]``: grade a whole class.

    SUBMISSIONS/alice/exercises/ex01_listen.py ...   one folder (or .zip) per student,
    SUBMISSIONS/bob.zip                              any layout: exercise files are found by name

For each student: a fresh folder gets the kit's own graded tests,
conftest.py and pytest settings, plus the student's exercise files (only
those, whatever else the submission holds); pytest grades it in a process
of its own with a time limit, N students at a time. A submission that
hangs or crashes costs its own time limit, never the batch; what it earned
before being stopped is kept. Test files a student edited or added are
reported (status ``tampered``), and never used; exercise code that touches
the grader earns its exercise 0 points (the plugin's guard).

Writes the gradebook (one row a student, UTF-8 with a byte order mark
for Excel), grades-tests.csv (one row a student and test), and a summary:
a text table and a plot beside the CSV. With --roster, the submissions are
matched to the class list and an LMS import file is written
(results/gradebook.py: --format canvas|moodle|csv); with --feedback DIR,
one file per student to hand back (results/feedback.py).

An exercise file that is byte for byte the same as one graded before in
the batch (an untouched stub, shared starter code, a copy) gets that
file's results instead of a run of its own (samefiles.py): the same file
always earns the same points; --regrade-copies grades each copy again.

Every row has an honest status (the most serious that applies): tampered,
error, timeout, syntax error, hang, crash, limit, duplicate files, empty,
ok; the summary's "Look at these" lists each one with its reason.
"""

import csv
import os
import sys
import tempfile
import threading
import time
import zipfile
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field
from pathlib import Path

from chatkit.grader import forks, layout, plugin, processes  # noqa: F401  (plugin: loaded once, for every run forked)
from chatkit.grader.authoring import tamper
from chatkit.grader.commands import run, samefiles, summary
from chatkit.grader.results import Results, feedback, gradebook
from chatkit.grader.sandbox import launch
from chatkit.grader.limits import STUDENT_TIME_LIMIT
from chatkit.tools.language import translator

_ = translator()

DEFAULT_JOBS = 2 * len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else 2 * (os.cpu_count() or 1)
SKIPPED_FOLDERS = {".git", ".venv", "venv", "__pycache__", "solutions", "node_modules", ".ipynb_checkpoints"}
# The statuses of a gradebook row, most serious first: a row shows the first that applies
STATUSES = ["tampered", "error", "timeout", "syntax error", "hang", "crash", "limit", "duplicate files", "empty", "ok"]
KIND_STATUS = {"tampered": "tampered", "syntax": "syntax error", "hang": "hang", "crash": "crash", "limit": "limit"}


@dataclass
class Graded:
    """One student's row of the gradebook, and the per-test results behind it."""

    student_id: str
    scores: dict  # exercise -> points
    total: float
    max: float
    status: str  # the most serious of STATUSES that applies
    seconds: float
    notes: str = ""
    tests: list = field(default_factory=list)  # TestResult
    problems: list = field(default_factory=list)  # (status, reason): every one that applies, for "Look at these"
    source: str = ""  # the submission's folder or .zip


def find_submissions(folder):
    """[(student_id, path)]: every folder or .zip file directly inside `folder`, by name."""
    found = []
    for path in sorted(Path(folder).iterdir()):
        if path.name.startswith(".") or path.name in SKIPPED_FOLDERS:
            continue
        if path.is_dir():
            found.append((path.name, path))
        elif path.suffix == ".zip":
            found.append((path.stem, path))
    return found


def candidates(folder, exercise_ids):
    """{exercise_id: [paths]} of every copy of each exercise file, exercises/ first, then shallower."""
    found = {}
    for path in sorted(Path(folder).rglob("ex[0-9][0-9]_*.py"), key=lambda p: (p.parent.name != "exercises", len(p.parts))):
        if SKIPPED_FOLDERS & set(path.relative_to(folder).parts[:-1]) or not path.is_file():
            continue
        if path.stem in exercise_ids:
            found.setdefault(path.stem, []).append(path)
    return found


def choose_files(folder, exercise_ids, manifest):
    """({exercise_id: path} to grade, [duplicate notes]): an untouched stub never beats a student's copy."""
    stubs = manifest.get("stubs", {})
    chosen, duplicates = {}, []
    for exercise, paths in candidates(folder, exercise_ids).items():
        worked = [p for p in paths if tamper.checksum(p) != stubs.get(exercise)] or paths
        distinct = list({tamper.checksum(p): p for p in reversed(worked)}.values())[::-1]
        chosen[exercise] = distinct[0]
        if len(distinct) > 1:
            where = ", ".join(p.relative_to(folder).as_posix() for p in distinct)
            duplicates.append(_("{count} different copies of {exercise}.py ({where}); graded {graded}").format(
                count=len(distinct), exercise=exercise, where=where, graded=distinct[0].relative_to(folder).as_posix()))
    return chosen, duplicates


def exercise_files(folder, exercise_ids):
    """{exercise_id: path} of the student's exercise files; exercises/ wins over other places."""
    return choose_files(folder, exercise_ids, tamper.load_manifest())[0]


def tampering(folder, files, manifest):
    """Test-infrastructure files of the submission that differ from (or are not in) the kit's: never used."""
    folders = sorted({path.parent for path in files.values()} or {Path(folder)})
    return [problem for place in folders for problem in tamper.problems(place, manifest, complete=False)]


def grade_submission(student_id, source, kit_root=layout.KIT_ROOT, time_limit=STUDENT_TIME_LIMIT, manifest=None,
                     kit=None, same=None):
    """Grade one submission (a folder or a .zip) in a scratch folder; return its Graded row.

    Whatever goes wrong while preparing it (a broken zip, an unreadable
    file) is this student's `error`, never the batch's end. `same` (a
    samefiles.SameFiles): exercise files graded before in the batch are
    not graded again.
    """
    manifest = manifest or tamper.load_manifest()
    max_score = tamper.required_points(manifest)
    started = time.monotonic()
    try:
        kit = kit or run.KitTests.read(layout.exercises_dir(kit_root), manifest)
        return grade_prepared(student_id, Path(source), kit, manifest, max_score, time_limit, started, same)
    except Exception as error:  # noqa: BLE001 - one student's trouble is that student's row
        reason = _("grading could not start: {error}").format(error=f"{type(error).__name__}: {error}")
        return Graded(student_id, {}, 0, max_score, "error", round(time.monotonic() - started, 1), reason,
                      problems=[("error", reason)], source=str(source))


def grade_prepared(student_id, source, kit, manifest, max_score, time_limit, started, same=None):
    exercise_ids = list(manifest.get("tests", {})) or layout.exercise_ids()
    with tempfile.TemporaryDirectory(prefix=f"chatkit-grade-{safe(student_id)}-") as scratch:
        scratch = Path(scratch)
        folder = source
        if source.suffix == ".zip":
            folder = scratch / "submission"
            try:
                with zipfile.ZipFile(source) as archive:
                    archive.extractall(folder)
            except (zipfile.BadZipFile, OSError, ValueError) as error:
                reason = _("cannot open the zip file: {error}").format(error=error)
                return Graded(student_id, {}, 0, max_score, "error", 0.0, reason, problems=[("error", reason)],
                              source=str(source))
        files, duplicates = choose_files(folder, exercise_ids, manifest)
        ignored = tampering(folder, files, manifest)
        exercise_files = {exercise: path.read_bytes() for exercise, path in files.items()}
        work = kit.write(scratch / "grading", exercise_files)
        results_dir = scratch / "results"
        results_dir.mkdir(mode=0o700)
        grading = grade_new_files(work, results_dir, exercise_ids, exercise_files, time_limit, same)
    return row_for(student_id, grading, files, duplicates, ignored, exercise_ids, max_score, time_limit, started,
                   source)


def grade_new_files(work, results_dir, exercise_ids, exercise_files, time_limit, same):
    """Grade the exercises whose files are new to the batch (every one without `same`); a run.Run of them all."""
    def grade(paths, name):
        return run.run_grader_forked(paths, results_dir / name, cwd=work.parent, time_limit=time_limit)

    def grade_exercises(exercises, name):
        return grade([work / f"{exercise}_test.py" for exercise in exercises], name)

    if same is None:
        return grade([work], "results.json")
    keys = {exercise: samefiles.file_key(exercise, exercise_files.get(exercise)) for exercise in exercise_ids}
    known, mine, theirs = same.split(keys)
    runs = []
    try:
        if mine:
            runs.append(grade_exercises(mine, "results.json"))
            same.settle(keys, mine, runs[-1])
    finally:
        same.release(keys, mine)  # after settle() a no-op; after an error, whoever waits grades them
    known.update(same.wait(keys, theirs, time_limit))
    left = [exercise for exercise in theirs if exercise not in known]
    if left:  # the other run did not grade them whole (a timeout, say): this one does
        runs.append(grade_exercises(left, "results-left.json"))
    return combined(runs, known, exercise_ids)


def combined(runs, known, exercise_ids):
    """One run.Run of several runs' results and results reused ({exercise: tests}), in exercise order."""
    tests = {}
    for grading in runs:
        for test in grading.results.tests:
            tests.setdefault(test.exercise, []).append(test)
    tests.update(known)
    order = [*exercise_ids, *(exercise for exercise in tests if exercise not in exercise_ids)]
    results = Results([test for exercise in order for test in tests.get(exercise, [])],
                      tampered=[problem for grading in runs for problem in grading.results.tampered],
                      complete=all(grading.results.complete for grading in runs),
                      notes=list(dict.fromkeys(note for grading in runs for note in grading.results.notes)))
    failed = [grading.returncode for grading in runs if grading.returncode not in (0, 1)]
    returncode = failed[0] if failed else max((grading.returncode for grading in runs), default=0)
    return run.Run(results, "\n".join(grading.output for grading in runs), returncode,
                   any(grading.timed_out for grading in runs), sum(grading.seconds for grading in runs))


def row_for(student_id, grading, files, duplicates, ignored, exercise_ids, max_score, time_limit, started, source):
    """The gradebook row: scores, the most serious status, and every problem with its reason."""
    results = grading.results
    scores = {exercise: score for exercise, score, _ in results.by_exercise()}
    problems = [("tampered", problem) for problem in results.tampered]
    if grading.timed_out:
        problems.append(("timeout", _("stopped after {seconds:g} s; tests not reached count 0").format(
            seconds=time_limit)))
    elif not results.tests or grading.returncode not in (0, 1):
        tail = " ".join(grading.output.strip().splitlines()[-2:])[:300]
        problems.append(("error", _("the grader did not finish (exit status {status}): {tail}").format(
            status=grading.returncode, tail=tail)))
    for exercise in dict.fromkeys(t.exercise for t in results.tests):
        kinds = [t for t in results.tests if t.exercise == exercise and t.kind in KIND_STATUS]
        for kind in dict.fromkeys(t.kind for t in kinds if t.kind != "tampered"):
            first = next(t for t in kinds if t.kind == kind)
            problems.append((KIND_STATUS[kind], f"{exercise}: {first.what_happened[:160]}"))
    problems += [("duplicate files", note) for note in duplicates]
    missing = [exercise for exercise in exercise_ids if exercise not in files]
    if len(missing) == len(exercise_ids):
        problems.append(("empty", _("no exercise files found")))
    if ignored:  # the submission's own test files: never used, but the instructor should know
        problems.insert(0, ("tampered", _("graded with the kit's own tests; {problems}").format(
            problems="; ".join(ignored))))
    notes = [reason for _, reason in problems]
    if missing and len(missing) < len(exercise_ids):
        notes.append(_("missing: {exercises}").format(exercises=", ".join(missing)))
    status = next((s for s in STATUSES if any(p[0] == s for p in problems)), "ok")
    return Graded(student_id, scores, results.score, max_score, status, round(time.monotonic() - started, 1),
                  "; ".join(notes), results.tests, problems, str(source))


def safe(text):
    return "".join(c if c.isalnum() or c in "-_" else "_" for c in text)[:40]


class Progress:
    """A progress bar on a terminal; one line per student anywhere else (a CI log)."""

    def __init__(self, total, stream=sys.stderr):
        self.total, self.done, self.stream = total, 0, stream
        self.counts = {}
        self.started = time.monotonic()
        self.tty = stream.isatty()
        self.lock = threading.Lock()

    def update(self, graded):
        with self.lock:
            self.done += 1
            self.counts[graded.status] = self.counts.get(graded.status, 0) + 1
            if self.tty:
                width = 30
                filled = width * self.done // self.total
                elapsed = time.monotonic() - self.started
                left = elapsed / self.done * (self.total - self.done)
                counts = "  ".join(f"{status} {n}" for status, n in sorted(self.counts.items()))
                self.stream.write(f"\r[{'#' * filled}{'.' * (width - filled)}] {self.done}/{self.total}  "
                                  f"{counts}  " + _("~{seconds} s left").format(seconds=f"{left:.0f}") + " ")
                if self.done == self.total:
                    self.stream.write("\n")
            else:
                self.stream.write(f"{self.done}/{self.total} {graded.student_id}: {graded.total:g}/{graded.max:g} "
                                  f"{graded.status} ({graded.seconds:.1f} s)\n")
            self.stream.flush()


class KitGuard:
    """The kit's own code, read at the start of a batch and checked (and put back) before every student.

    Student code cannot write the kit when the grader runs as root (it runs
    as a user of its own) and the guard of sandbox/walls.py refuses it in
    the student's process; a program the student started could still try,
    as the grader's own user. Whatever changed is restored before the next
    student is graded, and the students graded meanwhile are graded again.
    """

    def __init__(self, package=launch.PACKAGE):
        self.files = {path: path.read_bytes() for path in sorted(Path(package).rglob("*"))
                      if path.is_file() and "__pycache__" not in path.parts}

    def restore(self):
        """Put back every file that changed or went missing; return their paths."""
        changed = []
        for path, data in self.files.items():
            try:
                same = path.read_bytes() == data
            except OSError:
                same = False
            if not same:
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_bytes(data)
                changed.append(path)
        return changed


def grade_all(submissions, jobs=2, time_limit=STUDENT_TIME_LIMIT, kit_root=layout.KIT_ROOT, progress=None,
              same=None):
    """Grade [(student_id, path)] with `jobs` at a time; return the Graded rows in input order.

    `same` (samefiles.SameFiles): each exercise file is graded once, its
    copies get its results; None grades every copy again.
    """
    manifest = tamper.load_manifest()
    kit = run.KitTests.read(layout.exercises_dir(kit_root), manifest)
    if kit.problems:
        raise RuntimeError(_("the kit's own graded tests differ from its manifest ({problems}): "
                             "run `python -m chatkit stubs --check` in the kit").format(problems="; ".join(kit.problems)))
    guard = KitGuard()
    forks.server()  # before the worker threads: every student's run is forked from it
    rows, suspects, lock = {}, [], threading.Lock()
    running, recent = set(), set()  # being graded; finished since the kit was last found intact

    def look(student):
        if guard.restore():  # someone graded since the last look changed the kit: grade them again, alone
            suspects.extend(sorted(running | recent | {student}))
            if same is not None:
                same.forget()  # nor is any result kept since then trusted
        recent.clear()

    def grade(student, path):
        with lock:
            look(student)
            running.add(student)
        graded = grade_submission(student, path, kit_root, time_limit, manifest, kit, same)
        with lock:
            running.discard(student)
            recent.add(student)
            look(student)
        return graded

    with ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
        futures = {pool.submit(grade, student, path): student for student, path in submissions}
        for future in as_completed(futures):
            graded = future.result()
            rows[futures[future]] = graded
            if progress:
                progress.update(graded)
    sources = dict(submissions)
    for student in dict.fromkeys(suspects):  # one at a time: whoever changes the kit now is the one
        graded = grade_submission(student, sources[student], kit_root, time_limit, manifest, kit)
        if guard.restore():
            reason = _("the kit's own files changed while this submission was graded (they were put back)")
            graded.status, graded.problems = "tampered", [("tampered", reason), *graded.problems]
            graded.notes = "; ".join(filter(None, [reason, graded.notes]))
            graded.scores, graded.total = {ex: 0 for ex in graded.scores}, 0
        rows[student] = graded
    return [rows[student] for student, _ in submissions]


def write_gradebook(rows, path, exercise_ids):
    with open(path, "w", newline="", encoding=gradebook.ENCODING) as file:
        writer = csv.writer(file)
        writer.writerow(["student_id", *exercise_ids, "total", "max", "status", "seconds", "notes"])
        for row in rows:
            writer.writerow([row.student_id, *(f"{row.scores.get(ex, 0):g}" for ex in exercise_ids),
                             f"{row.total:g}", f"{row.max:g}", row.status, f"{row.seconds:.1f}", row.notes])


def write_test_results(rows, path):
    with open(path, "w", newline="", encoding=gradebook.ENCODING) as file:
        writer = csv.writer(file)
        writer.writerow(["student_id", "exercise", "test", "score", "max_score", "status", "kind", "hint",
                         "what_happened"])
        for row in rows:
            for test in row.tests:
                writer.writerow([row.student_id, test.exercise, test.test, f"{test.score:g}",
                                 f"{test.max_score:g}", test.status, test.kind, test.hint, test.what_happened])


def add_arguments(parser):
    parser.add_argument("submissions", help=_("a folder with one folder (or .zip) per student"))
    parser.add_argument("--out", default="grades.csv", help=_("the gradebook to write (default grades.csv)"))
    parser.add_argument("-j", "--jobs", type=int, default=DEFAULT_JOBS,
                        help=_("students graded at the same time (default {jobs}: twice the cores, since a "
                               "student whose program hangs only waits)").format(jobs=DEFAULT_JOBS))
    parser.add_argument("--time-limit", type=float, default=STUDENT_TIME_LIMIT,
                        help=_("seconds for one student's whole run (default {seconds})").format(
                            seconds=STUDENT_TIME_LIMIT))
    parser.add_argument("--roster", help=_("a CSV of the class (Canvas, Moodle or GitHub Classroom export) to match to"))
    parser.add_argument("--match", help=_("a regular expression on folder names with groups github, number, "
                                          "email or name (default: try each)"))
    parser.add_argument("--format", choices=gradebook.FORMATS, default="csv",
                        help=_("with --roster: the LMS import file to write beside the gradebook (default csv)"))
    parser.add_argument("--assignment", default="chatkit exercises",
                        help=_("the assignment column's name in the LMS file (Canvas: as the assignment is named)"))
    parser.add_argument("--feedback", metavar="DIR", help=_("write one feedback file per student into DIR"))
    parser.add_argument("--feedback-format", choices=("md", "html"), default="md",
                        help=_("the feedback files' format (default md)"))
    parser.add_argument("--regrade-copies", action="store_true",
                        help=_("grade every copy of an exercise file again (by default a file byte for byte the "
                               "same as one graded before in this batch gets its results)"))
    parser.set_defaults(sweep=True)


def main(args):
    folder = Path(args.submissions)
    if not folder.is_dir():
        print(_("error: {folder} is not a folder of submissions").format(folder=folder), file=sys.stderr)
        return 2
    submissions = find_submissions(folder)
    if not submissions:
        print(_("error: {folder} holds no submissions (one folder or .zip file per student)").format(folder=folder),
              file=sys.stderr)
        return 2
    roster_path = getattr(args, "roster", None)
    roster = gradebook.read_roster(roster_path) if roster_path else None
    manifest = tamper.load_manifest()
    exercise_ids = list(manifest.get("tests", {}))
    print(_("Grading {count} submissions, {jobs} at a time, at most {seconds:g} s each.").format(
        count=len(submissions), jobs=args.jobs, seconds=args.time_limit), file=sys.stderr)
    sweeping = getattr(args, "sweep", False)  # the command line owns its process; a caller's may have other children
    if sweeping:
        processes.adopt_orphans()  # what a student's run leaves behind comes to us, and is swept
    started = time.monotonic()
    try:
        same = None if getattr(args, "regrade_copies", False) else samefiles.SameFiles()
        rows = grade_all(submissions, args.jobs, args.time_limit, progress=Progress(len(submissions)), same=same)
    except RuntimeError as error:
        print(_("error: {error}").format(error=error), file=sys.stderr)
        return 2
    if sweeping:
        launch.sweep()
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    write_gradebook(rows, out, exercise_ids)
    tests_csv = out.with_name(out.stem + "-tests.csv")
    write_test_results(rows, tests_csv)
    written = [out.name, tests_csv.name]
    text = summary.summary(rows, exercise_ids)
    if roster is not None:
        matched = gradebook.match(rows, roster, getattr(args, "match", None))
        lms = out.with_name(f"{out.stem}-{args.format}.csv")
        gradebook.write_lms(rows, matched, roster, lms, args.format, args.assignment, max(r.max for r in rows))
        text += "\n\n" + "\n".join([_("Roster: {count} students, {matched} matched.").format(
            count=len(roster), matched=len(matched.by_student))]
                                   + gradebook.roster_report(matched, roster))
        written.append(lms.name)
    if getattr(args, "feedback", None):
        for row in rows:
            feedback.write_feedback(row, args.feedback, args.feedback_format)
        written.append(_("{count} feedback files in {folder}").format(count=len(rows), folder=args.feedback))
    summary_path, plot_path = out.with_name(out.stem + "-summary.txt"), out.with_suffix(".png")
    summary_path.write_text(text + "\n", encoding="utf-8")
    summary.plot(rows, plot_path)
    print(text)
    print("\n" + _("Graded {count} submissions in {seconds} s.").format(
        count=len(rows), seconds=f"{time.monotonic() - started:.0f}"))
    if same is not None and same.reused:
        print(_("{count} exercise files were byte for byte the same as one graded before: graded once, "
                "the same results (--regrade-copies grades each again).").format(count=same.reused))
    print(_("Wrote {files}.").format(files=", ".join(written + [summary_path.name, plot_path.name])))
    return 0
