"""CIBA (issue 19) with the real binary: a confidential client asks for alice by
name with a binding message, `approve --inbox` decides it by that message, and the polled tokens
verify with PyJWT against the server's JWKS; the endpoint's refusals on the wire."""
import base64
import hashlib
import json
import re
import time
import urllib.error
import urllib.parse
import urllib.request

import jwt
import pytest

from conftest import ALICE_PASSWORD, get_json, run, start_login

GRANT = "urn:openid:params:grant-type:ciba"


def post(url, fields, secret, client="build-box"):
    auth = base64.b64encode(f"{client}:{secret}".encode()).decode()
    request = urllib.request.Request(url, data=urllib.parse.urlencode(fields).encode(), headers={"Authorization": f"Basic {auth}"})
    try:
        with urllib.request.urlopen(request, timeout=30) as r:
            return r.status, json.loads(r.read())
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read())


def post_as(server, client, secret, fields):
    return post(server.base + "/oauth/token", fields, secret, client=client)


@pytest.fixture
def ciba_client(server):
    refused = server.cli("clients", "add", "public-box", "--name", "Box", "--public", "--grant", "ciba")
    assert refused.returncode == 1 and "confidential" in refused.stderr, refused.stderr
    r = server.cli("clients", "add", "build-box", "--name", "Build box", "--generate-secret", "--scopes", "openid profile read",
                   "--grant", "ciba", "--interval", "1s")
    assert r.returncode == 0, r.stderr
    return re.search(r"client_secret: (\S+)", r.stdout).group(1)


def test_a_request_by_name_is_decided_from_the_inbox_by_its_binding_message(server, ciba_client):
    meta = get_json(server.base + "/.well-known/openid-configuration")
    assert meta["backchannel_token_delivery_modes_supported"] == ["poll", "ping", "push"]
    assert meta["backchannel_user_code_parameter_supported"] is False and GRANT in meta["grant_types_supported"]
    endpoint = meta["backchannel_authentication_endpoint"]
    status, other = post(endpoint, {"scope": "openid", "login_hint": "alice", "binding_message": "first request"}, ciba_client)
    assert status == 200
    status, made = post(endpoint, {"scope": "openid profile", "login_hint": "alice", "binding_message": "K7 on build-01"}, ciba_client)
    assert status == 200 and made["interval"] == 1 and made["expires_in"] > 0, made
    status, pending = post(meta["token_endpoint"], {"grant_type": GRANT, "auth_req_id": made["auth_req_id"]}, ciba_client)
    assert status == 400 and pending["error"] == "authorization_pending", pending

    # The push hint: the socket at push_uri follows the request by its auth_req_id.
    assert made["push_uri"] == server.base.replace("http://", "ws://") + "/oauth/device/push", made
    from ws import WS
    ws = WS(server.port)
    ws.send_text(json.dumps({"auth_req_id": made["auth_req_id"]}))
    assert ws.event()["event"] == "subscribed"

    base = ["approve", "--server", server.base, "--user", "alice", "--password-stdin", "--inbox", "--decision", "approve"]
    nothing = run(base + ["--binding-message", "no such message"], server.db, stdin=ALICE_PASSWORD + "\n")
    assert nothing.returncode == 1 and "no request in your inbox" in nothing.stderr, nothing.stderr
    decided = run(base + ["--binding-message", "K7 on build-01"], server.db, stdin=ALICE_PASSWORD + "\n")
    assert decided.returncode == 0 and "the device shows: K7 on build-01" in decided.stderr, decided.stderr
    assert ws.event() == {"event": "approved"}
    ws.close()

    status, token = post(meta["token_endpoint"], {"grant_type": GRANT, "auth_req_id": made["auth_req_id"]}, ciba_client)
    assert status == 200, token
    key = jwt.PyJWKClient(meta["jwks_uri"]).get_signing_key_from_jwt(token["id_token"])
    claims = jwt.decode(token["id_token"], key.key, algorithms=["RS256", "EdDSA", "ES256"], audience="build-box", issuer=meta["issuer"])
    assert claims["preferred_username"] == "alice" and claims["amr"] == ["pwd"]
    # The other request is still waiting; denying the oldest from the inbox ends it.
    denied = run(base[:-1] + ["deny"], server.db, stdin=ALICE_PASSWORD + "\n")
    assert denied.returncode == 0 and "denied" in denied.stdout, denied.stderr
    status, gone = post(meta["token_endpoint"], {"grant_type": GRANT, "auth_req_id": other["auth_req_id"]}, ciba_client)
    assert status == 400 and gone["error"] == "access_denied", gone


def test_the_endpoint_refuses_on_the_wire(server, ciba_client):
    endpoint = server.base + "/oauth/bc-authorize"
    for fields, code in [({"scope": "openid", "login_hint": "alice", "binding_message": "a\x1b[2Jb"}, "invalid_binding_message"),
                         ({"scope": "openid", "login_hint": "alice", "binding_message": "x" * 65}, "invalid_binding_message"),
                         ({"scope": "read", "login_hint": "alice"}, "invalid_scope"),
                         ({"scope": "openid", "id_token_hint": "eyJ"}, "invalid_request"),
                         ({"scope": "openid", "login_hint": "alice", "user_code": "1234"}, "invalid_request")]:
        status, body = post(endpoint, fields, ciba_client)
        assert status == 400 and body["error"] == code, (fields, body)
    status, body = post(endpoint, {"scope": "openid", "login_hint": "alice"}, "wrong-secret")
    assert status == 401 and body["error"] == "invalid_client"


from test_ssh import keys, ssh  # noqa: E402,F401 (fixtures)
from tui import Tmux  # noqa: E402


@pytest.fixture
def tui(server, tmpdir_path):
    sessions = []

    def open_tui(*extra):
        t = Tmux(tmpdir_path, ["approve", "--server", server.base, *extra])
        sessions.append(t)
        return t
    yield open_tui
    for t in sessions:
        t.close()


def ask(server, secret, message, expiry=None):
    fields = {"scope": "openid", "login_hint": "alice", "binding_message": message}
    if expiry:
        fields["requested_expiry"] = str(expiry)
    status, made = post(server.base + "/oauth/bc-authorize", fields, secret)
    assert status == 200, made
    return made["auth_req_id"]


def test_a_request_appears_on_an_open_screen_within_a_second_and_is_approved_there(server, ciba_client, tui):
    t = tui()
    t.log_in("alice", ALICE_PASSWORD)
    started = time.time()
    auth_req_id = ask(server, ciba_client, "K7 on build-01")
    t.wait_for("Build box asks for you", timeout=3)
    assert time.time() - started < 2.5
    assert "1 waiting" in t.screen()
    t.keys("F4")
    t.wait_for("Requests for you")
    t.keys("Enter")
    t.wait_for("Check that your device shows: “K7 on build-01”")
    t.keys("Right")
    t.keys("Enter")
    t.wait_for("Approved")
    status, token = post(server.base + "/oauth/token", {"grant_type": GRANT, "auth_req_id": auth_req_id}, ciba_client)
    assert status == 200 and "id_token" in token, token


def test_a_request_never_steals_the_screen_and_expires_from_it(server, ciba_client, tui):
    proc, code = start_login(server, "--json")
    t = tui()
    t.log_in("alice", ALICE_PASSWORD)
    t.enter_code(code)
    t.wait_for("You are authorizing a device")
    ask(server, ciba_client, "short-lived", expiry=10)
    t.wait_for("1 waiting", timeout=3)
    assert "You are authorizing a device" in t.screen() and "Living-room TV" in t.screen()
    t.keys("Escape")
    t.wait_for("Build box asks for you")
    # Ten seconds later it has expired: gone from the banner and the count.
    t.wait_until(lambda screen: "asks for you" not in screen and "waiting" not in screen, "the request expire", timeout=15)
    proc.kill()


def test_an_ssh_sessions_screen_has_the_inbox_too(server, ciba_client, keys, ssh):  # noqa: F811
    t = ssh(keys["alice"])
    t.wait_for("Enter the code shown on the device")
    ask(server, ciba_client, "via ssh")
    t.wait_for("Build box asks for you", timeout=3)
    t.keys("F4")
    t.keys("Enter")
    t.wait_for("Check that your device shows: “via ssh”")


def test_ping_and_push_reach_a_loopback_notification_endpoint(server):
    import http.server
    import threading
    received = []

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_POST(self):
            received.append((self.path, self.headers["Authorization"], json.loads(self.rfile.read(int(self.headers["Content-Length"])))))
            if self.path == "/redirect":                      # §10.2: the OP MUST NOT follow it
                self.send_response(307)
                self.send_header("Location", "/target")
                self.send_header("Content-Length", "0")
            else:
                self.send_response(204)
            self.end_headers()

        def log_message(self, *args):
            pass
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    try:
        secrets = {}
        for mode in ("ping", "push"):
            r = server.cli("clients", "add", f"{mode}-box", "--name", f"{mode} box", "--generate-secret", "--scopes", "openid",
                           "--grant", "ciba", "--grant", "refresh_token", "--ciba-mode", mode, "--ciba-notification-endpoint",
                           f"http://127.0.0.1:{httpd.server_address[1]}/{mode}")
            assert r.returncode == 0, r.stderr
            secrets[mode] = re.search(r"client_secret: (\S+)", r.stdout).group(1)
        bad = server.cli("clients", "add", "x-box", "--name", "x", "--generate-secret", "--grant", "ciba", "--ciba-mode", "ping")
        assert bad.returncode == 1 and "--ciba-notification-endpoint" in bad.stderr
        bound = server.cli("clients", "add", "y-box", "--name", "y", "--generate-secret", "--grant", "ciba", "--ciba-mode", "push",
                           "--ciba-notification-endpoint", "https://y.example/cb", "--require-dpop")
        assert bound.returncode == 1 and "--require-dpop" in bound.stderr, bound.stderr
        ids = {}
        for mode, secret in secrets.items():
            auth = base64.b64encode(f"{mode}-box:{secret}".encode()).decode()
            request = urllib.request.Request(server.base + "/oauth/bc-authorize", headers={"Authorization": f"Basic {auth}"},
                                             data=urllib.parse.urlencode({"scope": "openid", "login_hint": "alice", "binding_message": mode,
                                                                          "client_notification_token": f"token-{mode}"}).encode())
            with urllib.request.urlopen(request, timeout=10) as r:
                ids[mode] = json.loads(r.read())["auth_req_id"]
            decided = run(["approve", "--server", server.base, "--user", "alice", "--password-stdin", "--inbox", "--decision", "approve",
                           "--binding-message", mode], server.db, stdin=ALICE_PASSWORD + "\n")
            assert decided.returncode == 0, decided.stderr
        deadline = time.time() + 10
        while len(received) < 2 and time.time() < deadline:
            time.sleep(0.05)
        by_path = {path: (bearer, body) for path, bearer, body in received}
        assert by_path["/ping"] == ("Bearer token-ping", {"auth_req_id": ids["ping"]})
        bearer, pushed = by_path["/push"]
        assert bearer == "Bearer token-push" and pushed["auth_req_id"] == ids["push"] and "id_token" in pushed, pushed
        key = jwt.PyJWKClient(server.base + "/oauth/jwks.json").get_signing_key_from_jwt(pushed["access_token"])
        assert jwt.decode(pushed["access_token"], key.key, algorithms=["EdDSA", "ES256"], audience=server.base)["client_id"] == "push-box"
        # CIBA §10.3.1: the pushed ID token binds the access token, the refresh token and the request.
        keys = jwt.PyJWKClient(server.base + "/oauth/jwks.json")
        id_claims = jwt.decode(pushed["id_token"], keys.get_signing_key_from_jwt(pushed["id_token"]).key,
                               algorithms=["RS256", "EdDSA", "ES256"], audience="push-box", issuer=server.base)
        alg = jwt.get_unverified_header(pushed["id_token"])["alg"]

        def half_hash(token):
            digest = (hashlib.sha512 if alg == "EdDSA" else hashlib.sha256)(token.encode()).digest()
            return base64.urlsafe_b64encode(digest[:len(digest) // 2]).rstrip(b"=").decode()
        assert id_claims["urn:openid:params:jwt:claim:auth_req_id"] == ids["push"], id_claims
        assert id_claims["at_hash"] == half_hash(pushed["access_token"])
        assert id_claims["urn:openid:params:jwt:claim:rt_hash"] == half_hash(pushed["refresh_token"])

        # Undecided until it runs out (10 s): push says expired_token, ping pings, each once.
        received.clear()
        for mode, secret in secrets.items():
            auth = base64.b64encode(f"{mode}-box:{secret}".encode()).decode()
            request = urllib.request.Request(server.base + "/oauth/bc-authorize", headers={"Authorization": f"Basic {auth}"},
                                             data=urllib.parse.urlencode({"scope": "openid", "login_hint": "alice", "requested_expiry": "10",
                                                                          "client_notification_token": f"late-{mode}"}).encode())
            with urllib.request.urlopen(request, timeout=10) as r:
                ids[mode] = json.loads(r.read())["auth_req_id"]
        deadline = time.time() + 25
        while len(received) < 2 and time.time() < deadline:
            time.sleep(0.1)
        by_path = {path: (bearer, body) for path, bearer, body in received}
        assert by_path["/ping"] == ("Bearer late-ping", {"auth_req_id": ids["ping"]}), received
        assert by_path["/push"][0] == "Bearer late-push" and by_path["/push"][1]["error"] == "expired_token", received
        assert by_path["/push"][1]["auth_req_id"] == ids["push"]
        status, polled = post_as(server, "ping-box", secrets["ping"], {"grant_type": GRANT, "auth_req_id": ids["ping"]})
        assert status == 400 and polled["error"] == "expired_token", polled
        time.sleep(6)                                         # one more claim round: nothing is announced twice
        assert len(received) == 2, received

        # A redirecting notification endpoint: three tries, each answered 307, none followed.
        received.clear()
        r = server.cli("clients", "add", "redir-box", "--name", "redir box", "--generate-secret", "--scopes", "openid", "--grant", "ciba",
                       "--ciba-mode", "ping", "--ciba-notification-endpoint", f"http://127.0.0.1:{httpd.server_address[1]}/redirect")
        assert r.returncode == 0, r.stderr
        status, made = post(server.base + "/oauth/bc-authorize", {"scope": "openid", "login_hint": "alice", "binding_message": "redir",
                                                                   "client_notification_token": "t-r"},
                            re.search(r"client_secret: (\S+)", r.stdout).group(1), client="redir-box")
        assert status == 200, made
        decided = run(["approve", "--server", server.base, "--user", "alice", "--password-stdin", "--inbox", "--decision", "approve",
                       "--binding-message", "redir"], server.db, stdin=ALICE_PASSWORD + "\n")
        assert decided.returncode == 0, decided.stderr
        deadline = time.time() + 10
        while len(received) < 3 and time.time() < deadline:
            time.sleep(0.1)
        time.sleep(1.5)
        assert [path for path, _, _ in received] == ["/redirect"] * 3, received
    finally:
        httpd.shutdown()


def test_hallpass_login_with_a_secret_asks_the_person_directly(server, ciba_client):
    import subprocess
    from conftest import BIN
    proc = subprocess.Popen([BIN, "login", "--server", server.base, "--client-id", "build-box", "--client-secret-stdin",
                             "--user", "alice", "--json"], stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    proc.stdin.write(ciba_client + "\n")
    proc.stdin.close()
    first = json.loads(proc.stdout.readline())
    assert first["event"] == "backchannel" and first["user"] == "alice", first
    assert re.fullmatch(r"HP-[BCDFGHJKLMNPQRSTVWXZ]{4}", first["binding_message"]), first
    decided = run(["approve", "--server", server.base, "--user", "alice", "--password-stdin", "--inbox", "--decision", "approve",
                   "--binding-message", first["binding_message"]], server.db, stdin=ALICE_PASSWORD + "\n")
    assert decided.returncode == 0, decided.stderr
    proc.wait(timeout=30)
    out, err = proc.stdout.read(), proc.stderr.read()
    assert proc.returncode == 0, err
    approved = json.loads(out.strip().splitlines()[-1])
    assert approved["event"] == "approved" and "id_token" in approved["token"], approved
    # A secret for a client the server does not let use CIBA: the code of a device grant, bound to alice.
    r = server.cli("clients", "add", "plain-box", "--name", "Plain box", "--generate-secret", "--scopes", "openid")
    assert r.returncode == 0, r.stderr
    secret = re.search(r"client_secret: (\S+)", r.stdout).group(1)
    proc = subprocess.Popen([BIN, "login", "--server", server.base, "--client-id", "plain-box", "--client-secret-stdin",
                             "--user", "alice", "--json"], stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    proc.stdin.write(secret + "\n")
    proc.stdin.close()
    first = json.loads(proc.stdout.readline())
    proc.kill()
    assert first["event"] == "code" and re.fullmatch(r"[BCDFGHJKLMNPQRSTVWXZ]{4}-[BCDFGHJKLMNPQRSTVWXZ]{4}", first["user_code"]), first


def test_a_request_made_on_one_replica_reaches_alices_screen_on_the_other(tmpdir_path):
    """Two replicas on one PostgreSQL: a request made on A is announced on the event bus
    (NOTIFY), so B's inbox socket says `inbox` at once and alice's screen on B shows it within
    a second; she approves it there and A hands the device its tokens."""
    import os

    from conftest import post_json
    from test_replicas import Replicas
    from ws import WS
    for sub in ("a", "b"):
        os.makedirs(os.path.join(tmpdir_path, sub))
    r = Replicas(tmpdir_path)
    try:
        a, b = r.a, r.b
        added = a.cli("clients", "add", "build-box", "--name", "Build box", "--generate-secret", "--scopes", "openid",
                      "--grant", "ciba", "--interval", "1s")
        assert added.returncode == 0, added.stderr
        secret = re.search(r"client_secret: (\S+)", added.stdout).group(1)

        def ask_a(message):
            status, made = post(f"http://127.0.0.1:{a.port}/oauth/bc-authorize",
                                {"scope": "openid", "login_hint": "alice", "binding_message": message}, secret)
            assert status == 200, made
            return made["auth_req_id"]

        # On the wire: B's socket on alice's inbox hears of A's request.
        session = post_json(f"http://127.0.0.1:{b.port}/consent/login", {"username": "alice", "password": ALICE_PASSWORD})["session"]
        ws = WS(b.port, path="/consent/events")
        assert ws.status == 101
        ws.send_text(json.dumps({"session": session, "watch": "inbox"}))
        assert ws.event()["event"] == "subscribed"
        started = time.perf_counter()
        first = ask_a("first via A")
        assert ws.event() == {"event": "inbox"}
        delay = (time.perf_counter() - started) * 1000
        print(f"A's request → B's inbox socket: {delay:.1f} ms")
        assert delay < 1000, delay
        ws.close()

        # On the screen: alice's TUI on B counts a second request from A within a second.
        t = Tmux(tmpdir_path, ["approve", "--server", f"http://127.0.0.1:{b.port}"])
        try:
            t.log_in("alice", ALICE_PASSWORD)
            t.wait_for("1 waiting", timeout=3)
            started = time.time()
            ask_a("second via A")
            t.wait_for("2 waiting", timeout=3)
            assert time.time() - started < 1.5
            t.keys("F4")
            t.wait_for("Requests for you")
            t.keys("Enter")
            t.wait_for("Check that your device shows: “first via A”")
            t.keys("Right")
            t.keys("Enter")
            t.wait_for("Approved")
        finally:
            t.close()
        status, token = post(f"http://127.0.0.1:{a.port}/oauth/token", {"grant_type": GRANT, "auth_req_id": first}, secret)
        assert status == 200 and "id_token" in token, token
    finally:
        r.stop()
