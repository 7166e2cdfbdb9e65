"""The translations: every text the code marks has its Korean, nothing else is in the catalog.

The catalog is chatkit/locale/ko/LC_MESSAGES/chatkit.po; `make catalogs`
(chatkit/tools/catalogs.py) extracts the marked texts with Babel, merges
them in and compiles the .mo that gettext reads. The .mo is committed, so
students need no Babel: it must be exactly what the .po compiles to.
"""

import gettext
import shutil

import pytest

from chatkit.tools import catalogs, language

pytest.importorskip("babel")

def test_every_text_the_kit_marks_has_its_korean_and_the_catalog_nothing_else():
    found = catalogs.problems("ko")
    assert found == [], "\n".join(f"{problem}: {text!r} {where}" for text, problem, where in found)


def test_the_extraction_finds_every_kind_of_mark():
    texts = {message.id if isinstance(message.id, str) else message.id[0]: message for message in catalogs.template()}
    assert "Enter your nickname:" in texts  # N_() in the protocol
    assert "{count} person" in texts  # ngettext
    assert "Send" in texts and {"chatkit/gui.py", "chatkit/lab/panel.py"} <= {f for f, _ in texts["Send"].locations}
    assert "usage: " in texts  # _() in the command line
    hints = [text for text, message in texts.items() if any(f.startswith("exercises/") for f, _ in message.locations)]
    assert hints, "the graded tests' hint() and part(n, ...) texts are extracted too"
    graders = [text for text, message in texts.items() if any(f.startswith("chatkit/grader/") for f, _ in message.locations)]
    assert graders, "the grader's own words (results/words.py) are extracted too"
    assert "Exercise 3 (guided): a thread per client (stage 3)" in texts  # a title, from the docstring


def broken_copy(tmp_path, edit):
    po = tmp_path / "chatkit.po"
    shutil.copy(catalogs.po_path("ko"), po)
    po.write_text(edit(po.read_text(encoding="utf-8")), encoding="utf-8")
    mo = tmp_path / "chatkit.mo"
    mo.write_bytes(catalogs.compiled(catalogs.read("ko", po)))
    return catalogs.problems("ko", po, mo)


def test_the_check_finds_a_missing_translation_a_changed_placeholder_and_an_unused_text(tmp_path):
    found = broken_copy(tmp_path, lambda text: text
                        .replace('msgstr "보내기"', 'msgstr ""')
                        .replace('"* {nick} 님이 들어왔습니다. 지금 {count}이 있어요."', '"* {name} 님이 들어왔습니다. 지금 {count}이 있어요."')
                        + '\nmsgid "a text no code says"\nmsgstr "아무도 안 쓰는 말"\n'
                        + '\n#~ msgid "an old text"\n#~ msgstr "옛말"\n')
    kinds = {(text, problem.split(":")[0]) for text, problem, _ in found}
    assert ("Send", "untranslated") in kinds
    assert ("* {nick} joined. {count} in the room.", "placeholders differ") in kinds
    assert ("a text no code says", "unused") in kinds
    assert ("an old text", "obsolete (#~)") in kinds


def test_the_check_finds_a_stale_mo(tmp_path):
    po = tmp_path / "chatkit.po"
    shutil.copy(catalogs.po_path("ko"), po)
    mo = tmp_path / "chatkit.mo"
    mo.write_bytes(catalogs.mo_path("ko").read_bytes()[:-10])
    assert ("chatkit.mo", "not the compiled .po: run make catalogs", "") in catalogs.problems("ko", po, mo)


def test_gettext_reads_the_committed_mo():
    korean = gettext.translation(language.DOMAIN, language.LOCALE, languages=["ko"])
    assert korean.gettext("Enter your nickname:") == "닉네임을 입력하세요:"
    assert korean.ngettext("{count} person", "{count} people", 5) == "{count}명"


def hint_texts_babel_cannot_see():
    """Where a graded test's hint()/part() text would reach the student without being extracted.

    Babel extracts a literal passed to hint() or part(), and N_("...") anywhere; a plain string kept
    in a constant, a dict or a loop, an f-string or a sum is shown but never translated.
    """
    import ast

    def marked(node):
        return isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "N_"

    found = []
    for path in sorted((catalogs.ROOT / "exercises").glob("*_test.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        constants = {target.id: node.value for node in tree.body if isinstance(node, ast.Assign)
                     for target in node.targets if isinstance(target, ast.Name)}
        loops = {}  # a loop variable: the values it takes
        for node in ast.walk(tree):
            if isinstance(node, ast.For) and isinstance(node.target, ast.Tuple) and isinstance(node.iter, (ast.Tuple, ast.List)):
                for position, name in enumerate(node.target.elts):
                    if isinstance(name, ast.Name):
                        loops[name.id] = [item.elts[position] for item in node.iter.elts if isinstance(item, ast.Tuple)]

        def shown_translated(node, direct=False):
            if direct and isinstance(node, ast.Constant) and isinstance(node.value, str):
                return True
            if marked(node):
                return True
            if isinstance(node, ast.Name) and node.id in constants:
                return shown_translated(constants[node.id])
            if isinstance(node, ast.Name) and node.id in loops:
                return all(shown_translated(value) for value in loops[node.id])
            if isinstance(node, ast.Dict):
                return all(shown_translated(value) for value in node.values)
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "get":
                return shown_translated(node.func.value) and all(shown_translated(arg) for arg in node.args[1:])
            return False

        for node in ast.walk(tree):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in ("hint", "part"):
                text = node.args[0 if node.func.id == "hint" else 1]
                if not shown_translated(text, direct=True):
                    found.append(f"{path.name}:{node.lineno}: {ast.unparse(text)[:80]}")
    return found


def test_every_hint_a_graded_test_shows_is_extracted():
    assert hint_texts_babel_cannot_see() == []


def messages_shown_untranslated():
    """Assertion messages, AssertionError texts and why= reasons of the graded tests that are not gettext's.

    Each must go through _() (a template with its values: ``_("... {got!r}").format(got=got)``) or be
    marked N_() for later, or come from the grader's words; a name passes on what its caller gave.
    """
    import ast

    found = []
    for path in sorted((catalogs.ROOT / "exercises").glob("*_test.py")):
        source = path.read_text(encoding="utf-8")
        for node in ast.walk(ast.parse(source)):
            if isinstance(node, ast.Assert):
                message = node.msg
            elif isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "AssertionError":
                message = node.args[0] if node.args else None
            elif isinstance(node, ast.keyword) and node.arg == "why":
                message = node.value
            else:
                continue
            if message is None or isinstance(message, ast.Name):
                continue
            calls = {call.func.id if isinstance(call.func, ast.Name) else getattr(call.func.value, "id", "")
                     for call in ast.walk(message) if isinstance(call, ast.Call)}
            if not calls & {"_", "N_", "words"} and not (isinstance(message, ast.Constant) and message.value == ""):
                found.append(f"{path.name}:{message.lineno}: {ast.get_source_segment(source, message)[:80]}")
    return found


def test_every_assertion_message_of_the_graded_tests_is_translated():
    assert messages_shown_untranslated() == []
