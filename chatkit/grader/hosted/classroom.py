"""``python -m chatkit classroom REPO --kit KIT --result FILE``: grade a student's repository in GitHub Actions.

GitHub Classroom grades in the student's own repository, so everything in
it is the student's, the kit included. The workflow (``--workflow`` prints
it; docs/github-classroom.md explains it) therefore takes the kit from the
repository's first commit (the template as GitHub Classroom handed it out:
no token needed, even for a private template), installs it outside the
repository, and runs this command from there: the student's exercise files
are graded on a clean copy of the kit's tests, exactly as
`python -m chatkit grade` would. The result file is the runner result of
results/classroom.py; a run that fails before grading still leaves one (an
"error" entry worth 0), so Classroom records a score either way.
"""

import json
import sys
from pathlib import Path

from chatkit.grader.authoring import tamper
from chatkit.grader.commands import grade
from chatkit.grader.hosted import gradescope
from chatkit.grader.limits import STUDENT_TIME_LIMIT
from chatkit.grader.results import Results, classroom
from chatkit.tools.language import translator

_ = translator()

WORKFLOW = """name: Autograding Tests
on: [push, repository_dispatch]
permissions:
  checks: write
  actions: read
  contents: read
jobs:
  run-autograding-tests:
    runs-on: ubuntu-latest
    if: github.actor != 'github-classroom[bot]'
    steps:
      - uses: actions/checkout@v4
        with:
          fetch-depth: 0  # the whole history: its first commit is the template as handed out
      - uses: actions/setup-python@v5
        with:
          python-version: "3.12"
      - name: Grade with the template's kit, never the student's copy
        id: chatkit
        run: |
{script}
      - name: Autograding Reporter
        if: always()
        uses: classroom-resources/autograding-grading-reporter@v1
        env:
          CHATKIT_RESULTS: "${{{{ steps.chatkit.outputs.result }}}}"
        with:
          runners: chatkit
"""
SCRIPT = """set +e
KIT="$RUNNER_TEMP/chatkit-kit"; RESULT="$RUNNER_TEMP/chatkit-result.json"
mkdir -p "$KIT"
FIRST=$(git rev-list --max-parents=0 HEAD | tail -n 1)
git archive "$FIRST" | tar -x -C "$KIT" \\
  && python -m venv "$RUNNER_TEMP/chatkit-venv" \\
  && "$RUNNER_TEMP/chatkit-venv/bin/python" -m pip install --quiet {requirements} \\
  && "$RUNNER_TEMP/chatkit-venv/bin/python" -m pip install --quiet --no-deps "$KIT" \\
  && (cd "$RUNNER_TEMP" && "$RUNNER_TEMP/chatkit-venv/bin/python" -I -m chatkit classroom "$GITHUB_WORKSPACE" \\
        --kit "$KIT" --result "$RESULT")
if [ ! -s "$RESULT" ]; then  # grading failed before it began: record 0 points and say so
  printf '%s' '{fallback}' > "$RESULT"
fi
echo "result=$(base64 -w0 "$RESULT")" >> "$GITHUB_OUTPUT"
"""


def max_points():
    return int(tamper.required_points())


def script():
    """The grading step's shell script (what the workflow runs, and what the kit's tests run)."""
    requirements = " ".join(f"'{line}'" for line in gradescope.requirements().splitlines())
    failed = Results()
    fallback = classroom.payload(failed, max_points(), "Grading did not run: see the log of the grading step.")
    return SCRIPT.format(requirements=requirements, fallback=json.dumps(fallback, separators=(",", ":")))


def workflow():
    return WORKFLOW.format(script="\n".join(f"          {line}" if line else "" for line in script().splitlines()))


def add_arguments(parser):
    parser.add_argument("repository", nargs="?", help=_("the student's repository (in Actions: $GITHUB_WORKSPACE)"))
    parser.add_argument("--kit", help=_("the kit as handed out (the repository's first commit, unpacked)"))
    parser.add_argument("--result", default="result.json", help=_("the runner result to write (default result.json)"))
    parser.add_argument("--time-limit", type=float, default=STUDENT_TIME_LIMIT,
                        help=_("seconds for the student's whole run (default {seconds})").format(seconds=STUDENT_TIME_LIMIT))
    parser.add_argument("--workflow", action="store_true", help=_("print the workflow file to commit in the template"))


def main(args):
    if args.workflow:
        print(workflow(), end="")
        return 0
    if not args.repository or not args.kit:
        print(_("error: give the student's repository and --kit"), file=sys.stderr)
        return 2
    row = grade.grade_submission("repository", Path(args.repository), Path(args.kit), args.time_limit)
    reason = "; ".join(reason for status, reason in row.problems)
    classroom.save(Results(row.tests), args.result, row.max, reason)
    print(_("chatkit: {score}/{max_score} points, status {status}").format(
        score=f"{row.total:g}", max_score=f"{row.max:g}", status=row.status) + (f" ({reason})" if reason else ""))
    return 0
