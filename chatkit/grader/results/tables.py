"""The score table: plain text at the end of every `pytest exercises/` run, HTML in a notebook."""

import html

from chatkit.grader.results.words import _, ngettext
from chatkit.tools.language import columns


def described(test):
    """What the test checks, in the student's language (the first line of its docstring)."""
    return _(test.description) if test.description else test.test


def text_table(results):
    """The score table, plain text (the end of every `pytest exercises/` run)."""
    exercise_, tests_, points_, total_ = _("exercise"), _("tests"), _("points"), _("total")
    rows = [f"{pad(exercise_, 20)} {pad(tests_, 7, right=True)} {pad(points_, 9, right=True)}"]
    for exercise, score, max_score in results.by_exercise():
        tests = [t for t in results.tests if t.exercise == exercise]
        passed = sum(t.passed for t in tests)
        mark = _("done") if passed == len(tests) else (_("not run") if all(t.status == "not run" for t in tests) else "")
        if any(t.optional for t in tests):
            mark = f"{mark} ({_('optional')})".strip()
        rows.append(f"{exercise:<20} {passed:>3}/{len(tests):<3} {number(score):>4}/{number(max_score):<4} {mark}")
    rows.append(f"{pad(total_, 20)} {'':>7} {number(results.score):>4}/{number(results.max_score):<4}")
    if any(t.optional for t in results.tests):
        rows.append(_("optional exercises: {score}/{max_score} extra, not in the total").format(
            score=number(results.extra_score), max_score=number(results.extra_max_score)))
    rows += next_step_lines(results)
    rows += [_("WARNING: {problem}").format(problem=problem) for problem in results.tampered]
    rows += [_("NOTE: ignored {what}").format(what=what) for what in getattr(results, "ignored", [])]
    rows += [_("NOTE: {note}").format(note=note) for note in getattr(results, "notes", [])]
    if not results.complete:
        rows.append(_("WARNING: this run did not finish; tests not reached count 0."))
    return "\n".join(rows)


def next_step_lines(results):
    """The "Next:" line: the first test not passed, and its hint."""
    test = results.first_failure()
    if test is None:
        return [_("All graded tests pass.")] if results.tests else [_("No graded tests ran.")]
    lines = [_("Next: {exercise}, {test} ({points}): {description}").format(
        exercise=test.exercise, test=test.test, points=points(test.max_score), description=described(test))]
    if test.hint:
        lines.append("  " + _("Hint: {hint}").format(hint=test.hint))
    return lines


def html_table(results):
    """The same table for a notebook: one row per test, hints on failures."""
    esc = html.escape
    rows = []
    for exercise, score, max_score in results.by_exercise():
        optional = any(t.optional for t in results.tests if t.exercise == exercise)
        label = f"{exercise} ({_('optional')})" if optional else exercise
        rows.append(f"<tr style='background:#eef'><th style='text-align:left'>{esc(label)}</th>"
                    f"<th style='text-align:right'>{number(score)}/{number(max_score)}</th></tr>")
        for test in (t for t in results.tests if t.exercise == exercise):
            mark = ("<span style='color:#080'>&#10003;</span>" if test.passed
                    else "<span style='color:#c00'>&#10007;</span>")
            hint = "" if test.passed else "".join(
                f"<br><small>{label}{esc(text)}</small>"
                for label, text in ((_("Hint: {hint}").format(hint=""), test.hint), ("", test.what_happened)) if text)
            rows.append(f"<tr><td style='text-align:left'>{mark} {esc(described(test))}{hint}</td>"
                        f"<td style='text-align:right'>{number(test.score)}/{number(test.max_score)}</td></tr>")
    total_ = _("total")
    rows.append(f"<tr><th style='text-align:left'>{esc(total_)}</th>"
                f"<th style='text-align:right'>{number(results.score)}/{number(results.max_score)}</th></tr>")
    notes = "".join(f"<p style='color:#a00'>{esc(line)}</p>" for line in
                    [_("WARNING: {problem}").format(problem=p) for p in results.tampered] +
                    ([] if results.complete else [_("WARNING: this run did not finish; tests not reached count 0.")]))
    return f"<table>{''.join(rows)}</table>{notes}"


def points(value):
    """'1 point', '2 points', '1.5 points' (in Korean '1점', '1.5점')."""
    return ngettext("{points} point", "{points} points", 1 if value == 1 else 2).format(points=number(value))


def pad(text, width, right=False):
    """`text` padded to `width` columns as a terminal shows them (a Hangul syllable takes two)."""
    room = " " * max(0, width - columns(text))
    return room + text if right else text + room


def number(value):
    """2 for 2.0, 1.5 for 1.5: points read best without a needless '.0'."""
    return f"{value:g}"
