#!/usr/bin/env python3
"""Database statements per request on PostgreSQL, counted from the server's own log.

Usage: Benchmarks/pg_round_trips.py HALLPASS_BIN POSTGRES_URL CLUSTER_LOG [N]

Creates a fresh database on the cluster of POSTGRES_URL (a throwaway one: scripts/
throwaway-postgres.sh), sets `log_statement = all` on it, starts one `hallpass serve` replica
on 127.0.0.1, and runs N (default 200) requests of each kind, one kind at a time: device
authorizations, pending polls, consent approvals, redemptions, refreshes with rotation, and
introspections. For each kind it counts the statements PostgreSQL logged for this database
(postgres-nio sends one statement as parse/bind/execute in one round trip, so a statement is a
round trip; BEGIN and COMMIT count too) and subtracts what the replica does on its own in as
long (the sweeper, measured idle first). It also reads the CPU time (utime + stime) of the
cluster's processes (the postmaster in CLUSTER_LOG's folder, data/postmaster.pid, and its
children) and of the replica over each kind. Requests go one at a time on one connection, so
these are costs per request, not rates. Prints a table.
"""
import base64
import json
import os
import re
import subprocess
import sys
import tempfile
import time

from token_pool import request   # the same directory

BIN, URL, LOG = os.path.abspath(sys.argv[1]), sys.argv[2], sys.argv[3]
N = int(sys.argv[4]) if len(sys.argv) > 4 else 200
PASSWORD = "bench-password-123"
DB = f"round_trips_{os.getpid()}"
PORT = 8097
BASE = f"http://127.0.0.1:{PORT}"


def psql(sql, url=URL):
    subprocess.run(["psql", "-q", url, "-c", sql], check=True, stdout=subprocess.DEVNULL)


def call(method, path, form=None, body=None, headers=None):
    """One request to the replica on token_pool's keep-alive connection: (status, text)."""
    status, _, text = request(BASE, method, path, body=body, headers=headers, form=form)
    return status, text


def statements():
    """Statements logged so far: only this database logs them (`log_statement` is set on it alone)."""
    with open(LOG, errors="replace") as f:
        return sum(1 for line in f if re.search(r"LOG:  (execute|statement)", line))


def cpu_seconds(pid, with_children):
    """utime + stime of pid (and of its children), in seconds."""
    pids = [pid]
    if with_children:
        pids += [int(p) for p in subprocess.run(["pgrep", "-P", str(pid)], capture_output=True, text=True).stdout.split()]
    ticks = 0
    for p in pids:
        try:
            fields = open(f"/proc/{p}/stat").read().rsplit(")", 1)[1].split()
            ticks += int(fields[11]) + int(fields[12])
        except OSError:
            pass
    return ticks / os.sysconf("SC_CLK_TCK")


def measure(name, action, count=N):
    before, started = statements(), time.monotonic()
    db_before, replica_before = cpu_seconds(postmaster, True), cpu_seconds(server.pid, False)
    for i in range(count):
        action(i)
    time.sleep(0.3)  # let the last statements reach the log
    elapsed = time.monotonic() - started
    total = statements() - before - background * elapsed
    database = (cpu_seconds(postmaster, True) - db_before) / count * 1e6
    replica = (cpu_seconds(server.pid, False) - replica_before) / count * 1e6
    rows.append((name, total / count, database, replica))


rows = []
postmaster = int(open(os.path.join(os.path.dirname(LOG), "data", "postmaster.pid")).readline())
psql(f"CREATE DATABASE {DB}")
db_url = URL.rsplit("/", 1)[0] + "/" + DB
psql(f"ALTER DATABASE {DB} SET log_statement = 'all'")
tmp = tempfile.mkdtemp(prefix="hallpass-rt-")
subprocess.run([BIN, "users", "add", "alice", "--password-stdin", "--db", db_url], input=PASSWORD + "\n",
               text=True, check=True, stdout=subprocess.DEVNULL)
secret = subprocess.run([BIN, "clients", "add", "rs", "--name", "Resource server", "--generate-secret", "--scopes", "read",
                         "--introspect", "--db", db_url], text=True, check=True, capture_output=True).stdout
secret = re.search(r"^client_secret: (\S+)", secret, re.M).group(1)
server = subprocess.Popen([BIN, "serve", "--db", db_url, "--listen", f"127.0.0.1:{PORT}", "--no-ssh", "--demo",
                           "--log-level", "warning"], cwd=tmp, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
try:
    for _ in range(100):
        try:
            call("GET", "/livez")
            break
        except OSError:
            time.sleep(0.1)
    # What the replica does on its own (the sweeper, LISTEN keep-alive), per second.
    idle_before = statements()
    time.sleep(10)
    background = (statements() - idle_before) / 10
    flows = []

    def authorize(i):
        status, text = call("POST", "/oauth/device_authorization", form={"client_id": "demo-device", "scope": "read"})
        assert status == 200, text
        flows.append(json.loads(text))
    measure("device authorization", authorize)

    def poll(i):
        status, text = call("POST", "/oauth/token", form={"grant_type": "urn:ietf:params:oauth:grant-type:device_code",
                                                          "client_id": "demo-device", "device_code": flows[i]["device_code"]})
        assert status == 400 and "authorization_pending" in text, text
    measure("pending poll", poll)

    status, text = call("POST", "/consent/login", body={"username": "alice", "password": PASSWORD})
    assert status == 200, text
    session = json.loads(text)["session"]

    def approve(i):
        status, text = call("POST", "/consent/approve", body={"user_code": flows[i]["user_code"]},
                            headers={"Authorization": "Bearer " + session})
        assert status == 200, text
    measure("consent approval", approve)
    time.sleep(5.5)  # the interval since each code's first poll
    tokens = []

    def redeem(i):
        status, text = call("POST", "/oauth/token", form={"grant_type": "urn:ietf:params:oauth:grant-type:device_code",
                                                          "client_id": "demo-device", "device_code": flows[i]["device_code"]})
        assert status == 200, text
        tokens.append(json.loads(text))
    measure("redemption (tokens issued)", redeem)

    def refresh(i):
        status, text = call("POST", "/oauth/token", form={"grant_type": "refresh_token", "client_id": "demo-device",
                                                          "refresh_token": tokens[i]["refresh_token"]})
        assert status == 200, text
    measure("refresh with rotation", refresh)
    basic = "Basic " + base64.b64encode(f"rs:{secret}".encode()).decode()

    def introspect(i):
        status, text = call("POST", "/oauth/introspect", form={"token": tokens[0]["access_token"]},
                            headers={"Authorization": basic})
        assert status == 200 and '"active":true' in text, text
    measure("introspection", introspect)
finally:
    server.terminate()
    server.wait(timeout=15)
    psql(f"DROP DATABASE IF EXISTS {DB} WITH (FORCE)")

print(f"background: {background:.2f} statements/s")
print("| request | statements (round trips) per request | PostgreSQL CPU, µs | replica CPU, µs |")
print("|---|---:|---:|---:|")
for name, per, database, replica in rows:
    print(f"| {name} | {per:.1f} | {database:,.0f} | {replica:,.0f} |")
