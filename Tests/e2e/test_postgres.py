"""`hallpass serve --db postgres://…`: the same server on PostgreSQL (issue 6)."""
import json
import re

import os
import signal
import time

from conftest import Server, approved_login, fresh_postgres_database, get_json, setup_accounts


def test_the_device_flow_on_postgresql_and_the_password_never_printed(pg_server):
    out = approved_login(pg_server, "--json")
    token = json.loads(out.strip().splitlines()[-1])["token"]
    assert token["access_token"] and token["refresh_token"]
    log = pg_server.output()
    password = re.match(r"postgres://[^:]+:([^@]+)@", pg_server.db).group(1)
    assert "database postgres://hallpass:***@127.0.0.1:" in log
    assert password not in log


def test_state_survives_a_restart_on_postgresql(pg_server, tmpdir_path):
    kid = get_json(f"{pg_server.base}/oauth/jwks.json")["keys"][0]["kid"]
    pg_server.stop()
    again = Server(tmpdir_path, db=pg_server.db, port=pg_server.port)
    try:
        assert get_json(f"{again.base}/oauth/jwks.json")["keys"][0]["kid"] == kid
        assert "alice" in again.cli("users", "list").stdout
        approved_login(again, "--json")
    finally:
        again.stop()


def test_a_bad_postgresql_url_is_one_readable_line(tmpdir_path):
    from conftest import BIN
    import subprocess
    r = subprocess.run([BIN, "users", "list", "--db", "postgres://nobody:secret@127.0.0.1:1/none"],
                       capture_output=True, text=True, timeout=60)
    assert r.returncode != 0
    assert r.stderr.startswith("hallpass: cannot open the database at postgres://nobody:***@127.0.0.1:1/none")
    assert "secret" not in r.stderr and len(r.stderr.strip().splitlines()) == 1


def test_a_nul_byte_from_a_client_gets_the_rfc_error_not_a_server_error(pg_server):
    """PostgreSQL text cannot hold NUL: such keys are "not found", as on SQLite."""
    import urllib.error
    import urllib.request

    def status_and_error(path, data, headers=None):
        request = urllib.request.Request(pg_server.base + path, data=data, headers=headers or {})
        try:
            with urllib.request.urlopen(request, timeout=10) as r:
                return r.status, json.loads(r.read()).get("error")
        except urllib.error.HTTPError as e:
            return e.code, json.loads(e.read()).get("error")

    assert status_and_error("/oauth/device_authorization", b"client_id=tv%00&scope=openid") == (401, "invalid_client")
    assert status_and_error("/oauth/token", b"grant_type=refresh_token&refresh_token=x&client_id=a%00b") == (401, "invalid_client")
    assert status_and_error("/consent/login", json.dumps({"username": "alice\u0000", "password": "x"}).encode(),
                            {"Content-Type": "application/json"}) == (401, "access_denied")


def http_status(url, timeout=15):
    """(status, JSON body, seconds taken) for a GET, whatever the status."""
    import time
    import urllib.error
    import urllib.request
    started = time.monotonic()
    try:
        with urllib.request.urlopen(url, timeout=timeout) as r:
            return r.status, json.loads(r.read()), time.monotonic() - started
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read()), time.monotonic() - started


def test_readiness_follows_a_database_that_goes_silent_and_comes_back(tmpdir_path):
    """The database behind a proxy that stops forwarding (a partition, not a refusal):
    /readyz answers 503 within its 2 s deadline instead of hanging, /livez stays 200, and
    after the partition heals the server is ready again and finishes a device flow."""
    import time
    import urllib.parse
    from conftest import fresh_postgres_database
    from faultproxy import FaultProxy

    url = urllib.parse.urlsplit(fresh_postgres_database())
    proxy = FaultProxy(url.port)
    proxied = url._replace(netloc=f"{url.username}:{url.password}@127.0.0.1:{proxy.port}").geturl()
    server = Server(tmpdir_path, db=proxied)
    try:
        setup_accounts(server)
        assert http_status(server.base + "/readyz")[:2] == (200, {"status": "ok", "store": "ok"})
        proxy.blackhole()
        status, body, took = http_status(server.base + "/readyz")
        assert status == 503 and body["status"] == "unavailable", body
        assert took < 5, took
        status, body, took = http_status(server.base + "/livez")
        assert (status, body) == (200, {"status": "ok"}) and took < 1
        assert http_status(server.base + "/healthz")[0] == 503

        proxy.heal()
        deadline = time.monotonic() + 30
        while http_status(server.base + "/readyz")[0] != 200:
            assert time.monotonic() < deadline, "not ready 30 s after the database came back"
            time.sleep(0.2)
        approved_login(server, "--json")
    finally:
        server.stop()
        proxy.close()


def test_sigterm_stops_serve_promptly_and_cleanly_on_both_stores(tmpdir_path):
    """Every long-running part is a Service in one ServiceGroup (pool, LISTEN, sweeper, HTTP,
    SSH): SIGTERM shuts them down in reverse and `serve` exits 0; the admin commands run their own pool."""
    for db in [os.path.join(tmpdir_path, "sigterm.db"), fresh_postgres_database()]:
        s = Server(tmpdir_path, db=db)
        try:
            setup_accounts(s)
            assert s.cli("users", "list").returncode == 0   # an admin command beside it (its own pool)
            started = time.time()
            s.proc.send_signal(signal.SIGTERM)
            s.proc.wait(timeout=10)
            assert s.proc.returncode == 0, s.output()
            assert time.time() - started < 10
        finally:
            s.stop()
