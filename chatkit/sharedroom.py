"""One chat room across several servers: each server keeps its room, and Redis joins them.

    alice -- server A                                   server B -- bob
               |  PUBLISH chatkit:lab "alice: hi"          ^
               +--------------> Redis ---------------------+
                        (every server SUBSCRIBEs to chatkit:lab)

A server started with ``--room redis://HOST:PORT/ROOM`` keeps its own room as
before (its members, its Writers or its event loop) and adds a SharedRoom:

* What its room says (messages, join and leave notices) reaches its own
  members at once, as always, and is PUBLISHed on the room's channel.
* What the channel brings goes to its own members. Its own lines come back
  too (every subscriber hears every message): they are skipped, its members
  heard them already. The join and leave notices of the other servers say who
  is where, exactly as a chat window reads them (``chatkit.session``).
* Presence: each server keeps in Redis who its members are, in keys that
  expire (PRESENCE_SECONDS) unless it renews them, several times per expiry.
  A server that dies stops renewing; once its keys expired the others tell
  their members that its members left. No ghost stays forever.
* Nicknames: a newcomer's nickname is claimed in Redis in one atomic step
  (a Lua script: no other command runs in between), under the two keys
  ``protocol.nickname_key`` compares, so bob, Bob and bоb are one name across
  servers as in one room. Of two servers claiming a name at the same moment,
  exactly one wins. A claim is released when its member leaves, and expires
  with its server's presence.

What Redis pub/sub does not promise, and what this module does about it:

* Delivery is at most once: a subscriber that is disconnected misses what is
  published meanwhile, and nobody tells it. So each server numbers the lines
  it publishes: a gap in a server's numbers says how many of its lines never
  arrived, and the members are told (``protocol.MISSED``). Lines said here
  while Redis cannot be reached are counted too, and the members told when it
  is back (``protocol.NOT_DELIVERED``). Nothing is lost silently.
* Redis disconnects a subscriber that reads too slowly (its output buffer
  passes ``client-output-buffer-limit pubsub``): that is one more lost
  connection, and the numbers say what was missed.
* Order: a server publishes from one thread on one connection, so its lines
  reach every server in the order it said them: one sender's lines stay in
  order. Lines of senders on different servers may interleave differently on
  each server, which delivers its own members' lines at once and the others'
  after their trip through Redis.
* When Redis goes away the server reconnects: after 0.1 s, then 0.2, 0.4 ...
  up to 2 s between tries (with jitter, so that servers which lost Redis
  together do not all knock at the same moment), and says so in its log and
  to its members. Meanwhile nobody can join (no nickname can be checked), and
  what is said reaches only this server's members.

Two threads of its own, so that the server's threads never wait for Redis
(the event-loop server must never wait at all): the *link* reads the
channel, renews presence, notices servers that died and reconnects; the
*sender* claims and releases nicknames and publishes, in the order asked,
joining what piled up into one message (like the reference server's Writer).
The server's room calls claim, release, publish, nicks and count; the
SharedRoom calls back the room's ``hear(lines)`` (lines for the members here)
and ``drop(nick, line)``, through ``deliver`` (the event-loop server passes its
call_soon, so they run in its loop's thread).
"""

import collections
import itertools
import json
import math
import random
import re
import secrets
import threading
import time
import urllib.parse
from dataclasses import dataclass

from chatkit import protocol
from chatkit.protocol import MAX_LINE_CHARS, clean_text

PRESENCE_SECONDS = 5.0  # a server's presence (and its members' nicknames) expire this long after its last renewal
RENEWALS_PER_EXPIRY = 4  # so a renewal or two late is no death
FIRST_RETRY = 0.1  # seconds before the first reconnection attempt; doubling up to LONGEST_RETRY
LONGEST_RETRY = 2.0
REDIS_TIMEOUT = 2.0  # seconds a Redis command may take before Redis counts as unreachable
POLL = 0.25  # seconds the link waits for a message before it looks at the time and the stop flag again
BATCH_LINES = 500  # lines at most in one published message,
BATCH_CHARS = 64 * 1024  # and characters: a message must fit easily in a subscriber's output buffer

# KEYS: the nickname's two claim keys, then the server's presence hash.
# ARGV: the claimant (JSON [server, nick]), the expiry in ms, the nickname, when it joined.
# The answer: nil if the name is ours now, or the current holder if it is not.
CLAIM = """
for i = 1, 2 do
    local holder = redis.call('GET', KEYS[i])
    if holder and holder ~= ARGV[1] then return holder end
end
for i = 1, 2 do redis.call('SET', KEYS[i], ARGV[1], 'PX', ARGV[2]) end
redis.call('HSET', KEYS[3], ARGV[3], ARGV[4])
redis.call('PEXPIRE', KEYS[3], ARGV[2])
return false
"""
# The same keys; ARGV: the claimant, the nickname. Only the claimant's own claim is deleted.
RELEASE = """
for i = 1, 2 do
    if redis.call('GET', KEYS[i]) == ARGV[1] then redis.call('DEL', KEYS[i]) end
end
redis.call('HDEL', KEYS[3], ARGV[2])
"""


class RoomUnreachable(ConnectionError):
    """The shared room's Redis does not answer (when a server starts: later it reconnects)."""


@dataclass(frozen=True)
class RoomAddress:
    """Where a shared room is: ``redis://[:PASSWORD@]HOST[:PORT]/ROOM`` (rediss:// for TLS)."""

    host: str
    port: int
    room: str
    username: str = None
    password: str = None
    tls: bool = False

    @classmethod
    def parse(cls, url):
        """The address in `url`; ValueError says what a room's address looks like."""
        parts = urllib.parse.urlsplit(url)
        room = urllib.parse.unquote(parts.path.strip("/"))
        if parts.scheme not in ("redis", "rediss") or not re.fullmatch(r"[\w.-]{1,64}", room):
            raise ValueError(f"a shared room's address is redis://HOST:PORT/ROOM (the room's name: "
                             f"letters, digits, '.', '_', '-'), not {url!r}")
        try:
            port = parts.port or 6379
        except ValueError:
            raise ValueError(f"the port in {url!r} is not a number from 1 to 65535") from None
        return cls(parts.hostname or "127.0.0.1", port, room, parts.username or None,
                   urllib.parse.unquote(parts.password) if parts.password else None, parts.scheme == "rediss")

    def __str__(self):  # never with the password
        return f"{'rediss' if self.tls else 'redis'}://{self.host}:{self.port}/{self.room}"


def redis_library():
    """redis-py, loaded on first use: only a server in a shared room needs it."""
    import redis
    import redis.backoff
    import redis.retry

    return redis


def fits(lines):
    """Can these lines go in one message?"""
    return len(lines) <= BATCH_LINES and sum(len(line) for line in lines) <= BATCH_CHARS


def describe(error):
    return str(error).strip().rstrip(".") or type(error).__name__


class SharedRoom:
    """This server's link to a room that spans servers, through one Redis."""

    def __init__(self, url, name, room, log=print, deliver=None, presence_seconds=PRESENCE_SECONDS,
                 words=protocol.ENGLISH):
        self.address = RoomAddress.parse(url)
        self.name = name  # what the other servers call this one ("127.0.0.1:5000")
        self.id = f"{name}#{secrets.token_hex(4)}"  # this server, this run: a restarted server is a new one
        self.room = room  # the server's own room: hear(lines) and drop(nick, line)
        self.log = log
        self.deliver = deliver or (lambda function, *args: function(*args))
        self.presence_seconds = presence_seconds
        self.words = words  # what this server says to its members, in its language (protocol.Words)
        self.channel = f"chatkit:{self.address.room}"
        self.lock = threading.Lock()  # guards everything below; never held while calling out
        self.mine = {}  # nick -> when it joined (time.time()): the members here
        self.others = {}  # server id -> {nick: when it joined}: the members there, as far as we know
        self.names = {}  # server id -> its name
        self.expected = {}  # server id -> the number its next line should have
        self.gone = set()  # servers whose members we said left (their presence expired)
        self.next_line = 0  # the number of the next line published here
        self.up = False  # connected and subscribed
        self.down_since = None
        self.undelivered = 0  # lines said here, since the link went down, that did not reach Redis
        self.judge_from = 0.0  # no server is called dead before this time (just after connecting)
        self.jobs = collections.deque()  # for the sender: ("claim", nick, answer), ("release", nick), ("publish", first, lines)
        self.work = threading.Condition(self.lock)
        self.closed = False  # no more jobs
        self.stopping = threading.Event()
        self.client = self.pubsub = self.scripts = None  # redis-py's, once open
        self.errors = (OSError,)  # and redis-py's errors, once it is loaded
        self.link = threading.Thread(target=self.keep_linked, name="shared room: link", daemon=True)
        self.sender = threading.Thread(target=self.send_jobs, name="shared room: sender", daemon=True)

    # --- what the server's room calls ---------------------------------------------------

    def open(self):
        """Connect, subscribe, register, learn who is in the room, start the threads (RoomUnreachable)."""
        redis = redis_library()
        self.errors = (redis.RedisError, OSError)
        address = self.address
        # One client (a pool of connections) for the server's life: a command that fails raises at once
        # (no retries: the link has its own backoff), and the next command gets a new connection.
        self.client = redis.Redis(host=address.host, port=address.port, username=address.username,
                                  password=address.password, ssl=address.tls, decode_responses=True,
                                  socket_timeout=REDIS_TIMEOUT, socket_connect_timeout=REDIS_TIMEOUT,
                                  retry=redis.retry.Retry(redis.backoff.NoBackoff(), 0),
                                  client_name=f"chatkit-{self.name}")
        self.scripts = {"claim": self.client.register_script(CLAIM),
                        "release": self.client.register_script(RELEASE)}
        try:
            self.connect()
        except self.errors as error:
            self.client.close()
            raise RoomUnreachable(f"cannot reach the shared room {self.address}: {describe(error)}") from None
        self.link.start()
        self.sender.start()
        servers = len(self.others)
        self.log(f"joined the shared room {self.address} as {self.name}: {servers} other server(s), "
                 f"{protocol.people(self.count())}")

    def claim(self, nick, then=None):
        """Claim `nick` for a newcomer here: the answer is why not (a server line), or None: it is ours.

        Without `then`, wait for the answer and return it. With `then`, return
        at once; then(answer) is called later, through deliver.
        """
        problem = protocol.nickname_problem(nick, self.nicks(), self.words)  # the rules, and everyone we know of
        answers = collections.deque(maxlen=1)
        answered = threading.Event()

        def answer(problem):
            if then is not None:
                self.deliver(then, problem)
            else:
                answers.append(problem)
                answered.set()

        if problem is not None or not self.submit(("claim", nick, answer)):
            answer(problem or self.words.NICK_CANNOT_CHECK)
        if then is None:
            answered.wait()  # the sender answers every claim it takes, even while stopping
            return answers[0]
        return None

    def release(self, nick):
        """`nick` left this server: free the name (queued: never waits)."""
        with self.lock:
            self.mine.pop(nick, None)
        self.submit(("release", nick))

    def publish(self, lines):
        """Send `lines` to the members of the other servers (queued: never waits)."""
        with self.lock:
            first, self.next_line = self.next_line, self.next_line + len(lines)
        self.submit(("publish", first, list(lines)))

    def nicks(self):
        """Everyone in the room, on every server, in the order they joined."""
        with self.lock:
            everyone = dict(self.mine)
            for members in self.others.values():
                everyone.update(members)
        return sorted(everyone, key=everyone.get)

    def count(self):
        """How many people are in the room, on every server."""
        with self.lock:
            return self.count_locked()

    def close(self):
        """Leave the room: send what is queued, remove this server's presence, end the threads."""
        with self.lock:
            self.closed = True
            self.work.notify()
        self.stopping.set()
        for thread in (self.sender, self.link):
            if thread.ident is not None:
                thread.join()
        if self.up:
            try:
                self.client.delete(self.key("alive", self.id), self.key("members", self.id))
                self.client.srem(self.key("servers"), self.id)
            except self.errors:
                pass  # it expires by itself
        self.unsubscribe()
        self.client.close()

    # --- the connection -------------------------------------------------------------------

    def key(self, *parts):
        return ":".join([self.channel, *parts])

    def claim_keys(self, nick, server=None):
        exact, folded = protocol.nickname_key(nick)
        return [self.key("nick", "a", exact), self.key("nick", "b", folded), self.key("members", server or self.id)]

    def holder(self, nick, server=None):
        return json.dumps([server or self.id, nick], ensure_ascii=False)

    def connect(self, again=False):
        """Subscribe, renew this server's presence (claims included), read the room.

        again: after a loss. The others may have lost Redis too (a restart forgets every key):
        give them one expiry to register again before calling any of them dead.
        """
        pubsub = self.client.pubsub(ignore_subscribe_messages=True)
        try:
            pubsub.subscribe(self.channel)  # first: from now on, nothing published is missed
            self.register()
            found = self.read_room()
        except BaseException:
            pubsub.close()
            raise
        with self.lock:
            self.pubsub, self.up = pubsub, True
            self.judge_from = time.monotonic() + (self.presence_seconds if again else 0.0)
            for server, (name, members) in found.items():
                if name is not None and server not in self.gone:
                    self.names[server], self.others[server] = name, members

    def unsubscribe(self):
        with self.lock:
            pubsub, self.pubsub, self.up = self.pubsub, None, False
        if pubsub is not None:
            try:
                pubsub.close()
            except self.errors:
                pass

    def register(self):
        """This server is alive, with these members (their claims renewed, or made again after a restart)."""
        with self.lock:
            mine = dict(self.mine)
        expiry = int(self.presence_seconds * 1000)
        pipe = self.client.pipeline(transaction=True)
        pipe.set(self.key("alive", self.id), self.name, px=expiry)
        pipe.sadd(self.key("servers"), self.id)
        pipe.delete(self.key("members", self.id))
        for nick, joined in mine.items():
            self.scripts["claim"](self.claim_keys(nick), [self.holder(nick), expiry, nick, joined], client=pipe)
        holders = pipe.execute()[3:]
        for nick, holder in zip(mine, holders):
            if holder is not None:  # while we were cut off, someone elsewhere took the name
                self.lose(nick, holder)

    def lose(self, nick, holder):
        with self.lock:
            self.mine.pop(nick, None)
        self.log(f"{nick} was claimed by {json.loads(holder)[0]} while this server was cut off: disconnecting ours")
        self.deliver(self.room.drop, nick, self.words.NICK_LOST.format(nick=nick))

    def read_room(self):
        """{server id: (its name or None if its presence expired, {nick: when it joined})}."""
        servers = [server for server in self.client.smembers(self.key("servers")) if server != self.id]
        pipe = self.client.pipeline(transaction=False)
        for server in servers:
            pipe.get(self.key("alive", server))
            pipe.hgetall(self.key("members", server))
        replies = pipe.execute()
        return {server: (replies[2 * i], {nick: float(joined) for nick, joined in replies[2 * i + 1].items()})
                for i, server in enumerate(servers)}

    # --- the link thread ---------------------------------------------------------------------

    def keep_linked(self):
        """Listen; when the connection is lost, say so and reconnect; until close()."""
        while not self.stopping.is_set():
            try:
                self.listen()
            except self.errors as error:
                if self.stopping.is_set():
                    break
                self.went_down(error)
                self.reconnect()

    def listen(self):
        """Deliver what the channel brings; renew presence and look at the other servers regularly."""
        next_beat = 0.0
        while not self.stopping.is_set():
            if time.monotonic() >= next_beat:
                self.beat()
                next_beat = time.monotonic() + self.presence_seconds / RENEWALS_PER_EXPIRY
            message = self.pubsub.get_message(timeout=min(POLL, max(0.0, next_beat - time.monotonic())))
            if message is not None and message["type"] == "message":
                self.receive(message["data"])

    def beat(self):
        """Renew our presence (through the sender, in order), judge the others, publish our line number."""
        self.submit(("register",))
        found = self.read_room()
        with self.lock:  # a server we knew that is no longer listed: another survivor forgot it already
            missing = set(self.others) - set(found) - self.gone
        self.judge({**found, **{server: (None, {}) for server in missing}})
        self.publish([])  # no lines: it tells the others the number of our next line, so gaps show soon

    def receive(self, data):
        """A message from the channel: skip our own, note gaps, learn who came and went, deliver."""
        try:
            message = json.loads(data)
            origin, name, first = str(message["server"]), str(message["name"]), int(message["seq"])
            if origin == self.id:
                return  # our own lines, back from Redis: our members heard them when they were said
            said = [clean_text(str(line))[:MAX_LINE_CHARS] for line in message["lines"]]
            join_times = {str(nick): float(when) for nick, when in dict(message.get("joined") or {}).items()}
        except (ValueError, KeyError, TypeError):
            self.log(f"ignored a message on {self.channel} that no chatkit server sent: {str(data)[:80]!r}")
            return
        notices = []
        with self.lock:
            self.names[origin] = name
            expected = self.expected.get(origin)
            self.expected[origin] = first + len(said)
            if expected is not None and first > expected:
                notices.append(self.words.MISSED.format(lines=first - expected, server=name))
            members = self.others.setdefault(origin, {})
            for line in said:  # the notices say who came and went, as a chat window reads them
                if (joined := protocol.JOINED.parse(line)) is not None:
                    members[joined["nick"]] = join_times.get(joined["nick"], time.time())
                elif (left := protocol.LEFT.parse(line)) is not None:
                    members.pop(left["nick"], None)
        if notices:
            self.log(f"missed {first - expected} line(s) of {name}")
        if notices or said:
            self.deliver(self.room.hear, notices + said)

    def judge(self, found):
        """Servers whose presence expired are gone: their members left. Others: learn their members."""
        lines, dead, forget = [], [], []
        with self.lock:
            for server, (name, members) in found.items():
                if name is not None:
                    self.names[server] = name
                    if server in self.gone:  # back, after we said its members left
                        self.gone.discard(server)
                        self.others[server] = {}
                        for nick in sorted(members, key=members.get):
                            self.others[server][nick] = members[nick]
                            lines.append(self.words.JOINED.format(nick=nick, count=self.count_locked()))
                    self.others[server] = members  # Redis knows best (what is still on its way changes nothing)
                elif time.monotonic() >= self.judge_from:  # its presence expired: it stopped renewing it
                    known = self.others.pop(server, {})
                    self.expected.pop(server, None)
                    if server in self.names and server not in self.gone:
                        dead.append((self.names[server], len(known)))
                    self.gone.add(server)
                    forget.append((server, list(known)))
                    for nick in sorted(known, key=known.get):
                        del known[nick]
                        lines.append(self.words.LEFT.format(nick=nick, why=protocol.LEFT_LOST, count=self.count_locked()))
        for name, members in dead:
            self.log(f"{name} stopped renewing its presence: its {members} member(s) left")
        if forget:
            self.forget(forget)
        if lines:
            self.deliver(self.room.hear, lines)

    def count_locked(self):
        return len(self.mine) + sum(len(members) for members in self.others.values())

    def forget(self, dead):
        """Remove dead servers' keys and free their members' nicknames now (other survivors may do the same).

        `dead`: [(server id, [its members' nicknames])]. The claims would expire by themselves, but
        maybe a moment after the leave notice: a newcomer taking the name at once must find it free.
        """
        pipe = self.client.pipeline(transaction=False)
        for server, nicks in dead:
            pipe.srem(self.key("servers"), server)
            pipe.delete(self.key("members", server))
            for nick in nicks:
                self.scripts["release"](self.claim_keys(nick, server), [self.holder(nick, server), nick], client=pipe)
        pipe.execute()

    def went_down(self, error):
        with self.lock:
            self.down_since = time.monotonic()
        self.unsubscribe()
        self.log(f"lost the shared room {self.address} ({describe(error)}); reconnecting")
        self.deliver(self.room.hear, [self.words.ROOM_LOST])

    def reconnect(self):
        """Try again after FIRST_RETRY, doubling up to LONGEST_RETRY (with jitter), until connected."""
        delay = FIRST_RETRY
        for attempt in itertools.count(1):
            if self.stopping.wait(delay * random.uniform(0.5, 1.0)):  # jitter: not all servers at once
                return
            try:
                self.connect(again=True)
            except self.errors as error:
                delay = min(2 * delay, LONGEST_RETRY)
                self.log(f"attempt {attempt}: the shared room is still unreachable ({describe(error)}); "
                         f"next attempt in about {delay:g} s")
                continue
            with self.lock:
                seconds = time.monotonic() - self.down_since
                undelivered, self.undelivered = self.undelivered, 0
            self.log(f"back in the shared room after {seconds:.1f} s and {attempt} attempt(s); "
                     f"{undelivered} line(s) said here meanwhile did not reach the other servers")
            lines = [self.words.ROOM_BACK.format(number=math.ceil(seconds))]
            if undelivered:
                lines.append(self.words.NOT_DELIVERED.format(lines=undelivered))
            self.deliver(self.room.hear, lines)
            return

    # --- the sender thread ------------------------------------------------------------------

    def submit(self, job):
        """Queue a job for the sender; False once closed (then nobody would do it)."""
        with self.lock:
            if self.closed:
                return False
            self.jobs.append(job)
            self.work.notify()
            return True

    def send_jobs(self):
        """Do the jobs in the order they came, until close() and all are done."""
        while True:
            with self.lock:
                while not self.jobs and not self.closed:
                    self.work.wait()
                if not self.jobs:
                    return
                jobs = list(self.jobs)
                self.jobs.clear()
            while jobs:
                if jobs[0][0] != "publish":
                    self.do(jobs.pop(0))
                    continue
                first, lines = jobs[0][1], []  # what was published in a row: one message (of a bounded size)
                while jobs and jobs[0][0] == "publish" and (not lines or fits(lines + jobs[0][2])):
                    lines += jobs.pop(0)[2]
                self.send_lines(first, lines)

    def do(self, job):
        """One claim, release or renewal; a claim is always answered, whatever goes wrong."""
        try:
            self.do_now(job)
        except Exception as error:  # a bug here must not leave a newcomer waiting forever
            self.log(f"shared room: {job[0]} failed: {error!r}")
            if job[0] == "claim":
                job[2](self.words.NICK_CANNOT_CHECK)

    def do_now(self, job):
        kind = job[0]
        if kind == "claim":
            _, nick, answer = job
            answer(self.claim_now(nick) if self.up else self.words.NICK_CANNOT_CHECK)
            return
        if not self.up:
            return  # a release: the claim expires; register: the link renews when it is back
        try:
            if kind == "release":
                self.scripts["release"](self.claim_keys(job[1]), [self.holder(job[1]), job[1]])
            elif kind == "register":
                self.register()
        except self.errors:
            pass  # the link notices a lost connection by itself

    def claim_now(self, nick):
        joined = time.time()
        try:
            holder = self.scripts["claim"](self.claim_keys(nick), [self.holder(nick), int(self.presence_seconds * 1000),
                                                                   nick, joined])
        except self.errors:
            return self.words.NICK_CANNOT_CHECK
        if holder is None:
            with self.lock:
                self.mine[nick] = joined
            return None
        taken = [json.loads(holder)[1]]
        return protocol.nickname_problem(nick, taken, self.words) or self.words.NICK_TAKEN.format(nick=nick)

    def join_times(self, lines):
        """{nick: when it joined} for the newcomers `lines` announce: the others list them in that order.

        Stamped where they joined, not where the notice arrives: a notice can arrive after a later
        newcomer joined there, and /who must not put that one first.
        """
        announced = [joined["nick"] for line in lines if (joined := protocol.JOINED.parse(line)) is not None]
        with self.lock:
            return {nick: self.mine[nick] for nick in announced if nick in self.mine}

    def send_lines(self, first, lines):
        """Publish lines numbered from `first`; those that cannot be are counted, and said."""
        message = json.dumps({"server": self.id, "name": self.name, "seq": first, "lines": lines,
                              "joined": self.join_times(lines)}, ensure_ascii=False)
        try:  # also while the link is down: perhaps only our subscription was cut (too slow)
            self.client.publish(self.channel, message)
            return
        except self.errors as error:
            failure = describe(error)
        with self.lock:
            later = not self.up  # the link is down: it says how many when it is back
            self.undelivered += len(lines) if later else 0
        if lines and not later:  # the link is up, yet this publish failed: say so now
            self.log(f"could not publish {len(lines)} line(s): {failure}")
            self.deliver(self.room.hear, [self.words.NOT_DELIVERED.format(lines=len(lines))])
