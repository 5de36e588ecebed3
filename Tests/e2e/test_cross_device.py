"""Issue 17: the cross-device BCP's (RFC 10027 / BCP 247) phishing scenario end to end. Two
loopback networks stand for two places: the "attacker" starts a device grant from 127.0.1.5,
the "victim" approves from 127.0.0.1 (another /24). With `warn` the consent screen in tmux says
"a different network"; with `require` the approval is refused and the device gets access_denied;
from the victim's own network it goes through. Plus trusted networks and bound requests."""
import http.client
import json
import time
import urllib.parse

from conftest import ALICE_PASSWORD, approve, start_login
from tui import Tmux

ATTACKER = "127.0.1.5"
VICTIMS_DEVICE = "127.0.0.9"
DEVICE_GRANT = "urn:ietf:params:oauth:grant-type:device_code"


def post_from(source, server, path, fields):
    """A form POST to the server from the loopback address `source` (127.0.0.0/8 is all local)."""
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=30, source_address=(source, 0))
    try:
        conn.request("POST", path, body=urllib.parse.urlencode(fields),
                     headers={"Content-Type": "application/x-www-form-urlencoded"})
        r = conn.getresponse()
        return r.status, json.loads(r.read() or b"{}")
    finally:
        conn.close()


def add_client(server, client_id, *extra):
    r = server.cli("clients", "add", client_id, "--name", client_id.title(), "--public", "--scopes", "read",
                   "--grant", "device_code", "--interval", "1s", *extra)
    assert r.returncode == 0, r.stderr


def test_the_phishing_scenario_is_warned_refused_or_allowed_by_policy(server, tmpdir_path):
    add_client(server, "pi", "--proximity", "require")
    assert "proximity=require" in server.cli("clients", "list").stdout

    # warn (tv's default): the victim's consent screen says where the device is.
    status, started = post_from(ATTACKER, server, "/oauth/device_authorization", {"client_id": "tv", "scope": "read"})
    assert status == 200, started
    t = Tmux(tmpdir_path, ["approve", "--server", server.base])
    try:
        t.log_in("alice", ALICE_PASSWORD)
        t.enter_code(started["user_code"])
        screen = t.wait_for("a different network from yours")
        assert ATTACKER in screen and "If someone sent you" in screen, screen
        assert "[>Deny<]" in screen                                          # Deny still has the focus
    finally:
        t.close()

    # require: refused, and the device is told access_denied.
    status, started = post_from(ATTACKER, server, "/oauth/device_authorization", {"client_id": "pi", "scope": "read"})
    refused = approve(server, started["user_code"])
    assert refused.returncode != 0 and "network the device is on" in refused.stderr, refused.stdout + refused.stderr
    status, answer = post_from(ATTACKER, server, "/oauth/token",
                               {"grant_type": DEVICE_GRANT, "device_code": started["device_code"], "client_id": "pi"})
    assert status == 400 and answer["error"] == "access_denied", answer

    # From the victim's own network (one /24), the same client goes through.
    status, started = post_from(VICTIMS_DEVICE, server, "/oauth/device_authorization", {"client_id": "pi", "scope": "read"})
    assert approve(server, started["user_code"]).returncode == 0
    time.sleep(1.1)
    status, answer = post_from(VICTIMS_DEVICE, server, "/oauth/token",
                               {"grant_type": DEVICE_GRANT, "device_code": started["device_code"], "client_id": "pi"})
    assert status == 200 and "access_token" in answer, answer


def test_trusted_networks_and_bound_requests(server):
    add_client(server, "lab", "--device-networks", "127.0.0.0/24")
    status, answer = post_from(ATTACKER, server, "/oauth/device_authorization", {"client_id": "lab", "scope": "read"})
    assert status == 400 and answer["error"] == "access_denied" and ATTACKER in answer["error_description"], answer
    status, _ = post_from(VICTIMS_DEVICE, server, "/oauth/device_authorization", {"client_id": "lab", "scope": "read"})
    assert status == 200
    bad = server.cli("clients", "add", "x", "--name", "X", "--public", "--scopes", "read", "--device-networks", "10.0.0.1/8")
    assert bad.returncode != 0 and "10.0.0.1/8" in bad.stderr

    # hallpass login --user bob: alice is told the code does not exist; the device keeps waiting.
    proc, code = start_login(server, "--user", "bob", "--json")
    try:
        as_alice = approve(server, code)
        assert as_alice.returncode != 0 and "invalid or expired code" in as_alice.stderr, as_alice.stderr
        assert proc.poll() is None
    finally:
        proc.kill()
        proc.wait()


def test_grants_list_and_revoke_stop_the_device_at_once(server):
    """Detect and remediate: the admin lists alice's live grant with the device as it asked, and
    revoking it makes the refresh fail and introspection say inactive within a second."""
    from conftest import RS_SECRET, approved_login
    import requests
    out = approved_login(server, "--json", "--scope", "read")
    token = json.loads(out.strip().splitlines()[-1])["token"]
    listed = server.cli("grants", "list", "--user", "alice", "--json")
    assert listed.returncode == 0, listed.stderr
    grants = [json.loads(line) for line in listed.stdout.splitlines()]
    assert len(grants) == 1 and grants[0]["client_id"] == "tv" and grants[0]["device_ip"] == "127.0.0.1", grants
    assert grants[0]["approved_via"] == "cli"
    assert "Living-room TV" in server.cli("grants", "list").stdout
    revoked = server.cli("grants", "revoke", grants[0]["id"])
    assert revoked.returncode == 0 and "revoked 1 grant" in revoked.stdout, revoked.stderr
    t0 = time.time()
    seen = requests.post(server.base + "/oauth/introspect", data={"token": token["access_token"]}, auth=("rs", RS_SECRET), timeout=10)
    assert seen.json() == {"active": False} and time.time() - t0 < 1
    refreshed = requests.post(server.base + "/oauth/token", timeout=10, data={
        "grant_type": "refresh_token", "refresh_token": token["refresh_token"], "client_id": "tv"})
    assert refreshed.status_code == 400 and refreshed.json()["error"] == "invalid_grant"
    assert server.cli("grants", "list", "--user", "alice").stdout.strip() == ""
    # The CLI's revocation is in the server's audit trail, on the same chain.
    audit = server.db + ".audit.jsonl"
    events = [json.loads(line) for line in open(audit).read().splitlines()]
    assert any(e["event"] == "revocation" and e.get("detail") == "hallpass grants revoke" and e.get("grant") == grants[0]["id"]
               for e in events), events[-3:]
    import subprocess
    from conftest import BIN
    assert subprocess.run([BIN, "audit", "verify", audit], capture_output=True, timeout=30).returncode == 0
    assert server.cli("grants", "revoke", grants[0]["id"]).returncode != 0          # already gone
    assert server.cli("grants", "revoke").returncode != 0                          # says what to give


def test_the_audit_trail_beside_the_database_verifies_and_names_tampering(server):
    from conftest import approved_login
    approved_login(server, "--json", "--scope", "read")
    path = server.db + ".audit.jsonl"
    lines = open(path).read().splitlines()
    events = [json.loads(line)["event"] for line in lines]
    assert "decision" in events and "token_issued" in events and "login" in events, events
    assert ALICE_PASSWORD not in open(path).read()
    import subprocess
    from conftest import BIN
    ok = subprocess.run([BIN, "audit", "verify", path], capture_output=True, text=True, timeout=30)
    assert ok.returncode == 0 and "the chain is whole" in ok.stdout, ok.stdout + ok.stderr
    with open(path, "w") as f:
        f.write("\n".join(lines[:1] + lines[2:]) + "\n")                         # a line removed
    bad = subprocess.run([BIN, "audit", "verify", path], capture_output=True, text=True, timeout=30)
    assert bad.returncode == 1 and "line 2" in bad.stderr and "removed" in bad.stderr, bad.stderr


def test_revoking_from_your_devices_in_the_tui_stops_the_device_at_once(server, tmpdir_path):
    """Tab on code entry lists alice's devices; Enter asks with Keep focused; Revoke ends the
    grant: introspection says inactive and the device's refresh fails within a second."""
    from conftest import RS_SECRET, approved_login
    import requests
    token = json.loads(approved_login(server, "--json", "--scope", "read").strip().splitlines()[-1])["token"]
    t = Tmux(tmpdir_path, ["approve", "--server", server.base])
    try:
        t.log_in("alice", ALICE_PASSWORD)
        t.wait_for("Tab: your devices")
        t.keys("Tab")
        screen = t.wait_for("Your devices")
        assert "Living-room TV (tv)" in screen and "127.0.0.1" in screen and "(cli)" in screen, screen
        t.keys("Enter")
        screen = t.wait_for("Revoke Living-room TV?")
        assert "[>Keep<]" in screen                                            # the safe choice first
        t.keys("Right", "Enter")
        t.wait_for("Revoked: Living-room TV")
        revoked_at = time.time()
        seen = requests.post(server.base + "/oauth/introspect", data={"token": token["access_token"]},
                             auth=("rs", RS_SECRET), timeout=10).json()
        refreshed = requests.post(server.base + "/oauth/token", timeout=10, data={
            "grant_type": "refresh_token", "refresh_token": token["refresh_token"], "client_id": "tv"})
        assert seen == {"active": False} and refreshed.json()["error"] == "invalid_grant"
        assert time.time() - revoked_at < 1
        t.wait_for("Nothing you approved holds tokens now.")
    finally:
        t.close()


def test_audit_to_standard_output_carries_audit_lines_only(tmpdir_path):
    """`audit_log = "-"`: standard output is the trail alone (for a collector); the banner and the
    --demo password go to standard error, never into the audit stream."""
    import os
    import signal
    import socket
    import subprocess
    from conftest import BIN, free_ports
    port, = free_ports(1)
    proc = subprocess.Popen([BIN, "serve", "--db", os.path.join(tmpdir_path, "h.db"), "--listen", f"127.0.0.1:{port}", "--no-ssh",
                             "--demo"], env={**os.environ, "HALLPASS_AUDIT_LOG": "-"}, cwd=tmpdir_path,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.time() + 60
        while time.time() < deadline:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
                break
            except OSError:
                time.sleep(0.1)
        import urllib.request
        request = urllib.request.Request(f"http://127.0.0.1:{port}/consent/login", headers={"Content-Type": "application/json"},
                                         data=json.dumps({"username": "alice", "password": "not her password"}).encode())
        try:
            urllib.request.urlopen(request, timeout=10)
        except urllib.error.HTTPError as e:
            assert e.code == 401
    finally:
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=30)
    assert "demo user 'alice', password" in err and "hallpass: issuer" in err
    lines = [line for line in out.splitlines() if line]
    assert lines and all(json.loads(line)["hash"] for line in lines), out
    assert json.loads(lines[-1])["event"] == "login" and json.loads(lines[-1])["outcome"] == "failed"
    assert "password" not in out
