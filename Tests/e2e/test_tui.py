"""The consent screen end to end: the real `hallpass approve` in tmux against a real server."""
import json
import os
import sqlite3
import time

import pytest

from conftest import ALICE_PASSWORD, add_short_lived_client, start_login
from tui import Tmux


@pytest.fixture
def tui(server, tmpdir_path):
    sessions = []

    def open_tui(*extra, width=80, height=24, env=None):
        t = Tmux(tmpdir_path, ["approve", "--server", server.base, *extra], width=width, height=height, env=env)
        sessions.append(t)
        return t
    yield open_tui
    for t in sessions:
        t.close()


def open_consent(server, tui, *extra, client="tv"):
    """A device asks (`hallpass login --json`); alice opens its request on the consent screen."""
    proc, code = start_login(server, "--json", client=client)
    t = tui(*extra)
    t.log_in("alice", ALICE_PASSWORD)
    t.enter_code(code)
    return proc, code, t


def finish(proc, timeout=20):
    out, err = proc.communicate(timeout=timeout)
    return proc.returncode, out, err


def token_scope(out):
    event = json.loads(out.strip().splitlines()[-1])
    return event["token"]["scope"]


def test_approve_a_grant_started_by_hallpass_login(server, tui):
    proc, code, t = open_consent(server, tui)
    screen = t.wait_for("You are authorizing a device")
    assert "[Living-room TV" in screen and "[tv " in screen
    assert "If you did not start this on a device you are holding, choose Deny." in screen
    assert "[>Deny<]" in screen and "[ Approve ]" in screen       # Deny has the focus
    t.keys("Right", "Enter")
    t.wait_for("✓ Approved")
    status, out, _ = finish(proc)
    assert status == 0
    assert token_scope(out) == "openid profile read write"
    t.keys("Enter")
    t.wait_for("Enter the code shown on the device")            # ready for the next device


def test_deny_after_confirmation(server, tui):
    proc, code, t = open_consent(server, tui)
    t.wait_for("You are authorizing a device")
    t.keys("Enter")
    t.wait_for("Deny this device?")
    t.keys("Enter")
    t.wait_for("✗ Denied")
    status, out, _ = finish(proc)
    assert status == 3
    assert json.loads(out.strip().splitlines()[-1])["event"] == "denied"


def test_approve_a_subset_of_scopes(server, tui):
    proc, code, t = open_consent(server, tui)
    t.wait_for("You are authorizing a device")
    t.tmux("send-keys", "-t", "main", "-H", "1b", "5b", "41")   # a CSI arrow (no keypad mode) is Up, never Esc
    t.keys("Space", "Up", "Up", "Space")                       # write and profile off
    screen = t.wait_for(">[ ] profile")
    assert "[ ] write" in screen and "[x] read" in screen and "[x] openid" in screen
    t.keys("Right", "Enter")
    t.wait_for("✓ Approved")
    status, out, _ = finish(proc)
    assert status == 0
    assert token_scope(out) == "openid read"


def test_wrong_codes_until_the_limit(server, tui):
    t = tui()
    t.log_in("alice", ALICE_PASSWORD)
    seen = []
    for attempt in range(6):
        t.enter_code("XXXX-XXXX" if attempt % 2 else "ZZZZ-ZZZZ")
        screen = t.wait_for("✗ ")
        seen.append(screen)
        t.keys("Enter")
        t.wait_for("Enter the code shown on the device")
    assert "4 guesses left" in seen[0]
    assert "1 guess left" in seen[3]
    assert "Too many wrong codes" in seen[5] and "Try again in" in seen[5]


def test_resizing_mid_consent_relays_out_and_still_approves(server, tui):
    proc, code, t = open_consent(server, tui)
    t.wait_for("It asks for:")
    t.resize(44, 14)
    # The compact layout moves "Expires in" to the title bar and drops the "It asks for:" heading.
    screen = t.wait_until(lambda s: "Expires in" in s and "It asks for:" not in s, "the compact layout")
    lines = screen.split("\n")
    assert all(len(line) <= 44 for line in lines)
    assert any(line.startswith(" [>Deny<]") for line in lines)
    t.resize(30, 8)
    t.wait_for("Window too small")
    t.resize(100, 30)
    t.wait_for("It asks for:")
    t.keys("Right", "Enter")
    t.wait_for("✓ Approved")
    assert finish(proc)[0] == 0


def test_a_hostile_client_name_is_escaped_and_stays_in_its_field(server, tui):
    r = server.cli("clients", "add", "evil", "--name", "Harmless", "--public", "--scopes", "openid")
    assert r.returncode == 0, r.stderr
    hostile = ("Evil\r\x1b[2J\x1b]0;pwned\x07\x1b]52;c;ZWNobyBoaQ==\x07\u202eVT moor-gnivil\u200d\u200d"
               "[ Approve ]\x1b[10;1H")
    with sqlite3.connect(server.db) as db:                      # legacy data, past the registration check
        db.execute("UPDATE clients SET name = ? WHERE id = 'evil'", (hostile,))
    proc, code, t = open_consent(server, tui, client="evil")
    screen = t.wait_for("You are authorizing a device")
    lines = screen.split("\n")
    name_row = next(line for line in lines if "Name (from client)" in line)
    assert name_row.startswith("  Name (from client) [Evil<U+000D><U+001B>[2J<U+001B>]0;pwned<U+0007>")
    assert name_row.rstrip().endswith("]") and len(name_row.rstrip()) == 78
    assert lines[2] == "  You are authorizing a device"
    assert lines[22].startswith("  [>Deny<]   [ Approve ]")
    assert "If you did not start this on a device you are holding, choose Deny." in lines[20]
    time.sleep(0.3)
    raw = t.raw()
    assert b"\x1b]" not in raw                                  # no OSC: no title, no clipboard
    assert b"\x07" not in raw
    assert "\u202e".encode() not in raw and "\u200d".encode() not in raw
    assert b"Evil\r" not in raw and b"\x9b" not in raw
    assert b"\x1b[10;1H" not in raw.split(b"Evil", 1)[1][:200]
    t.keys("Enter", "Enter")
    t.wait_for("✗ Denied")
    assert finish(proc)[0] == 3


def test_kiosk_ignores_signal_keys_and_logs_out_when_idle(server, tui):
    t = tui("--kiosk", "--idle-timeout", "5")
    t.log_in("alice", ALICE_PASSWORD)
    pid = t.pid()
    for key in ["C-c", "C-z", "C-\\", "C-d", "C-s", "C-q"]:
        t.keys(key)
    time.sleep(0.5)
    assert not t.dead()
    os.kill(pid, 0)                                            # still running, not stopped
    with open(f"/proc/{pid}/stat") as f:
        assert f.read().split(") ")[1][0] != "T"
    screen = t.screen()
    assert "Enter the code shown on the device" in screen
    t.wait_for("Logged out after inactivity.", timeout=10)
    assert "Log in to approve a device" in t.screen()


def test_plain_mode_with_a_dumb_terminal(server, tui):
    proc, code = start_login(server, "--json")
    t = tui(env={"TERM": "dumb"})
    t.wait_for("User name:")
    t.type("alice")
    t.keys("Enter")
    t.wait_for("Password:")
    t.type(ALICE_PASSWORD)
    t.keys("Enter")
    t.wait_for("Enter the code shown on the device")
    assert ALICE_PASSWORD not in t.screen()                    # not echoed
    t.type(code)
    t.keys("Enter")
    t.wait_for("= deny):")
    t.type("approve openid read")
    t.keys("Enter")
    t.wait_for("✓ Approved")
    status, out, _ = finish(proc)
    assert status == 0 and token_scope(out) == "openid read"


def test_chinese_screens(server, tui):
    t = tui("--lang", "zh-Hans")
    t.wait_for("登录以批准设备")
    t.type("alice")
    t.keys("Tab")
    t.type("wrong")
    t.keys("Enter")
    t.wait_for("用户名或密码错误。")


def test_a_broken_theme_names_file_and_line_and_falls_back(server, tui, tmpdir_path):
    bad = os.path.join(tmpdir_path, "bad.toml")
    with open(bad, "w") as f:
        f.write('name = "bad"\n[focus]\nfg = "chartreuse-ish"\n')
    t = tui("--theme", bad)
    t.wait_for("Log in to approve a device")                  # the default theme still draws
    t.keys("Escape")
    screen = t.wait_for("unknown colour")
    assert f"hallpass: {bad}:3: unknown colour \"chartreuse-ish\"" in screen.replace("\n", "")
    assert "using the default theme" in screen.replace("\n", "")


def test_an_unreachable_server_shows_the_banner(tmpdir_path):
    from conftest import free_port
    t = Tmux(tmpdir_path, ["approve", "--server", f"http://127.0.0.1:{free_port()}"])
    try:
        t.wait_for("Log in to approve a device")
        t.type("alice")
        t.keys("Tab")
        t.type("pw")
        t.keys("Enter")
        screen = t.wait_for("Cannot reach the server")
        assert screen.split("\n")[0].startswith(" ! Cannot reach the server at http://127.0.0.1:")
    finally:
        t.close()


def test_kiosk_wipes_and_logs_out_after_a_decision(server, tui):
    proc, code, t = open_consent(server, tui, "--kiosk")
    t.wait_for("You are authorizing a device")
    t.keys("Enter", "Enter")
    t.wait_for("✗ Denied")
    t.keys("Enter")
    t.wait_for("Log in to approve a device")
    assert "Logged in as" not in t.screen()
    assert b"\x1b[3J" in t.raw()                               # scrollback cleared too
    assert finish(proc)[0] == 3


def test_a_decision_made_elsewhere_updates_the_screen_at_once(server, tui):
    from conftest import approve
    proc, code, t = open_consent(server, tui)
    t.wait_for("You are authorizing a device")
    time.sleep(0.5)                                            # the screen is now following the request
    assert approve(server, code, "approve", scope="openid").returncode == 0
    t0 = time.time()
    t.wait_for("Decided elsewhere", timeout=5)
    assert time.time() - t0 < 1.0
    assert "approved elsewhere" in t.screen()
    assert finish(proc)[0] == 0


def test_a_code_that_expires_on_the_consent_screen_says_so_within_a_second(server, tui):
    add_short_lived_client(server, "brief", "Brief", seconds=6)
    proc, code = start_login(server, "--json", client="brief")
    issued = time.time()                                       # the code was issued just before
    t = tui()
    t.log_in("alice", ALICE_PASSWORD)
    t.enter_code(code)
    t.wait_for("[Brief")
    t.wait_for("⌛ Expired", timeout=10)
    assert time.time() - issued < 6 + 1.0
    assert finish(proc)[0] == 4
