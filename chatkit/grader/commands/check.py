"""``check("ex03")``: grade one exercise from a notebook, without ever hanging the kernel.

The grader runs in a separate process with an overall time limit, so a
student server stuck in ``accept()`` or in an endless loop costs a few
seconds, never the notebook. The score table is shown as HTML in Jupyter
and as text anywhere else; the result is returned for code that wants it.
"""

import tempfile
from pathlib import Path

from chatkit.grader import layout
from chatkit.grader.commands.run import run_grader
from chatkit.grader.limits import CHECK_TIME_LIMIT
from chatkit.grader.results import words
from chatkit.grader.results.tables import html_table, text_table
from chatkit.tools.language import translator

_ = translator()


class CheckResult:
    """The outcome of check(): score, max_score, tests, and a table that shows itself."""

    def __init__(self, exercise, run):
        self.exercise = exercise
        self.results = run.results
        self.output = run.output  # everything pytest printed: the failures in full
        self.timed_out = run.timed_out
        self.score = run.results.score
        self.max_score = run.results.max_score
        self.tests = run.results.tests
        self._shown = None  # the notebook cell that showed the table, if one did

    @property
    def passed(self):
        return bool(self.tests) and all(test.passed for test in self.tests)

    def __str__(self):
        text = text_table(self.results)
        if not self.tests:
            text += "\n\n" + words.GRADER_DID_NOT_RUN + "\n" + self.output[-3000:]
        elif self.timed_out:
            text += "\n\n" + _("The grader was stopped after {seconds:g} s.").format(seconds=CHECK_TIME_LIMIT)
        return text

    def _repr_html_(self):
        if not self.tests:
            return f"<pre>{_escape(str(self))}</pre>"
        title = _("{exercise}: {score}/{max_score} points").format(
            exercise=f"<b>{_escape(self.exercise)}</b>", score=f"{self.score:g}", max_score=f"{self.max_score:g}")
        details = ""
        failures = [test for test in self.tests if not test.passed]
        if failures:
            summary = _("What went wrong")  # not inside the f-string: Python 3.12+ and 3.10 extract the same texts
            details = (f"<details><summary>{_escape(summary)}</summary><pre>"
                       + _escape("\n\n".join(f"{t.test}\n{t.output}" for t in failures)) + "</pre></details>")
        return f"<p>{title}</p>{html_table(self.results)}{details}"

    def _ipython_display_(self):
        # check() has just shown the table; the echo of its return value at the end
        # of that same cell would show it a second time. A later cell shows it again.
        if self._shown is not None and self._shown == _cell_number():
            return
        from IPython.display import HTML, display
        display(HTML(self._repr_html_()))

    def __repr__(self):
        return f"<CheckResult {self.exercise}: {self.score:g}/{self.max_score:g} points>"


def check(exercise, solutions=False, time_limit=CHECK_TIME_LIMIT):
    """Grade one exercise ('ex03' or 'ex03_threads'), show the score table, return the result.

    solutions=True grades the reference answer instead of your file (the
    walkthrough does that in CI to show what a full score looks like).
    """
    exercise_id = layout.resolve(exercise)
    with tempfile.TemporaryDirectory(prefix="chatkit-check-") as scratch:
        run = run_grader([layout.test_file(exercise_id)], Path(scratch) / "results.json",
                         solutions=solutions, time_limit=time_limit)
    result = CheckResult(exercise_id, run)
    if _in_notebook():
        from IPython.display import HTML, display
        display(HTML(result._repr_html_()))
        result._shown = _cell_number()
    else:
        print(result)
    return result


def _in_notebook():
    try:
        from IPython import get_ipython
    except ImportError:
        return False
    shell = get_ipython()
    return shell is not None and type(shell).__name__ == "ZMQInteractiveShell"


def _cell_number():
    from IPython import get_ipython

    shell = get_ipython()
    return shell.execution_count if shell is not None else None


def _escape(text):
    import html
    return html.escape(text)
