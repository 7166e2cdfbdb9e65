"""The chat protocol on socketserver.ThreadingTCPServer: a peer for `python -m chatkit bench --peer`.

    python benchmarks/peers/socketserver_server.py PORT

The standard library's thread per client, as most tutorials write it: the
thread that reads a line sends it to every member itself (sendall, under a
lock), like the report's stage 5 but with line framing.
"""

import socket
import socketserver
import sys
import threading

members = {}  # nick -> socket
lock = threading.Lock()


def people(count):
    return f"{count} person" if count == 1 else f"{count} people"


def send_all(line):
    data = (line + "\n").encode()
    with lock:
        for sock in list(members.values()):
            try:
                sock.sendall(data)
            except OSError:
                pass


class Chat(socketserver.StreamRequestHandler):
    def handle(self):
        self.request.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        nick = None
        try:
            self.request.sendall(b"Enter your nickname:\n")
            for raw in self.rfile:
                text = raw.decode(errors="replace").strip()
                if nick is None:
                    with lock:
                        if text and text not in members and " " not in text and ":" not in text:
                            nick = text
                            members[nick] = self.request
                    if nick is None:
                        self.request.sendall(b"* The nickname is taken or invalid.\nEnter your nickname:\n")
                        continue
                    send_all(f"* {nick} joined. {people(len(members))} in the room.")
                    send_all("* Rules: be kind to each other.")
                elif text == "/quit":
                    break
                elif text:
                    send_all(f"{nick}: {text}")
        except OSError:
            pass
        finally:
            if nick is not None:
                with lock:
                    members.pop(nick, None)
                send_all(f"* {nick} left. {people(len(members))} in the room.")


class Server(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 1024


if __name__ == "__main__":
    with Server(("127.0.0.1", int(sys.argv[1])), Chat) as server:
        server.serve_forever()
