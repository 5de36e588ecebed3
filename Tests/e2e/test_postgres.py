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
