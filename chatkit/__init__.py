"""chatkit: a teaching kit that rebuilds a multi-threaded TCP chat server step by step.

    chatkit.stages    stage1_listen ... stage5_report: the report's server, one idea at a time
    chatkit.server    the reference server: stage 5 made correct
    chatkit.client    the command-line client
    chatkit.protocol  UTF-8 lines ending in "\\n": LineReader, clean_text
    chatkit.gui       the tkinter chat window (chatkit.widget: the same inside a notebook;
                      chatkit.session: what both understand of the server's lines)
    chatkit.doctor    why a Tk window cannot open here (chatkit.xvfb: a virtual screen)

The report's names, and where they live in the kit (methods are PEP 8):

    ChattingRoom.addUser / deleteUser / sendAll  ->  add_user / delete_user / send_all
    ChatClient.recvMessage / sendMessage / run   ->  recv_message / send_message / run
    RunServer.ServerOpen / run                   ->  server_open / run
    Client.socket (the client side)              ->  chatkit.client.Client.connect
"""

__version__ = "0.1.0"
