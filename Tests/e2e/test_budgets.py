"""Login budgets no stranger can aim (issue 13, README "Login budgets"), on the real binary:
wrong passwords lock only the (name, address) pair that failed; names and addresses throttle.
Client addresses are real loopback source addresses (all of 127.0.0.0/8 is local)."""
import http.client
import json
import time
import urllib.request

from conftest import ALICE_PASSWORD


def logins(server, source, attempts):
    """Consent-API logins over one keep-alive connection from `source`; [(status, body, headers)]."""
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=30, source_address=(source, 0))
    answers = []
    try:
        for name, password in attempts:
            conn.request("POST", "/consent/login", body=json.dumps({"username": name, "password": password}),
                         headers={"Content-Type": "application/json"})
            r = conn.getresponse()
            answers.append((r.status, json.loads(r.read() or b"{}"), dict(r.getheaders())))
    finally:
        conn.close()
    return answers


def test_an_attacker_failing_100_times_for_alice_gets_5_guesses_and_alice_still_gets_in(server):
    answers = logins(server, "127.0.0.2", [("alice", f"guess-{i}") for i in range(100)] + [("alice", ALICE_PASSWORD)])
    statuses = [status for status, _, _ in answers]
    assert statuses == [401] * 5 + [429] * 96, statuses
    status, body, headers = answers[-1]
    assert body["error"] == "too_many_attempts" and "from your address" in body["error_description"], body
    assert 890 <= int(headers["Retry-After"]) <= 900, headers
    # alice, from her own address, with her password.
    status, body, _ = logins(server, "127.0.0.3", [("alice", ALICE_PASSWORD)])[0]
    assert status == 200 and body["session"].startswith("cs_"), body
    # The attacker's refused tries were not counted: the metrics say 5 failed, 96 refused.
    with urllib.request.urlopen(server.base + "/metrics", timeout=10) as r:
        metrics = r.read().decode()
    assert "hallpass_failed_logins_total 5" in metrics and "hallpass_refused_logins_total 96" in metrics, metrics


def test_30_honest_users_behind_one_address_each_log_in_after_one_typo(server):
    for i in range(30):
        r = server.cli("users", "add", f"user{i}", "--password-stdin", stdin="office password\n")
        assert r.returncode == 0, r.stderr
    attempts = []
    for i in range(30):
        attempts += [(f"user{i}", "office pasword"), (f"user{i}", "office password")]
    statuses = [status for status, _, _ in logins(server, "127.0.0.4", attempts)]
    assert statuses == [401, 200] * 30, statuses


def test_many_addresses_guessing_alice_are_throttled_and_alice_at_home_is_not(server):
    # alice has logged in from home before; then 12 addresses each guess once.
    assert logins(server, "127.0.0.5", [("alice", ALICE_PASSWORD)])[0][0] == 200
    statuses = [logins(server, f"127.0.1.{i}", [("alice", "guess")])[0][0] for i in range(12)]
    # 10 guesses per name are free, then each next one waits 1, 2, 4 … 60 s after the last.
    assert statuses[:10] == [401] * 10 and 429 in statuses[10:], statuses
    status, body, headers = logins(server, "127.0.1.99", [("alice", ALICE_PASSWORD)])[0]
    assert status == 429 and "many addresses" in body["error_description"] and int(headers["Retry-After"]) <= 60, body
    assert logins(server, "127.0.0.5", [("alice", ALICE_PASSWORD)])[0][0] == 200
    # Whoever waits gets their try: nothing locks.
    time.sleep(int(headers["Retry-After"]))
    assert logins(server, "127.0.1.99", [("alice", ALICE_PASSWORD)])[0][0] == 200
