"""`python -m chatkit release student OUT/`: the repository students get, made from this one.

This checkout is the instructors' edition. The students' edition is written
from it, never edited by hand, so the two cannot drift:

* the same kit (chatkit/), notebooks (the Korean ones and README.ko.md too),
  graded tests and Makefile; the hosted classrooms' files (binder/, .devcontainer/);
* exercises/ with the stubs made from solutions/ (the instructor's own
  working files there are never copied);
* no solutions/, no made-up buggy submissions (they are the answers with
  one bug each), none of the tests that need them, no benchmarks or CI;
* a README for students: the README's sections for them, in their order,
  with their two commands first; the rest is left out.

Its `make test` runs the kit's own checks that hold for students (STUDENT_TESTS),
then grades their exercises; a score below full marks is a result, not a failure.
OUT may be a clone of the students' repository: with --force, everything but
its .git is replaced.
"""

import json
import re
import shutil
import sys
from pathlib import Path

from chatkit.grader import layout
from chatkit.grader.authoring import stubs, tamper
from chatkit.tools.nbstrip import every_walkthrough_notebook, problems, walkthrough_notebooks
from chatkit.tools.language import translator

_ = translator()  # the command's help and messages in the kit's language

COPIED = ["Makefile", "pyproject.toml", ".gitignore", "binder", ".devcontainer", "notebooks/ko", "README.ko.md"]
INSTRUCTORS_ONLY = {"chatkit/grader/authoring/samples.py"}  # the answers, each with one bug
# The kit's own tests that hold in the students' edition: none needs solutions/, the
# made-up submissions or the kit's test tools (hypothesis, Playwright).
STUDENT_TESTS = ["conftest.py", "session_checks.py", "early.py", "hostile.py", "test_protocol.py", "test_stages.py",
                 "test_server.py", "test_session.py", "test_client.py", "test_gui.py", "test_notebooks.py", "lab/test_live.py",
                 "lab/test_panel.py", "tools/test_doctor.py", "test_languages.py"]
# The README's sections for students, in this order ("## Exercises and grading" up to its
# part for instructors); their headings are matched at the start.
STUDENT_SECTIONS = ["For students", "What it is", "The walkthrough", "Exercises and grading",
                    "Try it in a terminal", "In Korean", "The chat window", "The stages", "The protocol",
                    "Without make", "What the checks need"]
FOR_INSTRUCTORS = "**For instructors.**"


class ReleaseError(Exception):
    """The instructors' edition is not in a state to release from."""


def sections(readme):
    """{heading: text} of a README's '## ' sections, in order; the text before them under ''."""
    parts = re.split(r"^## ", readme, flags=re.MULTILINE)
    found = {"": parts[0]}
    for part in parts[1:]:
        heading, _, body = part.partition("\n")
        found[heading.strip()] = f"## {part}"
    return found


def student_readme(readme):
    """The students' README, made of the README's sections for them."""
    found = sections(readme)
    title, _, lead = found[""].partition("\n")
    chosen = [f"{title} (students' edition)\n{lead}"]
    for wanted in STUDENT_SECTIONS:
        matches = [heading for heading in found if heading and heading.startswith(wanted)]
        if len(matches) != 1:
            raise ReleaseError(f"README.md has {len(matches)} sections starting '## {wanted}'; the students' "
                               "README is made of them (chatkit/tools/release.py: STUDENT_SECTIONS)")
        text = found[matches[0]].split(FOR_INSTRUCTORS)[0]
        lines = [line for line in text.splitlines() if "--solutions" not in line]  # nothing to compare with
        chosen.append("\n".join(lines).rstrip() + "\n\n")
    return "".join(chosen).rstrip() + "\n"


def check_ready(root):
    """Refuse to release from a checkout whose graded tests, manifest or notebooks are not the kit's."""
    _, manifest = stubs.build(root)  # checksums of the graded tests and conftest.py as they are now
    if tamper.load_manifest() != manifest:
        raise ReleaseError("the graded tests or the grader's manifest changed since `python -m chatkit stubs`: "
                           "run it (or restore the tests), and commit")
    for notebook in every_walkthrough_notebook(root / "notebooks"):
        found = problems(json.loads(notebook.read_text(encoding="utf-8")))
        if found:
            raise ReleaseError(f"{notebook.relative_to(root / 'notebooks')} is not clean ({'; '.join(found)}): "
                               f"run python -m chatkit.tools.nbstrip")


def files_to_write(root):
    """{path in the students' edition: source path, or the text to write}."""
    root = Path(root)
    files = {}
    for path in sorted((root / "chatkit").rglob("*")):
        relative = path.relative_to(root).as_posix()
        if path.is_file() and "__pycache__" not in path.parts and relative not in INSTRUCTORS_ONLY:
            files[relative] = path
    for name in COPIED:
        source = root / name
        if source.is_file():
            files[name] = source
        for path in sorted(source.rglob("*")) if source.is_dir() else []:
            if path.is_file():
                files[path.relative_to(root).as_posix()] = path
    for notebook in walkthrough_notebooks(root / "notebooks"):
        files[f"notebooks/{notebook.name}"] = notebook
    stub_texts, manifest = stubs.build(root)
    for path, text in stub_texts.items():
        files[f"exercises/{path.name}"] = text
    for name in manifest["files"]:  # the graded tests and conftest.py, as the manifest knows them
        files[f"exercises/{name}"] = layout.exercises_dir(root) / name
    for name in STUDENT_TESTS:
        files[f"tests/{name}"] = root / "tests" / name
    files["README.md"] = student_readme((root / "README.md").read_text(encoding="utf-8"))
    return files


def write(root, out, force=False):
    """Write the students' edition of the kit at `root` into `out`; return the paths written."""
    root, out = Path(root).resolve(), Path(out).resolve()
    if out == root or root in out.parents:
        raise ReleaseError(f"write the students' edition outside the kit ({out} is inside {root})")
    check_ready(root)
    files = files_to_write(root)
    if out.exists() and any(path.name != ".git" for path in out.iterdir()):
        if not force:
            raise ReleaseError(f"{out} is not empty: --force replaces everything in it but .git")
        for path in out.iterdir():
            if path.name != ".git":
                shutil.rmtree(path) if path.is_dir() and not path.is_symlink() else path.unlink()
    for relative, source in files.items():
        target = out / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(source, Path):
            shutil.copy2(source, target)
        else:
            target.write_text(source, encoding="utf-8")
    return [out / relative for relative in files]


def add_arguments(parser):
    parser.add_argument("edition", choices=["student"], help=_("which edition (the instructors' is this checkout)"))
    parser.add_argument("out", help=_("the folder to write it into (a clone of the students' repository, or new)"))
    parser.add_argument("--force", action="store_true", help=_("replace what OUT holds (its .git is kept)"))


def main(args):
    root = layout.kit_root()
    if not layout.solutions_dir(root).is_dir():
        print(_("{root} has no solutions/: releasing needs the instructors' edition").format(
            root=root), file=sys.stderr)
        return 2
    try:
        written = write(root, args.out, force=args.force)
    except (ReleaseError, stubs.StubError) as error:
        print(_("error: {error}").format(error=error), file=sys.stderr)
        return 2
    out = Path(args.out)
    print(_("wrote the students' edition: {count} files in {out}").format(count=len(written), out=out))
    print(_("Try it as a student would: cd {out} && make test   (or: python -m chatkit check)").format(out=out))
    return 0
