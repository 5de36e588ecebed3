#!/usr/bin/env python3
"""Push channel under load (issue 4): hold N waiting device sockets on one `hallpass serve`, report
server RSS per socket, then make 1,000 decisions within about one second through the consent API
and time their delivery to the waiting sockets. Loopback only; bounded in count and time.

The decisions come from separate worker processes (`--deciders`, keep-alive connections), so the
process holding the sockets only reads; the deliveries are timed against each approval's ack.

Sources rotate over 127.0.0.2… so no address exceeds the per-address socket budget (200).
N defaults to 20,000 (issue 4's figure) but is capped to what the open-file limit allows: the
server needs one file per socket plus its own, and so does this process. Where the hard limit is
20,000 per process (as on the machines this was written on), that is 19,800, and the run says so.
Usage: Benchmarks/push_sockets.py [--bin PATH] [--sockets N] [--decisions 1000]
"""
import argparse
import asyncio
import base64
import http.client
import multiprocessing
import json
import os
import re
import statistics
import struct
import subprocess
import tempfile
import time
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def rss_kib(pid):
    with open(f"/proc/{pid}/status") as f:
        return int(re.search(r"VmRSS:\s+(\d+)", f.read()).group(1))


def post(url, body, headers=None, form=False):
    data = (urllib.parse.urlencode(body) if form else json.dumps(body)).encode()
    h = {"Content-Type": "application/x-www-form-urlencoded" if form else "application/json", **(headers or {})}
    with urllib.request.urlopen(urllib.request.Request(url, data=data, headers=h), timeout=30) as r:
        return json.loads(r.read() or b"{}")


def masked(payload):
    key = os.urandom(4)
    n = len(payload)
    head = bytes([0x81, 0x80 | n]) if n < 126 else bytes([0x81, 0x80 | 126]) + struct.pack(">H", n)
    return head + key + bytes(b ^ key[i % 4] for i, b in enumerate(payload))


async def read_frame(reader):
    b0, b1 = await reader.readexactly(2)
    n = b1 & 0x7F
    if n == 126:
        n = struct.unpack(">H", await reader.readexactly(2))[0]
    elif n == 127:
        n = struct.unpack(">Q", await reader.readexactly(8))[0]
    return b0 & 0x0F, await reader.readexactly(n)


def decide_chunk(port, session, user_codes):
    """One decider process: approvals over one keep-alive connection; (user_code, sent, ack) each."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    out = []
    for code in user_codes:
        sent = time.perf_counter()
        conn.request("POST", "/consent/approve", json.dumps({"user_code": code}),
                     {"Content-Type": "application/json", "Authorization": f"Bearer {session}"})
        r = conn.getresponse()
        r.read()
        out.append((code, sent, time.perf_counter(), r.status))
    conn.close()
    return out


class Device:
    def __init__(self, code):
        self.code = code
        self.event_at = None
        self.event = None

    async def open(self, port, source):
        self.reader, self.writer = await asyncio.open_connection("127.0.0.1", port, local_addr=(source, 0))
        key = base64.b64encode(os.urandom(16)).decode()
        self.writer.write((f"GET /oauth/device/push HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nUpgrade: websocket\r\n"
                           f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n").encode())
        head = await self.reader.readuntil(b"\r\n\r\n")
        assert b" 101 " in head.split(b"\r\n")[0], head[:80]
        self.writer.write(masked(json.dumps({"device_code": self.code["device_code"]}).encode()))
        _, payload = await read_frame(self.reader)
        assert json.loads(payload)["event"] == "subscribed", payload

    async def wait(self):
        try:
            while True:
                opcode, payload = await read_frame(self.reader)
                if opcode == 9:
                    self.writer.write(bytes([0x8A, 0x80 | len(payload)]) + b"\0\0\0\0" + payload)
                    continue
                if opcode == 1:
                    self.event_at = time.perf_counter()
                    self.event = json.loads(payload)["event"]
                return
        except (asyncio.IncompleteReadError, ConnectionError):
            return


async def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", default=os.path.join(ROOT, ".build", "release", "hallpass"))
    ap.add_argument("--sockets", type=int, default=20_000)
    ap.add_argument("--decisions", type=int, default=1000)
    ap.add_argument("--deciders", type=int, default=8, help="decider processes, one connection each")
    a = ap.parse_args()
    import resource
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))   # the server inherits it
    if a.sockets > hard - 200:
        print(f"capping --sockets {a.sockets} to {hard - 200}: the hard open-file limit is {hard} per process")
        a.sockets = hard - 200
    # Spawned before any socket exists (they inherit none) and warmed up, so start-up is not timed.
    deciders = multiprocessing.get_context("spawn").Pool(a.deciders)
    deciders.map(time.sleep, [0] * a.deciders)

    tmp = tempfile.mkdtemp(prefix="hallpass-push-load-")
    port = 18000 + os.getpid() % 1000
    base = f"http://127.0.0.1:{port}"
    log = open(os.path.join(tmp, "serve.log"), "w+")
    server = subprocess.Popen([a.bin, "serve", "--demo", "--no-ssh", "--db", os.path.join(tmp, "h.db"), "--listen", f"127.0.0.1:{port}",
                               "--log-level", "warning"], stdout=log, stderr=subprocess.STDOUT)
    try:
        password = None
        for _ in range(300):
            time.sleep(0.1)
            log.seek(0)
            m = re.search(r"demo user 'alice', password (\S+)", log.read())
            if m:
                password = m.group(1)
                break
        time.sleep(0.5)
        # Grants first (their rows and caches are not sockets' cost), then the baseline.
        loop = asyncio.get_running_loop()
        t0 = time.perf_counter()
        codes = []
        with __import__("concurrent.futures").futures.ThreadPoolExecutor(32) as pool:
            futures = [loop.run_in_executor(pool, post, base + "/oauth/device_authorization",
                                            {"client_id": "demo-device", "scope": "openid"}, None, True)
                       for _ in range(a.sockets)]
            codes = await asyncio.gather(*futures)
        print(f"{len(codes)} grants in {time.perf_counter() - t0:.1f} s")
        await asyncio.sleep(2)
        before = rss_kib(server.pid)

        devices = [Device(c) for c in codes]
        sem = asyncio.Semaphore(256)

        async def open_one(i, d):
            async with sem:
                await d.open(port, f"127.0.0.{2 + i // 150}")
        t0 = time.perf_counter()
        await asyncio.gather(*(open_one(i, d) for i, d in enumerate(devices)))
        opened = time.perf_counter() - t0
        waits = [asyncio.create_task(d.wait()) for d in devices]
        await asyncio.sleep(3)
        after = rss_kib(server.pid)
        per_socket = (after - before) * 1024 / len(devices)
        print(f"{len(devices)} sockets subscribed in {opened:.1f} s; server RSS {before / 1024:.1f} → {after / 1024:.1f} MiB "
              f"= {per_socket / 1024:.2f} KiB per socket")

        session = post(base + "/consent/login", {"username": "alice", "password": password})["session"]
        chosen = devices[:a.decisions]
        chunks = [[d.code["user_code"] for d in chosen[i::a.deciders]] for i in range(a.deciders)]
        answers = await loop.run_in_executor(None, deciders.starmap, decide_chunk, [(port, session, c) for c in chunks])
        answers = [x for chunk in answers for x in chunk]
        assert all(status == 200 for *_, status in answers), {status for *_, status in answers}
        sent = {code: t for code, t, _, _ in answers}
        acks = {code: t for code, _, t, _ in answers}
        t_first, t_decided = min(sent.values()), max(acks.values())
        deadline = time.perf_counter() + 10
        while time.perf_counter() < deadline and any(d.event_at is None for d in chosen):
            await asyncio.sleep(0.01)
        got = [d for d in chosen if d.event == "approved"]
        lat = sorted((d.event_at - acks[d.code["user_code"]]) * 1000 for d in got)
        lat_sent = sorted((d.event_at - sent[d.code["user_code"]]) * 1000 for d in got)
        last = max(d.event_at for d in got) - t_first if got else float("nan")
        result = {
            "sockets": len(devices), "rss_before_mib": round(before / 1024, 1), "rss_after_mib": round(after / 1024, 1),
            "rss_per_socket_kib": round(per_socket / 1024, 2), "decisions": len(chosen),
            "decisions_made_in_s": round(t_decided - t_first, 3), "delivered": len(got),
            "delivery_after_ack_ms": {"p50": round(statistics.median(lat), 2), "p99": round(lat[int(0.99 * (len(lat) - 1))], 2),
                                      "max": round(lat[-1], 2)} if lat else None,
            "delivery_after_send_ms": {"p50": round(statistics.median(lat_sent), 2),
                                       "p99": round(lat_sent[int(0.99 * (len(lat_sent) - 1))], 2),
                                       "max": round(lat_sent[-1], 2)} if lat_sent else None,
            "first_decision_to_last_delivery_s": round(last, 3),
            "others_disturbed": sum(1 for d in devices[a.decisions:] if d.event is not None),
        }
        print(json.dumps(result))
        for w in waits:
            w.cancel()
        for d in devices:
            d.writer.close()
    finally:
        deciders.terminate()
        server.terminate()
        server.wait()


if __name__ == "__main__":
    asyncio.run(main())
