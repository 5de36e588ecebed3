"""The HTTP edge as an attacker meets it (issue 13): every malformed request gets its status and a
close within a second, bad bodies are 400s that leave no error in the log, slow clients are cut
off on time, and one address cannot hold more than its share of connections."""
import json
import os
import re
import socket
import time

import pytest

from conftest import Server, setup_accounts

HOST = b"Host: 127.0.0.1\r\n"


def exchange(port, data, source="127.0.0.1", half_close=False, timeout=5.0):
    """Sends `data` on a fresh connection; returns (everything read until the server closed,
    seconds from the last byte sent to the close)."""
    s = socket.create_connection(("127.0.0.1", port), timeout=timeout, source_address=(source, 0))
    try:
        try:
            s.sendall(data)
        except (BrokenPipeError, ConnectionResetError):
            pass  # refused while we were still sending: the answer is still to be read
        sent = time.monotonic()
        if half_close:
            s.shutdown(socket.SHUT_WR)
        received = b""
        while True:
            try:
                chunk = s.recv(65536)
            except ConnectionResetError:
                break
            if not chunk:
                break
            received += chunk
        return received, time.monotonic() - sent
    finally:
        s.close()


def status_of(response):
    m = re.match(rb"HTTP/1\.1 (\d{3}) ", response)
    assert m, response[:200]
    return int(m.group(1))


def error_body(response):
    return json.loads(response.split(b"\r\n\r\n", 1)[1])


@pytest.fixture(scope="module")
def edge(tmp_path_factory):
    tmp = str(tmp_path_factory.mktemp("edge"))
    s = Server(tmp, extra=("--log-level", "debug"),
               env={"HALLPASS_HTTP_HEAD_TIMEOUT": "2", "HALLPASS_HTTP_BODY_TIMEOUT": "2", "HALLPASS_HTTP_IDLE_TIMEOUT": "3"})
    setup_accounts(s)
    yield s
    s.stop()


TOKEN_HEAD = (b"POST /oauth/token HTTP/1.1\r\n" + HOST +
              b"Content-Type: application/x-www-form-urlencoded\r\n")

MALFORMED = [
    ("garbage request line", b"GARBAGE\r\n\r\n", 400),
    ("bare LF line endings", b"GET /.well-known/oauth-authorization-server HTTP/1.1\nHost: x\n\n", 400),
    ("bare CR", b"GET / HTTP/1.1\rHost: x\r\n\r\n", 400),
    ("1 MB header", b"GET / HTTP/1.1\r\n" + HOST + b"X-Big: " + b"a" * 1_000_000 + b"\r\n\r\n", 431),
    ("10,000 headers", b"GET / HTTP/1.1\r\n" + HOST + b"".join(b"X-H%d: v\r\n" % i for i in range(10_000)) + b"\r\n", 431),
    ("1 MB URL", b"GET /" + b"a" * 1_000_000 + b" HTTP/1.1\r\n" + HOST + b"\r\n", 414),
    ("duplicate Content-Length", TOKEN_HEAD + b"Content-Length: 3\r\nContent-Length: 3\r\n\r\na=b", 400),
    ("Content-Length list", TOKEN_HEAD + b"Content-Length: 3, 3\r\n\r\na=b", 400),
    ("negative Content-Length", TOKEN_HEAD + b"Content-Length: -3\r\n\r\na=b", 400),
    ("Content-Length with chunked", TOKEN_HEAD + b"Content-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n3\r\na=b\r\n0\r\n\r\n", 400),
    ("unknown transfer coding", TOKEN_HEAD + b"Transfer-Encoding: gzip\r\n\r\n", 501),
    ("no Host", b"GET /.well-known/oauth-authorization-server HTTP/1.1\r\n\r\n", 400),
    ("two Hosts", b"GET / HTTP/1.1\r\n" + HOST + HOST + b"\r\n", 400),
    ("space before colon", b"GET / HTTP/1.1\r\n" + HOST + b"X-A : b\r\n\r\n", 400),
    ("obsolete line folding", b"GET / HTTP/1.1\r\n" + HOST + b"X-A: b\r\n c\r\n\r\n", 400),
    ("control character in a value", b"GET / HTTP/1.1\r\n" + HOST + b"X-A: b\x01c\r\n\r\n", 400),
    ("HTTP/2.0 over HTTP/1", b"GET / HTTP/2.0\r\n" + HOST + b"\r\n", 505),
    ("NUL in the target", b"GET /\x00 HTTP/1.1\r\n" + HOST + b"\r\n", 400),
]


@pytest.mark.parametrize("name,request_bytes,status", MALFORMED, ids=[m[0] for m in MALFORMED])
def test_malformed_request_gets_its_status_and_a_close_within_a_second(edge, name, request_bytes, status):
    response, seconds = exchange(edge.port, request_bytes)
    assert status_of(response) == status, response[:300]
    assert b"\r\nConnection: close\r\n" in response
    assert b"\r\nCache-Control: no-store\r\n" in response
    assert error_body(response)["error"] == "invalid_request"
    assert seconds < 1.0, f"{name}: closed after {seconds:.2f} s"


BAD_BODIES = [
    ("bad chunk size", TOKEN_HEAD + b"Transfer-Encoding: chunked\r\n\r\nZZ\r\nabc\r\n0\r\n\r\n", False),
    ("chunk longer than its size", TOKEN_HEAD + b"Transfer-Encoding: chunked\r\n\r\n2\r\nabcdef\r\n0\r\n\r\n", False),
    ("body shorter than Content-Length, then half-close", TOKEN_HEAD + b"Content-Length: 100\r\n\r\ngrant_type=x", True),
    ("truncated chunk, then half-close", TOKEN_HEAD + b"Transfer-Encoding: chunked\r\n\r\n20\r\ngrant_type=", True),
]


@pytest.mark.parametrize("name,request_bytes,half_close", BAD_BODIES, ids=[b[0] for b in BAD_BODIES])
def test_bad_body_is_a_400_and_no_error_in_the_log(edge, name, request_bytes, half_close):
    before = edge.output()
    response, seconds = exchange(edge.port, request_bytes, half_close=half_close)
    assert status_of(response) == 400, response[:300]
    assert error_body(response)["error"] == "invalid_request"
    assert seconds < 1.0, f"{name}: closed after {seconds:.2f} s"
    time.sleep(0.2)
    new_lines = edge.output()[len(before):].splitlines()
    # swift-log lines are "TIMESTAMP LEVEL label: message": the level field, not the text.
    assert not [l for l in new_lines if re.match(r"\S+ (error|critical) ", l)], new_lines
    assert any(re.match(r"\S+ debug .*request body unreadable", l) for l in new_lines), new_lines


def test_pipelined_requests_are_answered_in_order_before_the_refusal(edge):
    get = b"GET /.well-known/oauth-authorization-server HTTP/1.1\r\n" + HOST + b"\r\n"
    response, _ = exchange(edge.port, get + get + b"GARBAGE\r\n\r\n")
    statuses = [int(m) for m in re.findall(rb"HTTP/1\.1 (\d{3}) ", response)]
    assert statuses == [200, 200, 400], response[-400:]


@pytest.mark.parametrize("name,head", [
    ("HTTP/1.0", b"GET /livez HTTP/1.0\r\n" + HOST + b"\r\n"),
    ("HTTP/1.1 close", b"GET /livez HTTP/1.1\r\n" + HOST + b"Connection: close\r\n\r\n"),
    ("HTTP/1.1 Close, mixed case", b"GET /livez HTTP/1.1\r\n" + HOST + b"Connection: Close\r\n\r\n"),
])
def test_a_request_that_ends_the_connection_gets_close_at_once(edge, name, head):
    """RFC 9112 §9.3: HTTP/1.0 without keep-alive, or `Connection: close`, ends the connection
    after the answer (text browsers such as w3m read to the close), not at the idle timeout."""
    response, after = exchange(edge.port, head)
    assert status_of(response) == 200, name
    assert re.search(rb"\r\nconnection: close\r\n", response, re.IGNORECASE), response[:300]
    assert after < 1.5, f"{name}: closed {after:.1f} s after the request"


def test_pipelined_requests_each_get_their_own_connection_answer(edge):
    """A kept-alive request, then one that closes, read together: only the second answer says
    close, and both arrive (RFC 9112 §9.6)."""
    keep = b"GET /livez HTTP/1.1\r\n" + HOST + b"\r\n"
    close = b"GET /livez HTTP/1.0\r\n" + HOST + b"\r\n"
    response, after = exchange(edge.port, keep + close)
    answers = response.split(b"HTTP/1.1 ")[1:]
    assert len(answers) == 2, response
    assert b"connection: close" not in answers[0].lower() and b"connection: close" in answers[1].lower()
    assert after < 1.5


def test_http10_keep_alive_is_kept(edge):
    s = socket.create_connection(("127.0.0.1", edge.port), timeout=10)
    try:
        get = b"GET /livez HTTP/1.0\r\n" + HOST + b"Connection: keep-alive\r\n\r\n"
        s.sendall(get)
        received = b""
        while received.count(b"}") < 1:
            received += s.recv(65536)
        s.sendall(get)
        while received.count(b"}") < 2:
            received += s.recv(65536)
        assert received.count(b" 200 OK") == 2
    finally:
        s.close()


def test_a_silent_connection_is_closed_after_the_head_timeout(edge):
    s = socket.create_connection(("127.0.0.1", edge.port), timeout=10)
    start = time.monotonic()
    assert s.recv(100) == b""          # closed without an answer: nothing was asked
    assert 1.5 < time.monotonic() - start < 4
    s.close()


def test_half_a_head_gets_408_after_the_head_timeout(edge):
    start = time.monotonic()
    response, _ = exchange(edge.port, b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ")
    assert status_of(response) == 408
    assert 1.5 < time.monotonic() - start < 4


def test_a_stalled_body_is_cut_off_after_the_body_timeout(edge):
    start = time.monotonic()
    response, _ = exchange(edge.port, TOKEN_HEAD + b"Content-Length: 50\r\n\r\ngrant")
    assert response == b"" or status_of(response) == 400
    assert 1.5 < time.monotonic() - start < 4


def test_an_idle_kept_alive_connection_is_closed_after_the_idle_timeout(edge):
    s = socket.create_connection(("127.0.0.1", edge.port), timeout=10)
    s.sendall(b"GET /.well-known/oauth-authorization-server HTTP/1.1\r\n" + HOST + b"\r\n")
    received = b""
    while b"}" not in received:
        received += s.recv(65536)
    start = time.monotonic()
    assert s.recv(100) == b""
    assert 2.5 < time.monotonic() - start < 5
    s.close()


def rss_kib(pid):
    with open(f"/proc/{pid}/status") as f:
        return int(re.search(r"VmRSS:\s+(\d+)", f.read()).group(1))


def metadata_ok(port, source):
    response, _ = exchange(port, b"GET /.well-known/oauth-authorization-server HTTP/1.1\r\n" + HOST +
                           b"Connection: close\r\n\r\n", source=source)
    return status_of(response) == 200


def slowloris_round(port, count=500):
    """`count` connections from 127.0.0.1, half sending nothing, half half a head. Returns
    (held, refused) once every one has been closed by the server."""
    sockets, refused = [], 0
    for i in range(count):
        s = socket.create_connection(("127.0.0.1", port), timeout=10, source_address=("127.0.0.1", 0))
        if i % 2:
            s.sendall(b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nX-a: ")
        sockets.append(s)
    time.sleep(0.5)
    held = []
    for s in sockets:
        s.setblocking(False)
        try:
            if s.recv(100) == b"":
                refused += 1
                s.close()
                continue
        except BlockingIOError:
            pass
        except ConnectionResetError:
            refused += 1
            s.close()
            continue
        held.append(s)
    return held, refused


def test_slow_connections_from_one_address_are_capped_timed_out_and_forgotten(edge):
    pid = edge.proc.pid
    assert metadata_ok(edge.port, "127.0.0.2")
    baseline = None
    for round_ in range(2):      # the first round warms the allocator up
        if round_ == 1:
            baseline = rss_kib(pid)
        start = time.monotonic()
        held, refused = slowloris_round(edge.port)
        assert len(held) == 256, (len(held), refused)      # http_max_connections_per_address
        assert refused == 500 - 256
        # A client from another address is served while they are held.
        assert metadata_ok(edge.port, "127.0.0.2")
        for s in held:
            s.setblocking(True)
            s.settimeout(10)
            while True:                  # the 408 for half a head, then the close
                try:
                    if not s.recv(65536):
                        break
                except ConnectionResetError:
                    break
            s.close()
        assert time.monotonic() - start < 2 + 3, "held connections outlived the head timeout"
        assert metadata_ok(edge.port, "127.0.0.1")     # the address's slots are free again
    time.sleep(0.5)
    after = rss_kib(pid)
    assert after <= baseline * 1.10, f"RSS {baseline} KiB before, {after} KiB after"
