"""The kit's tools: the commands besides grading, and what they share.

    serve.py      python -m chatkit serve: the reference server, a stage, or the event loop
    servers.py    which server? one way to name and load them, for serve, the lab and the bench
    addresses.py  where the servers started from this account listen: `join` without --port,
                  never a stranger's server in a shared lab account
    bench/        python -m chatkit bench: the servers side by side, measured from the client side
    crowd.py      many chat clients on one selectors loop (the bench's load, the stress tests')
    redisserver.py  a real redis-server on 127.0.0.1, a free port, a folder of its own: for shared
                  rooms in notebooks, tests and the bench (it says how to install one if missing)
    recorder.py   one chat client driven from code, recording every line (the lab's LiveClient
                  and the grader's Peer are made of it)
    doctor.py     python -m chatkit doctor: why a Tk window cannot open here, and the fix
    xvfb.py       a virtual screen (Xvfb) for the tkinter client, and driving its window
    nbstrip.py    python -m chatkit.tools.nbstrip: the walkthrough notebooks kept without outputs
    language.py   which language the kit speaks (CHATKIT_LANG, else the locale) and its gettext translator
    catalogs.py   make catalogs: the texts marked _() extracted into chatkit/locale/ and compiled (Babel)
    plots.py      matplotlib with a font that has Hangul (NanumGothic), for every plot the kit draws
    twins.py      python -m chatkit.tools.twins: the Korean walkthrough (notebooks/ko/), its code
                  written from the English notebooks, its stale or missing translations listed

Setting the kit up where a class uses it:

    labserver.py  python -m chatkit lab: JupyterLab on the walkthrough (what make lab runs), and
                  its settings for hosted classrooms (--install-config)
    terminal.py   the shell of JupyterLab's terminals: the kit's Python first (with terminal.bashrc)
    kitenv.py     the kit's .venv, made the first time and kept in step (make, lab and check use it)
    system.py     the programs outside Python the full checks use, and how each OS installs them
    release.py    python -m chatkit release student OUT/: the students' edition of the kit
"""
