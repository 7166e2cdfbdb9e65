"""The gradebook for an LMS: a roster joined to the submissions, one assignment column, Excel-safe.

    roster = read_roster("roster.csv")                     # Canvas, Moodle or GitHub Classroom exports
    matched = match(rows, roster, pattern=None)            # by GitHub username, student number, or name
    write_lms(rows, matched, roster, "grades-canvas.csv", "canvas", "Chat lab")

A submission folder is matched to a roster student by a regular expression
with named groups (``--match '(?P<github>[^-]+)$'``: github, number, email
or name), or else by any of: the student's GitHub username at the end of
the folder name (GitHub Classroom's ``assignment-username``), the student
number as a whole token (``2024012_이민지``), the e-mail, or the full name.
Submissions that match nobody, or several students, and students with two
submissions are reported, never guessed: their cells stay empty.

Files are UTF-8 with a byte order mark, so Excel (which otherwise reads
CSV as cp949 on a Korean Windows) shows 이민지, not mojibake; Canvas and
Moodle read the mark as what it is.
"""

import csv
import re
from dataclasses import dataclass, field

from chatkit.grader.results.tables import number
from chatkit.tools.language import translator

_ = translator()

ENCODING = "utf-8-sig"  # UTF-8 with a byte order mark: what Excel needs to see UTF-8
# header of a roster column (lower case) -> our field
COLUMNS = {
    "student": "name", "name": "name", "full name": "name", "이름": "name", "identifier": "name",
    "id": "canvas_id", "sis user id": "number", "student number": "number", "student_number": "number",
    "id number": "number", "idnumber": "number", "학번": "number", "sis login id": "login", "login": "login",
    "username": "login", "github": "github", "github_username": "github", "github username": "github",
    "email": "email", "email address": "email", "section": "section",
}
FORMATS = ("canvas", "moodle", "csv")


@dataclass
class Student:
    name: str = ""
    number: str = ""
    github: str = ""
    email: str = ""
    login: str = ""
    canvas_id: str = ""
    section: str = ""

    def label(self):
        return self.name or self.number or self.github or self.email


@dataclass
class Matched:
    by_student: dict = field(default_factory=dict)  # roster index -> [student_id of the submission]
    unmatched: list = field(default_factory=list)  # (student_id, why)
    missing: list = field(default_factory=list)  # roster indices without a submission

    def duplicates(self):
        return {index: ids for index, ids in self.by_student.items() if len(ids) > 1}


def read_roster(path):
    """[Student] from a CSV roster (the columns named in COLUMNS, in any case; others ignored)."""
    with open(path, newline="", encoding="utf-8-sig") as file:
        rows = list(csv.DictReader(file))
    students = []
    for row in rows:
        values = {COLUMNS[key.strip().lower()]: (value or "").strip() for key, value in row.items()
                  if key and key.strip().lower() in COLUMNS}
        if values.get("name", "").strip().lower() == "points possible":
            continue  # Canvas's export has this second row
        if any(values.values()):
            students.append(Student(**values))
    return students


def normal(text):
    return re.sub(r"\s+", "", text or "").casefold()


def candidates_for(folder, roster, pattern=None):
    """The roster indices a submission folder's name matches."""
    name = normal(folder)
    if pattern:
        found = re.search(pattern, folder)
        if not found:
            return []
        groups = {key: normal(value) for key, value in found.groupdict().items() if value}
        return [i for i, s in enumerate(roster)
                if any(groups.get(key) and groups[key] == normal(getattr(s, key)) for key in
                       ("github", "number", "email", "name"))]
    tokens = set(re.split(r"[^0-9a-z가-힣@._]+|_", name))
    hits = []
    for index, student in enumerate(roster):
        github, number_, email, full = (normal(student.github), normal(student.number), normal(student.email),
                                        normal(student.name))
        if (github and (name == github or name.endswith("-" + github)) or number_ and number_ in tokens
                or email and email in tokens or full and len(full) > 1 and full in name):
            hits.append(index)
    return hits


def match(rows, roster, pattern=None):
    """Join gradebook rows (by their student_id, the folder name) to the roster."""
    matched = Matched()
    for row in rows:
        hits = candidates_for(row.student_id, roster, pattern)
        if len(hits) == 1:
            matched.by_student.setdefault(hits[0], []).append(row.student_id)
        elif hits:
            matched.unmatched.append((row.student_id, _("matches {students}").format(
                students=", ".join(roster[i].label() for i in hits))))
        else:
            matched.unmatched.append((row.student_id, _("matches no student of the roster")))
    matched.missing = [i for i in range(len(roster)) if i not in matched.by_student]
    return matched


def score_of(index, matched, by_id):
    """The total to import for a roster student; '' (no change) where there is none or two."""
    ids = matched.by_student.get(index, [])
    return number(by_id[ids[0]].total) if len(ids) == 1 else ""


def write_lms(rows, matched, roster, path, format, assignment, max_score):
    """Write the file an LMS imports as ONE assignment column; return its path."""
    if format not in FORMATS:
        raise ValueError(f"unknown format {format!r}: choose one of {', '.join(FORMATS)}")
    by_id = {row.student_id: row for row in rows}
    with open(path, "w", newline="", encoding=ENCODING) as file:
        writer = csv.writer(file)
        if format == "canvas":  # Canvas: these five columns identify the student; every other one is an assignment
            writer.writerow(["Student", "ID", "SIS User ID", "SIS Login ID", "Section", assignment])
            for index, s in enumerate(roster):
                writer.writerow([s.name, s.canvas_id, s.number, s.login, s.section, score_of(index, matched, by_id)])
        elif format == "moodle":  # Moodle: map "ID number" (or "Email address") to the user on import
            writer.writerow(["Full name", "ID number", "Email address", assignment])
            for index, s in enumerate(roster):
                writer.writerow([s.name, s.number, s.email, score_of(index, matched, by_id)])
        else:
            writer.writerow(["name", "student_number", "github", "email", "section", "submission", assignment,
                             "max", "status"])
            for index, s in enumerate(roster):
                ids = matched.by_student.get(index, [])
                status = "no submission" if not ids else ("duplicate" if len(ids) > 1 else by_id[ids[0]].status)
                writer.writerow([s.name, s.number, s.github, s.email, s.section, " ".join(ids),
                                 score_of(index, matched, by_id), number(max_score), status])
    return path


def roster_report(matched, roster):
    """Lines for the summary: who matched nobody, who handed in twice, who handed in nothing."""
    lines = []
    if matched.unmatched:
        lines += [_("Submissions not matched to the roster (not in the LMS file):")]
        lines += [f"  {student_id}: {why}" for student_id, why in matched.unmatched]
    duplicates = matched.duplicates()
    if duplicates:
        lines += [_("Students with more than one submission (their LMS cell is left empty: choose one):")]
        lines += [f"  {roster[i].label()}: {', '.join(ids)}" for i, ids in duplicates.items()]
    if matched.missing:
        lines += [_("Students of the roster without a submission ({count}; their LMS cell is empty):").format(
            count=len(matched.missing))]
        lines += [f"  {roster[i].label()}" for i in matched.missing]
    return lines
