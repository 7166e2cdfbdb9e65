"""The words of what the grader hands back to students (feedback files), in one place.

Every sentence goes through ``_()``, gettext's marker: once a Korean
catalog exists (domain "chatkit", in chatkit/locale/), a student's feedback
comes out in Korean by setting the language; until then English.
"""

import gettext
from pathlib import Path

LOCALE = Path(__file__).resolve().parents[2] / "locale"


def translator(language=None):
    """The `_` for `language` ('ko', ...); English wherever no catalog exists."""
    return gettext.translation("chatkit", LOCALE, languages=[language] if language else None, fallback=True).gettext


def feedback_texts(_):
    """The feedback file's sentences, in the language `_` translates to."""
    return {
        "title": _("chatkit exercises: your results"),
        "score": _("Your score: {score} of {max_score} points."),
        "exercise": _("exercise"),
        "tests": _("tests passed"),
        "points": _("points"),
        "total": _("total"),
        "failed": _("What to look at"),
        "hint": _("Hint"),
        "happened": _("What happened"),
        "all_pass": _("Every graded test passes. Well done!"),
        "not_attempted": _("not attempted yet"),
        "status": _("Grading status: {status}."),
        "problems": _("The grader noticed"),
    }
