#!/usr/bin/env python3
"""The soak's load and its judge (issue 20, item 4); Benchmarks/soak.sh starts the servers and
runs it once per setup. Standard library only, loopback only, bounded in rate, count and time.

Device flows start at about RATE/9 per second, fewer when the workers fall behind (RATE requests/s
in all: a token bucket holds every request to it; at most 600 flows and 120 held push sockets at a
time), each moved step by step by 12 worker threads from one scheduler:
  device authorization → for 35 % a push socket held to the outcome, for 10 % one closed right
  after `subscribed` (half with a close frame, half by dropping the connection) → polls at the
  interval → after 0.2–12 s a decision through the consent API as `hallpass approve` makes it
  (lookup, then approve (90 %; 30 % of them narrowing the scope to "openid read") or deny, on a
  session logged in once per approver; 4 approvers) → the device code redeemed at once on a push
  event, else at the next poll → for 20 % the device code presented again (must be refused) →
  introspection by the resource server `rs` (HTTP Basic) → 1–3 refreshes with rotation →
  introspection again → for 20 % userinfo; 5 % end by reusing a rotated refresh token and 5 % by
  revoking the refresh token (RFC 7009), after which the access token must introspect inactive.
  A push upgrade answered 307 (it reached a replica on a kept-alive connection; NIO upgrades only
  a connection's first request) fails the run: the README's nginx configuration sends the two
  WebSocket paths to an upstream without keepalive, so none should.
  An SSH session every 30 s: OpenSSH (`ssh -tt`, BatchMode, alice's key) to the consent screen's
  code entry, then Ctrl-C or a dropped client, alternately.
Every 10 s: each server's RSS (VmRSS) and open descriptors (split by /proc/net/tcp into
established HTTP connections, established database connections and the rest), its child
processes, and the window's requests, p50/p99 latency and 5xx answers.

Warm-up is the first 2 minutes or 20 % of the run, whichever is shorter (--warmup overrides
it). (Before `PostgresStore(shortIdle:)`, a replica on PostgreSQL held ~4.5 KiB per request for up
to a minute in postgres-nio's cancelled pool timers, and this soak failed on it.) At its end and at the
end of the run the load pauses: flows in flight are decided at once and finish, the SSH session
and every client connection close, and after 3 s each server is measured at rest ("quiet"). The
run fails on:
  - any 5xx answer (from the servers or nginx);
  - any lost approval (approved, never redeemed: no token within 60 s), a second token for one
    approval, a token for a denied request or a denial never reported as access_denied;
  - a held push socket that did not report the decision it was holding for;
  - any other answer the protocol does not allow (e.g. an active introspection after revocation),
    a connection error, an SSH session that did not reach code entry or did not end, a child
    process (an SSH session's consent screen) left at the end, or a server that exited;
  - RSS at rest at the end over 1.10 × RSS at rest after warm-up (each server);
  - descriptors at rest, established connections left out, at the end over those after warm-up
    + 5 (each server). Established connections are left out because how many a load balancer keeps
    alive and how many the PostgreSQL pool holds (up to 20, opened and closed on demand) move
    without leaking; a leaked connection shows up anyway, as CLOSE_WAIT. The 5 cover what opens
    lazily once and stays (another SQLite reader: database and WAL; a NIO blocking-pool thread's
    descriptors), none of which grows with requests, while a leak of one descriptor per push
    socket, SSH session or flow would be hundreds to thousands.
Writes OUT/soak-SETUP.json (samples, checkpoints, totals, failures) and OUT/soak-SETUP.png (RSS
and p99 over time), prints a Markdown table; exits 1 on failure.

Usage: soak.py --setup NAME --base URL --server NAME=PID=URL [--server …] [--minutes 10]
               [--warmup SECONDS] [--rate 200] [--ssh-port PORT --ssh-key FILE] [--db-port PORT] [--out bench-out]
  SOAK_PASSWORD: alice's password; SOAK_RS_SECRET: the secret of the introspecting client rs.
"""
import argparse
import base64
import fcntl
import heapq
import http.client
import json
import os
import random
import select
import selectors
import signal
import socket
import struct
import subprocess
import sys
import termios
import threading
import time
import urllib.parse

from soak_plot import plot

CLIENT = "demo-device"
SCOPE = "openid profile read write"
NARROW = "openid read"
DEVICE_GRANT = "urn:ietf:params:oauth:grant-type:device_code"
SAMPLE_SECONDS = 10
REQUESTS_PER_FLOW = 9         # measured: 8.9 with the mix above
MAX_FLOWS = 600
MAX_HELD_SOCKETS = 120        # the server allows 200 per address
APPROVERS = 4
LOST_AFTER = 60               # seconds from a decision to its token (or access_denied)
FD_SLACK = 5
RSS_GROWTH = 1.10


def now():
    return time.monotonic()


def percentile(values, q):
    if not values:
        return None
    v = sorted(values)
    return v[min(len(v) - 1, int(q * len(v)))]


# ---------------------------------------------------------------- accounting

class Stats:
    """Requests by window and by kind, 5xx answers, and everything that should not have happened."""

    def __init__(self):
        self.lock = threading.Lock()
        self.window = []              # latencies (s) since the last sample
        self.window_5xx = 0
        self.window_errors = 0
        self.kinds = {}               # kind → {"n", "5xx", "lat": [...]}
        self.server_errors = []       # first few 5xx: (t, kind, status, body)
        self.n_5xx = 0
        self.problems = {}            # what → count
        self.examples = {}            # what → first example
        self.counters = {}

    def request(self, kind, status, latency, body=b""):
        with self.lock:
            k = self.kinds.setdefault(kind, {"n": 0, "5xx": 0, "lat": []})
            k["n"] += 1
            if status:
                k["lat"].append(latency)
                self.window.append(latency)
            if status >= 500:
                k["5xx"] += 1
                self.n_5xx += 1
                self.window_5xx += 1
                if len(self.server_errors) < 20:
                    self.server_errors.append((round(time.time(), 3), kind, status, body[:300].decode("utf-8", "replace")))

    def problem(self, what, example=""):
        with self.lock:
            self.problems[what] = self.problems.get(what, 0) + 1
            self.examples.setdefault(what, str(example)[:400])
            self.window_errors += 1

    def count(self, what, n=1):
        with self.lock:
            self.counters[what] = self.counters.get(what, 0) + n

    def take_window(self):
        with self.lock:
            w, s5, e = self.window, self.window_5xx, self.window_errors
            self.window, self.window_5xx, self.window_errors = [], 0, 0
        return w, s5, e


class Bucket:
    """A token bucket: at most `rate` requests per second in all, bursts of rate/10."""

    def __init__(self, rate):
        self.rate, self.burst = rate, max(1.0, rate / 10)
        self.tokens, self.last = self.burst, now()
        self.lock = threading.Lock()

    def acquire(self):
        with self.lock:
            t = now()
            self.tokens = min(self.burst, self.tokens + (t - self.last) * self.rate)
            self.last = t
            self.tokens -= 1
            wait = -self.tokens / self.rate if self.tokens < 0 else 0
        if wait > 0:
            time.sleep(wait)


# ---------------------------------------------------------------- HTTP and WebSocket

class Http:
    """One keep-alive connection (one per worker thread)."""
    all = []
    all_lock = threading.Lock()

    def __init__(self, host, port, stats, bucket):
        self.host, self.port, self.stats, self.bucket = host, port, stats, bucket
        self.conn, self.used = None, False
        with Http.all_lock:
            Http.all.append(self)

    def close(self):
        if self.conn is not None:
            self.conn.close()
        self.conn, self.used = None, False

    def request(self, kind, method, path, body=None, headers=None):
        """(status, parsed JSON or None, raw body); status 0 for a connection error."""
        self.bucket.acquire()
        headers = dict(headers or {})
        for attempt in (1, 2):
            if self.conn is None:
                self.conn, self.used = http.client.HTTPConnection(self.host, self.port, timeout=30), False
            reused = self.used
            t0 = time.perf_counter()
            try:
                self.conn.request(method, path, body=body, headers=headers)
                r = self.conn.getresponse()
                raw = r.read()
                status = r.status
                if r.getheader("connection", "").lower() == "close":
                    self.close()
                else:
                    self.used = True
            except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError) as e:
                self.close()
                if reused and attempt == 1:       # the server closed an idle kept-alive connection
                    self.stats.count("stale keep-alive connection retried")
                    continue
                self.stats.request(kind, 0, 0)
                self.stats.problem(f"connection error ({kind})", repr(e))
                return 0, None, b""
            except (OSError, http.client.HTTPException) as e:
                self.close()
                self.stats.request(kind, 0, 0)
                self.stats.problem(f"connection error ({kind})", repr(e))
                return 0, None, b""
            latency = time.perf_counter() - t0
            self.stats.request(kind, status, latency, raw)
            try:
                parsed = json.loads(raw) if raw else None
            except ValueError:
                parsed = None
            return status, parsed, raw
        return 0, None, b""

    def form(self, kind, path, fields, auth=None):
        headers = {"Content-Type": "application/x-www-form-urlencoded"}
        if auth:
            headers["Authorization"] = auth
        return self.request(kind, "POST", path, urllib.parse.urlencode(fields), headers)

    def consent(self, kind, path, fields, session):
        headers = {"Content-Type": "application/json"}
        if session:
            headers["Authorization"] = f"Bearer {session}"
        return self.request(kind, "POST", path, json.dumps(fields), headers)


def ws_frame(payload, opcode=1):
    n = len(payload)
    head = bytes([0x80 | opcode])
    if n < 126:
        head += bytes([0x80 | n])
    elif n < 1 << 16:
        head += bytes([0x80 | 126]) + struct.pack(">H", n)
    else:
        head += bytes([0x80 | 127]) + struct.pack(">Q", n)
    key = os.urandom(4)
    return head + key + bytes(b ^ key[i % 4] for i, b in enumerate(payload))


def ws_parse(buf):
    """(opcode, payload, rest) for the first whole frame in buf, or None."""
    if len(buf) < 2:
        return None
    n, i = buf[1] & 0x7F, 2
    if n == 126:
        if len(buf) < 4:
            return None
        n, i = struct.unpack(">H", buf[2:4])[0], 4
    elif n == 127:
        if len(buf) < 10:
            return None
        n, i = struct.unpack(">Q", buf[2:10])[0], 10
    if buf[1] & 0x80:
        i += 4                                    # servers do not mask; tolerate it anyway
    if len(buf) < i + n:
        return None
    return buf[0] & 0x0F, buf[i:i + n], buf[i + n:]


def ws_open(host, port, path, stats, bucket):
    """A push socket (its handshake counted as a request). A 307 (an upgrade that reached a replica
    on a kept-alive connection from the load balancer) is a problem: the README's nginx
    configuration keeps those paths off kept-alive connections. Returns (socket, leftover bytes)
    or (None, None)."""
    for _ in range(1):
        bucket.acquire()
        t0 = time.perf_counter()
        try:
            s = socket.create_connection((host, port), timeout=10)
            key = base64.b64encode(os.urandom(16)).decode()
            s.sendall((f"GET {path} HTTP/1.1\r\nHost: {host}:{port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                       f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\nUser-Agent: hallpass-soak\r\n\r\n").encode())
            head = b""
            while b"\r\n\r\n" not in head:
                chunk = s.recv(4096)
                if not chunk:
                    break
                head += chunk
        except OSError as e:
            stats.request("push socket", 0, 0)
            stats.problem("connection error (push socket)", repr(e))
            return None, None
        status = int(head.split(b" ")[1]) if head.startswith(b"HTTP/1.") else 0
        stats.request("push socket", status, time.perf_counter() - t0, head)
        if status == 101:
            return s, head.split(b"\r\n\r\n", 1)[1]
        s.close()
        stats.problem(f"push socket answered {status}", head[:200])
        return None, None
    return None, None


def ws_read_event(s, buf, timeout):
    """Blocking: the next text frame as JSON (answering pings); (event, rest) or (None, rest)."""
    s.settimeout(timeout)
    try:
        while True:
            parsed = ws_parse(buf)
            if parsed:
                op, payload, buf = parsed
                if op == 1:
                    return json.loads(payload), buf
                if op == 9:
                    s.sendall(ws_frame(payload, 10))
                    continue
                if op == 8:
                    return None, buf
                continue
            chunk = s.recv(4096)
            if not chunk:
                return None, buf
            buf += chunk
    except (OSError, ValueError):
        return None, buf


class PushReader(threading.Thread):
    """Reads every held push socket (one selector), reports outcomes to their flows, closes them."""

    def __init__(self, scheduler, stats):
        super().__init__(daemon=True)
        self.scheduler, self.stats = scheduler, stats
        self.sel = selectors.DefaultSelector()
        self.wake_r, self.wake_w = socket.socketpair()
        self.sel.register(self.wake_r, selectors.EVENT_READ, None)
        self.inbox, self.lock = [], threading.Lock()
        self.held = 0

    def hold(self, sock, buf, flow):
        self._post(("hold", sock, buf, flow))

    def release(self, sock):
        self._post(("release", sock, None, None))

    def _post(self, item):
        with self.lock:
            self.inbox.append(item)
        try:
            self.wake_w.send(b"x")
        except OSError:
            pass

    def _drop(self, sock):
        try:
            self.sel.unregister(sock)
        except (KeyError, ValueError):
            pass
        try:
            sock.close()
        except OSError:
            pass
        self.held -= 1

    def _consume(self, sock, state, entries):
        """Acts on every whole frame in the socket's buffer; False once the socket is closed."""
        while True:
            parsed = ws_parse(state["buf"])
            if not parsed:
                return True
            op, payload, state["buf"] = parsed
            if op == 1:
                try:
                    event = json.loads(payload).get("event")
                except ValueError:
                    event = None
                self.scheduler.push_event(state["flow"], event)
            elif op == 9:
                try:
                    sock.sendall(ws_frame(payload, 10))
                except OSError:
                    pass
            elif op == 8:                                 # the server closes after the outcome
                try:
                    sock.sendall(ws_frame(payload[:2] or struct.pack(">H", 1000), 8))
                except OSError:
                    pass
                entries.pop(sock, None)
                self._drop(sock)
                return False

    def run(self):
        entries = {}
        while True:
            for key, _ in self.sel.select(timeout=1):
                if key.data is None:
                    self.wake_r.recv(4096)
                    continue
                sock, state = key.fileobj, key.data
                if sock not in entries:
                    continue
                try:
                    data = sock.recv(65536)
                except BlockingIOError:
                    continue
                except OSError:
                    data = b""
                if not data:
                    entries.pop(sock, None)
                    self._drop(sock)
                    continue
                state["buf"] += data
                self._consume(sock, state, entries)
            with self.lock:
                items, self.inbox = self.inbox, []
            for what, sock, buf, flow in items:
                if what == "hold":
                    sock.setblocking(False)
                    state = {"flow": flow, "buf": buf or b""}
                    entries[sock] = state
                    self.sel.register(sock, selectors.EVENT_READ, state)
                    self.held += 1
                    self._consume(sock, state, entries)       # bytes that came with `subscribed`
                elif sock in entries:
                    entries.pop(sock)
                    try:
                        sock.sendall(ws_frame(struct.pack(">H", 1000), 8))
                    except OSError:
                        pass
                    self._drop(sock)


# ---------------------------------------------------------------- flows

class Flow:
    seq = 0

    def __init__(self, rng, push_allowed):
        Flow.seq += 1
        self.id = Flow.seq
        self.rng = rng
        r = rng.random()
        self.push = "held" if r < 0.35 and push_allowed else ("early" if r < 0.45 else None)
        self.deny = rng.random() < 0.10
        self.narrow = rng.random() < 0.30
        self.stage = "new"
        self.gen = 0
        self.running = False
        self.woken = False
        self.decision = None        # "approved" / "denied" once the consent API said so
        self.decided_at = None
        self.tokens = 0
        self.denied_seen = False
        self.push_events = []      # (event, when) as the push socket told them
        self.push_seen = 0         # how many of them a redemption has acted on
        self.ws = None
        self.interval = 5
        self.actions = []
        self.access = self.refresh = None
        self.old_refresh = None
        self.failed = False
        self.delivered_by = None


class Scheduler:
    """Flows wait in a heap for their next step; worker threads take them one at a time."""

    def __init__(self):
        self.cond = threading.Condition()
        self.heap, self.seq = [], 0
        self.live = set()
        self.finished = []
        self.stopping = False
        self.draining = False
        self.on_event = None

    def add(self, flow):
        with self.cond:
            self.live.add(flow)
            self._at(flow, now())

    def _at(self, flow, when):
        flow.gen += 1
        self.seq += 1
        heapq.heappush(self.heap, (when, self.seq, flow.gen, flow))
        self.cond.notify()

    def take(self):
        with self.cond:
            while True:
                if self.stopping:
                    return None
                if self.heap:
                    when, _, gen, flow = self.heap[0]
                    wait = when - now()
                    if wait <= 0:
                        heapq.heappop(self.heap)
                        if gen != flow.gen:
                            continue
                        flow.running, flow.woken = True, False
                        return flow
                    self.cond.wait(min(wait, 1.0))
                else:
                    self.cond.wait(1.0)

    def release(self, flow, when):
        with self.cond:
            flow.running = False
            if when is None:
                self.live.discard(flow)
                self.finished.append(flow)
                self.cond.notify_all()
                return
            if flow.woken or self.draining and flow.stage == "pending":
                when = now()
            self._at(flow, when)

    def push_event(self, flow, event):
        with self.cond:
            flow.push_events.append((event, now()))
            if self.on_event and flow.decided_at is not None and len(flow.push_events) == 1:
                self.on_event(flow.push_events[0][1] - flow.decided_at)
            if flow.running:
                flow.woken = True
            elif flow in self.live:
                self._at(flow, now())

    def drain(self):
        """Decide every pending flow now; returns when none is left (or after `limit` s)."""
        with self.cond:
            self.draining = True
            for flow in list(self.live):
                if flow.stage == "pending" and not flow.running:
                    self._at(flow, now())

    def lag(self):
        """How late the most overdue step is: the workers (held to the rate) are behind."""
        with self.cond:
            return max(0.0, now() - self.heap[0][0]) if self.heap else 0.0

    def wait_empty(self, limit):
        deadline = now() + limit
        with self.cond:
            while self.live and now() < deadline:
                self.cond.wait(0.5)
            return len(self.live)


class Load:
    def __init__(self, a, stats):
        self.a, self.stats = a, stats
        u = urllib.parse.urlsplit(a.base)
        self.host, self.port = u.hostname, u.port
        self.bucket = Bucket(a.rate)
        self.sched = Scheduler()
        self.sched.on_event = lambda seconds: self.push_delivery.append(seconds)
        self.reader = PushReader(self.sched, stats)
        self.local = threading.local()
        self.sessions = [None] * APPROVERS
        self.session_lock = threading.Lock()
        self.next_approver = 0
        self.rs_auth = "Basic " + base64.b64encode(f"rs:{os.environ['SOAK_RS_SECRET']}".encode()).decode()
        self.password = os.environ["SOAK_PASSWORD"]
        self.paused = threading.Event()
        self.stop = threading.Event()
        self.rng = random.Random(20)
        self.flows_started = 0
        self.latencies = {"push": [], "poll": []}
        self.push_delivery = []    # approval answered → its event on the held socket (negative: before)

    def http(self):
        h = getattr(self.local, "http", None)
        if h is None:
            h = self.local.http = Http(self.host, self.port, self.stats, self.bucket)
        return h

    # --- approvers: one consent session each, logged in once (again only if it expires)
    def login(self, i):
        status, body, raw = self.http().consent("consent login", "/consent/login",
                                                {"username": "alice", "password": self.password, "front": "cli"}, None)
        if status != 200 or not body or not body.get("session"):
            self.stats.problem(f"consent login answered {status}", raw[:200])
            return None
        self.sessions[i] = body["session"]
        return body["session"]

    def approver(self):
        with self.session_lock:
            self.next_approver = (self.next_approver + 1) % APPROVERS
            return self.next_approver

    # --- a step: does one or two requests, returns when the flow wants its next step (None: done)
    def step(self, f):
        t = now()
        if f.stage == "new":
            return self.start(f)
        if f.stage == "pending":
            if self.sched.draining:
                f.decide_at = min(f.decide_at, t)
            if t >= f.decide_at:
                return self.decide(f)
            if t >= f.next_poll:
                return self.poll_pending(f)
            return min(f.decide_at, f.next_poll)
        if f.stage == "decided":
            if len(f.push_events) > f.push_seen or t >= f.next_poll:
                return self.redeem(f)
            return f.next_poll
        if f.stage == "tokens":
            return self.token_action(f)
        return None

    def start(self, f):
        status, body, raw = self.http().form("device authorization", "/oauth/device_authorization",
                                             {"client_id": CLIENT, "scope": SCOPE})
        if status != 200 or not body or "device_code" not in body:
            self.stats.problem(f"device authorization answered {status}", raw[:200])
            return None
        f.device_code, f.user_code = body["device_code"], body["user_code"]
        f.interval = int(body.get("interval", 5))
        t = now()
        f.next_poll = t + f.interval + 0.3
        f.decide_at = t + f.rng.uniform(0.2, 12)
        f.stage = "pending"
        if f.push:
            self.open_push(f)
        return min(f.decide_at, f.next_poll)

    def open_push(self, f):
        s, buf = ws_open(self.host, self.port, "/oauth/device/push", self.stats, self.bucket)
        if s is None:
            f.push = None
            return
        try:
            s.sendall(ws_frame(json.dumps({"device_code": f.device_code}).encode()))
        except OSError as e:
            self.stats.problem("push socket: subscribe failed", repr(e))
            s.close()
            f.push = None
            return
        event, buf = ws_read_event(s, buf, 10)
        if not event or event.get("event") != "subscribed":
            self.stats.problem("push socket: no 'subscribed'", event)
            s.close()
            f.push = None
            return
        if f.push == "early":
            if f.rng.random() < 0.5:                    # a close frame, then its echo
                try:
                    s.sendall(ws_frame(struct.pack(">H", 1000), 8))
                    ws_read_event(s, buf, 2)
                except OSError:
                    pass
            s.close()                                   # or just the connection dropped
            self.stats.count("push sockets closed early")
            return
        f.ws = s
        self.reader.hold(s, buf, f)
        self.stats.count("push sockets held")

    def poll(self, f):
        return self.http().form("token (device code)", "/oauth/token",
                                {"grant_type": DEVICE_GRANT, "device_code": f.device_code, "client_id": CLIENT})

    def poll_pending(self, f):
        status, body, raw = self.poll(f)
        error = (body or {}).get("error")
        t = now()
        if status == 400 and error == "authorization_pending":
            f.next_poll = t + f.interval + 0.3
        elif status == 400 and error == "slow_down":
            f.interval += 5
            f.next_poll = t + f.interval + 0.3
            self.stats.count("slow_down answers")
        elif status == 200:
            f.tokens += 1
            self.stats.problem("a token before any decision", f.user_code)
            return self.finish(f)
        else:
            self.stats.problem(f"pending poll answered {status} {error}", raw[:200])
            f.next_poll = t + f.interval + 0.3
        return min(f.decide_at, f.next_poll)

    def decide(self, f):
        i = self.approver()
        deny = f.deny
        for attempt in (1, 2):
            session = self.sessions[i] or self.login(i)
            if session is None:
                return self.finish(f)
            status, body, raw = self.http().consent("consent lookup", "/consent/lookup", {"user_code": f.user_code}, session)
            if status == 401 and attempt == 1:
                self.sessions[i] = None
                self.stats.count("consent sessions renewed")
                continue
            break
        if status != 200 or (body or {}).get("client_id") != CLIENT:
            self.stats.problem(f"consent lookup answered {status}", raw[:200])
            return self.finish(f)
        fields = {"user_code": f.user_code}
        if not deny and f.narrow:
            fields["scope"] = NARROW
        status, body, raw = self.http().consent("consent decision", "/consent/deny" if deny else "/consent/approve", fields, session)
        want = "denied" if deny else "approved"
        if status != 200 or (body or {}).get("status") != want:
            self.stats.problem(f"consent {'deny' if deny else 'approve'} answered {status}", raw[:200])
            return self.finish(f)
        if not deny and f.narrow and body.get("scope") != NARROW:
            self.stats.problem("approval recorded another scope than chosen", body)
        with self.sched.cond:
            f.decision, f.decided_at, f.stage = want, now(), "decided"
            if f.push_events:                       # the event beat the answer to the approval
                self.push_delivery.append(f.push_events[0][1] - f.decided_at)
        if f.ws is not None:
            # A held socket should tell at once; the poll is only the fallback (a real client polls
            # at the interval regardless, but then a slow push would pass unnoticed here).
            f.next_poll = max(f.next_poll, f.decided_at + 5)
        return f.next_poll

    def redeem(self, f):
        status, body, raw = self.poll(f)
        error = (body or {}).get("error")
        t = now()
        by = "push" if len(f.push_events) > f.push_seen else "poll"
        f.push_seen = len(f.push_events)
        if f.decision == "approved":
            if status == 200 and body and body.get("access_token"):
                f.tokens += 1
                f.delivered_by = by
                self.latencies[by].append(t - f.decided_at)
                want = NARROW if f.narrow else SCOPE
                if set((body.get("scope") or "").split()) != set(want.split()):
                    self.stats.problem("token scope differs from the approval", body.get("scope"))
                if not body.get("refresh_token"):
                    self.stats.problem("no refresh token for demo-device", list(body))
                f.access, f.refresh = body["access_token"], body.get("refresh_token")
                f.stage = "tokens"
                self.plan(f)
                return t if self.sched.draining else t + f.rng.uniform(0, 1.5)
        elif status == 400 and error == "access_denied":
            f.denied_seen = True
            return self.finish(f)
        if status == 400 and error == "slow_down":
            f.interval += 5
            self.stats.count("slow_down answers")
        elif status == 400 and error == "authorization_pending":
            self.stats.problem("authorization_pending after the decision was answered", f.decision)
        else:
            self.stats.problem(f"redemption after {f.decision} answered {status} {error}", raw[:200])
        if t - f.decided_at > LOST_AFTER:
            return self.finish(f)
        f.next_poll = t + f.interval + 0.3
        return f.next_poll

    def plan(self, f):
        r = f.rng
        a = []
        if r.random() < 0.2:
            a.append("again")
        a.append("introspect")
        a += ["refresh"] * r.randint(1, 3)
        a.append("introspect")
        if r.random() < 0.2:
            a.append("userinfo")
        end = r.random()
        if end < 0.05:
            a += ["reuse", "inactive"]
        elif end < 0.10:
            a += ["revoke", "inactive"]
        f.actions = a

    def introspect(self, f, want_active):
        status, body, raw = self.http().form("introspection", "/oauth/introspect",
                                             {"token": f.access, "token_type_hint": "access_token"}, self.rs_auth)
        if status != 200 or body is None:
            self.stats.problem(f"introspection answered {status}", raw[:200])
            return False
        if body.get("active") is not want_active or (want_active and body.get("client_id") != CLIENT):
            self.stats.problem(f"introspection said active={body.get('active')}, expected {want_active}", body)
            return False
        return True

    def token_action(self, f):
        if not f.actions:
            return self.finish(f)
        action = f.actions.pop(0)
        ok = True
        if action == "again":                 # a device code is redeemed once
            status, body, raw = self.poll(f)
            if status == 200:
                f.tokens += 1
                self.stats.problem("a device code redeemed twice", f.user_code)
            elif status != 400 or (body or {}).get("error") != "invalid_grant":
                ok = False
                self.stats.problem(f"second redemption answered {status}", raw[:200])
        elif action == "introspect":
            ok = self.introspect(f, True)
        elif action == "inactive":
            ok = self.introspect(f, False)
        elif action == "refresh":
            status, body, raw = self.http().form("token (refresh)", "/oauth/token",
                                                 {"grant_type": "refresh_token", "refresh_token": f.refresh, "client_id": CLIENT})
            if status == 200 and body and body.get("access_token") and body.get("refresh_token") not in (None, f.refresh):
                f.old_refresh, f.refresh, f.access = f.refresh, body["refresh_token"], body["access_token"]
            else:
                ok = False
                self.stats.problem(f"refresh answered {status}", raw[:200])
        elif action == "reuse":               # a rotated refresh token again: the family is revoked
            status, body, raw = self.http().form("token (refresh reuse)", "/oauth/token",
                                                 {"grant_type": "refresh_token", "refresh_token": f.old_refresh, "client_id": CLIENT})
            if status != 400 or (body or {}).get("error") != "invalid_grant":
                ok = False
                self.stats.problem(f"reused refresh token answered {status}", raw[:200])
        elif action == "revoke":
            status, body, raw = self.http().form("revocation", "/oauth/revoke",
                                                 {"token": f.refresh, "token_type_hint": "refresh_token", "client_id": CLIENT})
            if status != 200:
                ok = False
                self.stats.problem(f"revocation answered {status}", raw[:200])
        elif action == "userinfo":
            status, body, raw = self.http().request("userinfo", "GET", "/oauth/userinfo",
                                                    headers={"Authorization": f"Bearer {f.access}"})
            if status != 200 or (body or {}).get("sub") is None:
                ok = False
                self.stats.problem(f"userinfo answered {status}", raw[:200])
        if not ok or not f.actions:
            return self.finish(f)
        t = now()
        return t if self.sched.draining else t + f.rng.uniform(0, 1.5)

    def finish(self, f):
        if f.ws is not None:
            self.reader.release(f.ws)
            f.ws = None
        f.stage = "done"
        return None

    # --- threads
    def worker(self):
        while True:
            f = self.sched.take()
            if f is None:
                return
            try:
                when = self.step(f)
            except Exception as e:                   # a bug in this driver must not pass as a pass
                self.stats.problem(f"driver exception {type(e).__name__}", repr(e))
                when = self.finish(f)
            self.sched.release(f, when)

    def spawner(self):
        gap = REQUESTS_PER_FLOW / self.a.rate
        due = now()
        while not self.stop.is_set():
            if self.paused.is_set():
                time.sleep(0.1)
                due = now()
                continue
            due += gap
            delay = due - now()
            if delay > 0:
                time.sleep(delay)
            if self.paused.is_set() or self.stop.is_set():
                continue
            with self.sched.cond:
                busy = len(self.sched.live) >= MAX_FLOWS
            if busy:
                self.stats.count("flow starts skipped: too many in flight")
                continue
            if self.sched.lag() > 0.1:              # the flows in flight use the whole rate
                self.stats.count("flow starts skipped: rate limit reached")
                continue
            self.flows_started += 1
            self.sched.add(Flow(self.rng, self.reader.held < MAX_HELD_SOCKETS))

    def close_connections(self):
        with Http.all_lock:
            for h in Http.all:
                h.close()


# ---------------------------------------------------------------- SSH sessions

class SSHSessions(threading.Thread):
    """An OpenSSH session every `every` seconds to code entry, then Ctrl-C or a dropped client."""

    def __init__(self, port, key, tmp, stats, every):
        super().__init__(daemon=True)
        self.port, self.key, self.stats, self.every = port, key, stats, every
        self.known = os.path.join(tmp, "soak_known_hosts")
        self.paused = threading.Event()
        self.stop = threading.Event()
        self.idle = threading.Event()
        self.idle.set()
        self.results = []
        self.n = 0

    def one(self):
        master, slave = os.openpty()
        fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 80, 0, 0))
        argv = ["ssh", "-tt", "-p", str(self.port), "-i", self.key, "-o", "IdentitiesOnly=yes", "-o", "BatchMode=yes",
                "-o", "PreferredAuthentications=publickey", "-o", "StrictHostKeyChecking=no",
                "-o", f"UserKnownHostsFile={self.known}", "-o", "LogLevel=ERROR", "alice@127.0.0.1"]
        env = dict(os.environ, TERM="xterm-256color", LANG="C.UTF-8")
        t0 = time.perf_counter()
        proc = subprocess.Popen(argv, stdin=slave, stdout=slave, stderr=slave, env=env, start_new_session=True)
        os.close(slave)
        out, shown, ok = b"", None, True
        self.n += 1
        how = "ctrl-c" if self.n % 2 else "drop"
        try:
            deadline = time.perf_counter() + 20
            while b"Enter the code" not in out and time.perf_counter() < deadline:
                r, _, _ = select.select([master], [], [], 0.5)
                if r:
                    try:
                        data = os.read(master, 65536)
                    except OSError:
                        break
                    if not data:
                        break
                    out += data
                if proc.poll() is not None and not r:
                    break
            if b"Enter the code" in out:
                shown = time.perf_counter() - t0
            else:
                ok = False
                self.stats.problem("ssh session never reached code entry", out[-300:])
            if how == "ctrl-c" and shown is not None:
                os.write(master, b"\x03")
                try:
                    proc.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    ok = False
                    self.stats.problem("ssh session did not end after Ctrl-C", out[-300:])
            else:
                proc.kill()
        finally:
            if proc.poll() is None:
                proc.kill()
            proc.wait()
            os.close(master)
        self.results.append({"to_code_entry_ms": None if shown is None else round(shown * 1000, 1), "ended_by": how, "ok": ok})

    def run(self):
        next_at = now() + 5
        while not self.stop.is_set():
            if self.paused.is_set() or now() < next_at:
                time.sleep(0.2)
                continue
            self.idle.clear()
            try:
                self.one()
            except Exception as e:
                self.stats.problem(f"ssh driver exception {type(e).__name__}", repr(e))
            finally:
                self.idle.set()
            next_at = now() + self.every


# ---------------------------------------------------------------- measuring the servers

def tcp_table():
    """socket inode → (local port, remote port, state hex) from /proc/net/tcp and tcp6."""
    table = {}
    for name in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            with open(name) as f:
                next(f)
                for line in f:
                    p = line.split()
                    table[p[9]] = (int(p[1].rsplit(":", 1)[1], 16), int(p[2].rsplit(":", 1)[1], 16), p[3])
        except OSError:
            pass
    return table


def children(pid):
    n = 0
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as f:
                    if int(f.read().rsplit(")", 1)[1].split()[1]) == pid:
                        n += 1
            except (OSError, ValueError, IndexError):
                pass
    return n


class Server:
    def __init__(self, spec, db_port):
        self.name, pid, url = spec.split("=", 2)
        self.pid, self.port, self.db_port = int(pid), urllib.parse.urlsplit(url).port, db_port

    def measure(self):
        try:
            return self._measure()
        except OSError:                                  # the process is gone
            return {"rss_mib": None, "fds": None, "conns": None, "fds_other": None, "close_wait": None,
                    "children": None, "gone": True}

    def _measure(self):
        with open(f"/proc/{self.pid}/status") as f:
            rss = next(int(line.split()[1]) for line in f if line.startswith("VmRSS:"))
        table = tcp_table()
        fds = conns = close_wait = 0
        for fd in os.listdir(f"/proc/{self.pid}/fd"):
            try:
                target = os.readlink(f"/proc/{self.pid}/fd/{fd}")
            except OSError:
                continue
            fds += 1
            if target.startswith("socket:["):
                entry = table.get(target[8:-1])
                if entry:
                    local, remote, state = entry
                    if state == "01" and (local == self.port or (self.db_port and remote == self.db_port)):
                        conns += 1
                    elif state == "08":
                        close_wait += 1
        return {"rss_mib": round(rss / 1024, 1), "fds": fds, "conns": conns, "fds_other": fds - conns,
                "close_wait": close_wait, "children": children(self.pid)}


# ---------------------------------------------------------------- the run

def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--setup", required=True)
    ap.add_argument("--base", required=True)
    ap.add_argument("--server", action="append", required=True, help="NAME=PID=URL (its own port, not a balancer's)")
    ap.add_argument("--minutes", type=float, default=10)
    ap.add_argument("--warmup", type=float, help="seconds (default: 2 minutes or 20 %% of the run, the shorter)")
    ap.add_argument("--rate", type=float, default=200)
    ap.add_argument("--workers", type=int, default=12)
    ap.add_argument("--ssh-port", type=int)
    ap.add_argument("--ssh-key")
    ap.add_argument("--ssh-every", type=float, default=30)
    ap.add_argument("--db-port", type=int)
    ap.add_argument("--out", default="bench-out")
    a = ap.parse_args()
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))

    stats = Stats()
    servers = [Server(s, a.db_port) for s in a.server]
    names = [s.name for s in servers]
    total = a.minutes * 60
    warmup = a.warmup if a.warmup is not None else min(120.0, 0.2 * total)
    load = Load(a, stats)
    load.reader.start()
    ssh = None
    if a.ssh_port:
        ssh = SSHSessions(a.ssh_port, a.ssh_key, os.path.dirname(os.path.abspath(a.ssh_key)), stats, a.ssh_every)
    samples, checkpoints = [], {}
    t_start = now()
    sample_lock = threading.Lock()

    def sample(phase):
        """One row; phase "load", "pause" (the window saw a pause), "logins" (before the load), "end"."""
        lat, n5xx, errors = stats.take_window()
        with sample_lock:
            t = now() - t_start
            last = samples[-1]["t"] if samples else 0.0
            s = {"t": round(t, 1), "phase": phase, "requests": len(lat), "req_s": round(len(lat) / max(0.001, t - last), 1),
                 "p50_ms": None if not lat else round(percentile(lat, 0.5) * 1000, 2),
                 "p99_ms": None if not lat else round(percentile(lat, 0.99) * 1000, 2),
                 "5xx": n5xx, "problems": errors, "flows_in_flight": len(load.sched.live), "push_held": load.reader.held,
                 "servers": {srv.name: srv.measure() for srv in servers}}
            for name, m in s["servers"].items():
                if m.get("gone"):
                    stats.problem(f"server {name} exited during the soak")
            samples.append(s)
            return s

    paused = {"now": False, "seen": False}
    stop_sampler = threading.Event()

    def sampler():
        while not stop_sampler.wait(SAMPLE_SECONDS):
            sample("pause" if paused["seen"] else "load")
            paused["seen"] = paused["now"]

    for i in range(APPROVERS):                      # one login each, one after the other
        load.login(i)
    sample("logins")
    threading.Thread(target=sampler, daemon=True).start()
    workers = [threading.Thread(target=load.worker, daemon=True) for _ in range(a.workers)]
    for w in workers:
        w.start()
    threading.Thread(target=load.spawner, daemon=True).start()
    if ssh:
        ssh.start()

    def quiet(name):
        """Pause, let every flow finish, close everything, measure at rest, resume."""
        paused["now"] = paused["seen"] = True
        load.paused.set()
        if ssh:
            ssh.paused.set()
        load.sched.drain()
        left = load.sched.wait_empty(LOST_AFTER + 30)
        if ssh:
            ssh.idle.wait(40)
        load.close_connections()
        time.sleep(3)
        point = {"t": round(now() - t_start, 1), "unfinished_flows": left,
                 "servers": {srv.name: srv.measure() for srv in servers}}
        checkpoints[name] = point
        load.sched.draining = False
        load.paused.clear()
        if ssh:
            ssh.paused.clear()
        paused["now"] = False
        return point

    try:
        time.sleep(max(0.0, warmup - (now() - t_start)))
        quiet("after_warmup")
        paused_for = checkpoints["after_warmup"]["t"] - warmup
        time.sleep(max(0.0, total + paused_for - (now() - t_start)))
        quiet("end")
    finally:
        load.stop.set()
        stop_sampler.set()
        if ssh:
            ssh.stop.set()
        with load.sched.cond:
            load.sched.stopping = True
            load.sched.cond.notify_all()
    sample("end")

    # ---- verdict
    flows = load.sched.finished + list(load.sched.live)
    approved = [f for f in flows if f.decision == "approved"]
    denied = [f for f in flows if f.decision == "denied"]
    lost = [f for f in approved if f.tokens == 0]
    twice = [f for f in approved + denied if f.tokens > 1]
    denied_token = [f for f in denied if f.tokens > 0]
    denied_lost = [f for f in denied if not f.denied_seen and f.tokens == 0]
    held = [f for f in flows if f.push == "held" and f.decision]
    push_missed = [f for f in held if f.decision not in [e for e, _ in f.push_events]]
    push_wrong = [f for f in held if any(e in ("approved", "denied") and e != f.decision for e, _ in f.push_events)]
    failures = []
    if stats.n_5xx:
        failures.append(f"{stats.n_5xx} answers with a 5xx status (first: {stats.server_errors[:3]})")
    if lost:
        failures.append(f"{len(lost)} lost approvals (approved, no token): user codes {[f.user_code for f in lost[:10]]}")
    if twice:
        failures.append(f"{len(twice)} approvals with more than one token")
    if denied_token:
        failures.append(f"{len(denied_token)} denied requests issued a token")
    if denied_lost:
        failures.append(f"{len(denied_lost)} denials never answered access_denied")
    if push_missed or push_wrong:
        failures.append(f"push sockets: {len(push_missed)} did not report their decision, {len(push_wrong)} reported another")
    if stats.problems:
        failures.append(f"{sum(stats.problems.values())} unexpected answers or errors: {stats.problems}")
    for name in ("after_warmup", "end"):
        if checkpoints.get(name, {}).get("unfinished_flows"):
            failures.append(f"{checkpoints[name]['unfinished_flows']} flows still unfinished at the {name} checkpoint")
    w, e = checkpoints.get("after_warmup"), checkpoints.get("end")
    if w and e:
        for n in (n for n in names if not w["servers"][n].get("gone") and not e["servers"][n].get("gone")):
            rw, re_ = w["servers"][n]["rss_mib"], e["servers"][n]["rss_mib"]
            if re_ > RSS_GROWTH * rw:
                failures.append(f"{n}: RSS at rest grew {rw} → {re_} MiB (+{100 * (re_ / rw - 1):.1f} %, limit 10 %)")
            fw, fe = w["servers"][n]["fds_other"], e["servers"][n]["fds_other"]
            if fe > fw + FD_SLACK:
                failures.append(f"{n}: descriptors at rest (established connections left out) grew {fw} → {fe} (limit +{FD_SLACK})")
            if e["servers"][n]["children"]:
                failures.append(f"{n}: {e['servers'][n]['children']} child processes left after the SSH sessions ended")
    if ssh and not ssh.results:
        failures.append("no SSH session was made")

    def summ(values):
        return {"n": len(values), "p50_ms": None if not values else round(percentile(values, 0.5) * 1000, 2),
                "p99_ms": None if not values else round(percentile(values, 0.99) * 1000, 2)}

    result = {
        "setup": a.setup, "minutes": a.minutes, "rate_limit": a.rate, "warmup_s": round(warmup, 1),
        "servers": {s.name: s.pid for s in servers}, "samples": samples, "checkpoints": checkpoints,
        "requests": {k: {"n": v["n"], "5xx": v["5xx"], **{x: y for x, y in summ(v["lat"]).items() if x != "n"}}
                     for k, v in sorted(stats.kinds.items())},
        "flows": {"started": load.flows_started, "approved": len(approved), "denied": len(denied),
                  "tokens": sum(f.tokens for f in approved), "lost": len(lost), "twice": len(twice),
                  "push_held": len(held), "push_missed": len(push_missed),
                  "approval_to_token": {k: summ(v) for k, v in load.latencies.items()},
                  "approval_to_push_event": summ([max(0.0, x) for x in load.push_delivery])},
        "counters": stats.counters, "problems": stats.problems, "problem_examples": stats.examples,
        "server_errors": stats.server_errors, "ssh": ssh.results if ssh else [],
        "failures": failures, "passed": not failures,
    }
    os.makedirs(a.out, exist_ok=True)
    with open(os.path.join(a.out, f"soak-{a.setup}.json"), "w") as f:
        json.dump(result, f, indent=1)
    title = f"hallpass soak: {a.setup}, {a.minutes:g} min"
    plot(os.path.join(a.out, f"soak-{a.setup}.png"), title, [s for s in samples if s["phase"] != "logins"] or samples,
         names, warmup, checkpoints.get("after_warmup"), RSS_GROWTH)

    # ---- the table
    def per(server_values, key, fmt="{}"):
        return " / ".join(fmt.format(server_values[n][key]) for n in names)
    print(f"\n### Soak: {a.setup} ({a.minutes:g} min, ≤ {a.rate:g} req/s, servers: {' / '.join(names)})\n")
    print("| time | req/s | p50 ms | p99 ms | RSS MiB | fds | fds w/o conns | 5xx |")
    print("|---|---|---|---|---|---|---|---|")
    rows = [(s["t"], s) for s in samples] + [(p["t"], dict(p, phase=f"at rest: {k.replace('_', ' ')}")) for k, p in checkpoints.items()]
    for t, s in sorted(rows, key=lambda r: r[0]):
        stamp = f"{int(t // 60)}:{int(t % 60):02d}"
        if s["phase"].startswith("at rest"):
            print(f"| {stamp} **{s['phase']}** | | | | {per(s['servers'], 'rss_mib')} | {per(s['servers'], 'fds')} "
                  f"| {per(s['servers'], 'fds_other')} | |")
            continue
        fmt = lambda v: "–" if v is None else f"{v:.1f}"  # noqa: E731
        note = {"pause": " (paused)", "logins": " (logins)", "end": " (after)"}.get(s["phase"], "")
        print(f"| {stamp}{note} | {s['req_s']:.0f} | {fmt(s['p50_ms'])} | {fmt(s['p99_ms'])} | {per(s['servers'], 'rss_mib')} "
              f"| {per(s['servers'], 'fds')} | {per(s['servers'], 'fds_other')} | {s['5xx']} |")
    fl = result["flows"]
    a2t = fl["approval_to_token"]
    print(f"\nflows: {fl['started']} started, {fl['approved']} approved → {fl['tokens']} tokens ({fl['lost']} lost), "
          f"{fl['denied']} denied; push held {fl['push_held']} ({fl['push_missed']} missed); decision answered → "
          f"push event p50/p99 {fl['approval_to_push_event']['p50_ms']}/{fl['approval_to_push_event']['p99_ms']} ms; "
          f"approval → token p50/p99 {a2t['push']['p50_ms']}/{a2t['push']['p99_ms']} ms by push (n={a2t['push']['n']}; "
          f"includes waiting for a worker and the rate limit), {a2t['poll']['p50_ms']}/{a2t['poll']['p99_ms']} ms by "
          f"poll (n={a2t['poll']['n']})")
    total_requests = sum(v["n"] for v in stats.kinds.values())
    ssh_ok = sum(1 for r in result["ssh"] if r["ok"])
    ssh_ms = sorted(r["to_code_entry_ms"] for r in result["ssh"] if r["to_code_entry_ms"] is not None)
    print(f"requests: {total_requests}, 5xx: {stats.n_5xx}; SSH sessions: {ssh_ok}/{len(result['ssh'])} ok"
          + (f", connect → code entry median {ssh_ms[len(ssh_ms) // 2]} ms" if ssh_ms else ""))
    for what, n in sorted(stats.counters.items()):
        print(f"  {what}: {n}")
    print(f"results: {a.out}/soak-{a.setup}.json, {a.out}/soak-{a.setup}.png")
    if failures:
        print(f"\nSOAK FAILED ({a.setup}):", file=sys.stderr)
        for f in failures:
            print(f"  - {f}", file=sys.stderr)
        sys.exit(1)
    print(f"\nsoak passed ({a.setup}): no 5xx, no lost approval, RSS and descriptors at rest within bounds")


if __name__ == "__main__":
    main()
