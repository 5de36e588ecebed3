"""`hallpass serve --db postgres://…`: the same server on PostgreSQL (issue 6)."""
import json
import re

from conftest import Server, approve, get_json, start_login


def test_the_device_flow_on_postgresql_and_the_password_never_printed(pg_server):
    proc, code = start_login(pg_server, "--json")
    assert approve(pg_server, code).returncode == 0
    out, err = proc.communicate(timeout=30)
    assert proc.returncode == 0, err
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
        proc, code = start_login(again, "--json")
        assert approve(again, code).returncode == 0
        proc.communicate(timeout=30)
        assert proc.returncode == 0
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
