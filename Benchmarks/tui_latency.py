#!/usr/bin/env python3
"""Consent-screen latency on a real PTY (issue 3 targets: start→first frame < 150 ms,
keypress→frame < 16 ms).

Starts a throwaway `hallpass serve` on loopback, starts `hallpass approve` on a pseudo-terminal
(80×24, TERM=xterm-256color, UTF-8), and measures from the wall clock of this process:
  start→first frame: spawn until the login screen's text has been written to the PTY;
  keypress→frame:    writing one key to the PTY until the redrawn frame arrives, for typing
                     on the login screen and for Space/Tab on the consent screen.
Usage: Benchmarks/tui_latency.py [--bin PATH] [--keys N] [--starts N]
"""
import argparse
import fcntl
import json
import os
import pty
import re
import select
import signal
import socket
import statistics
import struct
import subprocess
import sys
import tempfile
import termios
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class PtyProgram:
    def __init__(self, argv, cols=80, rows=24):
        self.started = time.perf_counter()
        pid, fd = pty.fork()
        if pid == 0:
            os.environ.update({"TERM": "xterm-256color", "LANG": "C.UTF-8"})
            os.execv(argv[0], argv)
        self.pid, self.fd = pid, fd
        fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", rows, cols, 0, 0))
        self.output = b""

    def read_until(self, pattern, timeout=10.0):
        """Reads until `pattern` (bytes) appears in the output read so far; returns the time."""
        deadline = time.perf_counter() + timeout
        while pattern not in self.output:
            left = deadline - time.perf_counter()
            if left <= 0:
                raise TimeoutError(f"never saw {pattern!r}")
            r, _, _ = select.select([self.fd], [], [], left)
            if r:
                self.output += os.read(self.fd, 65536)
        return time.perf_counter()

    def drain(self, quiet=0.03):
        while True:
            r, _, _ = select.select([self.fd], [], [], quiet)
            if not r:
                return
            self.output += os.read(self.fd, 65536)

    def key_to_frame(self, key):
        """Writes `key`; returns seconds until the first bytes of the resulting frame."""
        self.drain()
        t0 = time.perf_counter()
        os.write(self.fd, key)
        r, _, _ = select.select([self.fd], [], [], 5)
        t1 = time.perf_counter()
        if not r:
            raise TimeoutError(f"no frame after key {key!r}; screen so far ends {self.output[-300:]!r}")
        self.output += os.read(self.fd, 65536)
        return t1 - t0

    def stop(self):
        try:
            os.kill(self.pid, signal.SIGTERM)
            os.waitpid(self.pid, 0)
        except OSError:
            pass
        os.close(self.fd)


def summary(name, seconds):
    ms = sorted(s * 1000 for s in seconds)
    p = lambda q: ms[min(len(ms) - 1, int(q * len(ms)))]
    return {"measure": name, "n": len(ms), "p50_ms": round(statistics.median(ms), 2), "p99_ms": round(p(0.99), 2),
            "max_ms": round(ms[-1], 2)}


def main():
    ap = argparse.ArgumentParser()
    default_bin = os.path.join(ROOT, ".build", "release", "hallpass")
    if not os.path.exists(default_bin):
        default_bin = os.path.join(ROOT, ".build", "debug", "hallpass")
    ap.add_argument("--bin", default=os.environ.get("HALLPASS_BIN", default_bin))
    ap.add_argument("--keys", type=int, default=300)
    ap.add_argument("--starts", type=int, default=30)
    args = ap.parse_args()

    tmp = tempfile.mkdtemp(prefix="hallpass-tui-bench-")
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    log = open(os.path.join(tmp, "serve.log"), "w+")
    server = subprocess.Popen([args.bin, "serve", "--demo", "--no-ssh", "--db", os.path.join(tmp, "h.db"), "--listen", f"127.0.0.1:{port}"],
                              stdout=log, stderr=subprocess.STDOUT)
    results = []
    try:
        deadline = time.time() + 60
        password = None
        while time.time() < deadline and password is None:
            time.sleep(0.1)
            log.seek(0)
            m = re.search(r"demo user 'alice', password (\S+)", log.read())
            password = m.group(1) if m else None
        time.sleep(0.5)

        starts = []
        for _ in range(args.starts):
            p = PtyProgram([args.bin, "approve", "--server", base])
            starts.append(p.read_until(b"Log in to approve a device") - p.started)
            p.stop()
        results.append(summary("start → first frame", starts))

        p = PtyProgram([args.bin, "approve", "--server", base])
        p.read_until(b"Log in to approve a device")
        typing = []
        for i in range(args.keys):
            typing.append(p.key_to_frame(b"a" if i % 2 == 0 else b"\x7f"))
        results.append(summary("keypress → frame (login typing)", typing))

        login = subprocess.Popen([args.bin, "login", "--server", base, "--client-id", "demo-device", "--json"],
                                 stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        code = json.loads(login.stdout.readline())["user_code"]
        p.drain()
        os.write(p.fd, b"\x7f" * 4)   # clear what the typing test left
        os.write(p.fd, b"alice\t" + password.encode() + b"\r")
        p.read_until(b"Enter the code")
        os.write(p.fd, code.encode() + b"\r")
        p.read_until(b"You are authorizing")
        consent = []
        for i in range(args.keys):
            consent.append(p.key_to_frame(b"\x1b[A" if i % 4 == 0 else b" " if i % 4 in (1, 2) else b"\x1b[B"))
        results.append(summary("keypress → frame (consent screen)", consent))
        p.stop()
        login.kill()
    finally:
        server.terminate()
        server.wait()
    print(f"binary: {args.bin}")
    for r in results:
        print(f"{r['measure']:<36} n={r['n']:<4} p50 {r['p50_ms']:>7.2f} ms   p99 {r['p99_ms']:>7.2f} ms   max {r['max_ms']:>7.2f} ms")
    print(json.dumps(results))


if __name__ == "__main__":
    sys.exit(main())
