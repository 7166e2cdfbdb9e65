"""``python -m chatkit grade SUBMISSIONS --out grades.csv [-j N]``: grade a whole class.

    SUBMISSIONS/alice/exercises/ex01_listen.py ...   one folder (or .zip) per student,
    SUBMISSIONS/bob.zip                              any layout: exercise files are found by name

For each student: a fresh folder gets the kit's own graded tests,
conftest.py and pytest settings, plus the student's exercise files (only
those, whatever else the submission holds); pytest grades it in a process
of its own with a time limit, N students at a time. A submission that
hangs or crashes costs its own time limit, never the batch; what it earned
before being stopped is kept. Test files a student edited or added are
reported (status ``tampered``), and never used.

Writes the gradebook (one row a student), grades-tests.csv (one row a
student and test), and a summary: a text table and a plot beside the CSV.
"""

import csv
import shutil
import sys
import tempfile
import threading
import time
import zipfile
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field
from pathlib import Path

from chatkit.grader import layout
from chatkit.grader.authoring import tamper
from chatkit.grader.commands import summary
from chatkit.grader.commands.run import run_grader_forked
from chatkit.grader.limits import STUDENT_TIME_LIMIT

SKIPPED_FOLDERS = {".git", ".venv", "venv", "__pycache__", "solutions", "node_modules", ".ipynb_checkpoints"}


@dataclass
class Graded:
    """One student's row of the gradebook, and the per-test results behind it."""

    student_id: str
    scores: dict  # exercise -> points
    total: float
    max: float
    status: str  # ok / timeout / error / tampered
    seconds: float
    notes: str = ""
    tests: list = field(default_factory=list)  # TestResult


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


def exercise_files(folder, exercise_ids):
    """{exercise_id: path} of the student's exercise files; exercises/ wins over other places."""
    found = {}
    for path in sorted(Path(folder).rglob("ex[0-9][0-9]_*.py"), key=lambda p: (p.parent.name != "exercises", len(p.parts))):
        if SKIPPED_FOLDERS & set(path.relative_to(folder).parts[:-1]):
            continue
        if path.stem in exercise_ids and path.stem not in found:
            found[path.stem] = path
    return found


def tampering(folder, files, manifest):
    """Test-infrastructure files of the submission that differ from (or are not in) the kit's."""
    folders = sorted({path.parent for path in files.values()} or {Path(folder)})
    return [problem for place in folders for problem in tamper.problems(place, manifest, complete=False)]


def grade_submission(student_id, source, kit_root=layout.KIT_ROOT, time_limit=STUDENT_TIME_LIMIT, manifest=None):
    """Grade one submission (a folder or a .zip) in a scratch folder; return its Graded row."""
    manifest = manifest or tamper.load_manifest()
    exercise_ids = list(manifest.get("tests", {})) or layout.exercise_ids(kit_root)
    max_score = sum(test["points"] for tests in manifest.get("tests", {}).values() for test in tests)
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix=f"chatkit-grade-{safe(student_id)}-") as scratch:
        scratch = Path(scratch)
        folder = source
        if Path(source).suffix == ".zip":
            folder = scratch / "submission"
            try:
                with zipfile.ZipFile(source) as archive:
                    archive.extractall(folder)
            except (zipfile.BadZipFile, OSError) as error:
                return Graded(student_id, {}, 0, max_score, "error", 0.0, f"cannot open the zip file: {error}")
        files = exercise_files(folder, exercise_ids)
        tampered = tampering(folder, files, manifest)
        work = scratch / "grading" / "exercises"
        work.mkdir(parents=True)
        kit_exercises = layout.exercises_dir(kit_root)
        for name in manifest.get("files", {}):  # the kit's own tests and conftest.py, never the student's
            shutil.copy(kit_exercises / name, work / name)
        shutil.copy(Path(kit_root) / "pyproject.toml", work.parent / "pyproject.toml")
        for exercise, path in files.items():
            shutil.copy(path, work / f"{exercise}.py")
        run = run_grader_forked([work], scratch / "results.json", cwd=work.parent, time_limit=time_limit)
    results = run.results
    scores = {exercise: score for exercise, score, _ in results.by_exercise()}
    notes = []
    if tampered:
        status = "tampered"
        notes.append("graded with the kit's own tests; " + "; ".join(tampered))
    elif run.timed_out:
        status = "timeout"
    elif not results.tests or run.returncode not in (0, 1):
        status = "error"
    else:
        status = "ok"
    if run.timed_out:
        notes.append(f"stopped after {time_limit} s; tests not reached count 0")
    if not results.tests:
        notes.append("the grader did not run: " + " ".join(run.output.strip().splitlines()[-2:])[:300])
    missing = [exercise for exercise in exercise_ids if exercise not in files]
    if missing and len(missing) < len(exercise_ids):
        notes.append("missing: " + ", ".join(missing))
    elif missing:
        notes.append("no exercise files found")
    return Graded(student_id, scores, results.score, max_score, status, round(time.monotonic() - started, 1),
                  "; ".join(notes), results.tests)


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
                                  f"{counts}  ~{left:.0f} s left ")
                if self.done == self.total:
                    self.stream.write("\n")
            else:
                self.stream.write(f"{self.done}/{self.total} {graded.student_id}: {graded.total:g}/{graded.max:g} "
                                  f"{graded.status} ({graded.seconds:.1f} s)\n")
            self.stream.flush()


def grade_all(submissions, jobs=2, time_limit=STUDENT_TIME_LIMIT, kit_root=layout.KIT_ROOT, progress=None):
    """Grade [(student_id, path)] with `jobs` at a time; return the Graded rows in input order."""
    manifest = tamper.load_manifest()
    rows = {}
    with ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
        futures = {pool.submit(grade_submission, student, path, kit_root, time_limit, manifest): student
                   for student, path in submissions}
        for future in as_completed(futures):
            graded = future.result()
            rows[futures[future]] = graded
            if progress:
                progress.update(graded)
    return [rows[student] for student, _ in submissions]


def write_gradebook(rows, path, exercise_ids):
    with open(path, "w", newline="", encoding="utf-8") as file:
        writer = csv.writer(file)
        writer.writerow(["student_id", *exercise_ids, "total", "max", "status", "seconds", "notes"])
        for row in rows:
            writer.writerow([row.student_id, *(f"{row.scores.get(ex, 0):g}" for ex in exercise_ids),
                             f"{row.total:g}", f"{row.max:g}", row.status, f"{row.seconds:.1f}", row.notes])


def write_test_results(rows, path):
    with open(path, "w", newline="", encoding="utf-8") as file:
        writer = csv.writer(file)
        writer.writerow(["student_id", "exercise", "test", "score", "max_score", "status", "hint"])
        for row in rows:
            for test in row.tests:
                writer.writerow([row.student_id, test.exercise, test.test, f"{test.score:g}",
                                 f"{test.max_score:g}", test.status, test.hint])


def add_arguments(parser):
    parser.add_argument("submissions", help="a folder with one folder (or .zip) per student")
    parser.add_argument("--out", default="grades.csv", help="the gradebook to write (default grades.csv)")
    parser.add_argument("-j", "--jobs", type=int, default=2, help="students graded at the same time (default 2)")
    parser.add_argument("--time-limit", type=float, default=STUDENT_TIME_LIMIT,
                        help=f"seconds for one student's whole run (default {STUDENT_TIME_LIMIT})")


def main(args):
    folder = Path(args.submissions)
    if not folder.is_dir():
        print(f"error: {folder} is not a folder of submissions", file=sys.stderr)
        return 2
    submissions = find_submissions(folder)
    if not submissions:
        print(f"error: {folder} holds no submissions (one folder or .zip file per student)", file=sys.stderr)
        return 2
    manifest = tamper.load_manifest()
    exercise_ids = list(manifest.get("tests", {}))
    print(f"Grading {len(submissions)} submissions, {args.jobs} at a time, "
          f"at most {args.time_limit:g} s each.", file=sys.stderr)
    started = time.monotonic()
    rows = grade_all(submissions, args.jobs, args.time_limit, progress=Progress(len(submissions)))
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    write_gradebook(rows, out, exercise_ids)
    tests_csv = out.with_name(out.stem + "-tests.csv")
    write_test_results(rows, tests_csv)
    text = summary.summary(rows, exercise_ids)
    summary_path, plot_path = out.with_name(out.stem + "-summary.txt"), out.with_suffix(".png")
    summary_path.write_text(text + "\n", encoding="utf-8")
    summary.plot(rows, plot_path)
    print(text)
    print(f"\nGraded {len(rows)} submissions in {time.monotonic() - started:.0f} s.")
    print(f"Wrote {out}, {tests_csv.name}, {summary_path.name} and {plot_path.name}.")
    return 0
