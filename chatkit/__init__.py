"""chatkit: a teaching kit that rebuilds a multi-threaded TCP chat server step by step.

What students read (each module runs on its own: ``python -m chatkit serve --stage N``):

    chatkit.protocol   UTF-8 lines ending in "\\n" (LineReader, clean_text), and every line a
                       server says: the prompt, the rules, the notices servers format and clients parse
    chatkit.stages     stage1_listen ... stage5_report: the report's server, one idea at a time
    chatkit.server     the reference server: stage 5 made correct
    chatkit.eventloop  the reference server again, in one thread around a selectors loop ("stage 6")
    chatkit.sharedroom one room across several servers: each server's room joined through Redis pub/sub
                       (serve --room redis://HOST:PORT/ROOM), with presence, nickname claims, lost lines counted
    chatkit.client     the command-line client (the report's Client)
    chatkit.gui        the tkinter chat window the report could not open
    chatkit.session    what a chat window understands of the room (the GUI and the notebook panel)

The kit's machinery, which students use but need not read:

    chatkit.lab        live servers and clients in a notebook, and what they show (transcripts,
                       sequence diagrams, threads); a real Redis and several servers in one room;
                       the chat panel for machines with no screen
    chatkit.grader     the autograder: a pytest plugin, the sandbox student code runs in, the
                       commands check / progress / grade / stubs, and the results' formats
    chatkit.tools      the other commands (serve, bench, doctor), naming and loading a server,
                       the clients that drive servers from code (recorder, crowd), a real
                       redis-server on a free port (redisserver), a virtual screen (xvfb),
                       notebook stripping (nbstrip), and the kit's language (language: English,
                       or Korean from the catalog in chatkit/locale/, made with catalogs)

The report's names, and where they live in the kit (methods are PEP 8):

    ChattingRoom.addUser / deleteUser / sendAll  ->  add_user / delete_user / send_all
    ChatClient.recvMessage / sendMessage / run   ->  recv_message / send_message / run
                                                     (in stages 3-5 the thread is started by welcome())
    RunServer.ServerOpen / run                   ->  server_open / run
    Client.socket (the client side)              ->  chatkit.client.Client.connect
"""

__version__ = "0.1.0"
