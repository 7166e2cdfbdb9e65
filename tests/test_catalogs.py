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
