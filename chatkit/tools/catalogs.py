"""`make catalogs`: the kit's texts extracted, merged into each language's catalog, compiled.

    python -m chatkit.tools.catalogs           extract, update chatkit/locale/*/LC_MESSAGES/chatkit.po, compile .mo
    python -m chatkit.tools.catalogs --check   say what a catalog lacks (what tests/test_catalogs.py checks)

The texts are English in the code, marked for gettext: ``_("...")``,
``N_("...")`` (the protocol's lines), ``ngettext(...)``, the graded
tests' ``hint("...")`` and ``part(n, "...")``, and the first line of each
graded test's docstring (what the score table calls the test), each
exercise's title (the first line of its docstring: progress and watch show
it), and each TODO of solutions/ (what a stub's failure says is not written
yet). Babel extracts them (the
same keywords every time, from here), merges them into each .po, where a
translator writes the Korean, and compiles each .po into the .mo that
gettext reads at run time. The .mo is committed: a student's install (pip
install ., the students' edition) needs no Babel, and the catalog test
proves the committed .mo is what the .po compiles to.

Babel is a dev dependency (pyproject.toml): it is loaded here only, when a
maintainer runs this.
"""

import argparse
import ast
import io
import string
import sys
from pathlib import Path

from chatkit.grader import layout
from chatkit.grader.authoring import stubs
from chatkit.tools.language import DOMAIN, LANGUAGES, LOCALE

ROOT = LOCALE.parents[1]  # the kit's folder: chatkit/ and exercises/ in it
SOURCES = [("chatkit/**.py", "python"), ("exercises/*_test.py", "python")]
KEYWORDS = {"_": None, "N_": None, "gettext": None, "ngettext": (1, 2), "hint": None, "part": (2,)}
TRANSLATED = [language for language in LANGUAGES if language != "en"]  # English is the code itself


def po_path(language):
    return LOCALE / language / "LC_MESSAGES" / f"{DOMAIN}.po"


def mo_path(language):
    return po_path(language).with_suffix(".mo")


def template():
    """Every text marked in the kit's code, as a Babel catalog without translations."""
    from babel.messages.catalog import Catalog
    from babel.messages.extract import extract_from_dir

    catalog = Catalog(project="chatkit", domain=DOMAIN, fuzzy=False)
    for filename, lineno, message, comments, context in extract_from_dir(
            ROOT, SOURCES, keywords=KEYWORDS, comment_tags=("TRANSLATORS:",)):
        catalog.add(message, None, [(filename, lineno)], auto_comments=comments, context=context)
    for filename, lineno, description in test_descriptions():
        catalog.add(description, None, [(filename, lineno)], auto_comments=["what the test checks (its docstring)"])
    for exercise in layout.exercise_ids(ROOT):
        where = layout.title_file(exercise, ROOT).relative_to(ROOT).as_posix()
        catalog.add(layout.title(exercise, ROOT), None, [(where, 1)], auto_comments=["the exercise's title (its docstring)"])
    for path in sorted(layout.solutions_dir(ROOT).glob("ex[0-9][0-9]_*.py")):
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            marker = stubs.BEGIN.match(line)
            if marker and marker["todo"]:
                catalog.add(marker["todo"].strip(), None, [(path.relative_to(ROOT).as_posix(), number)],
                            auto_comments=["a TODO of a stub (from its solution's marker)"])
    return catalog


def test_descriptions():
    """(file, line, text) of each graded test's description: the first line of its docstring.

    The score table, "Next:" and the feedback show it in the student's language.
    """
    for path in sorted((ROOT / "exercises").glob("*_test.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.FunctionDef) and node.name.startswith("test") and ast.get_docstring(node):
                yield path.relative_to(ROOT).as_posix(), node.lineno, ast.get_docstring(node).strip().splitlines()[0].strip()


def read(language, path=None):
    from babel.messages.catalog import Catalog
    from babel.messages.pofile import read_po

    path = path or po_path(language)
    if not path.exists():
        return Catalog(locale=language, project="chatkit", domain=DOMAIN, fuzzy=False)
    with path.open("rb") as file:
        return read_po(file, locale=language, domain=DOMAIN)


def compiled(catalog):
    """The .mo bytes of a catalog (fuzzy entries left out, as gettext would not trust them)."""
    from babel.messages.mofile import write_mo

    data = io.BytesIO()
    write_mo(data, catalog, use_fuzzy=False)
    return data.getvalue()


def update():
    """Merge the code's texts into every catalog (new ones empty, removed ones dropped), compile each."""
    from babel.messages.pofile import write_po

    fresh = template()
    for language in TRANSLATED:
        catalog = read(language)
        catalog.update(fresh, update_creation_date=False)
        catalog.obsolete.clear()  # a text no longer in the code has no place in the catalog
        po_path(language).parent.mkdir(parents=True, exist_ok=True)
        with po_path(language).open("wb") as file:
            write_po(file, catalog, width=100, include_lineno=False)
        mo_path(language).write_bytes(compiled(read(language)))
        print(f"{po_path(language).relative_to(ROOT)}: {len(catalog)} texts, "
              f"{sum(1 for problem in problems(language) if problem[1] == 'untranslated')} without a translation")


def placeholders(text):
    """The {fields} of a text, with their conversions and formats: {"{count}", "{thread!r}"}."""
    try:
        return {f"{{{field}{'!' + conversion if conversion else ''}{':' + spec if spec else ''}}}"
                for _, field, spec, conversion in string.Formatter().parse(text) if field is not None}
    except ValueError:  # not a format string (a lone brace): compared as it is
        return {text}


def problems(language, po=None, mo=None):
    """[(the text, what is wrong, where it is used)] for one language's catalog; [] when it is complete.

    `po` and `mo`: other files to check than the language's own (the tests' broken copies).
    """
    fresh, catalog = template(), read(language, po)
    mo = Path(mo or mo_path(language))
    found = []
    for message in fresh:
        if not message.id:
            continue
        where = ", ".join(sorted({filename for filename, _ in message.locations}))
        entry = catalog.get(message.id, message.context)
        ids = message.id if isinstance(message.id, tuple) else (message.id,)
        if entry is None:
            found.append((ids[0], "not in the catalog: run make catalogs", where))
            continue
        strings = entry.string if isinstance(entry.string, tuple) else (entry.string,)
        if not all(strings):
            found.append((ids[0], "untranslated", where))
        elif entry.fuzzy:
            found.append((ids[0], "fuzzy: a guess of make catalogs, to be checked and unmarked", where))
        elif any(placeholders(text) != placeholders(ids[-1]) for text in strings):
            found.append((ids[0], f"placeholders differ: {sorted(placeholders(ids[-1]))} in English, "
                                  f"{sorted(set().union(*map(placeholders, strings)))} translated", where))
    for entry in catalog:
        if entry.id and fresh.get(entry.id, entry.context) is None:
            found.append((entry.id if isinstance(entry.id, str) else entry.id[0], "unused: not in the code any more", ""))
    for entry in catalog.obsolete.values():
        found.append((entry.id if isinstance(entry.id, str) else entry.id[0], "obsolete (#~): remove it", ""))
    if not mo.exists() or mo.read_bytes() != compiled(catalog):
        found.append((mo.name, "not the compiled .po: run make catalogs", ""))
    return found


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m chatkit.tools.catalogs", description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="only say what the catalogs lack")
    args = parser.parse_args(argv)
    if not args.check:
        update()
    found = [(language, *problem) for language in TRANSLATED for problem in problems(language)]
    for language, text, problem, where in found:
        print(f"{language}: {problem}: {text[:70]!r}" + (f" ({where})" if where else ""))
    return 1 if args.check and found else 0


if __name__ == "__main__":
    sys.exit(main())
