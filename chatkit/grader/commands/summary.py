"""The instructor's summary after bulk grading: scores, statuses, and the tests failed most.

A text table for the terminal (and grades-summary.txt), and a plot saved
beside the gradebook: the distribution of total scores, and the tests
that most students failed, which is where the next lecture should look.
Both are in the kit's language (chatkit.tools.language); the statuses and
exercise names stay as the gradebook's CSV writes them, so an instructor
can look a row up there.
"""

import statistics
from collections import Counter

from chatkit.grader.results.tables import number
from chatkit.grader.scoring import GENERIC_HINTS
from chatkit.tools import plots
from chatkit.tools.language import translator

_ = translator()

BAR = 40  # characters of the widest histogram bar


NOT_ATTEMPTED = ("todo", "not run")  # the TODO still there, or never reached: not a wrong answer


def failure_counts(rows):
    """[(exercise, test, students whose answer was wrong, hint heard most, students who had not attempted it)],
    most wrong first."""
    failed, skipped, hints, order = Counter(), Counter(), {}, {}
    for row in rows:
        for test in row.tests:
            order.setdefault((test.exercise, test.test), (test.exercise, len(order)))  # the kit's order
            if test.passed:
                continue
            key = (test.exercise, test.test)
            if test.kind in NOT_ATTEMPTED or test.status == "not run":
                skipped[key] += 1
                continue
            failed[key] += 1
            hints.setdefault(key, Counter())[test.hint] += 1
    def telling(counter):  # a test's own hint says more to an instructor than a generic one
        specific = [(hint, n) for hint, n in counter.most_common() if hint not in GENERIC_HINTS.values()]
        return (specific or counter.most_common())[0][0]

    keys = sorted(set(failed) | set(skipped), key=lambda key: (-failed[key], -skipped[key], order[key]))
    return [(exercise, test, failed[(exercise, test)],
             telling(hints[(exercise, test)]) if (exercise, test) in hints else "", skipped[(exercise, test)])
            for exercise, test in keys]


def histogram(totals, maximum, bins=10):
    """[(low, high, count)]: how many totals fall in each tenth of the maximum."""
    width = maximum / bins if maximum else 1
    counts = [0] * bins
    for total in totals:
        counts[min(bins - 1, int(total / width))] += 1
    return [(i * width, (i + 1) * width, count) for i, count in enumerate(counts)]


def summary(rows, exercise_ids):
    """The text summary of a graded class."""
    if not rows:
        return _("No submissions.")
    totals = [row.total for row in rows]
    maximum = max(row.max for row in rows)
    lines = [_("{count} submissions, out of {maximum} points: mean {mean}, median {median}, "
               "lowest {lowest}, highest {highest}").format(
        count=len(rows), maximum=number(maximum), mean=f"{statistics.mean(totals):.1f}",
        median=number(statistics.median(totals)), lowest=number(min(totals)), highest=number(max(totals)))]
    statuses = Counter(row.status for row in rows)
    lines.append(_("status: {counts}").format(
        counts=", ".join(f"{status} {count}" for status, count in sorted(statuses.items()))))
    lines += ["", _("Total scores:")]
    bins = histogram(totals, maximum)
    most = max(count for _, _, count in bins) or 1
    for low, high, count in bins:
        lines.append(f"  {low:5.1f}-{high:5.1f} | {'#' * round(BAR * count / most):<{BAR}} {count}")
    lines += ["", _("Per exercise (mean points, and students with full marks):")]
    for exercise in exercise_ids:
        scores = [row.scores.get(exercise, 0) for row in rows]
        tests = [t for row in rows for t in row.tests if t.exercise == exercise]
        full = sum(t.max_score for t in tests) / len(rows) if tests else 0
        complete = sum(1 for row in rows if full and row.scores.get(exercise, 0) >= full)
        lines.append(f"  {exercise:<20} {statistics.mean(scores):5.1f} / {number(full):<3}   "
                     + _("full marks: {count}").format(count=complete))
    failures = failure_counts(rows)
    if failures:
        lines += ["", _("Tests failed most (students with a wrong answer; not attempted counted apart):")]
        for exercise, test, count, hint, skipped in failures[:10]:
            lines.append("  " + _("{wrong} ({percent}%) wrong, {skipped} not attempted").format(
                wrong=f"{count:4}", percent=f"{100 * count / len(rows):3.0f}", skipped=f"{skipped:4}")
                + f"  {exercise}::{test}")
            if hint:
                lines.append(f"{'':16}" + _("hint: {hint}").format(hint=hint[:100]))
    flagged = [row for row in rows if getattr(row, "problems", None) or row.status != "ok"]
    if flagged:
        lines += ["", _("Look at these:")]
        for row in flagged:
            reasons = getattr(row, "problems", None) or [(row.status, row.notes)]
            lines.append(f"  {row.student_id}: {row.status}")
            lines += [f"      {status}: {reason}" for status, reason in reasons]
    return "\n".join(lines)


def plot(rows, path):
    """Save the score distribution and the most failed tests as a PNG."""
    from matplotlib.ticker import MaxNLocator

    pyplot = plots.pyplot()  # a font with Hangul: students' names and the words may be Korean

    figure, (left, right) = pyplot.subplots(1, 2, figsize=(12, 4.5), gridspec_kw={"width_ratios": [1, 1.3]})
    maximum = max((row.max for row in rows), default=1)
    left.hist([row.total for row in rows], bins=[maximum * i / 10 for i in range(11)], color="#4c72b0",
              edgecolor="white")
    left.set_title(_("Total scores ({count} submissions)").format(count=len(rows)))
    left.set_xlabel(_("points (out of {maximum})").format(maximum=number(maximum)))
    left.set_ylabel(_("students"))
    left.yaxis.set_major_locator(MaxNLocator(integer=True))  # whole students, never a quarter of one
    failures = failure_counts(rows)[:10][::-1]
    if failures:
        labels = [f"{exercise[:4]} {test.removeprefix('test_')}" for exercise, test, _, _, _ in failures]
        right.barh(labels, [count for _, _, count, _, _ in failures], color="#dd8452", label=_("wrong"))
        right.barh(labels, [skipped for *_, skipped in failures], left=[count for _, _, count, _, _ in failures],
                   color="#cccccc", label=_("not attempted"))
        right.set_xlim(0, len(rows))
        right.xaxis.set_major_locator(MaxNLocator(integer=True))
        right.set_xlabel(_("students"))
        right.legend(loc="lower right")
        right.set_title(_("Tests failed most"))
    else:
        right.text(0.5, 0.5, _("every test passed for everyone"), ha="center", va="center")
        right.set_axis_off()
    figure.tight_layout()
    figure.savefig(path, dpi=100)
    pyplot.close(figure)
