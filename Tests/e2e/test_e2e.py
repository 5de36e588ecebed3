"""End to end: the built binary, as a person and a device would use it."""
import json
import sqlite3
import os
import re
import signal
import subprocess
import time

import jwt
import pytest
import requests

from conftest import BIN, Server, approve, free_port, get_json, start_login


def test_login_approve_prints_a_token_that_verifies_against_the_served_jwks(server):
    proc, code = start_login(server, "--scope", "openid profile read")
    r = approve(server, code)
    assert r.returncode == 0, r.stderr
    assert "approved " + code in r.stdout
    out, err = proc.communicate(timeout=30)
    assert proc.returncode == 0, err
    token = json.loads(out[out.index("{"):])
    meta = get_json(server.base + "/.well-known/oauth-authorization-server")
    signing_key = jwt.PyJWKClient(meta["jwks_uri"]).get_signing_key_from_jwt(token["access_token"])
    claims = jwt.decode(token["access_token"], signing_key.key, algorithms=["EdDSA", "ES256"],
                        audience=server.base, issuer=server.base)
    assert claims["client_id"] == "tv"
    assert claims["scope"] == "openid profile read"
    assert jwt.get_unverified_header(token["access_token"])["typ"] == "at+jwt"


def test_deny_ends_login_with_its_own_exit_code(server):
    proc, code = start_login(server, "--json")
    r = approve(server, code, decision="deny")
    assert r.returncode == 0, r.stderr
    out, err = proc.communicate(timeout=30)
    assert proc.returncode == 3
    assert json.loads(out.strip().splitlines()[-1]) == {"event": "denied"}


def test_approving_a_subset_narrows_the_token(server):
    proc, code = start_login(server, "--scope", "openid read write", "--json")
    r = approve(server, code, scope="read")
    assert r.returncode == 0, r.stderr
    out, _ = proc.communicate(timeout=30)
    assert proc.returncode == 0
    event = json.loads(out.strip().splitlines()[-1])
    assert event["event"] == "approved"
    assert event["token"]["scope"] == "read"
    assert "id_token" not in event["token"]


def test_wrong_password_and_wrong_code_are_one_readable_line(server):
    proc, code = start_login(server)
    try:
        r = approve(server, code, password="not-the-password")
        assert r.returncode == 1
        assert r.stderr.strip() == "hallpass: wrong user name or password"
        r = approve(server, "ZZZZ-ZZZZ")
        assert r.returncode == 1
        assert r.stderr.startswith("hallpass: invalid or expired code (")
        assert len(r.stderr.strip().splitlines()) == 1
        with sqlite3.connect(server.db) as db:                  # the failed command logged out too
            assert db.execute("SELECT COUNT(*) FROM consent_sessions").fetchone()[0] == 0
        r = approve(server, "AEIO-U123")
        assert r.returncode != 0 and "cannot appear in a code" in r.stderr
    finally:
        proc.kill()


def test_admin_commands_work_while_the_server_runs_and_reject_bad_input(server):
    r = server.cli("clients", "list")
    assert r.returncode == 0 and "tv\tpublic\tLiving-room TV" in r.stdout
    r = server.cli("clients", "add", "evil", "--name", "TV\x1b[2J", "--public")
    assert r.returncode == 1 and "control" in r.stderr
    r = server.cli("clients", "add", "tv", "--name", "dup", "--public")
    assert r.returncode == 1 and r.stderr.strip() == "hallpass: client tv already exists"
    r = server.cli("clients", "add", "x", "--name", "X", "--public", "--grant", "implicit")
    assert r.returncode == 1 and "unknown --grant" in r.stderr
    r = server.cli("users", "add", "bob", "--password-stdin", stdin="")
    assert r.returncode == 1 and "standard input" in r.stderr
    r = server.cli("users", "list")
    assert r.stdout.split() == ["alice"]
    # Disabling alice while a device waits: approval is refused at login, so no token.
    proc, code = start_login(server)
    assert server.cli("users", "disable", "alice").returncode == 0
    r = approve(server, code)
    assert r.returncode == 1
    proc.kill()
    # A new signing key shows up in the served JWKS without a restart.
    before = len(get_json(server.base + "/oauth/jwks.json")["keys"])
    assert server.cli("keys", "rotate", "--alg", "ES256").returncode == 0
    time.sleep(6)
    assert len(get_json(server.base + "/oauth/jwks.json")["keys"]) == before + 1


def test_help_is_available_everywhere():
    for args in [[], ["serve"], ["users"], ["users", "add"], ["clients", "add"], ["scopes", "add"], ["keys", "rotate"],
                 ["approve"], ["login"]]:
        r = subprocess.run([BIN, *args, "--help"], capture_output=True, text=True, timeout=30)
        assert r.returncode == 0, (args, r.stderr)
        assert "USAGE" in r.stdout.upper()


def test_serve_refuses_bad_configuration_with_one_line(tmpdir_path):
    bad = os.path.join(tmpdir_path, "bad.toml")
    with open(bad, "w") as f:
        f.write('db = "x.db"\nlisten = "127.0.0.1:1"\ncolour = "blue"\n')
    r = subprocess.run([BIN, "serve", "--config", bad], capture_output=True, text=True, timeout=30)
    assert r.returncode == 1
    assert r.stderr.strip() == f"hallpass: {bad}:3: unknown setting 'colour' (known: db, listen, issuer, tls_cert, tls_key, signing_alg, theme, language, ssh_listen, trusted_proxies, http_head_timeout, http_body_timeout, http_idle_timeout, http_max_connections, http_max_connections_per_address, dpop_nonces, sites, device_networks, audit_log, totp_key_file, totp_for_ssh_keys, log_format, log_level, access_log)"
    with open(bad, "w") as f:
        f.write('db = [unclosed\n')
    r = subprocess.run([BIN, "serve", "--config", bad], capture_output=True, text=True, timeout=30)
    assert r.returncode == 1 and r.stderr.startswith(f"hallpass: {bad}:1:")
    r = subprocess.run([BIN, "serve", "--listen", "nowhere"], capture_output=True, text=True, timeout=30)
    assert r.returncode == 1 and "port" in r.stderr
    r = subprocess.run([BIN, "serve", "--tls-cert", "/nonexistent.pem"], capture_output=True, text=True, timeout=30)
    assert r.returncode == 1 and "--tls-key" in r.stderr


def test_config_file_environment_and_flags_in_order_of_precedence(tmpdir_path):
    port = free_port()
    conf = os.path.join(tmpdir_path, "hallpass.toml")
    with open(conf, "w") as f:
        f.write(f'db = "{tmpdir_path}/from-file.db"\nlisten = "127.0.0.1:1"\n')
    env = dict(os.environ, HALLPASS_LISTEN=f"127.0.0.1:{port}")
    proc = subprocess.Popen([BIN, "serve", "--config", conf, "--issuer", f"http://localhost:{port}/t/acme", "--no-ssh"], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        line = proc.stdout.readline()
        assert f"issuer http://localhost:{port}/t/acme" in line
        assert "from-file.db" in line
        deadline = time.time() + 30
        while time.time() < deadline:
            try:
                meta = get_json(f"http://127.0.0.1:{port}/.well-known/oauth-authorization-server/t/acme")
                break
            except OSError:
                time.sleep(0.2)
        assert meta["token_endpoint"] == f"http://localhost:{port}/t/acme/oauth/token"
        assert "consent_ssh_uri" not in meta                  # --no-ssh: nothing advertised
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=15)
    assert proc.returncode == 0  # graceful shutdown on SIGTERM


def test_tls_with_an_issuer_path(tmpdir_path):
    cert, key = os.path.join(tmpdir_path, "cert.pem"), os.path.join(tmpdir_path, "key.pem")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
                    "-keyout", key, "-out", cert, "-days", "1", "-subj", "/CN=127.0.0.1",
                    "-addext", "subjectAltName=IP:127.0.0.1"], check=True, capture_output=True)
    port = free_port()
    base = f"https://127.0.0.1:{port}/t/acme"
    s = Server(tmpdir_path, extra=["--tls-cert", cert, "--tls-key", key, "--issuer", base, "--demo"], port=port)
    try:
        meta = requests.get(f"https://127.0.0.1:{port}/.well-known/oauth-authorization-server/t/acme", verify=cert, timeout=10).json()
        assert meta["issuer"] == base
        r = requests.post(meta["device_authorization_endpoint"], data={"client_id": "demo-device"}, verify=cert, timeout=10)
        assert r.status_code == 200 and r.json()["verification_uri"] == base + "/device"
        with pytest.raises(requests.exceptions.SSLError):
            requests.get(meta["jwks_uri"], timeout=10)  # not trusted without the CA
    finally:
        s.stop()


def test_demo_mode_prints_the_password_once(tmpdir_path):
    s = Server(tmpdir_path, extra=["--demo"])
    try:
        time.sleep(0.5)
        out = s.output()
        m = re.search(r"demo user 'alice', password (\S+)", out)
        assert m, out
        assert "demo client 'demo-device'" in out
    finally:
        s.stop()
    # A second start on the same database seeds nothing and prints no password.
    s2 = Server(tmpdir_path, extra=["--demo"])
    try:
        time.sleep(0.5)
        assert "password" not in s2.output()
    finally:
        s2.stop()
