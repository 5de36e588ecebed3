"""Running Hallpass as a daemon (issue 21): --version, doctor, JSON and access logs without
secrets, backup while serving, restore, and SIGHUP reloading the TLS certificate."""
import base64
import datetime
import json
import os
import re
import signal
import socket
import sqlite3
import ssl
import subprocess
import threading
import time
import urllib.error
import urllib.parse
import urllib.request

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from conftest import (ALICE_PASSWORD, BIN, RS_SECRET, Server, fresh_postgres_database, free_ports, post_form,
                      post_json, setup_accounts)


def hallpass(*args, stdin=None, env=None, timeout=60):
    return subprocess.run([BIN, *args], input=stdin, capture_output=True, text=True, timeout=timeout,
                          env={**os.environ, **(env or {})})


def write_config(path, **values):
    with open(path, "w") as f:
        for key, value in values.items():
            f.write(f"{key} = {json.dumps(value)}\n")
    return path


def make_certificate(directory, name, days=30, not_before_days=-1, key=None, common_name="127.0.0.1"):
    """A self-signed P-256 certificate for 127.0.0.1; (cert path, key path)."""
    key = key or ec.generate_private_key(ec.SECP256R1())
    now = datetime.datetime.now(datetime.timezone.utc)
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])
    import ipaddress
    cert = (x509.CertificateBuilder().subject_name(subject).issuer_name(subject).public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now + datetime.timedelta(days=not_before_days))
            .not_valid_after(now + datetime.timedelta(days=days))
            .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), critical=False)
            .sign(key, hashes.SHA256()))
    cert_path, key_path = os.path.join(directory, name + ".pem"), os.path.join(directory, name + ".key")
    with open(cert_path, "wb") as f:
        f.write(cert.public_bytes(serialization.Encoding.PEM))
    fd = os.open(key_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as f:
        f.write(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                  serialization.NoEncryption()))
    return cert_path, key_path


def findings(result):
    return [line for line in result.stdout.splitlines() if not line.startswith("hallpass doctor:")]


def finding(result, severity, subject, fragment):
    matches = [line for line in findings(result) if line.startswith(severity) and f" {subject}: " in line and fragment in line]
    assert matches, f"no {severity} {subject} finding with {fragment!r} in:\n{result.stdout}{result.stderr}"
    return matches[0]


# --version

def test_version_names_the_release_and_the_commit():
    r = hallpass("--version")
    assert r.returncode == 0, r.stderr
    m = re.fullmatch(r"hallpass (\d+\.\d+\.\d+) \(commit ([0-9a-f]{12}(?:-dirty)?|unknown)\)\n", r.stdout)
    assert m, r.stdout
    expected = os.environ.get("HALLPASS_COMMIT")
    if expected:  # scripts/test.sh builds with HALLPASS_COMMIT set (scripts/build-commit.sh)
        assert m.group(2) == expected, (r.stdout, expected)


# doctor

def test_doctor_passes_a_running_setup_and_fails_bad_modes(tmpdir_path):
    s = Server(tmpdir_path)
    try:
        setup_accounts(s)
        config = write_config(os.path.join(tmpdir_path, "h.toml"), db=s.db, listen=f"127.0.0.1:{s.port}",
                              ssh_listen=f"127.0.0.1:{s.ssh_port}")
        r = hallpass("doctor", "--config", config)
        assert r.returncode == 0, r.stdout + r.stderr
        finding(r, "ok", "configuration", "h.toml loads")
        finding(r, "ok", "database", "is migrated")
        finding(r, "ok", "database", f"{s.db} (mode 600)")     # made 0600 whatever the umask
        finding(r, "ok", "signing keys", "EdDSA")
        finding(r, "ok", "issuer", "answers with its metadata")
        finding(r, "ok", "clock", "of the issuer's server")
        assert r.stdout.rstrip().endswith("hallpass doctor: 0 errors, 0 warnings"), r.stdout

        os.chmod(s.db, 0o644)
        r = hallpass("doctor", "--config", config)
        assert r.returncode == 1
        line = finding(r, "error", "database", f"{s.db} has mode 644: everyone can read or change it")
        assert line.endswith(f"(fix: chmod 600 {s.db})")
        os.chmod(s.db, 0o600)
        host_key = os.path.join(tmpdir_path, "ssh_host_ed25519_key")
        os.chmod(host_key, 0o640)
        r = hallpass("doctor", "--config", config)
        assert r.returncode == 1
        finding(r, "error", "SSH host key", "its group can read")
    finally:
        s.stop()
    # Stopped: the issuer cannot be reached, which is a warning only.
    r = hallpass("doctor", "--config", config, "--timeout", "2")
    finding(r, "warning", "issuer", "cannot reach")


def test_doctor_finds_unmigrated_databases_and_a_fresh_install_is_only_warned(tmpdir_path):
    fresh = write_config(os.path.join(tmpdir_path, "fresh.toml"), db=os.path.join(tmpdir_path, "state", "h.db"),
                         listen="127.0.0.1:1")
    os.mkdir(os.path.join(tmpdir_path, "state"), 0o700)
    r = hallpass("doctor", "--config", fresh, "--timeout", "2")
    assert r.returncode == 0, r.stdout + r.stderr
    finding(r, "warning", "database", "does not exist yet")
    assert not os.path.exists(os.path.join(tmpdir_path, "state", "h.db"))    # doctor creates nothing

    # A database the current binary migrated, with its newest migration taken back out.
    db = os.path.join(tmpdir_path, "old.db")
    assert hallpass("users", "list", "--db", db).returncode == 0
    with sqlite3.connect(db) as c:
        newest = c.execute("SELECT identifier FROM grdb_migrations ORDER BY rowid DESC LIMIT 1").fetchone()[0]
        c.execute("DELETE FROM grdb_migrations WHERE identifier = ?", (newest,))
    r = hallpass("doctor", "--db", db, "--timeout", "2")
    assert r.returncode == 1, r.stdout
    finding(r, "error", "database", f"is not migrated: ")
    finding(r, "error", "database", f"(missing {newest})")

    other = os.path.join(tmpdir_path, "other.db")
    with sqlite3.connect(other) as c:
        c.execute("CREATE TABLE notes (x TEXT)")
    os.chmod(other, 0o600)
    r = hallpass("doctor", "--db", other, "--timeout", "2")
    assert r.returncode == 1
    finding(r, "error", "database", "it has no Hallpass tables")


def test_doctor_checks_the_certificate_its_key_and_the_issuer_scheme(tmpdir_path):
    good_cert, good_key = make_certificate(tmpdir_path, "good", days=90)
    expired_cert, expired_key = make_certificate(tmpdir_path, "expired", days=-1, not_before_days=-30)
    other_cert, _ = make_certificate(tmpdir_path, "other", days=90)
    db = os.path.join(tmpdir_path, "h.db")

    def doctor(**values):
        config = write_config(os.path.join(tmpdir_path, "tls.toml"), db=db, listen="127.0.0.1:1", **values)
        return hallpass("doctor", "--config", config, "--timeout", "2")

    r = doctor(tls_cert=good_cert, tls_key=good_key)
    finding(r, "ok", "TLS certificate", "valid until")
    finding(r, "ok", "TLS key", "matches the certificate")
    r = doctor(tls_cert=expired_cert, tls_key=expired_key)
    assert r.returncode == 1
    finding(r, "error", "TLS certificate", f"{expired_cert} expired on ")
    r = doctor(tls_cert=other_cert, tls_key=good_key)
    assert r.returncode == 1
    finding(r, "error", "TLS key", f"{good_key} is not the key of {other_cert}")
    os.chmod(good_key, 0o644)
    r = doctor(tls_cert=good_cert, tls_key=good_key)
    finding(r, "error", "TLS key", "everyone can read")
    r = doctor(issuer="http://auth.example.com")
    assert r.returncode == 1
    finding(r, "error", "issuer", "is not https: RFC 8414")


def test_doctor_on_postgresql_names_the_missing_migrations_then_passes(tmpdir_path):
    url = fresh_postgres_database()
    r = hallpass("doctor", "--db", url, "--timeout", "10")
    assert r.returncode == 1, r.stdout + r.stderr
    finding(r, "ok", "database", "answers")
    finding(r, "error", "database", "is not migrated: 0 of ")
    assert hallpass("users", "list", "--db", url).returncode == 0       # any store command migrates
    r = hallpass("doctor", "--db", url, "--timeout", "10")
    finding(r, "ok", "database", "is migrated")
    finding(r, "ok", "clock", "of PostgreSQL")
    password = urllib.parse.urlsplit(url).password
    assert password and password not in r.stdout + r.stderr, "the URL's password is shown"
    r = hallpass("doctor", "--db", "postgres://nobody@127.0.0.1:1/none", "--timeout", "5")
    assert r.returncode == 1
    finding(r, "error", "database", "cannot reach")


# logs

def test_json_logs_and_the_access_log_hold_no_secret(tmpdir_path):
    """A whole device flow, refresh, introspection and revocation with JSON logs at debug level:
    every line parses, the access log has its fields, and none of the secrets used appears."""
    s = Server(tmpdir_path, extra=("--log-format", "json", "--log-level", "debug"))
    secrets = {ALICE_PASSWORD, RS_SECRET}
    try:
        setup_accounts(s)
        da = post_form(s.base + "/oauth/device_authorization", {"client_id": "tv", "scope": "openid read"})
        secrets |= {da["device_code"], da["user_code"], da["user_code"].replace("-", "")}
        login = post_json(s.base + "/consent/login", {"username": "alice", "password": ALICE_PASSWORD})
        session = login["session"]
        secrets.add(session)
        post_json(s.base + "/consent/lookup", {"user_code": da["user_code"]}, session=session)
        post_json(s.base + "/consent/approve", {"user_code": da["user_code"]}, session=session)
        tokens = post_form(s.base + "/oauth/token", {"grant_type": "urn:ietf:params:oauth:grant-type:device_code",
                                                      "client_id": "tv", "device_code": da["device_code"]})
        secrets |= {tokens["access_token"], tokens["refresh_token"], tokens["id_token"]}
        refreshed = post_form(s.base + "/oauth/token", {"grant_type": "refresh_token", "client_id": "tv",
                                                         "refresh_token": tokens["refresh_token"]})
        secrets |= {refreshed["access_token"], refreshed["refresh_token"]}
        basic = "Basic " + base64.b64encode(f"rs:{RS_SECRET}".encode()).decode()
        secrets.add(basic.split()[1])
        request = urllib.request.Request(s.base + "/oauth/introspect", headers={"Authorization": basic},
                                         data=urllib.parse.urlencode({"token": refreshed["access_token"]}).encode())
        with urllib.request.urlopen(request, timeout=10) as reply:
            assert json.loads(reply.read())["active"] is True
        revoke = urllib.parse.urlencode({"client_id": "tv", "token": refreshed["refresh_token"]}).encode()
        with urllib.request.urlopen(s.base + "/oauth/revoke", data=revoke, timeout=10) as reply:
            assert reply.status == 200      # RFC 7009 §2.2: an empty 200
        # A wrong password and a bad device code are refused; neither appears either.
        for body in ({"username": "alice", "password": "wrong-password-xyz"},):
            try:
                post_json(s.base + "/consent/login", body)
            except urllib.error.HTTPError:
                pass
        secrets.add("wrong-password-xyz")
        try:
            post_form(s.base + "/oauth/token?code=in-the-query-4711", {
                "grant_type": "urn:ietf:params:oauth:grant-type:device_code", "client_id": "tv",
                "device_code": "guessed-device-code-0815"})
        except urllib.error.HTTPError:
            pass
        secrets |= {"in-the-query-4711", "guessed-device-code-0815"}
    finally:
        s.stop()
    with open(os.path.join(tmpdir_path, "serve.log")) as f:
        output = f.read()
    lines = [line for line in output.splitlines() if line.strip()]
    records = []
    for line in lines:
        record = json.loads(line)       # every line is one JSON object
        assert {"time", "level", "message", "logger"} <= record.keys(), line
        assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", record["time"]), line
        records.append(record)
    assert any(r["message"].startswith("issuer http://127.0.0.1:") for r in records)    # the startup line is JSON too
    access = [r for r in records if r["message"] == "request"]
    routes = {r["route"] for r in access}
    assert {"/oauth/device_authorization", "/consent/login", "/consent/approve", "/oauth/token", "/oauth/introspect",
            "/oauth/revoke"} <= routes, routes
    for r in access:
        assert isinstance(r["status"], int) and isinstance(r["duration_ms"], (int, float)), r
        assert r["client"] == "127.0.0.1" and r["request_id"] and r["method"] in ("GET", "POST"), r
    assert sorted(r["status"] for r in access if r["route"] == "/consent/login") == [200, 401]
    for secret in secrets:
        assert secret not in output, f"a secret reached the log: {secret[:6]}…"


def test_a_bad_log_setting_is_refused_by_name(tmpdir_path):
    r = hallpass("serve", "--db", os.path.join(tmpdir_path, "h.db"), "--log-format", "xml")
    assert r.returncode != 0 and "log_format is text or json" in r.stderr, r.stderr
    config = write_config(os.path.join(tmpdir_path, "h.toml"), log_level="loud")
    r = hallpass("serve", "--config", config, "--db", os.path.join(tmpdir_path, "h.db"))
    assert r.returncode != 0 and "log_level is one of trace, debug" in r.stderr, r.stderr


# backup and restore

def test_a_backup_under_load_holds_every_acknowledged_approval_and_restore_waits_for_the_server(tmpdir_path):
    s = Server(tmpdir_path)
    acknowledged, lock, stop, errors = [], threading.Lock(), threading.Event(), []
    try:
        setup_accounts(s)
        session = post_json(s.base + "/consent/login", {"username": "alice", "password": ALICE_PASSWORD})["session"]

        def approve_forever():
            try:
                while not stop.is_set():
                    da = post_form(s.base + "/oauth/device_authorization", {"client_id": "tv", "scope": "read"})
                    post_json(s.base + "/consent/approve", {"user_code": da["user_code"]}, session=session)
                    with lock:
                        acknowledged.append(da["user_code"])
            except Exception as e:      # noqa: BLE001 - reported below
                errors.append(e)

        workers = [threading.Thread(target=approve_forever) for _ in range(4)]
        for w in workers:
            w.start()
        deadline = time.time() + 30
        while len(acknowledged) < 100 and time.time() < deadline:
            time.sleep(0.05)
        with lock:
            before = list(acknowledged)
        copy = os.path.join(tmpdir_path, "backup.db")
        r = s.cli("backup", copy)
        with lock:
            during = len(acknowledged)
        stop.set()
        for w in workers:
            w.join(timeout=30)
        assert not errors, errors
        assert r.returncode == 0, r.stderr
        assert re.search(r"backed up .* to .*backup\.db: \d+ KiB, 1 user, \d+ grants, \d+ migrations", r.stdout), r.stdout
        assert len(before) >= 100 and during > len(before), (len(before), during)   # approvals went on meanwhile
        assert os.stat(copy).st_mode & 0o777 == 0o600
        with sqlite3.connect(copy) as c:
            approved = {code for (code,) in c.execute("SELECT user_code FROM device_grants WHERE status = 'approved'")}
        missing = [code for code in before if code.replace("-", "") not in approved]     # stored without the dash
        assert not missing, f"{len(missing)} acknowledged approvals are not in the backup"

        # Never over an existing file; never under a running server.
        r = s.cli("backup", copy)
        assert r.returncode == 1 and "already exists" in r.stderr
        r = s.cli("restore", copy)
        assert r.returncode == 1 and "is in use: stop `hallpass serve`" in r.stderr, r.stderr
    finally:
        stop.set()
        s.stop()
    r = subprocess.run([BIN, "restore", copy, "--db", s.db], capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    kept = re.search(r"the database it replaced is kept as (\S+)", r.stdout).group(1)
    assert os.path.exists(kept)
    with sqlite3.connect(s.db) as c:
        restored = c.execute("SELECT count(*) FROM device_grants WHERE status = 'approved'").fetchone()[0]
    with sqlite3.connect(kept) as c:
        replaced = c.execute("SELECT count(*) FROM device_grants WHERE status = 'approved'").fetchone()[0]
    assert len(before) <= restored < replaced


def test_restore_run_as_root_leaves_the_database_to_its_owner(tmpdir_path):
    """`sudo hallpass restore` must not hand the service a database it cannot open."""
    if os.geteuid() != 0:
        import pytest
        pytest.skip("needs root (CI runs as root)")
    os.chmod(tmpdir_path, 0o755)
    db = os.path.join(tmpdir_path, "h.db")
    assert hallpass("users", "list", "--db", db).returncode == 0
    service = 65534     # nobody
    for name in os.listdir(tmpdir_path):
        os.chown(os.path.join(tmpdir_path, name), service, service)
    os.remove(db + ".lock")         # made again by the restore, as root: it must be the owner's too
    copy = os.path.join(tmpdir_path, "copy.db")
    assert hallpass("backup", copy, "--db", db).returncode == 0
    r = hallpass("restore", copy, "--db", db)
    assert r.returncode == 0, r.stderr
    assert (os.stat(db).st_uid, os.stat(db).st_gid) == (service, service)
    assert os.stat(db + ".lock").st_uid == service


# SIGHUP

def test_a_sighup_while_starting_does_not_end_the_server(tmpdir_path):
    port, ssh_port = free_ports(2)
    proc = subprocess.Popen([BIN, "serve", "--db", os.path.join(tmpdir_path, "h.db"), "--listen", f"127.0.0.1:{port}",
                             "--ssh-listen", f"127.0.0.1:{ssh_port}"], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        # From the first line of main (SIGHUP in /proc's SigIgn); before it, the dynamic loader
        # runs, and nothing can be ignored yet.
        deadline = time.time() + 30
        while time.time() < deadline:
            with open(f"/proc/{proc.pid}/status") as f:
                ignored = int(next(line for line in f if line.startswith("SigIgn:")).split()[1], 16)
            if ignored & (1 << (signal.SIGHUP - 1)):
                break
            time.sleep(0.001)
        while time.time() < deadline:       # a reload at every moment of the start
            proc.send_signal(signal.SIGHUP)
            assert proc.poll() is None, proc.stderr.read()
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                    break
            except OSError:
                time.sleep(0.01)
        proc.send_signal(signal.SIGHUP)
        time.sleep(0.5)
        assert proc.poll() is None, proc.stderr.read()
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=15)
    assert proc.returncode == 0


def peer_certificate(port):
    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    with socket.create_connection(("127.0.0.1", port), timeout=10) as raw:
        with context.wrap_socket(raw) as tls:
            return x509.load_der_x509_certificate(tls.getpeercert(binary_form=True))


def wait_for(s, text, timeout=15):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if text in s.output():
            return
        time.sleep(0.1)
    raise AssertionError(f"{text!r} not in the server's output:\n{s.output()}")


def test_sighup_reloads_the_certificate_and_names_changes_that_need_a_restart(tmpdir_path):
    cert, key = make_certificate(tmpdir_path, "live", days=30, common_name="first")
    config = write_config(os.path.join(tmpdir_path, "h.toml"), tls_cert=cert, tls_key=key)
    port = free_ports(1)[0]
    s = Server(tmpdir_path, extra=("--config", config, "--issuer", f"https://127.0.0.1:{port}"), scheme="https", port=port)
    try:
        first = peer_certificate(s.port)
        assert first.subject.rfc4514_string() == "CN=first"
        # Renewed in place, as certbot or an operator would; the server is told with SIGHUP.
        new_cert, new_key = make_certificate(tmpdir_path, "renewed", days=90, common_name="second")
        os.replace(new_cert, cert)
        os.replace(new_key, key)
        s.proc.send_signal(signal.SIGHUP)
        wait_for(s, "reloaded the TLS certificate")
        assert peer_certificate(s.port).subject.rfc4514_string() == "CN=second"
        assert s.proc.poll() is None

        # A key that is not the certificate's is refused; the running pair stays.
        make_certificate(tmpdir_path, "stray", days=90)
        os.replace(os.path.join(tmpdir_path, "stray.key"), key)
        with open(config, "a") as f:
            f.write("http_idle_timeout = 30\n")
        s.proc.send_signal(signal.SIGHUP)
        wait_for(s, "kept the previous TLS certificate")
        wait_for(s, "http_idle_timeout changed: restart hallpass to apply it")
        assert peer_certificate(s.port).subject.rfc4514_string() == "CN=second"
        assert s.proc.poll() is None
    finally:
        s.stop()
