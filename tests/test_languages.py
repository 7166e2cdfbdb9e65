"""The kit in Korean: which language it speaks, servers that greet in Korean, clients that read both.

The servers' cases below run on the reference server and on stage 6, in
English and in Korean, written with the server's own words (``words.X``):
the same protocol in either language. A few lines are spelled out in
Korean, so a catalog that lost its translations fails here too.
"""

import os
import shutil
import socket
import string
import subprocess
import sys
from pathlib import Path

import pytest

from chatkit import protocol
from chatkit.lab.wait import wait_until
from chatkit.client import Client
from chatkit.lab import LiveServer
from chatkit.protocol import MAX_LINE_CHARS, NICK_MAX_CHARS
from chatkit.session import ChatSession
from chatkit.tools import language
from chatkit.tools.language import columns
from chatkit.tools.xvfb import VirtualDisplay, xvfb_available

KO = protocol.words("ko")
SERVERS = [pytest.param({}, id="reference"), pytest.param({"stage": 6}, id="stage6")]
LANGS = ["en", "ko"]


# --- which language ---------------------------------------------------------------------

@pytest.mark.parametrize("environ, expected", [
    ({}, "en"),
    ({"CHATKIT_LANG": "ko"}, "ko"),
    ({"LANG": "ko_KR.UTF-8"}, "ko"),
    ({"LC_ALL": "ko_KR.UTF-8", "LANG": "en_US.UTF-8"}, "ko"),  # LC_ALL wins over LANG
    ({"LC_ALL": "C", "LANG": "ko_KR.UTF-8"}, "en"),
    ({"LANGUAGE": "fr:ko", "LANG": "fr_FR.UTF-8"}, "ko"),  # the first in the list the kit speaks
    ({"CHATKIT_LANG": "en", "LANG": "ko_KR.UTF-8"}, "en"),  # CHATKIT_LANG first
    ({"CHATKIT_LANG": "ko", "LANG": "en_US.UTF-8"}, "ko"),
    ({"CHATKIT_LANG": "fr"}, "en"),  # a language the kit does not speak: English, no error
    ({"CHATKIT_LANG": "ko-KR"}, "ko"),
    ({"LANG": "de_DE.UTF-8"}, "en"),
])
def test_the_kits_language_comes_from_chatkit_lang_then_the_locale(environ, expected):
    assert language.current(environ) == expected


def test_an_unknown_language_is_english_without_error():
    assert language.translator("fr")("Send") == "Send"
    assert language.translator("xx_YY.UTF-8")("Send") == "Send"
    assert protocol.words("fr").PROMPT == protocol.PROMPT
    assert language.translator("ko")("Send") == "보내기"


def run_chatkit(*args, **environ):
    env = {key: value for key, value in os.environ.items()
           if key not in ("CHATKIT_LANG", "LANGUAGE", "LC_ALL", "LC_MESSAGES", "LANG")}
    env.update(environ, PYTHONIOENCODING="utf-8")
    return subprocess.run([sys.executable, "-m", "chatkit", *args], capture_output=True, text=True, env=env,
                          timeout=60, encoding="utf-8")


@pytest.mark.parametrize("environ", [{"CHATKIT_LANG": "ko"}, {"LANG": "ko_KR.UTF-8"}], ids=["CHATKIT_LANG", "LANG"])
def test_the_command_lines_help_is_korean_for_a_korean_student(environ):
    top = run_chatkit("--help", **environ)
    assert top.returncode == 0, top.stderr
    assert top.stdout.startswith("사용법: python -m chatkit")
    assert "채팅 서버 실행하기" in top.stdout and "옵션:" in top.stdout and "이 도움말을 보여 주고 끝내기" in top.stdout
    def help_of(command):  # its words, wherever the lines were cut
        return " ".join(run_chatkit(command, "--help", **environ).stdout.split())

    serve = help_of("serve")
    assert "서버가 기다릴 포트" in serve and "서버가 접속자에게 말하는 언어" in serve
    assert "창 크기와 위치" in help_of("gui")
    assert "서버 포트" in help_of("join")
    grade = run_chatkit("grade", "--help", COLUMNS="80", **environ)
    assert "동시에 채점할 학생 수" in grade.stdout
    too_wide = [line for line in grade.stdout.splitlines() if columns(line) > 80]  # a Hangul syllable: 2 columns
    assert not too_wide, "\n".join(too_wide)


HELP_OF_EVERY_OPTION = """
import argparse, re
from chatkit.__main__ import COMMANDS, build_parser
for name in COMMANDS:
    parser = build_parser(name)
    sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction)).choices[name]
    for action in sub._actions:
        if action.help and action.help != argparse.SUPPRESS and not re.search("[\uac00-\ud7a3]", action.help):
            print(name, "/".join(action.option_strings) or action.dest, repr(action.help))
"""


def test_every_commands_options_are_explained_in_korean():
    """Each option of each command (the grader's too: check, progress, grade, ...) has Korean help."""
    env = {key: value for key, value in os.environ.items() if key not in ("LANGUAGE", "LC_ALL", "LANG")}
    found = subprocess.run([sys.executable, "-c", HELP_OF_EVERY_OPTION], capture_output=True, text=True,
                           env={**env, "CHATKIT_LANG": "ko", "PYTHONIOENCODING": "utf-8"}, timeout=60, encoding="utf-8")
    assert found.returncode == 0, found.stderr
    assert found.stdout == "", "options without Korean help:\n" + found.stdout


@pytest.mark.parametrize("environ", [{"CHATKIT_LANG": "ko"}, {"LANG": "ko_KR.UTF-8"}], ids=["CHATKIT_LANG", "LANG"])
def test_the_graders_commands_introduce_themselves_in_korean(environ):
    top = run_chatkit("--help", **environ).stdout
    assert "연습 문제 채점하기" in top and "한 반 전체의 제출물 채점하기" in top and "grade a whole class" not in top
    grade = run_chatkit("grade", "--help", **environ).stdout
    assert grade.startswith("사용법: python -m chatkit grade") and "동시에 채점할 학생 수" in grade
    assert "수강생 명단" in grade and "--roster" in grade and "grades.csv" in grade  # options and files as they are
    check = run_chatkit("check", "--help", **environ).stdout
    assert "python -m chatkit check [EXERCISE] [pytest 옵션]" in check and "pytest의 옵션입니다" in check
    assert "이 연습 문제만" in run_chatkit("progress", "--help", **environ).stdout


def test_the_graders_errors_are_in_korean():
    wrong = run_chatkit("progress", "ex42", CHATKIT_LANG="ko")
    assert wrong.returncode == 2
    assert wrong.stderr.startswith("오류: 연습 문제 'ex42'이(가) 없습니다. 있는 연습 문제: ex01_listen"), wrong.stderr
    assert "there is no exercise" in run_chatkit("progress", "ex42").stderr


def test_progress_names_the_exercise_in_the_students_language():
    """The title comes from the exercise's docstring (English, where the ladder reads its rung); its Korean
    from the catalog."""
    korean = run_chatkit("progress", "ex01", CHATKIT_LANG="ko").stdout
    assert "다음: ex01_listen (연습 문제 1 (안내형): 리슨 소켓 열기 (1단계, 보고서의 ServerOpen))" in korean, korean
    assert "Exercise 1" not in korean and "open a listening socket" not in korean
    english = run_chatkit("progress", "ex01").stdout
    assert "Next: ex01_listen (Exercise 1 (guided): open a listening socket" in english, english


def test_the_command_lines_help_stays_english_otherwise():
    for environ in ({}, {"CHATKIT_LANG": "xx"}, {"LANG": "C.UTF-8"}):
        top = run_chatkit("--help", **environ)
        assert top.stdout.startswith("usage: python -m chatkit") and "run a chat server" in top.stdout, environ


def test_the_doctor_speaks_korean():
    result = run_chatkit("doctor", CHATKIT_LANG="ko", DISPLAY="")
    assert "chatkit doctor: 여기서 Tk 창을 열 수 있을까요?" in result.stdout
    assert "DISPLAY가 설정되어 있지 않습니다" in result.stdout
    assert result.stdout.strip().splitlines()[-1].startswith("먼저 고칠 것: ")


# --- the protocol's words in Korean -------------------------------------------------------

SAMPLES = {"nick": "민지", "other": "bob", "count": 2, "lines": 3, "server": "127.0.0.1:5000", "number": 7,
           "limit": 4096, "why": protocol.LEFT_LOST, "nicks": ["민지", "bob"], "command": "/춤", "text": "안녕 하세요"}


def notices():
    return [name for name in protocol.SAID if isinstance(getattr(protocol, name), protocol.Notice)]


def test_every_server_line_has_its_korean():
    for name in protocol.SAID:
        if name == "MESSAGE":  # "nick: text" in every language
            continue
        english, korean = getattr(protocol.ENGLISH, name), getattr(KO, name)
        english = english.template if isinstance(english, protocol.Notice) else english
        korean = korean.template if isinstance(korean, protocol.Notice) else korean
        assert korean != english, f"{name} has no Korean: {english!r}"


@pytest.mark.parametrize("name", notices())
@pytest.mark.parametrize("lang", LANGS)
def test_each_notice_formats_and_parses_back_in_both_languages(name, lang):
    notice = getattr(protocol.words(lang), name)
    fields = {field: SAMPLES[field] for _, field, _, _ in string.Formatter().parse(notice.english) if field}
    line = notice.format(**dict(fields))
    parsed = getattr(protocol, name).parse(line)  # the module's notice reads every language
    expected = dict(fields)
    if "why" in expected:
        expected["why"] = language.translator(lang)(expected["why"])
    assert parsed == expected, line


def test_the_issues_example_line():
    assert KO.JOINED.format(nick="민지", count=2) == "* 민지 님이 들어왔습니다. 지금 2명이 있어요."
    assert protocol.JOINED.parse("* 민지 님이 들어왔습니다. 지금 2명이 있어요.") == {"nick": "민지", "count": 2}
    assert KO.LEFT.format(nick="민지", why=protocol.LEFT_QUIT, count=1) == "* 민지 님이 나갔습니다. 지금 1명이 있어요."
    assert protocol.people(1) == "1 person" and protocol.people(3, "ko") == "3명"
    assert protocol.line_count(1, "ko") == "1줄"


def test_a_line_that_is_no_notice_parses_in_no_language():
    for line in ("* 민지 님이 들어왔습니다.", "* 민지 님이 들어왔습니다. 지금 두 명이 있어요.", "민지 joined",
                 "* bob joined. 2명 in the room."):
        assert protocol.JOINED.parse(line) is None, line


def test_nickname_refusals_are_in_the_servers_language():
    assert protocol.nickname_problem("", [], KO) == "* 닉네임은 한 글자 이상이어야 합니다."
    assert protocol.nickname_problem("x" * 21, [], KO) == f"* 닉네임은 {NICK_MAX_CHARS}자까지 쓸 수 있습니다."
    assert protocol.nickname_problem("민지", ["민지"], KO) == "* 이미 쓰이고 있는 닉네임입니다: 민지"
    assert protocol.nickname_problem("x" * 21, []) == f"* A nickname has at most {NICK_MAX_CHARS} characters."


def test_words_name_only_the_servers_lines():
    with pytest.raises(AttributeError):
        KO.NOT_A_LINE


# --- clients read either language ---------------------------------------------------------

@pytest.mark.parametrize("lang", LANGS)
def test_a_chat_window_understands_the_servers_lines_in_either_language(lang):
    words, sent = protocol.words(lang), []
    session = ChatSession(sent.append, "민지", lang="en")
    assert session.receive(words.PROMPT) is None and sent == ["민지"]  # answered by itself
    joined = session.receive(words.JOINED.format(nick="민지", count=2))
    assert joined.kind == "joined" and session.state == "chatting" and session.count == 2
    session.receive(words.RULES)  # the reference server's rules, in its language: ask who is here
    assert sent[-1] == "/who"
    assert session.receive(words.WHO.format(number=2, nicks=["bob", "민지"])) is None
    assert session.members == ["bob", "민지"]
    left = session.receive(words.LEFT.format(nick="bob", why=protocol.CUT_NOT_READING, count=1))
    assert left.kind == "left" and session.members == ["민지"] and session.count == 1
    assert session.receive("bob: 안녕").kind == "message"


def test_a_chat_windows_own_words_follow_its_language():
    session = ChatSession(lambda text: None, lang="ko")
    assert session.receive(KO.PROMPT).text == "닉네임을 정하세요: 아래에 입력하고 Enter를 누르세요."
    assert session.status("127.0.0.1:5000") == ("#ad5700", "닉네임을 정하세요")
    assert ChatSession(lambda text: None, lang="en").receive(KO.PROMPT).text.startswith("Choose a nickname")


class FakeTerminal:
    interactive = False

    def __init__(self):
        self.shown = []

    def show(self, line):
        self.shown.append(line)


def test_the_terminal_client_answers_the_korean_question_with_its_nickname():
    server_side, client_side = socket.socketpair()
    with server_side, client_side:
        client = Client("127.0.0.1", 0, nick="민지", terminal=FakeTerminal())
        client.sock = client_side
        client.show_line(KO.PROMPT)
        assert server_side.recv(100) == "민지\n".encode()
        assert client.terminal.shown == [KO.PROMPT]


# --- servers that greet in Korean (the reference server and stage 6) -------------------------

@pytest.fixture(params=LANGS)
def lang(request):
    return request.param


def greeted(server, join, nick, words):
    client = join(server)
    client.expect(words.PROMPT)
    client.say(nick)
    client.expect(words.JOINED.format(nick=nick, count=len(server.server.room.members)))
    return client


@pytest.mark.parametrize("how", SERVERS)
def test_join_rules_who_help_unknown_and_bye_in_the_servers_language(live, join, how, lang):
    words = protocol.words(lang)
    server = live(lang=lang, **how)
    alice = join(server, "alice")
    assert alice.expect(words.RULES) == words.RULES
    bob = join(server, "민지")
    assert alice.expect_notice(protocol.JOINED, nick="민지") == {"nick": "민지", "count": 2}
    bob.say("/who")
    assert bob.expect(words.WHO.format(number=2, nicks=["alice", "민지"])) == words.WHO.format(
        number=2, nicks=["alice", "민지"])
    bob.say("/help")
    for line in words.HELP:
        bob.expect(line)
    bob.say("/dance")
    assert bob.expect(words.UNKNOWN_COMMAND.format(command="/dance"))
    bob.say("안녕하세요")
    alice.expect("민지: 안녕하세요")
    bob.say("/quit")
    bob.expect(words.BYE.format(nick="민지"))
    assert alice.expect_notice(protocol.LEFT, nick="민지") == {"nick": "민지", "why": words.LEFT_QUIT, "count": 1}
    if lang == "ko":
        assert "* 민지 님이 나갔습니다. 지금 1명이 있어요." in alice.lines()
        assert "* 안녕히 가세요, 민지 님!" in bob.lines()


@pytest.mark.parametrize("how", SERVERS)
@pytest.mark.parametrize("bad, problem", [
    ("alice", "NICK_TAKEN"), ("", "NICK_EMPTY"), ("two words", "NICK_SPACES"), ("x" * 21, "NICK_TOO_LONG"),
    ("a:b", "NICK_MARKS"), ("aIice", "NICK_LOOKS_LIKE"),
])
def test_nickname_refusals_in_the_servers_language(live, join, how, lang, bad, problem):
    words = protocol.words(lang)
    server = live(lang=lang, **how)
    join(server, "alice")
    newcomer = join(server)
    newcomer.expect(words.PROMPT)
    newcomer.say(bad)
    refusal = protocol.nickname_problem(bad, ["alice"], words)
    assert refusal.startswith("* ") and newcomer.expect(refusal) == refusal
    kind = getattr(words, problem)
    assert refusal == kind if isinstance(kind, str) else kind.parse(refusal) is not None
    newcomer.expect(words.PROMPT)
    newcomer.say("bob")
    newcomer.expect_notice(protocol.JOINED, nick="bob")


def still_joining(chat_server):
    """Connections the server still counts as choosing a nickname (the reference server, or stage 6)."""
    if hasattr(chat_server, "joining"):
        return len(chat_server.joining)
    with chat_server.lock:
        return sum(1 for client in chat_server.clients if client.nick is None and client.reader.is_alive())


@pytest.mark.parametrize("how", SERVERS)
def test_long_lines_slow_newcomers_a_full_server_and_shutdown_in_korean(live, join, how):
    server = live(lang="ko", **how)
    server.server.max_joining = 1
    server.server.nickname_seconds = 0.5
    shy = join(server)
    shy.expect(KO.PROMPT)
    turned_away = join(server)  # one newcomer may wait at a time
    assert turned_away.expect("서버가 가득") == KO.SERVER_FULL == "* 지금은 서버가 가득 찼습니다. 잠시 후에 다시 접속해 주세요."
    assert shy.expect("닉네임을 정하지 않아") == KO.NICK_TOO_SLOW.format(number=0)
    assert shy.wait_closed()
    wait_until(lambda: not still_joining(server.server), 10, "the server letting go of the shy newcomer")
    alice = join(server, "alice")
    alice.say("x" * MAX_LINE_CHARS)
    assert alice.expect("메시지를 보내지 못했습니다") == KO.MESSAGE_TOO_LONG.format(limit=MAX_LINE_CHARS)
    bob = join(server, "bob")
    alice.expect_notice(protocol.JOINED, nick="bob")
    bob.say("y" * (MAX_LINE_CHARS + 1))
    assert bob.expect("한 줄이 너무") == KO.LINE_TOO_LONG.format(limit=MAX_LINE_CHARS)
    assert alice.expect_notice(protocol.LEFT, nick="bob")["why"] == KO.CUT_TOO_LONG
    server.server.stop()  # the RunServer's own stop: it says goodbye to its members
    assert alice.expect(KO.SHUTTING_DOWN) == "* 서버를 종료합니다. 안녕히 가세요!"


def test_the_staged_servers_speak_the_reports_english_only(live):
    with pytest.raises(TypeError, match="speaks only English"):
        LiveServer(stage=5, lang="ko")
    result = run_chatkit("serve", "--stage", "5", "--lang", "ko")
    assert result.returncode == 2 and "--lang" in result.stderr


def test_serve_lang_ko_greets_a_plain_socket_in_korean():
    env = {key: value for key, value in os.environ.items() if key != "CHATKIT_LANG"}
    process = subprocess.Popen([sys.executable, "-m", "chatkit", "serve", "--lang", "ko"], stdout=subprocess.PIPE,
                               text=True, encoding="utf-8", env={**env, "PYTHONUNBUFFERED": "1"})
    try:
        first = process.stdout.readline()
        assert first.startswith("listening on "), first  # read by tools: English whatever the language
        port = int(first.rsplit(":", 1)[1])
        with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
            sock.settimeout(10)
            data = b""
            while b"\n" not in data:
                data += sock.recv(100)
            assert data.decode() == "닉네임을 입력하세요:\n"
    finally:
        process.terminate()
        process.wait(timeout=30)
        process.stdout.close()



# --- JupyterLab in Korean ----------------------------------------------------------------------

def test_the_lab_extra_has_jupyterlabs_korean_language_pack():
    from importlib import metadata

    pyproject = (Path(__file__).resolve().parents[1] / "pyproject.toml").read_text(encoding="utf-8")
    lab_extra = pyproject.split("\nlab = [", 1)[1].split("]", 1)[0]
    assert '"jupyterlab-language-pack-ko-kr"' in lab_extra
    packs = {entry.name for entry in metadata.entry_points(group="jupyterlab.languagepack")}
    assert "ko_KR" in packs, "make test installs the lab extra: the Korean pack must be there"


@pytest.mark.parametrize("kit_language, locale", [("ko", "ko_KR"), ("en", None)])
def test_lab_sets_jupyterlabs_language_from_the_kits(monkeypatch, tmp_path, kit_language, locale):
    import argparse
    import json

    from chatkit.tools import labserver

    existing = tmp_path / "app-settings"
    (existing / "overrides.d").mkdir(parents=True)
    (existing / "overrides.json").write_text('{"@jupyterlab/apputils-extension:themes": {"theme": "JupyterLab Dark"}}')
    monkeypatch.setattr(labserver, "app_settings_dir", lambda: existing)
    monkeypatch.setenv("CHATKIT_LANG", kit_language)
    seen = {}

    def run_jupyter(command, env):
        settings = [arg.split("=", 1)[1] for arg in command if arg.startswith("--LabApp.app_settings_dir=")]
        seen["settings"] = settings
        for folder in settings:
            seen["ours"] = json.loads((Path(folder) / "overrides.d" / "chatkit.json").read_text())
            seen["theirs"] = json.loads((Path(folder) / "overrides.json").read_text())
        return 0

    monkeypatch.setattr(labserver, "run_jupyter", run_jupyter)
    root = Path(__file__).resolve().parents[1]
    assert labserver.main(argparse.Namespace(install_config=False, root=str(root)), ["--no-browser"]) == 0
    if locale is None:
        assert seen["settings"] == []  # English: JupyterLab as it comes
    else:
        assert seen["ours"] == {labserver.LANGUAGE_SETTING: {"locale": locale}}
        assert seen["theirs"] == {"@jupyterlab/apputils-extension:themes": {"theme": "JupyterLab Dark"}}  # kept


# --- the GUI against a Korean server, in Korean -------------------------------------------------

needs_screen = pytest.mark.skipif(not (xvfb_available() and shutil.which("xdotool")),
                                  reason="needs Xvfb and xdotool (Debian: apt install xvfb xdotool)")


@pytest.fixture(scope="module")
def screen():
    with VirtualDisplay(720, 460) as screen:
        screen.tk(None, "winfo", "interps")  # the Tk relay lives as long as the screen
        yield screen


@needs_screen
def test_the_gui_speaks_korean_to_a_korean_server(live, join, screen, monkeypatch, tmp_path):
    server = live(lang="ko")
    bob = join(server, "bob")
    monkeypatch.setenv("CHATKIT_LANG", "ko")  # the window's own words
    window = screen.open_gui(server.port, "민지", geometry="720x460+0+0")
    try:
        assert bob.expect_notice(protocol.JOINED, nick="민지") == {"nick": "민지", "count": 2}
        bob.say("안녕, 민지!")
        window.wait_for_text("안녕, 민지!")
        window.wait_until(lambda: "민지 (나)" in window.members(), "the member list")
        assert "민지 님이 들어왔습니다. 지금 2명이 있어요." in window.messages()
        assert window.status() == f"● 127.0.0.1:{server.port}에 민지 닉네임으로 연결됨"
        assert window.tk(".entrybar.send", "cget", "-text") == "보내기"
        assert window.tk(".entrybar.label", "cget", "-text") == "메시지"
        assert window.tk(".sidebar.title", "cget", "-text") == "대화방 (2명)"
        screen.screenshot(tmp_path / "gui-ko.png")
        bob.say("/quit")
        window.wait_for_text("bob 님이 나갔습니다. 지금 1명이 있어요.")
    finally:
        window.stop()
        screen.windows.remove(window)
