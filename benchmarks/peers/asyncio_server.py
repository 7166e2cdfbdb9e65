"""The chat protocol on asyncio streams: a peer for `python -m chatkit bench --peer`.

    python benchmarks/peers/asyncio_server.py PORT            (asyncio's own loop)
    python benchmarks/peers/asyncio_server.py PORT --uvloop   (the same on uvloop)

One coroutine per client reads lines; a broadcast writes to every member's
transport (which buffers what the socket cannot take yet); a member more
than OUTBOX_LIMIT behind is disconnected.
"""

import asyncio
import sys

OUTBOX_LIMIT = 1 << 20
members = {}  # nick -> StreamWriter


def people(count):
    return f"{count} person" if count == 1 else f"{count} people"


def send_all(line):
    data = (line + "\n").encode()
    for nick, writer in list(members.items()):
        if writer.transport.get_write_buffer_size() > OUTBOX_LIMIT:
            members.pop(nick, None)
            writer.transport.abort()
        else:
            writer.write(data)


async def serve(reader, writer):
    nick = None
    try:
        writer.write(b"Enter your nickname:\n")
        while nick is None:
            line = await reader.readline()
            if not line:
                return
            wanted = line.decode(errors="replace").strip()
            if wanted and wanted not in members and " " not in wanted and ":" not in wanted:
                nick = wanted
            else:
                writer.write(b"* The nickname is taken or invalid.\nEnter your nickname:\n")
        members[nick] = writer
        send_all(f"* {nick} joined. {people(len(members))} in the room.")
        send_all("* Rules: be kind to each other.")
        while line := await reader.readline():
            text = line.decode(errors="replace").strip()
            if text == "/quit":
                break
            if text:
                send_all(f"{nick}: {text}")
    except (ConnectionError, asyncio.LimitOverrunError, ValueError):
        pass
    finally:
        if nick is not None and members.get(nick) is writer:
            del members[nick]
            send_all(f"* {nick} left. {people(len(members))} in the room.")
        writer.close()


async def main(port):
    server = await asyncio.start_server(serve, "127.0.0.1", port, limit=8192, backlog=1024)
    async with server:
        await server.serve_forever()


if __name__ == "__main__":
    if "--uvloop" in sys.argv:
        import uvloop

        uvloop.install()
    asyncio.run(main(int(sys.argv[1])))
