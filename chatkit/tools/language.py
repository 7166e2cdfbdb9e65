"""Which language the kit speaks, and the translator for it (gettext, domain "chatkit").

    current()            "ko" or "en": CHATKIT_LANG first, then the locale
                         (LANGUAGE, LC_ALL, LC_MESSAGES, LANG: ko_KR.UTF-8 is Korean)
    translation("ko")    gettext's translations for a language: .gettext, .ngettext
    translator()         the `_` of the current language
    translated(text)     `text` in the language current *now* (the lab's words: a notebook
                         may set CHATKIT_LANG after the kit is imported)
    columns(text)        how many terminal columns `text` takes (a Hangul syllable: two)

The texts are English in the code, marked with ``_()``; the Korean is in
chatkit/locale/ko/LC_MESSAGES/chatkit.po, compiled to chatkit.mo beside it
(``make catalogs``: chatkit/tools/catalogs.py). A language the kit does not
speak, or a missing catalog, means English: never an error.
"""

import functools
import gettext
import os
import unicodedata
from pathlib import Path

DOMAIN = "chatkit"
LOCALE = Path(__file__).resolve().parents[1] / "locale"  # chatkit/locale/<lang>/LC_MESSAGES/chatkit.mo
LANGUAGES = ("en", "ko")  # English first: the kit's own language, the default
CHOOSER = "CHATKIT_LANG"
LOCALE_VARIABLES = ("LANGUAGE", "LC_ALL", "LC_MESSAGES", "LANG")  # gettext's order


def N_(text):
    """Mark `text` for translation where it is defined (gettext's no-op marker); return it unchanged.

    For texts written once and translated where they are used: ``_(STATUS[...])``.
    """
    return text


def language_of(value):
    """The kit's language a setting names ("ko_KR.UTF-8" -> "ko", "C" -> "en"), or None."""
    code = value.strip().split(".")[0].split("@")[0].replace("-", "_").split("_")[0].lower()
    if code in ("c", "posix"):
        return "en"
    return code if code in LANGUAGES else None


def current(environ=None):
    """The language to speak: CHATKIT_LANG if it names one the kit speaks, then the locale, else English."""
    environ = os.environ if environ is None else environ
    for variable in (CHOOSER, *LOCALE_VARIABLES):
        for value in environ.get(variable, "").split(":"):  # LANGUAGE may list several: ko:en
            if value and (language := language_of(value)):
                return language
    return "en"


def translation(language=None):
    """gettext's translations for `language` (default: the current one); English if none exists."""
    return catalog(language_of(language or current()) or "en")


@functools.lru_cache(maxsize=None)
def catalog(language):
    return gettext.translation(DOMAIN, LOCALE, languages=[language], fallback=True)


def translator(language=None):
    """The `_` function for `language` (default: the current one)."""
    return translation(language).gettext


def translated(text):
    """`text` in the language that is current when it is said (looked up on each call)."""
    return translation().gettext(text)


def columns(text):
    """How many columns `text` takes in a terminal or a monospaced table: wide characters (Hangul) take two."""
    return sum(2 if unicodedata.east_asian_width(char) in "WF" else 1 for char in text)
