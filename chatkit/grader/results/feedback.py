"""A feedback file for each student: the score table, and for each failed test its hint and what happened.

    write_feedback(row, folder, format="md")   folder/STUDENT.md (or .html)

Made from the gradebook row of ``python -m chatkit grade --feedback DIR``;
the sentences come from words.py (gettext), so they can be handed back in
the student's language.
"""

import html
from pathlib import Path

from chatkit.grader.results.tables import number
from chatkit.grader.results.words import feedback_texts, translator


def by_exercise(tests):
    order = list(dict.fromkeys(t.exercise for t in tests))
    return [(ex, [t for t in tests if t.exercise == ex]) for ex in order]


def described(test, words):
    """What the test checks, in the feedback's language."""
    return words["translate"](test.description) if test.description else test.test


def markdown(row, words):
    lines = [f"# {words['title']}", "", f"**{row.student_id}**: " + words["score"].format(
        score=number(row.total), max_score=number(row.max)), ""]
    if row.status != "ok":
        lines += [words["status"].format(status=row.status), ""]
    lines += [f"| {words['exercise']} | {words['tests']} | {words['points']} |", "|---|---:|---:|"]
    for exercise, tests in by_exercise(row.tests):
        passed = sum(t.passed for t in tests)
        lines.append(f"| {exercise} | {passed}/{len(tests)} | {number(sum(t.score for t in tests))}/"
                     f"{number(sum(t.max_score for t in tests))} |")
    lines += [f"| **{words['total']}** | | **{number(row.total)}/{number(row.max)}** |", ""]
    failed = [t for t in row.tests if not t.passed]
    if not failed:
        lines.append(words["all_pass"])
    else:
        lines += [f"## {words['failed']}", ""]
        for test in failed:
            lines.append(f"### {test.exercise}: {described(test, words)} "
                         f"({number(test.score)}/{number(test.max_score)})")
            if test.kind == "todo":
                lines.append(f"*{words['not_attempted']}*")
            if test.hint:
                lines.append(f"- **{words['hint']}:** {test.hint}")
            if test.what_happened:
                lines.append(f"- **{words['happened']}:** {test.what_happened}")
            lines.append("")
    if row.problems:
        lines += [f"## {words['problems']}", ""] + [f"- {status}: {reason}" for status, reason in row.problems]
    return "\n".join(lines) + "\n"


def as_html(row, words):
    esc = html.escape
    parts = [f"<!doctype html><meta charset='utf-8'><title>{esc(words['title'])}</title>",
             f"<h1>{esc(words['title'])}</h1>",
             f"<p><b>{esc(row.student_id)}</b>: {esc(words['score'].format(score=number(row.total), max_score=number(row.max)))}</p>"]
    if row.status != "ok":
        parts.append(f"<p>{esc(words['status'].format(status=row.status))}</p>")
    parts.append(f"<table><tr><th>{esc(words['exercise'])}</th><th>{esc(words['tests'])}</th><th>{esc(words['points'])}</th></tr>")
    for exercise, tests in by_exercise(row.tests):
        parts.append(f"<tr><td>{esc(exercise)}</td><td>{sum(t.passed for t in tests)}/{len(tests)}</td>"
                     f"<td>{number(sum(t.score for t in tests))}/{number(sum(t.max_score for t in tests))}</td></tr>")
    parts.append(f"<tr><th>{esc(words['total'])}</th><td></td><th>{number(row.total)}/{number(row.max)}</th></tr></table>")
    failed = [t for t in row.tests if not t.passed]
    parts.append(f"<p>{esc(words['all_pass'])}</p>" if not failed else f"<h2>{esc(words['failed'])}</h2>")
    for test in failed:
        parts.append(f"<h3>{esc(test.exercise)}: {esc(described(test, words))} "
                     f"({number(test.score)}/{number(test.max_score)})</h3><ul>")
        for label, text in ((words["hint"], test.hint), (words["happened"], test.what_happened)):
            if text:
                parts.append(f"<li><b>{esc(label)}:</b> {esc(text)}</li>")
        parts.append("</ul>")
    if row.problems:
        parts.append(f"<h2>{esc(words['problems'])}</h2><ul>"
                     + "".join(f"<li>{esc(s)}: {esc(r)}</li>" for s, r in row.problems) + "</ul>")
    return "\n".join(parts) + "\n"


def write_feedback(row, folder, format="md", language=None):
    """Write one student's feedback file into `folder`; return its path."""
    words = feedback_texts(translator(language))
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    name = "".join(c if c.isalnum() or c in "-_." else "_" for c in row.student_id) or "student"
    path = folder / f"{name}.{'html' if format == 'html' else 'md'}"
    path.write_text(as_html(row, words) if format == "html" else markdown(row, words), encoding="utf-8")
    return path
