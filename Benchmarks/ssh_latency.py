#!/usr/bin/env python3
"""SSH consent front latency (issue 5), with Debian's OpenSSH client on real PTYs, loopback only.

1. connect → first frame: `ssh -tt -p PORT alice@127.0.0.1` (key login) until the consent screen's
   code entry has been drawn; --connects sequential samples.
2. keypress echo with --sessions concurrent sessions: each session types a letter into code entry
   (and Backspace to clear it) about every 50 ms; the latency is from writing the key to the first
   byte of the redrawn screen coming back through SSH. --keys per session.

Usage: Benchmarks/ssh_latency.py [--bin .build/release/hallpass] [--sessions 50] [--keys 40] [--connects 30]
"""
import argparse
import json
import os
import shutil
import select
import subprocess
import tempfile
import time

from tui_latency import PtyProgram, free_port, summary

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SSH = shutil.which("ssh") or "/usr/bin/ssh"


def ssh_session(port, key, known_hosts, source="127.0.0.1"):
    """`ssh -tt` on its own PTY (tui_latency's PtyProgram), logging in as alice with `key`."""
    return PtyProgram([SSH, "-tt", "-b", source, "-p", str(port), "-i", key, "-o", "IdentitiesOnly=yes",
                       "-o", "StrictHostKeyChecking=no", "-o", f"UserKnownHostsFile={known_hosts}",
                       "-o", "LogLevel=ERROR", "alice@127.0.0.1"])


def drain(fd):
    """Reads whatever is already waiting on fd (the tail of an earlier frame), without waiting."""
    while select.select([fd], [], [], 0)[0]:
        try:
            if not os.read(fd, 65536):
                return
        except OSError:
            return


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", default=os.path.join(ROOT, ".build", "release", "hallpass"))
    ap.add_argument("--sessions", type=int, default=50)
    ap.add_argument("--keys", type=int, default=40)
    ap.add_argument("--connects", type=int, default=30)
    a = ap.parse_args()

    tmp = tempfile.mkdtemp(prefix="hallpass-ssh-bench-")
    db, key, known = os.path.join(tmp, "h.db"), os.path.join(tmp, "id"), os.path.join(tmp, "known_hosts")
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", key], check=True)
    port, ssh_port = free_port(), free_port()
    log = open(os.path.join(tmp, "serve.log"), "w+")
    server = subprocess.Popen([a.bin, "serve", "--demo", "--db", db, "--listen", f"127.0.0.1:{port}",
                               "--ssh-listen", f"127.0.0.1:{ssh_port}", "--log-level", "warning"],
                              stdout=log, stderr=subprocess.STDOUT)
    sessions = []
    try:
        for _ in range(200):
            time.sleep(0.1)
            log.seek(0)
            if "ssh consent front on" in log.read():
                break
        with open(key + ".pub") as f:
            subprocess.run([a.bin, "users", "add-key", "alice", "--db", db], stdin=f, check=True, capture_output=True)
        first = ssh_session(ssh_port, key, known)              # learns the host key
        first.read_until(b"Enter the code", timeout=20)
        first.stop()

        connects = []
        for _ in range(a.connects):
            s = ssh_session(ssh_port, key, known)
            connects.append(s.read_until(b"Enter the code", timeout=20) - s.started)
            s.stop()

        # Sources spread over 127.0.0.2… : the front allows 10 connections per address.
        for i in range(a.sessions):
            sessions.append(ssh_session(ssh_port, key, known, source=f"127.0.0.{2 + i // 8}"))
        for s in sessions:
            s.read_until(b"Enter the code", timeout=20)
            s.read_until(b"keys", timeout=20)                 # the whole first frame
            os.set_blocking(s.fd, False)
        # Keypresses: every session alternates a letter and Backspace, one outstanding key each.
        echoes, due, sent = [], {}, {}
        typed = {s.fd: 0 for s in sessions}
        start = time.perf_counter()
        for i, s in enumerate(sessions):
            due[s.fd] = start + i * 0.05 / len(sessions)
        while due or sent:
            now = time.perf_counter()
            for fd, at in list(due.items()):
                if at <= now:
                    drain(fd)                                 # only bytes caused by this key count
                    os.write(fd, b"b" if typed[fd] % 2 == 0 else b"\x7f")
                    sent[fd] = time.perf_counter()
                    del due[fd]
            timeout = max(0.0, min(due.values(), default=now + 0.05) - time.perf_counter())
            r, _, _ = select.select(list(sent), [], [], timeout if sent else timeout)
            for fd in r:
                data = os.read(fd, 65536)
                if fd in sent and data:
                    echoes.append(time.perf_counter() - sent.pop(fd))
                    typed[fd] += 1
                    if typed[fd] < a.keys:
                        due[fd] = time.perf_counter() + 0.05
            if time.perf_counter() - start > 300:
                raise TimeoutError("keypress phase took over 5 minutes")
        result = {"sessions": len(sessions),
                  "connect_to_first_frame": summary("ssh connect → first frame", connects),
                  "keypress_echo": summary(f"keypress echo, {len(sessions)} concurrent sessions", echoes)}
        print(json.dumps(result))
    finally:
        for s in sessions:
            s.stop()
        server.terminate()
        server.wait()


if __name__ == "__main__":
    main()
