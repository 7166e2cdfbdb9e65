"""Made-up submissions with known mistakes: what the kit's tests and the benchmark grade.

Each Bug turns one reference answer into a typical wrong one (the report's
own weaknesses first) and says which graded tests must lose their points,
and what the failure must say. ``make_class`` writes a whole class of such
submissions into a folder, in the layout students hand in.
"""

import random
import shutil
from dataclasses import dataclass
from pathlib import Path

from chatkit.grader import layout
from chatkit.grader.authoring import tamper


@dataclass
class Bug:
    name: str
    exercise: str
    old: str  # text of the solution to replace...
    new: str  # ...by this (old=None: the whole file becomes `new`)
    loses: dict  # test -> points lost
    says: str  # what the failure of the first test in `loses` must mention

    def apply(self, solution_text):
        if self.old is None:
            return self.new
        if self.old not in solution_text:
            raise ValueError(f"bug {self.name!r}: the solution of {self.exercise} no longer contains {self.old!r}")
        return solution_text.replace(self.old, self.new, 1)


BUGS = [
    Bug("no lock", "ex04_broadcast",
        "        with self.lock:\n            self.members.append(client)\n",
        "        self.members.append(client)\n",
        {"test_members_are_guarded_by_the_lock": 2}, "append self.members in add_user"),
    Bug("recv(1024) taken as one message", "ex06_framing",
        "        self.pending += self.decoder.decode(data)\n",
        "        return [data.decode(errors='replace').removesuffix('\\n')]\n",
        {"test_two_lines_in_one_recv": 1, "test_one_line": 1, "test_a_line_in_pieces": 1,
         "test_korean_cut_anywhere": 2, "test_crlf_line_ends": 1, "test_too_long_line": 1},
        "One recv() is not one message"),
    Bug("no leave notice on a reset", "ex05_nicknames",
        "            except OSError:\n                break\n",
        "            except OSError:\n                self.room.delete_user(self)\n                self.sock.close()\n"
        "                return\n",
        {"test_vanished_client_is_announced": 1}, "ConnectionResetError"),
    Bug("the report's server (nickname asked in the accept loop)", "ex05_nicknames", None,
        '"""The report\'s own server, handed in as it is."""\n\n'
        "from chatkit.stages.stage5_report import ChatClient, ChattingRoom, RunServer  # noqa: F401\n",
        {"test_vanished_client_is_announced": 2, "test_silent_newcomer_blocks_nobody": 1}, "* bob left."),
    Bug("a loop that never returns", "ex03_threads",
        "            if conn is None:\n                break\n",
        "            if conn is None:\n                continue\n",
        {"test_stop_disconnects_everyone": 2}, "a loop that never ends"),
    Bug("spinning on recv() returning b''", "ex02_accept_loop",
        "                if not data:\n                    break\n", "",
        {"test_client_leaving_ends_the_echo_loop": 1}, "still open"),
    Bug("sys.exit on /quit", "ex05_nicknames",
        '            if not data or text == "/quit":\n',
        '            if text == "/quit":\n                __import__("sys").exit(0)\n            if not data:\n',
        {"test_quit_is_announced": 2}, "sys.exit(0)"),
    Bug("os._exit in server_open", "ex01_listen",
        "        self.listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)\n",
        "        __import__('os')._exit(3)\n",
        {"test_reports_the_real_port": 1, "test_clients_can_connect": 2, "test_socket_settings": 2,
         "test_stop_closes_the_listener": 1}, "exit status 3"),
    Bug("a lock taken twice (deadlock)", "ex04_broadcast",
        "            self.members.append(client)\n        self.send_all(self.join_notice(client))\n",
        "            self.members.append(client)\n            self.send_all(self.join_notice(client))\n",
        {"test_everyone_hears_a_message": 2, "test_join_is_announced_to_everyone": 1, "test_leaver_is_removed": 1,
         "test_members_are_guarded_by_the_lock": 2}, "waiting for a lock"),
    Bug("an endless loop at import", "ex07_slow_reader",
        "import collections\n", "import collections\nwhile True:\n    pass\n",
        {"test_put_then_take": 1, "test_put_refuses_past_the_limit": 1, "test_take_waits_for_data": 1,
         "test_close_wakes_take": 1, "test_messages_flow": 1, "test_a_member_who_stops_reading": 3},
        "importing ex07_slow_reader.py did not return"),
    Bug("put() waits for room instead of refusing", "ex07_slow_reader",
        "            if self.size + len(data) > self.limit:\n                return False\n",
        "            while self.size + len(data) > self.limit:\n                self.changed.wait()\n",
        {"test_put_refuses_past_the_limit": 1, "test_a_member_who_stops_reading": 3}, "8 + 3 bytes"),
]


def write_submission(folder, exercises=None, bugs=(), edit_tests=False, root=layout.KIT_ROOT):
    """A student's hand-in in `folder`/exercises: solutions, with `bugs` applied; stubs where
    `exercises` (a list of ids) leaves one out; an edited test file if `edit_tests`."""
    target = Path(folder) / "exercises"
    target.mkdir(parents=True, exist_ok=True)
    ids = layout.exercise_ids(root)
    for exercise in ids:
        answered = exercises is None or exercise in exercises
        source = layout.solutions_dir(root) if answered else layout.exercises_dir(root)
        text = (source / f"{exercise}.py").read_text(encoding="utf-8")
        for bug in bugs:
            if bug.exercise == exercise:
                text = bug.apply(text)
        (target / f"{exercise}.py").write_text(text, encoding="utf-8")
    for name in tamper.load_manifest().get("files", {}):  # a student's clone has the kit's tests too
        shutil.copy(layout.exercises_dir(root) / name, target / name)
    if edit_tests:
        test = target / f"{ids[0]}_test.py"
        test.write_text(test.read_text(encoding="utf-8").replace("points(2)", "points(20)"), encoding="utf-8")
    return target


def make_class(folder, size, seed=1):
    """`size` submissions: mostly complete answers, some with one bug, some unfinished, one tampered."""
    chooser = random.Random(seed)
    ids = layout.exercise_ids()
    quick_bugs = [bug for bug in BUGS if bug.name not in ("an endless loop at import", "a lock taken twice (deadlock)")]
    for number in range(1, size + 1):
        kind = chooser.random()
        options = {}
        if kind < 0.5:
            pass  # everything right
        elif kind < 0.8:
            options["bugs"] = [chooser.choice(quick_bugs)]
        elif kind < 0.97:
            options["exercises"] = ids[:chooser.randrange(len(ids))]  # stopped half-way
        else:
            options["edit_tests"] = True
        write_submission(Path(folder) / f"student{number:03d}", **options)
