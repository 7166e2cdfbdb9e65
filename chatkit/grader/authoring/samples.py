"""Made-up submissions with known mistakes: what the kit's tests and the benchmark grade.

Each Bug turns one reference answer into a typical wrong one (the report's
own weaknesses first) and says which graded tests must lose their points,
and what the failure must say. ``make_class`` writes a whole class of such
submissions into a folder, in the layout students hand in.
"""

import random
import re
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
    says: str  # what the failure of the first test in `loses` must mention (its hint leads the output)
    slow: bool = False  # it waits out timeouts (hangs, deadlocks): left out of make_class's quick mistakes

    def apply(self, solution_text):
        if self.old is None:
            return self.new
        found = solution_text.count(self.old)
        if found != 1:  # not there any more, or also in a docstring: the bug would land in the wrong place
            raise ValueError(f"bug {self.name!r}: the solution of {self.exercise} contains {self.old!r} "
                             f"{found} times, not once")
        return solution_text.replace(self.old, self.new)


EX01_ALL = {"test_reports_the_real_port": 1, "test_clients_can_connect": 1, "test_socket_settings": 1,
            "test_restarts_on_a_port_in_time_wait": 1, "test_stop_closes_the_listener": 1}
EX03_ALL = {"test_two_clients_at_once": 3, "test_five_clients": 1, "test_stop_disconnects_everyone": 2}
EX04_ALL = {"test_everyone_hears_a_message": 2, "test_join_is_announced_to_everyone": 1,
            "test_leaving_is_announced_once": 1, "test_a_broken_member_stops_no_broadcast": 2,
            "test_members_are_guarded_by_the_lock": 2}
EX05_ALL = {"test_asks_for_a_nickname": 1, "test_join_notice_has_count_and_rules": 1,
            "test_messages_carry_the_nickname": 1, "test_quit_is_announced_once": 2,
            "test_vanished_client_is_announced_once": 2, "test_silent_newcomer_blocks_nobody": 1,
            "test_nickname_edge_cases": 2}
EX05_JOINED = {test: points for test, points in EX05_ALL.items() if test != "test_asks_for_a_nickname"}
EX06_ALL = {"test_two_lines_in_one_recv": 1, "test_one_line": 1, "test_a_line_in_pieces": 1,
            "test_korean_cut_anywhere": 2, "test_many_lines_cut_anywhere": 1, "test_crlf_line_ends": 1,
            "test_too_long_line": 1}
EX07_ALL = {"test_put_then_take": 1, "test_put_refuses_past_the_limit": 1, "test_take_waits_for_data": 2,
            "test_close_wakes_take": 2, "test_messages_flow": 1, "test_a_member_who_stops_reading": 3}

EX08_ALL = {"test_connects_and_talks": 1, "test_lines_are_shown_whole": 2, "test_typing_while_lines_arrive": 2,
            "test_quit_leaves": 2, "test_end_of_input_leaves": 1, "test_server_hanging_up": 1,
            "test_empty_lines_are_not_sent": 1}
EX09_ALL = {"test_joins_and_chats": 1, "test_lines_are_framed": 2, "test_korean_cut_anywhere": 2,
            "test_order_under_load": 2, "test_leaving_is_announced_once": 2, "test_nicknames_are_checked": 2,
            "test_a_member_who_stops_reading": 2, "test_oversized_lines": 2, "test_control_characters_are_removed": 1,
            "test_who_answers_only_the_asker": 1, "test_silent_newcomer_blocks_nobody": 1, "test_clean_shutdown": 1,
            "test_the_server_is_your_own": 1}
EX10_ALL = {"test_publishes_what_the_room_says": 2, "test_relays_what_the_channel_brings": 2,
            "test_skips_its_own_echoes": 2, "test_stop_is_clean": 2}
EX10_NO_ORIGIN = {"test_publishes_what_the_room_says": 1, "test_skips_its_own_echoes": 2}
EX10_STOP = ("        self.thread.stop()\n        self.thread.join(2)\n        self.pubsub.unsubscribe()\n"
             "        self.pubsub.close()\n        self.redis.close()\n")
# What stage 5 (the report's design) gets wrong of exercise 9, and the first hint it is told
STAGE5_LOSES = {"test_lines_are_framed": 2, "test_korean_cut_anywhere": 2, "test_order_under_load": 2,
                "test_leaving_is_announced_once": 1, "test_nicknames_are_checked": 2,
                "test_a_member_who_stops_reading": 2, "test_oversized_lines": 2,
                "test_control_characters_are_removed": 1, "test_who_answers_only_the_asker": 1,
                "test_silent_newcomer_blocks_nobody": 1, "test_the_server_is_your_own": 1}
# ...and what the hint of each of those failures names: the report's own weaknesses, one by one
STAGE5_SAYS = {"test_lines_are_framed": "TCP is a stream of bytes", "test_korean_cut_anywhere": "incremental decoder",
               "test_order_under_load": "in the order it was said", "test_leaving_is_announced_once": "a reset",
               "test_nicknames_are_checked": "Refuse a nickname that is taken",
               "test_a_member_who_stops_reading": "Never wait for one member",
               "test_oversized_lines": "A line longer than 4,096 characters",
               "test_control_characters_are_removed": "protocol.clean_text",
               "test_who_answers_only_the_asker": "/who answers only the one who asked",
               "test_silent_newcomer_blocks_nobody": "not in the accept loop",
               "test_the_server_is_your_own": "Write the server yourself"}

EX01_OPEN = ("        self.listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)\n"
             "        self.listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)\n"
             "        self.listener.bind((self.host, self.port))\n")
EX02_RUN = "            if conn is None:\n                return\n            self.serve_client(conn)\n"
EX03_START = ("            thread = threading.Thread(target=self.serve_client, args=(conn,))\n"
              "            thread.start()\n")
EX04_SEND = ("            for client in self.members:\n                try:\n                    client.sock.sendall(data)\n"
             "                except OSError:  # its own thread will notice the broken connection and leave\n"
             "                    pass\n")
EX05_GOODBYE = ('        self.send_message(f"* {self.nick} left. {people(len(self.room.members))} in the room.\\n")\n')
EX06_FEED = "        self.pending += self.decoder.decode(data)\n"
EX08_RECV = ("            for line in reader.feed(data) if data else reader.close():\n"
             "                self.show(line)\n")
EX09_FEED = "                lines = reader.feed(data)\n"
EX07_TAKE = ("        with self.changed:\n            while not self.chunks and not self.closed:\n"
             "                self.changed.wait()\n            data")

BUGS = [
    # -- the report's own weaknesses, as a student might hand them in --------------------------
    Bug("no lock", "ex04_broadcast",
        "        with self.lock:\n            self.members.append(client)\n",
        "        self.members.append(client)\n",
        {"test_members_are_guarded_by_the_lock": 2}, "append self.members in add_user"),
    Bug("recv(1024) taken as one message", "ex06_framing", EX06_FEED,
        "        return [data.decode(errors='replace').removesuffix('\\n')]\n", EX06_ALL,
        "One recv() is not one message"),
    Bug("no leave notice on a reset", "ex05_nicknames",
        "            except OSError:\n                break\n",
        "            except OSError:\n                self.room.delete_user(self)\n                self.sock.close()\n"
        "                return\n",
        {"test_vanished_client_is_announced_once": 1}, "ConnectionResetError"),
    Bug("the report's server (nickname asked in the accept loop)", "ex05_nicknames", None,
        '"""The report\'s own server, handed in as it is."""\n\n'
        "from chatkit.stages.stage5_report import ChatClient, ChattingRoom, RunServer  # noqa: F401\n",
        EX05_ALL, "comes from chatkit/stages/stage5_report.py"),
    Bug("stage 4's room, imported", "ex04_broadcast",
        "class ChattingRoom:\n", "ChattingRoom = stage4_broadcast.ChattingRoom\n\n\nclass YourRoom:\n",
        EX04_ALL, "comes from chatkit/stages/stage4_broadcast.py"),
    Bug("the kit's LineReader, imported", "ex06_framing",
        "class LineReader:\n", "from chatkit.protocol import LineReader  # noqa: E402,F811\n\n\nclass Mine:\n",
        EX06_ALL, "comes from chatkit/protocol.py"),

    # -- exercise 1: the listening socket ---------------------------------------------------------
    Bug("SO_REUSEADDR set after bind()", "ex01_listen", EX01_OPEN,
        "        self.listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)\n"
        "        self.listener.bind((self.host, self.port))\n"
        "        self.listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)\n",
        {"test_restarts_on_a_port_in_time_wait": 1}, "Address already in use"),
    Bug("no SO_REUSEADDR", "ex01_listen",
        "        self.listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)\n", "",
        {"test_socket_settings": 1, "test_restarts_on_a_port_in_time_wait": 1}, "SO_REUSEADDR is off"),
    Bug("bind() given two arguments", "ex01_listen",
        "        self.listener.bind((self.host, self.port))\n", "        self.listener.bind(self.host, self.port)\n",
        EX01_ALL, "Your code raised TypeError at exercises/ex01_listen.py:"),
    Bug("no listen()", "ex01_listen", "        self.listener.listen(self.backlog)\n", "",
        {"test_clients_can_connect": 1, "test_socket_settings": 1}, "listen(self.backlog)"),
    Bug("the port not read back", "ex01_listen",
        "        self.host, self.port = self.listener.getsockname()\n", "",
        {"test_reports_the_real_port": 1, "test_clients_can_connect": 1, "test_socket_settings": 1,
         "test_stop_closes_the_listener": 1}, "getsockname()"),
    Bug("bound to every interface", "ex01_listen",
        "        self.listener.bind((self.host, self.port))\n", '        self.listener.bind(("0.0.0.0", self.port))\n',
        {"test_socket_settings": 1}, "bound to 0.0.0.0"),
    Bug("the socket kept in a local variable", "ex01_listen",
        EX01_OPEN + "        self.listener.listen(self.backlog)\n        self.host, self.port = self.listener.getsockname()\n",
        "        listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)\n"
        "        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)\n"
        "        listener.bind((self.host, self.port))\n        listener.listen(self.backlog)\n"
        "        self.host, self.port = listener.getsockname()\n",
        {"test_clients_can_connect": 1, "test_socket_settings": 1}, "Keep the socket in self.listener"),
    Bug("UDP instead of TCP", "ex01_listen", "socket.socket(socket.AF_INET, socket.SOCK_STREAM)",
        "socket.socket(socket.AF_INET, socket.SOCK_DGRAM)", EX01_ALL, "Your code raised OSError"),
    Bug("os._exit in server_open", "ex01_listen",
        "        self.listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)\n",
        "        __import__('os')._exit(3)\n", EX01_ALL, "exit status 3"),

    # -- exercise 2: the accept loop ----------------------------------------------------------------
    Bug("spinning on recv() returning b''", "ex02_accept_loop",
        "                if not data:\n                    break\n", "",
        {"test_client_leaving_ends_the_echo_loop": 1}, "returned b''", slow=True),
    Bug("a single accept (no loop)", "ex02_accept_loop",
        "        while True:\n            conn = self.wait_for_client()\n" + EX02_RUN,
        "        conn = self.wait_for_client()\n        if conn is not None:\n            self.serve_client(conn)\n",
        {"test_serves_the_next_client": 2}, "Your run() returned"),
    Bug("the listener closed after each client", "ex02_accept_loop",
        "        conn.close()\n        self.forget(conn)\n",
        "        conn.close()\n        self.listener.close()\n        self.forget(conn)\n",
        {"test_serves_the_next_client": 2}, "closed self.listener"),
    Bug("the greeting without its newline", "ex02_accept_loop",
        '            conn.sendall((self.greeting + "\\n").encode())\n', "            conn.sendall(self.greeting.encode())\n",
        {"test_greets_and_echoes": 2, "test_serves_the_next_client": 2, "test_client_leaving_ends_the_echo_loop": 1,
         "test_stop_hangs_up_and_run_returns": 1}, "without a '\\n' after it", slow=True),
    Bug("echo without its prefix", "ex02_accept_loop",
        '                conn.sendall(b"echo: " + data)\n', "                conn.sendall(data)\n",
        {"test_greets_and_echoes": 1, "test_serves_the_next_client": 2, "test_client_leaving_ends_the_echo_loop": 1},
        "conn.sendall(b'echo: ' + data)", slow=True),
    Bug("text and bytes mixed", "ex02_accept_loop",
        '                conn.sendall(b"echo: " + data)\n', '                conn.sendall("echo: " + data)\n',
        {"test_greets_and_echoes": 1, "test_serves_the_next_client": 2, "test_client_leaving_ends_the_echo_loop": 1},
        "Your code raised TypeError"),
    Bug("a reset not caught", "ex02_accept_loop",
        "        except OSError:\n            pass\n        conn.close()\n",
        "        finally:\n            pass\n        conn.close()\n",
        {"test_serves_the_next_client": 2}, "ConnectionResetError"),
    Bug("no remember(conn)", "ex02_accept_loop", "        self.remember(conn)\n", "",
        {"test_stop_hangs_up_and_run_returns": 1}, "self.remember(conn)", slow=True),

    # -- exercise 3: a thread per client -----------------------------------------------------------
    Bug("a loop that never returns", "ex03_threads",
        "            if conn is None:\n                break\n",
        "            if conn is None:\n                continue\n",
        {"test_stop_disconnects_everyone": 2}, "a loop that never waits", slow=True),
    Bug("serve_client called, no thread", "ex03_threads", EX03_START,
        "            self.serve_client(conn)\n            thread = threading.Thread(target=print)\n",
        EX03_ALL, "calling serve_client(conn) directly", slow=True),
    Bug("each thread joined at once", "ex03_threads", "            thread.start()\n",
        "            thread.start()\n            thread.join()\n", EX03_ALL, "join()ing the thread at once", slow=True),
    Bug("args=(conn) without its comma", "ex03_threads", EX03_START, EX03_START.replace("args=(conn,)", "args=(conn)"),
        EX03_ALL, "must be an iterable"),
    Bug("a thread never started", "ex03_threads", "            thread.start()\n", "",
        EX03_ALL, "thread.start()", slow=True),
    Bug("target called instead of passed", "ex03_threads", EX03_START,
        EX03_START.replace("target=self.serve_client, args=(conn,)", "target=self.serve_client(conn)"),
        EX03_ALL, "Pass the function itself", slow=True),
    Bug("run() returns without joining", "ex03_threads",
        "        for thread in self.threads:\n            thread.join()\n", "",
        {"test_stop_disconnects_everyone": 1}, "join() every thread"),
    Bug("return from the loop, before the joins", "ex03_threads",
        "            if conn is None:\n                break\n", "            if conn is None:\n                return\n",
        {"test_stop_disconnects_everyone": 1}, "join() every thread"),

    # -- exercise 4: the room -----------------------------------------------------------------------
    Bug("a lock taken twice (deadlock)", "ex04_broadcast",
        "            self.members.append(client)\n        self.send_all(",
        "            self.members.append(client)\n            self.send_all(",
        EX04_ALL, "`add_user` holds self.lock", slow=True),
    Bug("the leave notice sent holding the lock", "ex04_broadcast",
        "            self.members.remove(client)\n        self.send_all(",
        "            self.members.remove(client)\n            self.send_all(",
        {"test_leaving_is_announced_once": 1, "test_members_are_guarded_by_the_lock": 2},
        "`delete_user` holds self.lock", slow=True),
    Bug("removing from the list while looping over it", "ex04_broadcast",
        "                except OSError:  # its own thread will notice the broken connection and leave\n"
        "                    pass\n",
        "                except OSError:\n                    self.members.remove(client)\n",
        {"test_a_broken_member_stops_no_broadcast": 2}, "carol, the member right after bob, was skipped", slow=True),
    Bug("a broadcast that stops at the first failure", "ex04_broadcast", EX04_SEND,
        "            try:\n                for client in self.members:\n                    client.sock.sendall(data)\n"
        "            except OSError:\n                pass\n",
        {"test_a_broken_member_stops_no_broadcast": 2}, "The broadcast stopped at bob", slow=True),
    Bug("a failed send not caught", "ex04_broadcast", EX04_SEND,
        "            for client in self.members:\n                client.sock.sendall(data)\n",
        {"test_a_broken_member_stops_no_broadcast": 2}, "Your code raised BrokenPipeError"),
    Bug("a leave notice for someone already gone", "ex04_broadcast",
        "            if client not in self.members:\n                return\n            self.members.remove(client)\n",
        "            if client in self.members:\n                self.members.remove(client)\n",
        {"test_leaving_is_announced_once": 1}, "heard that bob left 2 times"),
    Bug("delete_user without a membership check", "ex04_broadcast",
        "            if client not in self.members:\n                return\n", "",
        {"test_leaving_is_announced_once": 1}, "Your code raised ValueError"),
    Bug("the newcomer announced before it is a member", "ex04_broadcast",
        "        with self.lock:\n            self.members.append(client)\n        self.send_all(f\"* {client.nick} joined.\\n\")\n",
        "        self.send_all(f\"* {client.nick} joined.\\n\")\n        with self.lock:\n            self.members.append(client)\n",
        EX04_ALL, "the newcomer too", slow=True),
    Bug("the join notice without its newline", "ex04_broadcast",
        'f"* {client.nick} joined.\\n"', 'f"* {client.nick} joined."', EX04_ALL, "without a '\\n' after it",
        slow=True),
    Bug("looping over a copy taken without the lock", "ex04_broadcast",
        "        data = message.encode()\n        with self.lock:\n            for client in self.members:\n",
        "        data = message.encode()\n        members = list(self.members)\n        with self.lock:\n"
        "            for client in members:\n",
        {"test_members_are_guarded_by_the_lock": 2}, "loop over self.members in send_all"),
    Bug("the membership check outside the lock", "ex04_broadcast",
        "        with self.lock:\n            if client not in self.members:\n                return\n",
        "        if client not in self.members:\n            return\n        with self.lock:\n",
        {"test_members_are_guarded_by_the_lock": 2}, "look in self.members in delete_user"),

    # -- exercise 5: nicknames and goodbyes ---------------------------------------------------------
    Bug("sys.exit on /quit", "ex05_nicknames",
        '            if not data or text == "/quit":\n',
        '            if text == "/quit":\n                __import__("sys").exit(0)\n            if not data:\n',
        {"test_quit_is_announced_once": 2}, "sys.exit(0)"),
    Bug("the nickname not stripped", "ex05_nicknames",
        '            nick = data.decode(errors="replace").strip()\n', '            nick = data.decode(errors="replace")\n',
        EX05_JOINED, "Strip the answer", slow=True),
    Bug("an empty nickname accepted", "ex05_nicknames",
        "            if nick:\n                return nick\n", "            return nick\n",
        {"test_nickname_edge_cases": 1}, "ask again", slow=True),
    Bug("a newcomer who left announced anyway", "ex05_nicknames",
        "            if not data:\n                return None\n", "            if not data:\n                return \"\"\n",
        {"test_nickname_edge_cases": 1}, "never joined"),
    Bug("the goodbye said twice", "ex05_nicknames",
        '            if not data or text == "/quit":\n                break\n',
        '            if text == "/quit":\n                self.room.delete_user(self)\n'
        + EX05_GOODBYE.replace("        ", "                ", 1) + "                break\n"
        "            if not data:\n                break\n",
        {"test_quit_is_announced_once": 1}, "2 times"),
    Bug("/quit\\r\\n not recognised", "ex05_nicknames",
        '            if not data or text == "/quit":\n', '            if not data or data == b"/quit\\n":\n',
        {"test_quit_is_announced_once": 1}, "'\\r\\n'", slow=True),
    Bug("the head count taken before leaving", "ex05_nicknames",
        "        self.room.delete_user(self)\n" + EX05_GOODBYE, EX05_GOODBYE + "        self.room.delete_user(self)\n",
        {"test_quit_is_announced_once": 2, "test_vanished_client_is_announced_once": 2}, "count after taking"),
    Bug("the goodbye without its newline", "ex05_nicknames", 'in the room.\\n")', 'in the room.")',
        {"test_quit_is_announced_once": 2, "test_vanished_client_is_announced_once": 2}, "'\\n'", slow=True),

    # -- exercise 6: framing ------------------------------------------------------------------------
    Bug("each chunk decoded on its own", "ex06_framing", EX06_FEED,
        "        self.pending += data.decode(errors='replace')\n",
        {"test_korean_cut_anywhere": 2, "test_many_lines_cut_anywhere": 1}, "self.decoder.decode(data)"),
    Bug("strip() instead of the line ending", "ex06_framing", 'lines.append(line.removesuffix("\\r"))',
        "lines.append(line.strip())", {"test_one_line": 1}, "strip() also removes the spaces"),
    Bug("the \\r kept", "ex06_framing", 'lines.append(line.removesuffix("\\r"))', "lines.append(line)",
        {"test_many_lines_cut_anywhere": 1, "test_crlf_line_ends": 1}, "Every complete line"),
    Bug("only the pending text checked for length", "ex06_framing",
        "            if len(line) > self.max_chars:\n                raise LineTooLong(f\"a line of {len(line)} characters\")\n",
        "", {"test_too_long_line": 1}, "check both"),
    Bug(">= instead of >", "ex06_framing", "if len(line) > self.max_chars:", "if len(line) >= self.max_chars:",
        {"test_too_long_line": 1}, "exactly max_chars"),
    Bug("the length counted in bytes", "ex06_framing", "if len(line) > self.max_chars:",
        "if len(line.encode()) > self.max_chars:", {"test_too_long_line": 1}, "count characters"),
    Bug("the unfinished line forgotten", "ex06_framing", "        return lines\n",
        '        self.pending = ""\n        return lines\n',
        {"test_a_line_in_pieces": 1, "test_korean_cut_anywhere": 2, "test_many_lines_cut_anywhere": 1},
        "Keep the text after the last"),
    Bug("an unfinished line returned too", "ex06_framing", "        return lines\n",
        "        return lines + ([self.pending] if self.pending else [])\n",
        {"test_a_line_in_pieces": 1, "test_korean_cut_anywhere": 2, "test_many_lines_cut_anywhere": 1},
        "only lines whose"),
    Bug("empty lines dropped", "ex06_framing", '            lines.append(line.removesuffix("\\r"))\n',
        '            if line.removesuffix("\\r"):\n                lines.append(line.removesuffix("\\r"))\n',
        {"test_many_lines_cut_anywhere": 1}, "even an empty one"),

    # -- exercise 7: the outbox ---------------------------------------------------------------------
    Bug("an endless loop at import", "ex07_slow_reader",
        "import collections\n", "import collections\nwhile True:\n    pass\n", EX07_ALL,
        "Importing your file never finishes", slow=True),
    Bug("put() waits for room instead of refusing", "ex07_slow_reader",
        "            if self.size + len(data) > self.limit:\n                return False\n",
        "            while self.size + len(data) > self.limit:\n                self.changed.wait()\n",
        {"test_put_refuses_past_the_limit": 1, "test_a_member_who_stops_reading": 3}, "never wait", slow=True),
    Bug("take() spins instead of waiting", "ex07_slow_reader", EX07_TAKE,
        "        while not self.chunks and not self.closed:\n            pass\n        with self.changed:\n            data",
        {"test_take_waits_for_data": 1}, "looks again and again"),
    Bug("take() polls with sleep()", "ex07_slow_reader", EX07_TAKE,
        "        while not self.chunks and not self.closed:\n            __import__('time').sleep(0.01)\n"
        "        with self.changed:\n            data",
        {"test_take_waits_for_data": 1}, "polls with time.sleep()"),
    Bug("put() wakes nobody", "ex07_slow_reader", "                self.changed.notify()\n", "",
        {"test_take_waits_for_data": 1}, "self.changed.notify()", slow=True),
    Bug("close() wakes nobody", "ex07_slow_reader", "            self.changed.notify_all()\n", "",
        {"test_close_wakes_take": 1}, "wakes the waiting take()", slow=True),
    Bug("put() after close() still queues", "ex07_slow_reader",
        "            if not self.closed:\n                self.chunks.append(data)\n                self.size += len(data)\n"
        "                self.changed.notify()\n",
        "            self.chunks.append(data)\n            self.size += len(data)\n            self.changed.notify()\n",
        {"test_close_wakes_take": 1}, "queues nothing"),
    Bug(">= the limit refused", "ex07_slow_reader", "if self.size + len(data) > self.limit:",
        "if self.size + len(data) >= self.limit:", {"test_put_refuses_past_the_limit": 1}, "exactly the limit"),
    Bug("a refused put() queues anyway", "ex07_slow_reader",
        "            if self.size + len(data) > self.limit:\n                return False\n"
        "            if not self.closed:\n                self.chunks.append(data)\n",
        "            if not self.closed:\n                self.chunks.append(data)\n"
        "            if self.size + len(data) > self.limit:\n                return False\n            if True:\n",
        {"test_put_refuses_past_the_limit": 1}, "a refused put() must queue nothing"),
    Bug("no limit at all", "ex07_slow_reader",
        "            if self.size + len(data) > self.limit:\n                return False\n", "",
        {"test_put_refuses_past_the_limit": 1, "test_a_member_who_stops_reading": 1}, "8 + 3 bytes", slow=True),
    Bug("waiting without holding the condition", "ex07_slow_reader", EX07_TAKE,
        "        while not self.chunks and not self.closed:\n            self.changed.wait()\n        with self.changed:\n"
        "            data",
        {"test_take_waits_for_data": 2, "test_close_wakes_take": 2}, "Your code raised RuntimeError"),

    # -- exercise 8: the client -----------------------------------------------------------------------
    Bug("no receive thread at all", "ex08_client",
        "        threading.Thread(target=self.recv_message, name=\"receive\", daemon=True).start()\n",
        "        threading.Thread(target=print, daemon=True).start()\n",
        {"test_connects_and_talks": 1, "test_lines_are_shown_whole": 2, "test_typing_while_lines_arrive": 1,
         "test_quit_leaves": 1, "test_server_hanging_up": 1}, "self.show(line)", slow=True),
    Bug("recv_message called, not started", "ex08_client",
        "        threading.Thread(target=self.recv_message, name=\"receive\", daemon=True).start()\n",
        "        self.recv_message()\n",
        {"test_connects_and_talks": 1, "test_typing_while_lines_arrive": 1, "test_quit_leaves": 2,
         "test_end_of_input_leaves": 1, "test_empty_lines_are_not_sent": 1},
        "run() sends each line typed", slow=True),
    Bug("each recv() shown as it came", "ex08_client", EX08_RECV,
        "            for line in data.decode(errors='replace').splitlines():\n                self.show(line)\n",
        {"test_lines_are_shown_whole": 2}, "Show whole lines", slow=True),
    Bug("lines cut right, characters not", "ex08_client", "        reader = ClientLineReader()\n",
        "        reader = ClientLineReader()\n        reader.decoder.decode = lambda data, final=False: data.decode('utf-8', 'replace')\n",
        {"test_lines_are_shown_whole": 1}, "incremental decoder", slow=True),
    Bug("a line sent without its newline", "ex08_client", "        self.sock.sendall(encode_line(text))\n",
        "        self.sock.sendall(text.encode())\n",
        {"test_connects_and_talks": 1, "test_typing_while_lines_arrive": 1, "test_quit_leaves": 2,
         "test_end_of_input_leaves": 1, "test_empty_lines_are_not_sent": 1}, "without a '\\n' after it", slow=True),
    Bug("Ctrl+D not caught", "ex08_client", "        except EOFError:\n            pass\n",
        "        except ConnectionError:\n            pass\n",
        {"test_end_of_input_leaves": 1}, "Your code raised EOFError"),
    Bug("'Disconnected' said when the user left", "ex08_client",
        "        if not self.leaving:\n            self.show(DISCONNECTED)\n", "        self.show(DISCONNECTED)\n",
        {"test_quit_leaves": 1}, "no 'Disconnected' then"),
    Bug("empty lines sent", "ex08_client", "                if text:\n                    self.send_message(text)\n",
        "                self.send_message(text)\n", {"test_empty_lines_are_not_sent": 1}, "An empty line is not a message"),
    Bug("the server's hang-up never noticed", "ex08_client",
        "            while not self.server_closed.is_set():\n                text = self.ask()\n"
        "                if self.server_closed.is_set() or text.strip() == \"/quit\":\n",
        "            while True:\n                text = self.ask()\n                if text.strip() == \"/quit\":\n",
        {"test_server_hanging_up": 1}, "the next line typed ends the loop", slow=True),
    Bug("no goodbye awaited after /quit", "ex08_client",
        "            try:\n                self.send_message(\"/quit\")\n            except OSError:\n                pass\n"
        "            self.server_closed.wait(2)\n",
        "",
        {"test_quit_leaves": 2, "test_end_of_input_leaves": 1}, "send '/quit' to the server", slow=True),

    Bug("the kit's terminal client handed in", "ex08_client", None,
        '"""The kit\'s client, handed in for exercise 8."""\n\nfrom chatkit.client import Client  # noqa: F401\n',
        EX08_ALL, "comes from chatkit/client.py"),
    Bug("the kit's client subclassed", "ex08_client", None,
        '"""My client."""\n\nimport chatkit.client\n\n\nclass Client(chatkit.client.Client):\n'
        '    """Mine, with everything inherited."""\n',
        EX08_ALL, "Client.connect comes from chatkit/client.py"),

    # -- exercise 9: the whole server -----------------------------------------------------------------
    Bug("stage 5 handed in (the report's design)", "ex09_chat_server", None,
        '"""The report\'s server, handed in for the capstone."""\n\n'
        "from chatkit.stages.stage5_report import RunServer  # noqa: F401\n",
        STAGE5_LOSES, "TCP is a stream of bytes", slow=True),
    Bug("the reference server imported", "ex09_chat_server", None,
        '"""The kit\'s own server, handed in for the capstone."""\n\nfrom chatkit.server import RunServer  # noqa: F401\n',
        {"test_the_server_is_your_own": 1}, "Write the server yourself"),
    Bug("stage 6 imported", "ex09_chat_server", None,
        '"""The kit\'s event loop, handed in for the capstone."""\n\nfrom chatkit.eventloop import RunServer  # noqa: F401\n',
        {"test_the_server_is_your_own": 1}, "chatkit.eventloop"),
    Bug("every recv() relayed as one message", "ex09_chat_server", EX09_FEED,
        "                lines = [data.decode(errors='replace').removesuffix('\\n')]\n",
        {"test_lines_are_framed": 2, "test_korean_cut_anywhere": 2, "test_order_under_load": 2,
         "test_oversized_lines": 2, "test_a_member_who_stops_reading": 2}, "two lines taken as one", slow=True),
    Bug("sending under the room's lock", "ex09_chat_server",
        "        with self.changed:\n            if self.queued + len(data) > BEHIND_LIMIT:\n",
        "        try:\n            self.sock.sendall(data)\n        except OSError:\n            pass\n        return True\n"
        "        with self.changed:\n            if self.queued + len(data) > BEHIND_LIMIT:\n",
        {"test_a_member_who_stops_reading": 2}, "Never wait for one member", slow=True),
    Bug("no limit on what waits for a member", "ex09_chat_server", "BEHIND_LIMIT = 1 << 20", "BEHIND_LIMIT = 1 << 40",
        {"test_a_member_who_stops_reading": 1}, "Bound what waits for a member", slow=True),
    Bug("a reset never announced", "ex09_chat_server",
        "            except OSError:\n                return protocol.LEFT_LOST\n",
        "            except OSError:\n                return None\n",
        {"test_leaving_is_announced_once": 1}, "A member who vanishes", slow=True),
    Bug("nicknames compared with their case", "ex09_chat_server",
        "            problem = protocol.nickname_problem(nick, self.members)\n",
        "            problem = None if nick and nick not in self.members and not set(nick) & set(' :') else \"* No.\"\n",
        {"test_nicknames_are_checked": 1}, "compared without case"),
    Bug("messages relayed raw", "ex09_chat_server", "        text = clean_text(line).strip()\n",
        "        text = line.strip()\n", {"test_control_characters_are_removed": 1}, "protocol.clean_text"),
    Bug("commands relayed as messages", "ex09_chat_server",
        '        command = text.split()[0].lower() if text.startswith("/") else None\n',
        '        command = "/quit" if text == "/quit" else None\n',
        {"test_who_answers_only_the_asker": 1}, "/who answers only the one who asked", slow=True),
    Bug("no shutdown notice", "ex09_chat_server", "            member.send(protocol.SHUTTING_DOWN)\n", "",
        {"test_clean_shutdown": 1}, "The server is shutting down", slow=True),
    Bug("no line limit", "ex09_chat_server", "        reader = LineReader()\n", "        reader = LineReader(1 << 40)\n",
        {"test_oversized_lines": 2}, "A line longer than 4,096 characters", slow=True),
    Bug("a goodbye said twice", "ex09_chat_server",
        "            if self.members.get(member.nick) is not member:\n                return False\n"
        "            del self.members[member.nick]\n",
        "            self.members.pop(member.nick, None)\n",
        {"test_a_member_who_stops_reading": 1}, "announced once"),

    # -- exercise 10 (optional): the bridge to Redis ----------------------------------------------
    Bug("its own echoes relayed", "ex10_redis_bridge",
        "        if said[\"origin\"] != self.origin:\n            self.room.hear(said[\"line\"])\n",
        "        self.room.hear(said[\"line\"])\n",
        {"test_skips_its_own_echoes": 2}, "relay only those whose origin is not self.origin"),
    Bug("published without its origin", "ex10_redis_bridge",
        'json.dumps({"origin": self.origin, "line": line})', 'json.dumps({"line": line})',
        EX10_NO_ORIGIN, "origin"),
    Bug("stop() leaves it all to the daemon thread", "ex10_redis_bridge", EX10_STOP,
        "        pass  # the relay thread is a daemon: it ends with the program\n",
        {"test_stop_is_clean": 2}, "stop() unsubscribes"),
    Bug("stop() leaves the relay thread running", "ex10_redis_bridge", EX10_STOP,
        "        self.pubsub.unsubscribe()\n",
        {"test_stop_is_clean": 1}, "stop() ends the relay thread"),
    Bug("the channel's bytes read as Latin-1", "ex10_redis_bridge", 'json.loads(message["data"])',
        'json.loads(message["data"].decode("latin-1"))',
        {"test_relays_what_the_channel_brings": 1}, "decode them as UTF-8"),
    Bug("the relay loop run inside start()", "ex10_redis_bridge",
        "        self.thread = self.pubsub.run_in_thread(sleep_time=0.02, daemon=True)\n",
        "        for message in self.pubsub.listen():\n            self.relay(message)\n",
        EX10_ALL, "start() did not return", slow=True),
]


def write_submission(folder, exercises=None, bugs=(), edit_tests=False, root=layout.KIT_ROOT, signed=None):
    """A student's hand-in in `folder`/exercises: solutions, with `bugs` applied; stubs where
    `exercises` (a list of ids) leaves one out; an edited test file if `edit_tests`. `signed`: a
    first line `# signed` in each answered file (no two students' own work is byte for byte the same;
    a stub left as it was is)."""
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
        if signed and answered:
            text = f"# {signed}\n{text}"
        (target / f"{exercise}.py").write_text(text, encoding="utf-8")
    for name in tamper.load_manifest().get("files", {}):  # a student's clone has the kit's tests too
        shutil.copy(layout.exercises_dir(root) / name, target / name)
    if edit_tests:
        test = target / f"{ids[0]}_test.py"
        weighed = re.sub(r"points\((\d+)\)", r"points(\g<1>0)", test.read_text(encoding="utf-8"))  # every weight x10
        test.write_text(weighed, encoding="utf-8")
    return target


def make_class(folder, size, seed=1):
    """`size` submissions: mostly complete answers, some with one bug, some unfinished, one tampered.

    Each student's own files are signed (samefiles.py would otherwise grade
    the class's identical answers once); stubs left untouched are alike.
    """
    chooser = random.Random(seed)
    ids = layout.exercise_ids()
    quick_bugs = [bug for bug in BUGS if not bug.slow]
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
        write_submission(Path(folder) / f"student{number:03d}", signed=f"student{number:03d}", **options)
