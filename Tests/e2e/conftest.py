"""Fixtures that run the real `hallpass` binary on loopback, on a throwaway database."""
import json
import os
import re
import shutil
import signal
import socket
import sqlite3
import subprocess
import tempfile
import time
import uuid
import urllib.parse
import urllib.request

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BIN = os.environ.get("HALLPASS_BIN", os.path.join(ROOT, ".build", "debug", "hallpass"))


def free_port():
    return free_ports(1)[0]


def free_ports(n, avoid=()):
    """`n` distinct free loopback ports (all held open while choosing, so no two are the same)."""
    held = []
    try:
        while len(held) < n:
            s = socket.socket()
            s.bind(("127.0.0.1", 0))
            if s.getsockname()[1] in avoid:
                s.close()
                continue
            held.append(s)
        return [s.getsockname()[1] for s in held]
    finally:
        for s in held:
            s.close()


def run(args, db, stdin=None, timeout=60):
    """Runs one hallpass command against `db`; returns the CompletedProcess."""
    return subprocess.run([BIN, *args, "--db", db] if args[0] not in ("approve", "login") else [BIN, *args],
                          input=stdin, capture_output=True, text=True, timeout=timeout)


class Server:
    def __init__(self, tmp, extra=(), scheme="http", issuer_path="", port=None, db=None, avoid=(), env=None):
        self.tmp = tmp
        self.db = db or os.path.join(tmp, "hallpass.db")
        # A port chosen free can be taken by someone else before the server binds it: then
        # choose again (unless the test asked for that port).
        for attempt in range(3):
            if port:
                self.port, self.ssh_port = port, free_ports(1, avoid=(port, *avoid))[0]
            else:
                self.port, self.ssh_port = free_ports(2, avoid=avoid)
            self.base = f"{scheme}://127.0.0.1:{self.port}{issuer_path}"
            self.log = open(os.path.join(tmp, "serve.log"), "w+")
            # Every server writes its access log: Server.stop checks that no secret reached it.
            self.proc = subprocess.Popen([BIN, "serve", "--db", self.db, "--listen", f"127.0.0.1:{self.port}",
                                          "--ssh-listen", f"127.0.0.1:{self.ssh_port}", "--access-log", *extra],
                                         stdout=self.log, stderr=subprocess.STDOUT, cwd=tmp,  # files it makes stay in tmp
                                         env={**os.environ, **(env or {})})
            try:
                self.wait_ready(scheme)
                return
            except RuntimeError as e:
                if "Address already in use" not in str(e) or attempt == 2:
                    raise

    def wait_ready(self, scheme):
        deadline = time.time() + 60
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError("hallpass serve exited: " + self.output())
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.5):
                    return
            except OSError:
                time.sleep(0.1)
        raise RuntimeError("hallpass serve did not start: " + self.output())

    def output(self):
        self.log.flush()
        self.log.seek(0)
        return self.log.read()

    def cli(self, *args, stdin=None):
        return run(list(args), self.db, stdin=stdin)

    def stop(self):
        if self.log.closed:     # stopped already (a test may stop a server before its fixture does)
            return
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        output = self.output()
        self.log.close()
        # Every server runs Swift concurrency on NIO's event loops (EventLoopExecutor); the
        # release binary once lost that silently, at half the throughput.
        assert "runs on its own thread pool" not in output, output
        # No secret a test sent or received through the helpers below ever reaches a log (issue 21).
        leaked = sorted(secret for secret in SECRETS if secret in output)
        assert not leaked, f"{len(leaked)} secrets in the server's log, e.g. {leaked[0][:6]}…"


@pytest.fixture
def tmpdir_path():
    d = tempfile.mkdtemp(prefix="hallpass-e2e-")
    yield d
    shutil.rmtree(d, ignore_errors=True)


@pytest.fixture
def server(tmpdir_path):
    s = Server(tmpdir_path)
    setup_accounts(s)
    yield s
    s.stop()


def fresh_postgres_database():
    """A new, empty database on the test PostgreSQL (scripts/test.sh starts one); its URL."""
    base = os.environ.get("HALLPASS_TEST_POSTGRES")
    assert base, "HALLPASS_TEST_POSTGRES is not set: run scripts/test.sh (PostgreSQL tests never skip)"
    name = "e2e_" + uuid.uuid4().hex
    r = subprocess.run(["psql", base, "-qc", f"CREATE DATABASE {name}"], capture_output=True, text=True, timeout=30)
    assert r.returncode == 0, r.stderr
    return base.rsplit("/", 1)[0] + "/" + name


@pytest.fixture
def pg_server(tmpdir_path):
    s = Server(tmpdir_path, db=fresh_postgres_database())
    setup_accounts(s)
    yield s
    s.stop()


ALICE_PASSWORD = "alice-password-123"
RS_SECRET = "resource-server-secret-0123456789"


def setup_accounts(s):
    """Registers clients, scopes and a user through the CLI while the server runs."""
    for name, text in [("openid", "Confirm who you are"), ("profile", "See your user name"),
                       ("read", "Read your data"), ("write", "Change your data")]:
        r = s.cli("scopes", "add", name, "--description", text)
        assert r.returncode == 0, r.stderr
    r = s.cli("clients", "add", "tv", "--name", "Living-room TV", "--public", "--scopes", "openid profile read write",
              "--grant", "device_code", "--grant", "refresh_token", "--interval", "1s")
    assert r.returncode == 0, r.stderr
    r = s.cli("clients", "add", "rs", "--name", "Resource server", "--secret-stdin", "--scopes", "read",
              "--grant", "device_code", "--introspect", stdin=RS_SECRET + "\n")
    assert r.returncode == 0, r.stderr
    r = s.cli("users", "add", "alice", "--password-stdin", stdin=ALICE_PASSWORD + "\n")
    assert r.returncode == 0, r.stderr


def approve(s, code, decision="approve", scope=None, password=ALICE_PASSWORD):
    args = ["approve", "--server", s.base, "--user", "alice", "--password-stdin", "--code", code, "--decision", decision]
    if scope:
        args += ["--scope", scope]
    return run(args, s.db, stdin=password + "\n")


def add_short_lived_client(s, client_id, name, seconds):
    """A public client whose codes live `seconds` (below the CLI's 60 s minimum, set in the
    store directly, to keep expiry tests quick)."""
    r = s.cli("clients", "add", client_id, "--name", name, "--public", "--scopes", "openid", "--code-lifetime", "60s")
    assert r.returncode == 0, r.stderr
    with sqlite3.connect(s.db) as db:
        db.execute("UPDATE clients SET code_lifetime = ? WHERE id = ?", (seconds, client_id))


def start_login(s, *extra, client="tv"):
    """Starts `hallpass login` in the background; returns (process, user_code)."""
    proc = subprocess.Popen([BIN, "login", "--server", s.base, "--client-id", client, *extra],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.time() + 30
    lines = []
    while time.time() < deadline:
        line = proc.stdout.readline()
        if not line:
            break
        lines.append(line)
        m = re.search(r"\b([BCDFGHJKLMNPQRSTVWXZ]{4}-[BCDFGHJKLMNPQRSTVWXZ]{4})\b", line)
        if m:
            return proc, m.group(1)
    proc.kill()
    raise AssertionError("login printed no code: " + "".join(lines) + proc.stderr.read())


def approved_login(s, *extra):
    """`hallpass login` approved through the CLI: asserts it finished; its standard output."""
    proc, code = start_login(s, *extra)
    assert approve(s, code).returncode == 0
    out, err = proc.communicate(timeout=30)
    assert proc.returncode == 0, err
    return out


# Every secret the tests sent or received through the helpers below (and the fixed ones), for
# Server.stop to look for in each server's log: passwords, codes, tokens, sessions.
SECRETS = {ALICE_PASSWORD, RS_SECRET}
SECRET_FIELDS = {"password", "client_secret", "device_code", "user_code", "access_token", "refresh_token", "id_token",
                 "code", "code_verifier", "session", "auth_req_id", "token"}


def remember_secrets(value, key=None):
    if isinstance(value, dict):
        for k, v in value.items():
            remember_secrets(v, k)
    elif isinstance(value, (list, tuple)):
        for v in value:
            remember_secrets(v, key)
    elif isinstance(value, str) and key in SECRET_FIELDS and len(value) >= 8:
        SECRETS.add(value)
        if key == "user_code":
            SECRETS.add(value.replace("-", ""))


def post_form(url, fields):
    """POSTs a form; the JSON answer (an HTTP error status raises)."""
    remember_secrets(fields)
    with urllib.request.urlopen(url, data=urllib.parse.urlencode(fields).encode(), timeout=30) as r:
        answer = json.loads(r.read())
    remember_secrets(answer)
    return answer


def post_json(url, body, session=None):
    """POSTs JSON (with a consent session as bearer); the JSON answer (an error status raises)."""
    remember_secrets(body)
    headers = {"Content-Type": "application/json"}
    if session:
        headers["Authorization"] = f"Bearer {session}"
    request = urllib.request.Request(url, data=json.dumps(body).encode(), headers=headers)
    with urllib.request.urlopen(request, timeout=30) as r:
        answer = json.loads(r.read())
    remember_secrets(answer)
    return answer


def device_authorization(base, client="tv", scope="openid"):
    """RFC 8628 §3.1 at the server whose issuer is `base`."""
    return post_form(base + "/oauth/device_authorization", {"client_id": client, "scope": scope})


def get_json(url):
    with urllib.request.urlopen(url, timeout=10) as r:
        return json.loads(r.read())
