"""Two `hallpass serve` replicas on one PostgreSQL behind nginx (issue 6): decisions cross
replicas by LISTEN/NOTIFY, and a device finishes when the replica holding its socket dies."""
import http.client
import json
import os
import signal
import statistics
import subprocess
import time
import urllib.parse
import urllib.request

import pytest

from conftest import (ALICE_PASSWORD, BIN, Server, device_authorization, free_port, fresh_postgres_database,
                      post_json, setup_accounts, start_login)
from ws import WS

NGINX_CONF = """
worker_processes 1;
pid {dir}/nginx.pid;
error_log {dir}/nginx-error.log;
{user}
events {{ worker_connections 1024; }}
http {{
    access_log off;
    client_body_temp_path {dir}/body; proxy_temp_path {dir}/proxy; fastcgi_temp_path {dir}/fastcgi;
    uwsgi_temp_path {dir}/uwsgi; scgi_temp_path {dir}/scgi;
    upstream hallpass {{
        server 127.0.0.1:{a} max_fails=1 fail_timeout=10s;
        server 127.0.0.1:{b} max_fails=1 fail_timeout=10s;
    }}
    map $http_upgrade $connection_upgrade {{ default upgrade; '' close; }}
    server {{
        listen 127.0.0.1:{port};
        location / {{
            proxy_pass http://hallpass;
            proxy_http_version 1.1;
            proxy_set_header Upgrade $http_upgrade;
            proxy_set_header Connection $connection_upgrade;
            proxy_set_header Host $host;
            proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
            proxy_read_timeout 1h;
            proxy_next_upstream error timeout;
        }}
    }}
}}
"""


class Replicas:
    def __init__(self, tmp, extra_args=()):
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.db = fresh_postgres_database()
        # nginx reaches the replicas from 127.0.0.1; clients in these tests come from other
        # loopback addresses (127.0.0.2, …), so the two can be told apart.
        extra = ["--issuer", self.base, "--no-ssh", "--trusted-proxies", "127.0.0.1", *extra_args]
        # One after the other: the first start creates the signing key both then use.
        self.a = Server(os.path.join(tmp, "a"), extra=extra, db=self.db, avoid=(self.port,))
        setup_accounts(self.a)
        self.b = Server(os.path.join(tmp, "b"), extra=extra, db=self.db, avoid=(self.port,))
        conf = os.path.join(tmp, "nginx.conf")
        with open(conf, "w") as f:
            f.write(NGINX_CONF.format(dir=tmp, a=self.a.port, b=self.b.port, port=self.port,
                                      user="user root root;" if os.getuid() == 0 else ""))
        self.nginx = subprocess.Popen(["nginx", "-p", tmp, "-c", conf, "-g", "daemon off;"],
                                      stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        deadline = time.time() + 20
        while time.time() < deadline:
            try:
                urllib.request.urlopen(self.base + "/healthz", timeout=2).read()
                return
            except OSError as e:
                last = e
                time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"nginx in front of the replicas did not answer /healthz: {last}")

    def stop(self):
        self.nginx.terminate()
        self.nginx.wait(timeout=10)
        self.a.stop()
        self.b.stop()


@pytest.fixture
def replicas(tmpdir_path):
    for sub in ("a", "b"):
        os.makedirs(os.path.join(tmpdir_path, sub))
    r = Replicas(tmpdir_path)
    yield r
    r.stop()


def test_a_decision_through_replica_a_reaches_a_socket_on_replica_b(replicas):
    """The socket is opened on B's own port and the approval sent to A's: only NOTIFY can
    carry the decision across. 20 trials; the issue's bound is 100 ms."""
    a, b = replicas.a, replicas.b
    session = post_json(f"http://127.0.0.1:{a.port}/consent/login", {"username": "alice", "password": ALICE_PASSWORD})["session"]
    delays = []
    for _ in range(20):
        codes = device_authorization(f"http://127.0.0.1:{a.port}")
        ws = WS(b.port)
        assert ws.status == 101
        ws.subscribe(codes["device_code"])
        assert ws.event()["event"] == "subscribed"
        post_json(f"http://127.0.0.1:{a.port}/consent/approve", {"user_code": codes["user_code"]}, session)
        acknowledged = time.perf_counter()
        event = ws.event()
        delays.append((time.perf_counter() - acknowledged) * 1000)
        assert event["event"] == "approved" and "access_token" not in event
        ws.close()
    print(f"A → B delivery after the approval's answer: median {statistics.median(delays):.1f} ms, max {max(delays):.1f} ms")
    assert statistics.median(delays) < 100, delays
    assert max(delays) < 1000, delays


def established(port):
    """Established TCP connections to a local listening port."""
    out = subprocess.run(["ss", "-Htn", "state", "established", f"( sport = :{port} )"],
                         capture_output=True, text=True).stdout
    return len([line for line in out.splitlines() if line.strip()])


def test_the_device_finishes_when_the_replica_holding_its_socket_is_killed(replicas):
    """`hallpass login` through nginx; the replica holding its push socket is killed mid-wait;
    the device still gets its token (its socket reconnects through nginx, or polling finds it)."""
    proc, code = start_login(replicas, "--json")
    # nginx keeps no idle upstream connections, so the one replica with an established
    # connection from it is the one holding the device's push socket.
    holder = None
    for _ in range(100):
        held = [s for s in (replicas.a, replicas.b) if established(s.port) > 0]
        if len(held) == 1:
            holder = held[0]
            break
        time.sleep(0.05)
    assert holder is not None, "no replica holds the push socket"
    holder.proc.send_signal(signal.SIGKILL)
    holder.proc.wait()
    r = subprocess.run([BIN, "approve", "--server", replicas.base, "--user", "alice", "--password-stdin",
                        "--code", code, "--decision", "approve"],
                       input=ALICE_PASSWORD + "\n", capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 0, err
    assert "access_token" in json.loads(out.strip().splitlines()[-1])["token"]


def race(ports, bodies):
    """Sends every form body at once (one thread each, released together), spread over the
    replicas' ports; returns [(status, json)]."""
    import http.client
    import threading
    barrier = threading.Barrier(len(bodies))
    results = [None] * len(bodies)

    def send(i):
        conn = http.client.HTTPConnection("127.0.0.1", ports[i % len(ports)], timeout=30)
        conn.connect()
        barrier.wait()
        conn.request("POST", "/oauth/token", urllib.parse.urlencode(bodies[i]),
                     {"Content-Type": "application/x-www-form-urlencoded"})
        r = conn.getresponse()
        results[i] = (r.status, json.loads(r.read()))
        conn.close()

    threads = [threading.Thread(target=send, args=(i,)) for i in range(len(bodies))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return results


def psql(url, sql):
    return subprocess.run(["psql", url, "-Atc", sql], capture_output=True, text=True, check=True).stdout.strip()


def test_racing_redemptions_and_refreshes_across_replicas(replicas):
    """200 trials: 50 concurrent redemptions of one approved device code over both replicas give
    exactly one token family; then 20 concurrent refreshes of its refresh token never leave two
    live successors (a second use revokes the family)."""
    a, b = replicas.a, replicas.b
    ports = [a.port, b.port]
    session = post_json(f"http://127.0.0.1:{a.port}/consent/login", {"username": "alice", "password": ALICE_PASSWORD})["session"]
    trials = 200
    for trial in range(trials):
        codes = device_authorization(f"http://127.0.0.1:{ports[trial % 2]}")
        post_json(f"http://127.0.0.1:{ports[(trial + 1) % 2]}/consent/approve", {"user_code": codes["user_code"]}, session)
        redeem = {"grant_type": "urn:ietf:params:oauth:grant-type:device_code", "device_code": codes["device_code"],
                  "client_id": "tv"}
        results = race(ports, [redeem] * 50)
        winners = [body for status, body in results if status == 200]
        assert len(winners) == 1, (trial, [s for s, _ in results])
        assert all(body.get("error") == "invalid_grant" for status, body in results if status != 200)
        refresh = {"grant_type": "refresh_token", "refresh_token": winners[0]["refresh_token"], "client_id": "tv"}
        results = race(ports, [refresh] * 20)
        assert len([1 for status, _ in results if status == 200]) <= 1, (trial, [s for s, _ in results])
    # The database agrees: one family per redeemed grant, and no family with two live successors.
    assert psql(replicas.db, "SELECT count(*) FROM token_families") == str(trials)
    assert psql(replicas.db, "SELECT count(*) FROM (SELECT grant_id FROM token_families GROUP BY grant_id HAVING count(*) > 1) d") == "0"
    assert psql(replicas.db, """
        SELECT count(*) FROM (SELECT family_id FROM refresh_tokens WHERE used_at IS NULL AND revoked_at IS NULL
                              AND parent_hash IS NOT NULL GROUP BY family_id HAVING count(*) > 1) d""") == "0"


def request_from(source, port, method, path, body, headers):
    """One request to nginx from the loopback address `source` (127.0.0.0/8 is all local)."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30, source_address=(source, 0))
    try:
        conn.request(method, path, body=body, headers=headers)
        r = conn.getresponse()
        return r.status, json.loads(r.read() or b"{}")
    finally:
        conn.close()


def test_behind_nginx_budgets_and_the_device_ip_follow_the_client(replicas):
    """With `--trusted-proxies 127.0.0.1`, X-Forwarded-For from nginx names the client: the
    consent screen shows the device's address (not nginx's, not one the device forged); one
    client's wrong logins for alice do not lock out alice behind the same nginx; and the two
    replicas count one budget between them."""
    forged = {"Content-Type": "application/x-www-form-urlencoded", "X-Forwarded-For": "6.6.6.6"}
    status, codes = request_from("127.0.0.2", replicas.port, "POST", "/oauth/device_authorization",
                                 "client_id=tv&scope=openid", forged)
    assert status == 200, codes
    session = post_json(replicas.base + "/consent/login", {"username": "alice", "password": ALICE_PASSWORD})["session"]
    view = post_json(replicas.base + "/consent/lookup", {"user_code": codes["user_code"]}, session)
    assert view["device_ip"] == "127.0.0.2"

    # Five wrong passwords for one name from one address lock that pair for 15 minutes, spread
    # over both replicas by nginx: the ledger is in the database, so two replicas do not make it 10.
    def wrong_login(source, name):
        body = json.dumps({"username": name, "password": "wrong"})
        return request_from(source, replicas.port, "POST", "/consent/login", body, {"Content-Type": "application/json"})
    answers = [wrong_login("127.0.0.3", "alice") for _ in range(7)]
    statuses = [status for status, _ in answers]
    assert statuses == [401] * 5 + [429, 429], statuses
    assert answers[-1][1]["error"] == "too_many_attempts", answers[-1]
    # Another client behind the same nginx still gets an honest "wrong password", and a right
    # password from it works.
    status, body = wrong_login("127.0.0.4", "alice")
    assert status == 401 and body["error"] == "access_denied", body
    status, body = request_from("127.0.0.4", replicas.port, "POST", "/consent/login",
                                json.dumps({"username": "alice", "password": ALICE_PASSWORD}), {"Content-Type": "application/json"})
    assert status == 200 and body["session"], body
