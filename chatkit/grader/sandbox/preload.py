"""What every sandbox child has loaded before its walls go up: child.py, and the kit's code it builds on.

launch.py imports it, so every process a fork server is made from
(chatkit.grader.forks) holds it, and each forked child starts with it all
in memory. The kit's teaching code loads some
libraries on first use (protocol.nickname_key loads the look-alike tables
of disarm); that first use happens here, not in a child whose walls are
up, where the user it runs as may not be allowed to read them, and where
every test would pay for it again. The same goes for the libraries an
exercise imports (redis-py, for exercise 10).

    python -m chatkit.grader.sandbox.preload FILE [WALLS-JSON]   a spawned child (no fork server)
"""

import json
import sys

import redis  # noqa: F401  (exercise 10's file imports it: loaded once here, not in every child)

from chatkit import protocol, server  # noqa: F401  (loaded for the children)
from chatkit.grader.sandbox import child
from chatkit.stages import (stage1_listen, stage2_accept, stage3_threads, stage4_broadcast,  # noqa: F401
                            stage5_report)

protocol.nickname_key("preload")  # disarm and its tables

if __name__ == "__main__":
    child.main(sys.argv[1], json.loads(sys.argv[2]) if len(sys.argv) > 2 else None)
