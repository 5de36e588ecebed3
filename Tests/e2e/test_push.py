"""The push channel (ARCHITECTURE.md §4.3) on the real server: outcomes reach subscribed devices, bad
subscriptions and malformed frames are refused without disturbing other sockets, and
`hallpass login` finishes even when its socket or the whole server goes away."""
import json
import os
import signal
import socket
import ssl
import subprocess
import time
import urllib.error
import urllib.parse
import urllib.request

import pytest

from conftest import Server, add_short_lived_client, approve, device_authorization, get_json, start_login
from ws import WS


def subscribed(s, codes):
    ws = WS(s.port)
    assert ws.status == 101
    ws.subscribe(codes["device_code"])
    first = ws.event()
    assert first["event"] == "subscribed" and 0 < first["expires_in"] <= 600, first
    return ws


def test_metadata_and_the_device_authorization_advertise_push(server):
    meta = get_json(server.base + "/.well-known/oauth-authorization-server")
    assert meta["device_push_endpoint"] == f"ws://127.0.0.1:{server.port}/oauth/device/push"
    assert device_authorization(server.base)["push_uri"] == meta["device_push_endpoint"]


@pytest.mark.parametrize("decision", ["approve", "deny"])
def test_a_decision_reaches_the_subscribed_device_and_push_carries_no_token(server, decision):
    codes = device_authorization(server.base)
    ws = subscribed(server, codes)
    t0 = time.time()
    assert approve(server, codes["user_code"], decision).returncode == 0
    event = ws.event()
    assert event == {"event": "approved" if decision == "approve" else "denied"}
    assert time.time() - t0 < 5
    assert ws.event()["closed"] == 1000
    ws.close()


def test_expiry_reaches_the_subscribed_device(server):
    add_short_lived_client(server, "quick", "Quick", seconds=3)
    codes = device_authorization(server.base, client="quick")
    ws = subscribed(server, codes)
    assert ws.event() == {"event": "expired"}


def test_subscribing_after_the_decision_gets_it_at_once(server):
    codes = device_authorization(server.base)
    assert approve(server, codes["user_code"], "deny").returncode == 0
    ws = subscribed(server, codes)
    assert ws.event() == {"event": "denied"}


def test_bad_subscriptions_are_refused(server):
    codes = device_authorization(server.base)
    other = device_authorization(server.base)
    watcher = subscribed(server, other)                       # must not be disturbed by any of this

    # A device_code in the URL: no upgrade at all (400), and a plain GET gets an OAuth error.
    url = f"/oauth/device/push?device_code={codes['device_code']}"
    assert WS(server.port, path=url).status == 400
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(server.base + url, timeout=10)
    assert refused.value.code == 400 and json.loads(refused.value.read())["error"] == "invalid_request"
    # A user code, a code this server never issued, the wrong key, not JSON, not a string.
    for text, code, reason in [
            (json.dumps({"device_code": codes["user_code"]}), 1008, "unknown device_code"),
            (json.dumps({"device_code": "x" * 43}), 1008, "unknown device_code"),
            (json.dumps({"user_code": codes["user_code"]}), 1003, 'expected {"device_code":"…"}'),
            ("not json", 1003, 'expected {"device_code":"…"}'),
            (json.dumps({"device_code": 5}), 1003, "device_code must be a short string")]:
        ws = WS(server.port)
        ws.send_text(text)
        assert ws.event() == {"closed": code, "reason": reason}, text
        ws.close()
    # Three sockets for one grant: the third is refused.
    a, b = subscribed(server, codes), subscribed(server, codes)
    c = WS(server.port)
    c.subscribe(codes["device_code"])
    assert c.event() == {"closed": 1008, "reason": "too many sockets for this grant"}
    for ws in (a, b, c):
        ws.close()

    assert approve(server, other["user_code"]).returncode == 0
    assert watcher.event() == {"event": "approved"}


def test_upgrades_on_a_kept_alive_connection_are_redirected_and_other_paths_refused(server):
    # Pooling clients (aiohttp) send the upgrade on a connection that already carried a request;
    # they get a 307 to the same path with Connection: close and retry on a fresh connection.
    sock = socket.create_connection(("127.0.0.1", server.port), timeout=10)
    sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
    first = b""
    while b'"ok"' not in first and b"}" not in first:
        first += sock.recv(4096)
    sock.sendall(b"GET /oauth/device/push HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                 b"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n")
    reply = b""
    while chunk := sock.recv(4096):
        reply += chunk                                         # ends: the server closes
    head = reply.split(b"\r\n\r\n")[0].lower()
    assert head.startswith(b"http/1.1 307") and b"location: /oauth/device/push" in head and b"connection: close" in head
    sock.close()
    # An upgrade anywhere but the two push paths is refused with an OAuth error, not upgraded.
    assert WS(server.port, path="/oauth/token").status == 404
    subscribed(server, device_authorization(server.base)).close()  # and a fresh connection upgrades


@pytest.mark.parametrize("name,code", [("oversized", 1009), ("unmasked", 1002), ("high-bit-length", 1002),
                                       ("reserved-opcode", 1002), ("reserved-control-opcode", 1002), ("rsv-bit", 1002),
                                       ("long-ping", 1002), ("invalid-utf8", 1007), ("invalid-utf8-fragmented", 1007)])
def test_malformed_frames_close_only_their_own_socket_with_the_right_code(server, name, code):
    codes = device_authorization(server.base)
    watcher = subscribed(server, codes)
    ws = WS(server.port)
    if name == "oversized":
        ws.send_text(json.dumps({"device_code": "x" * 5000}))
    elif name == "unmasked":
        ws.send_text(json.dumps({"device_code": codes["device_code"]}), mask=False)
    elif name == "high-bit-length":
        ws.send_raw(bytes([0x81, 0x80 | 127]) + bytes([0x80, 0, 0, 0, 0, 0, 0, 0x10]) + os.urandom(4) + b"{}")
    elif name == "reserved-opcode":
        ws.send_raw(ws.frame(b"{}", opcode=3))
    elif name == "reserved-control-opcode":
        ws.send_raw(ws.frame(b"", opcode=0xB))
    elif name == "rsv-bit":
        frame = ws.frame(b"{}")
        ws.send_raw(bytes([frame[0] | 0x40]) + frame[1:])
    elif name == "long-ping":
        ws.send_raw(ws.frame(b"p" * 126, opcode=9))
    elif name == "invalid-utf8":
        ws.send_raw(ws.frame(b'{"device_code":"\xc3\x28"}'))
    else:                                                  # a character split across fragments, never finished
        first = ws.frame(b'{"device_code":"\xe2\x82')
        ws.send_raw(bytes([first[0] & 0x7F]) + first[1:] + ws.frame(b'"}', opcode=0))
    assert ws.close_code() == code
    ws.close()
    assert approve(server, codes["user_code"]).returncode == 0
    assert watcher.event() == {"event": "approved"}
    assert get_json(server.base + "/healthz")


@pytest.mark.parametrize("subscribe", [False, True])
def test_a_client_that_hangs_up_is_let_go_at_once(server, subscribe):
    """The server allows half-closed connections; a push client that shuts its side is closed
    at once (its descriptor, timers and grant slot freed), not when the 10 s first-frame timer
    or the grant's expiry fires."""
    codes = device_authorization(server.base)
    ws = subscribed(server, codes) if subscribe else WS(server.port)
    assert ws.status == 101
    ws.sock.shutdown(socket.SHUT_WR)
    started = time.monotonic()
    ws.sock.settimeout(3)
    try:
        data = ws.sock.recv(65536)
    except ConnectionResetError:
        data = b""
    assert data == b"" and time.monotonic() - started < 1, data
    ws.close()
    # The grant's slot was released: both of its two slots can be taken again.
    first, second = subscribed(server, codes), subscribed(server, codes)
    first.close()
    second.close()


def test_push_over_tls(tmpdir_path):
    """wss: the frame checks run behind TLS (they see frames, not ciphertext)."""
    cert, key = os.path.join(tmpdir_path, "cert.pem"), os.path.join(tmpdir_path, "key.pem")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
                    "-keyout", key, "-out", cert, "-days", "1", "-subj", "/CN=127.0.0.1",
                    "-addext", "subjectAltName=IP:127.0.0.1"], check=True, capture_output=True)
    s = Server(tmpdir_path, extra=["--tls-cert", cert, "--tls-key", key, "--demo"], scheme="https")
    try:
        context = ssl.create_default_context(cafile=cert)
        request = urllib.request.Request(s.base + "/oauth/device_authorization", data=b"client_id=demo-device")
        with urllib.request.urlopen(request, context=context, timeout=10) as r:
            codes = json.loads(r.read())
        ws = WS(s.port, tls_ca=cert)
        assert ws.status == 101
        ws.subscribe(codes["device_code"])
        assert ws.event()["event"] == "subscribed"
        ws.send_raw(ws.frame(b"", opcode=3))
        assert ws.close_code() == 1002
        ws.close()
    finally:
        s.stop()


def test_login_waits_on_push_and_redeems_long_before_its_next_poll(server):
    r = server.cli("clients", "add", "patient", "--name", "Patient", "--public", "--scopes", "openid", "--interval", "60s")
    assert r.returncode == 0, r.stderr
    proc, code = start_login(server, "--json", client="patient")
    time.sleep(1.0)                                            # the device is now waiting on its socket
    t0 = time.time()
    assert approve(server, code).returncode == 0
    out, _ = proc.communicate(timeout=50)
    assert proc.returncode == 0
    assert json.loads(out.strip().splitlines()[-1])["event"] == "approved"
    assert time.time() - t0 < 30                              # its first poll would be at 60 s


def test_login_survives_a_killed_socket_and_a_server_restart(tmpdir_path):
    s = Server(tmpdir_path)
    try:
        from conftest import setup_accounts
        setup_accounts(s)
        proc, code = start_login(s, "--json")
        time.sleep(1.0)
        port = s.port
        s.proc.send_signal(signal.SIGKILL)                     # every socket dies with it
        s.proc.wait()
        time.sleep(1.0)
        s.log.close()
        s2 = Server(tmpdir_path, port=port)
        try:
            assert approve(s2, code).returncode == 0
            out, _ = proc.communicate(timeout=30)
            assert proc.returncode == 0, out
            assert json.loads(out.strip().splitlines()[-1])["event"] == "approved"
        finally:
            s2.stop()
    finally:
        if s.proc.poll() is None:
            s.stop()
