"""The second factor (issue 18) with the real binary: enrolment in the consent screen with its QR
code, codes computed by Debian's oathtool from the secret the screen showed, the login's code in
the full screen, a kiosk and an SSH session, step-up on the consent screen, recovery codes, the
scripted `approve --otp`, and one code through two PostgreSQL replicas."""
import base64
import json
import os
import re
import subprocess
import time
import urllib.error

import pytest

from conftest import ALICE_PASSWORD, BIN, Server, fresh_postgres_database, post_json, run, setup_accounts, start_login
from test_ssh import ssh, ssh_args  # noqa: F401 (the ssh fixture)
from tui import Tmux


def oathtool(secret, ahead=0):
    """The TOTP code for `secret` (base32) now, or `ahead` steps later (the server accepts one
    step of drift, so the next step's code is new and valid at once)."""
    args = ["oathtool", "--totp", "-b", secret]
    if ahead:
        args += ["-N", f"now + {30 * ahead} seconds"]
    return subprocess.run(args, capture_output=True, text=True, check=True).stdout.strip()


def enrol(s, name="alice", env=None):
    """`users totp enroll --json` then `confirm` with oathtool's code: the secret and the recovery codes."""
    r = subprocess.run([BIN, "users", "totp", "enroll", name, "--json", "--db", s.db], capture_output=True, text=True,
                       env={**os.environ, **(env or {})})
    assert r.returncode == 0, r.stderr
    secret = json.loads(r.stdout)["secret"]
    r = subprocess.run([BIN, "users", "totp", "confirm", name, oathtool(secret), "--db", s.db], capture_output=True, text=True,
                       env={**os.environ, **(env or {})})
    assert r.returncode == 0, r.stderr
    recovery = re.findall(r"\b[0-9a-z]{4}-[0-9a-z]{4}-[0-9a-z]{4}-[0-9a-z]{4}\b", r.stdout)
    assert len(recovery) == 10, r.stdout
    return secret, recovery


@pytest.fixture
def accounts(server):
    """The server fixture's server, with its clients, scopes and alice."""
    return server


@pytest.fixture
def tui(accounts, tmpdir_path):
    sessions = []

    def open_tui(*extra, width=80, height=24):
        t = Tmux(tmpdir_path, ["approve", "--server", accounts.base, *extra], width=width, height=height)
        sessions.append(t)
        return t
    yield open_tui
    for t in sessions:
        t.close()


def password_then_code(t, code, password_prompt="Log in to approve a device"):
    """Logs alice in with her password, where the screen (or OpenSSH) asks for it, then answers
    the code prompt with `code`; waits for code entry."""
    t.wait_for(password_prompt)
    if password_prompt != "password:":
        t.type("alice")
        t.keys("Tab")
    t.type(ALICE_PASSWORD)
    t.keys("Enter")
    t.wait_for("Enter the code from your authenticator")
    t.type(code)
    t.keys("Enter")
    return t.wait_for("Enter the code shown on the device")


def claims(jwt):
    payload = jwt.split(".")[1]
    return json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))


def test_enrolment_shows_a_qr_code_and_takes_the_code_oathtool_computes_from_the_shown_secret(accounts, tui):
    t = tui()
    t.log_in("alice", ALICE_PASSWORD)
    assert "F3: 2nd factor" in t.screen()
    t.keys("F3")
    screen = t.wait_for("Add an authenticator")
    # The QR code: half-block rows in black on bright white (the qr role), beside the words.
    assert sum(1 for line in screen.split("\n") if "▀" in line or "▄" in line) >= 15, screen
    # Bright white as a background is the qr role's alone: the code scans on a dark terminal.
    assert b"107m" in t.raw() or b"48;5;15m" in t.raw()
    # The secret as shown, in groups of four, across its lines.
    lines = screen.split("\n")
    at = next(i for i, line in enumerate(lines) if line.rstrip().endswith("Secret"))
    secret = ""
    for line in lines[at + 1:at + 4]:
        words = re.findall(r"\b[A-Z2-7]{4}\b", line[45:])
        if not words:
            break
        secret += "".join(words)
    assert len(secret) == 40, screen
    t.type("000000" if oathtool(secret) != "000000" else "111111")
    t.keys("Enter")
    t.wait_for("✗")
    t.type(oathtool(secret))
    t.keys("Enter")
    screen = t.wait_for("your recovery codes")
    codes = re.findall(r"\b[0-9a-z]{4}-[0-9a-z]{4}-[0-9a-z]{4}-[0-9a-z]{4}\b", screen)
    assert len(codes) == 10, screen
    t.keys("Enter")
    t.wait_for("Enter the code shown on the device")
    status = accounts.cli("users", "totp", "status", "alice")
    assert "authenticator confirmed" in status.stdout and "10 of 10 recovery codes left" in status.stdout, status.stdout

    # From now on the consent screen asks for the code after the password.
    password_then_code(tui(), codes[0])   # a recovery code works in the same field, once
    assert "9 of 10 recovery codes left" in accounts.cli("users", "totp", "status", "alice").stdout


def test_a_step_up_scope_asks_for_a_fresh_code_on_the_consent_screen(accounts, tui):
    r = accounts.cli("scopes", "add", "write", "--description", "Change your data", "--step-up")
    assert r.returncode == 0 and "step-up" in r.stdout, r.stderr
    assert "write\tChange your data\tstep-up" in accounts.cli("scopes", "list").stdout
    # Alice is logged in before she has an authenticator: her session has no code at all.
    t = tui()
    t.log_in("alice", ALICE_PASSWORD)
    secret, _ = enrol(accounts)
    proc, code = start_login(accounts, "--json", "--scope", "openid read write")
    t.enter_code(code)
    screen = t.wait_for("write needs a fresh code from your authenticator")
    t.keys("Right")
    t.keys("Enter")
    t.wait_for("This approval needs a fresh code")
    t.keys("Escape")                      # back without deciding
    t.wait_for("You are authorizing a device")
    t.keys("Right")
    t.keys("Enter")
    t.wait_for("This approval needs a fresh code")
    t.type(oathtool(secret, ahead=1))
    t.keys("Enter")
    t.wait_for("Approved")
    out, err = proc.communicate(timeout=30)
    assert proc.returncode == 0, err
    token = next(json.loads(line) for line in out.splitlines() if '"access_token"' in line)
    access = claims(token["access_token"] if "access_token" in token else token["token"]["access_token"])
    assert access["amr"] == ["pwd", "otp", "mfa"] and access["acr"] == "urn:hallpass:acr:otp-fresh", access


def test_a_kiosk_login_asks_for_the_code_and_refuses_a_wrong_one(accounts, tui):
    secret, _ = enrol(accounts)
    t = tui("--kiosk")
    t.wait_for("Log in to approve a device")
    t.type("alice")
    t.keys("Tab")
    t.type(ALICE_PASSWORD)
    t.keys("Enter")
    t.wait_for("Enter the code from your authenticator")
    t.type("123456" if oathtool(secret, ahead=1) != "123456" else "654321")
    t.keys("Enter")
    t.wait_for("wrong code")
    t.type(oathtool(secret, ahead=1))
    t.keys("Enter")
    screen = t.wait_for("Enter the code shown on the device")
    assert "kiosk" in screen


def test_an_ssh_password_login_asks_for_the_code_before_anything_else(accounts, ssh):  # noqa: F811
    secret, _ = enrol(accounts)
    screen = password_then_code(ssh(), oathtool(secret, ahead=1), password_prompt="password:")
    assert "Logged in as alice" in screen


def test_the_scripted_approval_takes_a_code_and_a_recovery_code_once(accounts):
    secret, recovery = enrol(accounts)
    proc, code = start_login(accounts, "--json")
    base = ["approve", "--server", accounts.base, "--user", "alice", "--password-stdin", "--code", code, "--decision", "approve"]
    missing = run(base, accounts.db, stdin=ALICE_PASSWORD + "\n")
    assert missing.returncode == 64 and "--otp" in missing.stderr, missing.stderr
    wrong = run(base + ["--otp", "12345"], accounts.db, stdin=ALICE_PASSWORD + "\n")
    assert wrong.returncode != 0 and "6 digits" in wrong.stderr, wrong.stderr
    ok = run(base + ["--otp", recovery[1].upper()], accounts.db, stdin=ALICE_PASSWORD + "\n")
    assert ok.returncode == 0, ok.stderr
    proc.communicate(timeout=30)
    # The same recovery code again: refused; a TOTP code then works.
    proc, code = start_login(accounts, "--json")
    base[base.index("--code") + 1] = code
    again = run(base + ["--otp", recovery[1]], accounts.db, stdin=ALICE_PASSWORD + "\n")
    assert again.returncode == 1 and "wrong code" in again.stderr, again.stderr
    ok = run(base + ["--otp", oathtool(secret, ahead=1)], accounts.db, stdin=ALICE_PASSWORD + "\n")
    assert ok.returncode == 0, ok.stderr
    proc.communicate(timeout=30)
    # The audit trail has the second factors, and never a code.
    with open(accounts.db + ".audit.jsonl") as f:
        audit = f.read()
    assert '"second_factor"' in audit and recovery[1] not in audit and recovery[1].replace("-", "") not in audit


def test_one_code_through_two_replicas_is_accepted_once(tmpdir_path, monkeypatch):
    # Both replicas and the admin CLI seal and open secrets with one key file.
    monkeypatch.setenv("HALLPASS_TOTP_KEY_FILE", os.path.join(tmpdir_path, "totp.key"))
    db = fresh_postgres_database()
    for name in ("a", "b"):
        os.makedirs(os.path.join(tmpdir_path, name))
    a = Server(os.path.join(tmpdir_path, "a"), extra=["--no-ssh"], db=db)
    try:
        setup_accounts(a)
        b = Server(os.path.join(tmpdir_path, "b"), extra=["--no-ssh"], db=db)
        try:
            secret, _ = enrol(a)
            assert oct(os.stat(os.path.join(tmpdir_path, "totp.key")).st_mode & 0o777) == "0o600"
            code = oathtool(secret, ahead=1)
            sessions = [post_json(s.base + "/consent/login", {"username": "alice", "password": ALICE_PASSWORD})["session"] for s in (a, b)]
            assert post_json(a.base + "/consent/otp", {"code": code}, session=sessions[0])["otp_required"] is False
            with pytest.raises(urllib.error.HTTPError) as refused:
                post_json(b.base + "/consent/otp", {"code": code}, session=sessions[1])
            body = json.loads(refused.value.read())
            assert refused.value.code == 401 and body["error"] == "invalid_otp" and "used already" in body["error_description"]
        finally:
            b.stop()
    finally:
        a.stop()


def test_the_admin_enrolment_draws_a_qr_code_on_a_terminal_and_prints_the_uri_otherwise(accounts, tmpdir_path):
    plain = accounts.cli("users", "totp", "enroll", "alice")
    assert plain.returncode == 0 and re.fullmatch(r"otpauth://totp/Hallpass:alice\?secret=[A-Z2-7]{40}&issuer=Hallpass\n",
                                                  plain.stdout), plain.stdout
    t = Tmux(tmpdir_path, ["users", "totp", "enroll", "alice", "--db", accounts.db], width=100, height=40, report_exit=True)
    try:
        screen = t.wait_for("EXIT=0")
        assert "Scan this with an authenticator app" in screen and "▀" in screen, screen
        secret = re.search(r"secret: ((?:[A-Z2-7]{4} ?){10})", screen).group(1).replace(" ", "")
        # The enrolment on the terminal replaced the one printed before; its code confirms it.
        assert accounts.cli("users", "totp", "confirm", "alice", oathtool(secret)).returncode == 0
    finally:
        t.close()
    again = accounts.cli("users", "totp", "enroll", "alice")
    assert again.returncode == 1 and "disable it first" in again.stderr
    assert accounts.cli("users", "totp", "disable", "alice").returncode == 0
    assert "no authenticator" in accounts.cli("users", "totp", "status", "alice").stdout
