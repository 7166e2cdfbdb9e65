"""Every deadline, size and count of the grader, in one place.

A correct program answers each step of a test in milliseconds, so the
per-step deadlines are generous; they are what turns a student program
stuck in ``accept()`` into a failed test instead of a hung run.
CHATKIT_GRADER_PATIENCE=5 gives every step 5 s, for a very slow machine.
"""

import os

# -- one step of a test ------------------------------------------------------------
CALL_TIMEOUT = float(os.environ.get("CHATKIT_GRADER_PATIENCE", "2"))  # one call into student code
EXPECT_TIMEOUT = CALL_TIMEOUT  # a line a correct server sends at once
STOP_TIMEOUT = CALL_TIMEOUT  # stop() making run() return
START_TIMEOUT = 5.0  # starting Python and importing the student's file
IMPORT_LOOK_AFTER = 3.0  # an import still running this long: the child says what its main thread does
CRASH_REPORT_GRACE = 1.0  # a closed connection waits this long for the crash that may have closed it
STACKS_TIMEOUT = 1.0  # asking the child what its threads are doing
QUICK_LOOK = 0.5  # asking the child one more fact for a failure's explanation (is the listener closed?)
STACK_SAMPLE_GAP = 0.05  # between two looks at the threads (stuck, or busy in a loop?)
BUSY_THREAD_CPU = 0.005  # CPU seconds a thread gains between the first and last look: busy, not waiting
BUSY_PROCESS_CPU = 0.05  # the same for the whole process, where the OS does not tell each thread's
MEMBERS_TIMEOUT = 2.5  # waiting inside the child for the room to have N members
FLOOD_BYTES_MAX = 24 << 20  # the most a flood sends before the test gives up on a member who stopped reading
CLIENT_GOODBYE = 2.0  # what a client may wait, after /quit, for its server to hang up (exercise 8 says so)
READ_PATIENCE = 1.0  # a server given part of a line, until it has read it (then the next part is sent)
WAIT_PATIENCE = 3.0  # looking at a call that should be waiting (take() on an empty outbox) until it is clear how
SETTLE_QUIET = 0.01  # a server none of whose threads ran for this long has done all it was woken for

# -- the child process -------------------------------------------------------------
EXIT_GRACE = 0.5  # a child told to exit, before it is killed
READER_JOIN = 0.5  # the pipe readers after a kill (a process the student started may hold the pipes: the sweep ends it)
CHILD_LIFETIME = 300  # a child whose grader vanished without a word still ends
LOG_LINES_KEPT = 2000  # what the student's code printed, newest lines kept
MAX_LOG_LINE = 500  # characters of one printed line kept (a megabyte line is cut here)
MAX_OUTPUT = 4000  # characters of one failure's explanation kept in the results
MAX_PEER_LINE = 1 << 20  # characters a test client takes without a newline

# -- what student code may use, per process (the OS enforces them: sandbox/walls.py) ---
# CHATKIT_GRADER_LIMITS=off turns them off (to measure what they cost: benchmarks/grading.py).
STUDENT_LIMITS = {
    "memory_mb": 512,  # address space beyond the process's own at the start: a list that grows forever stops here
    "processes": 128,  # processes and threads at once
    "open_files": 256,  # files and sockets at once
    "cpu_seconds": 30,  # CPU time of one process: an endless loop is stopped (correct code needs < 2 s)
}
LIMITS_ON = os.environ.get("CHATKIT_GRADER_LIMITS", "on") != "off"
# Namespaces of its own for student code, where Linux allows them (sandbox/namespaces.py);
# CHATKIT_GRADER_NAMESPACES=off grades without them (what other systems do).
NAMESPACES_ON = os.environ.get("CHATKIT_GRADER_NAMESPACES", "on") != "off"

# -- whole runs --------------------------------------------------------------------
RUN_TIME_LIMIT = 120  # one pytest run in a process of its own, by default
CHECK_TIME_LIMIT = 90  # check("ex03") from a notebook: one exercise
WATCH_LOOK_EVERY = 0.2  # python -m chatkit watch: seconds between two looks at the file being watched
PROGRESS_TIME_LIMIT = 300  # python -m chatkit progress: every exercise
STUDENT_TIME_LIMIT = 120  # bulk grading: one student's whole run
