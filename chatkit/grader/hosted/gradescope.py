"""``python -m chatkit gradescope OUT.zip``: the Gradescope autograder, and what runs inside it.

The zip holds, at its root (as Gradescope asks):

    setup.sh          installs Python, a venv, the pinned requirements, and the kit (no dependencies of its own)
    run_autograder    writes a fallback results.json first, then grades /autograder/submission
    requirements.txt  pytest and its dependencies, pinned to the versions this kit was tested with
    kit/              the kit: chatkit/, exercises/ (the graded tests and conftest.py), pyproject.toml

No solutions/ and no notebooks: the autograder needs neither. Inside the
container, ``python -m chatkit.grader.hosted.gradescope run`` grades the
submission like the bulk grader (only exercises/exNN_*.py are taken; student
code runs as a user of its own, since Gradescope runs us as root) and writes
/autograder/results/results.json in Gradescope's format: tests numbered
within each exercise (1.1, 1.2, ... 2.1), the score table as Markdown
(output_format "md"), every test visible, the grader's status and reasons in
the output. CHATKIT_AUTOGRADER_ROOT replaces /autograder (the kit's tests
run a simulated tree).
"""

import argparse
import importlib.metadata
import json
import os
import sys
import traceback
import zipfile
from pathlib import Path

from chatkit.grader import layout
from chatkit.grader.authoring import tamper
from chatkit.grader.commands import grade
from chatkit.grader.limits import STUDENT_TIME_LIMIT
from chatkit.grader.results import Results, write_atomically
from chatkit.grader.results.tables import text_table
from chatkit.tools.language import translator

_ = translator()

PINNED = ["pytest", "pluggy", "iniconfig", "packaging", "exceptiongroup", "tomli"]
SETUP = """#!/usr/bin/env bash
# Gradescope runs this once, as root, when it builds the autograder's image.
set -euo pipefail
if ! command -v python3 >/dev/null || ! python3 -c 'import venv' 2>/dev/null; then
    apt-get update -q
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q python3 python3-venv python3-pip
fi
python3 -m venv /autograder/venv
/autograder/venv/bin/python -m pip install --quiet -r /autograder/source/requirements.txt
/autograder/venv/bin/python -m pip install --quiet --no-deps /autograder/source/kit
"""
RUN = """#!/usr/bin/env bash
# Gradescope runs this for every submission. A results file is written first, so that
# whatever fails below, the student gets a score of 0 and the reason instead of nothing.
ROOT="${CHATKIT_AUTOGRADER_ROOT:-/autograder}"
PYTHON="${CHATKIT_AUTOGRADER_PYTHON:-$ROOT/venv/bin/python}"
mkdir -p "$ROOT/results"
cat > "$ROOT/results/results.json" <<'JSON'
FALLBACK
JSON
cd "$ROOT"
"$PYTHON" -I -m chatkit.grader.hosted.gradescope run --root "$ROOT"
"""


def fallback(reason):
    """A valid results.json saying grading did not happen, and why (score 0)."""
    return {"score": 0, "output": f"The autograder could not grade this submission: {reason}",
            "output_format": "text", "visibility": "visible", "stdout_visibility": "hidden",
            "tests": [{"name": "grading", "status": "failed", "score": 0, "output": reason, "visibility": "visible"}]}


def requirements():
    """The grader's own requirements, pinned to what is installed here."""
    lines = []
    for name in PINNED:
        try:
            version = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            continue
        marker = '; python_version < "3.11"' if name in ("tomli", "exceptiongroup") else ""
        lines.append(f"{name}=={version}{marker}")
    return "\n".join(lines) + "\n"


def kit_files(root=layout.KIT_ROOT):
    """(path in the zip, path here) for the kit the autograder needs."""
    root = Path(root)
    yield "kit/pyproject.toml", root / "pyproject.toml"
    yield "kit/README.md", root / "README.md"
    for path in sorted((root / "chatkit").rglob("*")):
        if path.is_file() and "__pycache__" not in path.parts and path.suffix != ".pyc":
            yield f"kit/{path.relative_to(root).as_posix()}", path
    for name in tamper.load_manifest().get("files", {}):
        yield f"kit/exercises/{name}", layout.exercises_dir(root) / name


def build(out):
    """Write the autograder zip to `out`."""
    reason = "run_autograder stopped before the grader started (see the autograder's output)."
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, text in (("setup.sh", SETUP), ("run_autograder", RUN.replace("FALLBACK", json.dumps(fallback(reason)))),
                           ("requirements.txt", requirements())):
            info = zipfile.ZipInfo(name)
            info.external_attr = 0o755 << 16  # executable, as Gradescope runs them
            archive.writestr(info, text)
        for name, path in kit_files():
            archive.write(path, name)
    return out


def results_for(row):
    """Gradescope's results.json for one graded submission (a Graded row)."""
    results = Results(row.tests, [reason for status, reason in row.problems if status == "tampered"], True)
    data = results.to_json()
    data["score"] = row.total
    lines = [text_table(results)]
    if row.status != "ok":
        lines += ["", f"Grading status: {row.status}"] + [f"  {status}: {reason}" for status, reason in row.problems]
    data["output"] = "```\n" + "\n".join(lines) + "\n```"
    data["extra_data"]["status"] = row.status
    return data


def run(root):
    """Grade ROOT/submission with the kit in ROOT/source/kit into ROOT/results/results.json."""
    root = Path(root)
    target = root / "results" / "results.json"
    try:
        time_limit = float(os.environ.get("CHATKIT_AUTOGRADER_TIME_LIMIT", STUDENT_TIME_LIMIT))
        row = grade.grade_submission("submission", root / "submission", root / "source" / "kit", time_limit)
        data = results_for(row)
    except Exception as error:  # noqa: BLE001 - the student gets a score and a reason, whatever happened
        data = fallback(f"{type(error).__name__}: {error}\n{traceback.format_exc()[-2000:]}")
    target.parent.mkdir(parents=True, exist_ok=True)
    write_atomically(target, json.dumps(data, ensure_ascii=False, indent=1))
    print(data["output"])
    return 0


def add_arguments(parser):
    parser.add_argument("out", help=_("the autograder zip to write (upload it to Gradescope)"))


def main(args):
    build(args.out)
    print(_("Wrote {out}: upload it as the assignment's autograder (Configure Autograder, Zip file upload).").format(
        out=args.out))
    return 0


if __name__ == "__main__":
    parser = argparse.ArgumentParser(prog="python -m chatkit.grader.hosted.gradescope")
    parser.add_argument("command", choices=["run"])
    parser.add_argument("--root", default="/autograder")
    sys.exit(run(parser.parse_args().root))
