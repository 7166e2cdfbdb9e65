"""The live lab: real servers and clients inside a notebook (or a test), and what they show.

    from chatkit.lab import LiveServer, LiveClient, stop_all
    server = LiveServer(stage=5)          # 127.0.0.1, a free port, a background thread
    alice = LiveClient(server, "alice")   # answers the nickname question, records every line
    server.transcript()                   # who said what, who heard it, when
    stop_all()

    live.py           LiveServer, LiveClient, stop_all: servers and clients a re-run cell replaces
    views.py          transcript, threads, log, source code, code side by side: tables a notebook shows
    diagram.py        the transcript as a sequence diagram (SVG)
    tables.py         Table, and text made visible and measured for a terminal (Hangul is wide)
    thread_output.py  what the server's background threads print goes to that server's log
    demos.py          the situations the notebooks stage (accept() and close(), a flood, a race)
    rooms.py          one room, several servers: LiveRedis (a real redis-server), ServerProcess (a server
                      to kill or freeze), what Redis holds and passes (keys, subscribers, the channel)
    panel.py          ChatPanel: a chat window inside the notebook (ipywidgets), for machines with no screen
    wait.py           wait_until: wait for what other threads do, with a deadline

The lab only drives and looks: the servers are the teaching code
(``chatkit.server``, ``chatkit.stages``, ...), named and loaded by
``chatkit.tools.servers``; the clients are ``chatkit.tools.recorder``
connections.
"""

from chatkit.lab.live import ClientClosed, LiveClient, LiveServer, running_servers, stop_all  # noqa: F401
