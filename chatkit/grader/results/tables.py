"""The score table: plain text at the end of every `pytest exercises/` run, HTML in a notebook."""

import html


def text_table(results):
    """The score table, plain text (the end of every `pytest exercises/` run)."""
    rows = [f"{'exercise':<20} {'tests':>7} {'points':>9}"]
    for exercise, score, max_score in results.by_exercise():
        tests = [t for t in results.tests if t.exercise == exercise]
        passed = sum(t.passed for t in tests)
        mark = "done" if passed == len(tests) else ("not run" if all(t.status == "not run" for t in tests) else "")
        rows.append(f"{exercise:<20} {passed:>3}/{len(tests):<3} {number(score):>4}/{number(max_score):<4} {mark}")
    rows.append(f"{'total':<20} {'':>7} {number(results.score):>4}/{number(results.max_score):<4}")
    rows += next_step_lines(results)
    rows += [f"WARNING: {problem}" for problem in results.tampered]
    rows += [f"NOTE: ignored {what}" for what in getattr(results, "ignored", [])]
    rows += [f"NOTE: {note}" for note in getattr(results, "notes", [])]
    if not results.complete:
        rows.append("WARNING: this run did not finish; tests not reached count 0.")
    return "\n".join(rows)


def next_step_lines(results):
    """The "Next:" line: the first test not passed, and its hint."""
    test = results.first_failure()
    if test is None:
        return ["All graded tests pass."] if results.tests else ["No graded tests ran."]
    lines = [f"Next: {test.exercise}, {test.test} ({points(test.max_score)}): {test.description}"]
    if test.hint:
        lines.append(f"  Hint: {test.hint}")
    return lines


def html_table(results):
    """The same table for a notebook: one row per test, hints on failures."""
    esc = html.escape
    rows = []
    for exercise, score, max_score in results.by_exercise():
        rows.append(f"<tr style='background:#eef'><th style='text-align:left'>{esc(exercise)}</th>"
                    f"<th style='text-align:right'>{number(score)}/{number(max_score)}</th></tr>")
        for test in (t for t in results.tests if t.exercise == exercise):
            mark = ("<span style='color:#080'>&#10003;</span>" if test.passed
                    else "<span style='color:#c00'>&#10007;</span>")
            hint = "" if test.passed else "".join(
                f"<br><small>{label}{esc(text)}</small>"
                for label, text in (("Hint: ", test.hint), ("", test.what_happened)) if text)
            rows.append(f"<tr><td style='text-align:left'>{mark} {esc(test.description or test.test)}{hint}</td>"
                        f"<td style='text-align:right'>{number(test.score)}/{number(test.max_score)}</td></tr>")
    rows.append(f"<tr><th style='text-align:left'>total</th>"
                f"<th style='text-align:right'>{number(results.score)}/{number(results.max_score)}</th></tr>")
    notes = "".join(f"<p style='color:#a00'>{esc(line)}</p>" for line in
                    [f"WARNING: {p}" for p in results.tampered] +
                    ([] if results.complete else ["This run did not finish; tests not reached count 0."]))
    return f"<table>{''.join(rows)}</table>{notes}"


def points(value):
    """'1 point', '2 points', '1.5 points'."""
    return f"{number(value)} point{'' if value == 1 else 's'}"


def number(value):
    """2 for 2.0, 1.5 for 1.5: points read best without a needless '.0'."""
    return f"{value:g}"
