"""Helpers the latency benchmarks share: a throwaway `hallpass serve` on loopback (SQLite), the
admin CLI against its database, and percentiles."""
import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DEFAULT_BIN = os.path.join(ROOT, ".build", "debug", "hallpass")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def cli(binary, db, *args, stdin=None):
    """Runs one store command; exits the benchmark with its message if it fails. Its output."""
    r = subprocess.run([binary, *args, "--db", db], input=stdin, capture_output=True, text=True, timeout=60)
    if r.returncode != 0:
        sys.exit(f"{' '.join(args)}: {r.stderr}")
    return r.stdout


def percentile(values, p):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


def start_server(binary, prefix):
    """`hallpass serve` on a free loopback port with a new database, once `/healthz` answers:
    (process, base URL, database path, temporary directory)."""
    tmp = tempfile.mkdtemp(prefix=prefix)
    db = os.path.join(tmp, "hallpass.db")
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    server = subprocess.Popen([binary, "serve", "--db", db, "--listen", f"127.0.0.1:{port}", "--no-ssh"],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=tmp)
    for _ in range(400):
        try:
            urllib.request.urlopen(base + "/healthz", timeout=1).read()
            return server, base, db, tmp
        except OSError:
            time.sleep(0.05)
    server.kill()
    sys.exit("hallpass serve did not become ready")
