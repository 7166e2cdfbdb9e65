"""``python -m chatkit reset ex03``: put an exercise file back the way the kit handed it out.

    python -m chatkit reset ex03          asks first, then restores exercises/ex03_threads.py
    python -m chatkit reset ex03 --yes    without asking (a script, a notebook cell)

The stub comes from the grader's manifest, which ``python -m chatkit stubs``
writes from solutions/, so it is the same wherever the kit runs (a checkout,
the students' edition, an installed kit). Nothing is lost: the file as it
was is kept beside it as ``exercises/ex03_threads.py.bak`` (``.bak2``, ...
if there is one already; the grader ignores them), and the command says so.
"""

import sys

from chatkit.grader import layout
from chatkit.grader.authoring import tamper
from chatkit.grader.results import words
from chatkit.tools.language import translator

_ = translator()

BACKUP_SUFFIX = ".bak"


def stub_text(exercise, manifest=None):
    """The stub the kit hands out for `exercise` (None if the manifest does not know it)."""
    return (manifest or tamper.load_manifest()).get("stub_texts", {}).get(exercise)


def free_backup(path):
    """exercises/ex03_threads.py.bak, or .bak2, .bak3, ... : an earlier backup is never overwritten."""
    candidates = (path.with_name(f"{path.name}{BACKUP_SUFFIX}{n if n > 1 else ''}") for n in range(1, 1000))
    return next(candidate for candidate in candidates if not candidate.exists())


def reset(exercise, root=None, confirm=input, say=print):
    """Restore one exercise file to its stub once `confirm(question)` says yes. Returns an exit status."""
    path = layout.exercises_dir(root) / f"{exercise}.py"
    stub = stub_text(exercise)
    if stub is None:
        say(words.no_stub(exercise))
        return 2
    shown = path.relative_to(path.parents[1]).as_posix()
    current = path.read_text(encoding="utf-8") if path.exists() else None
    if current == stub:
        say(words.already_a_stub(shown))
        return 0
    backup = free_backup(path)
    try:
        answer = confirm(words.reset_question(shown, f"exercises/{backup.name}")) if current is not None else "y"
    except EOFError:  # no keyboard (a pipe, a notebook): never reset without a yes
        answer = ""
    if answer.strip().lower() not in words.YES_ANSWERS:
        say(words.reset_not_done(exercise))
        return 1
    if current is not None:
        backup.write_text(current, encoding="utf-8")
    path.write_text(stub, encoding="utf-8")
    say(words.reset_done(shown, f"exercises/{backup.name}" if current is not None else None))
    return 0


def add_arguments(parser):
    parser.add_argument("exercise", help=_("the exercise to restore ('ex03' or 'ex03_threads')"))
    parser.add_argument("--yes", "-y", action="store_true", help=_("do not ask first"))


def main(args):
    root = layout.kit_root()
    try:
        exercise = layout.resolve(args.exercise, root)
    except ValueError as error:
        print(words.error(error), file=sys.stderr)
        return 2
    return reset(exercise, root, confirm=(lambda question: "y") if args.yes else input)
