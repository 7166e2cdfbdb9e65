"""The `python -m chatkit` command line: one subcommand per tool of the kit.

Its help is in the kit's language (CHATKIT_LANG=ko, or a Korean locale): each
command's one-line help is marked N_() below and translated when shown, and
argparse's own words ("usage:", "options") come from the kit's catalog too.
"""

import argparse
import importlib
import sys

from chatkit.tools import kitenv
from chatkit.tools.language import N_, columns, translator

_ = translator()

# name -> (module with add_arguments(parser) and main(args), one-line help)
COMMANDS = {
    "serve": ("chatkit.tools.serve", N_("run a chat server (the reference one, or a stage)")),
    "join": ("chatkit.client", N_("join a chat room from this terminal")),
    "gui": ("chatkit.gui", N_("join a chat room in a window (tkinter)")),
    "doctor": ("chatkit.tools.doctor", N_("find out why a Tk window cannot open here")),
    "lab": ("chatkit.tools.labserver", N_("open the walkthrough in JupyterLab (what make lab does)")),
    "check": ("chatkit.grader.commands.exercises", N_("grade your exercises (pytest exercises/, on any OS)")),
    "progress": ("chatkit.grader.commands.progress", N_("show which exercises pass and what is next")),
    "watch": ("chatkit.grader.commands.watch", N_("grade the exercise you are on each time you save it")),
    "reset": ("chatkit.grader.commands.reset", N_("put an exercise file back the way the kit handed it out")),
    "grade": ("chatkit.grader.commands.grade", N_("grade a whole class's submissions")),
    "stubs": ("chatkit.grader.authoring.stubs", N_("regenerate exercises/ from solutions/")),
    "gradescope": ("chatkit.grader.hosted.gradescope", N_("build the Gradescope autograder zip")),
    "classroom": ("chatkit.grader.hosted.classroom", N_("grade a student's repository in GitHub Classroom's workflow")),
    "bench": ("chatkit.tools.bench", N_("measure the servers side by side")),
    "release": ("chatkit.tools.release", N_("write the students' edition of the kit (no solutions)")),
}
# Commands that need the kit's dependencies: run by a Python that has no chatkit installed
# (python -m chatkit in a fresh clone), they make the kit's .venv and run in it.
NEED_THE_KIT_INSTALLED = {"lab", "check", "progress", "watch", "reset", "grade", "stubs", "bench", "release"}
# Commands whose unknown options are passed on (to JupyterLab, to pytest): main(args, passed_on).
PASSING_ON = {"lab", "check"}


def wrap(text, width):
    """`text` cut into lines of at most `width` columns, between words (argparse counts characters)."""
    lines, line = [], ""
    for word in text.split():
        longer = f"{line} {word}" if line else word
        if line and columns(longer) > width:
            lines.append(line)
            longer = word
        line = longer
    return lines + [line] if line else lines


class HelpFormatter(argparse.HelpFormatter):
    """argparse's, with its words in the kit's language and Korean help wrapped to the terminal's width."""

    def add_usage(self, usage, actions, groups, prefix=None):
        super().add_usage(usage, actions, groups, _("usage: ") if prefix is None else prefix)

    def _split_lines(self, text, width):
        return wrap(text, width)

    def _fill_text(self, text, width, indent):
        return "\n".join(indent + line for line in wrap(text, width - len(indent)))


class Parser(argparse.ArgumentParser):
    """An ArgumentParser whose own words ("usage:", "options", -h's help) are in the kit's language."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, formatter_class=HelpFormatter, add_help=False, **kwargs)
        self._positionals.title = _("positional arguments")
        self._optionals.title = _("options")
        self.add_argument("-h", "--help", action="help", help=_("show this help message and exit"))


def build_parser(command=None):
    """The argument parser; only the chosen command's module is imported."""
    parser = Parser(prog="python -m chatkit", description=_("chatkit: a teaching kit for network programming."))
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for name, (module_name, help_text) in COMMANDS.items():
        sub = subparsers.add_parser(name, help=_(help_text), description=_(help_text))
        if name == command:
            module = importlib.import_module(module_name)
            module.add_arguments(sub)
            sub.set_defaults(handler=module.main)
    return parser


def main(argv=None):
    """Parse `argv` and run the chosen command; return its exit status."""
    if sys.version_info < (3, 10):
        return f"chatkit needs Python 3.10 or newer; this is {sys.version.split()[0]} ({sys.executable})"
    argv = sys.argv[1:] if argv is None else argv
    command = next((arg for arg in argv if not arg.startswith("-")), None)
    if command in NEED_THE_KIT_INSTALLED:
        status = kitenv.run_elsewhere_if_needed(argv)
        if status is not None:
            return status
    parser = build_parser(command if command in COMMANDS else None)
    if command in PASSING_ON:
        args, passed_on = parser.parse_known_args(argv)
        return args.handler(args, passed_on)
    args = parser.parse_args(argv)
    return args.handler(args)


if __name__ == "__main__":
    sys.exit(main())
