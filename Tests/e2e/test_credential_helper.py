"""Issue 16 (part): `hallpass token` as a credential helper and `hallpass logout`, against the
running binary: a saved token is printed while valid, refreshed once by twenty concurrent
callers near expiry (the family stays live), and revoked and deleted on logout."""
import json
import os
import subprocess
import time
from concurrent.futures import ThreadPoolExecutor

import requests

from conftest import BIN, RS_SECRET, approve, start_login


def logged_in(server, path):
    """`hallpass login --token-file PATH`, approved; the saved token response."""
    proc, code = start_login(server, "--scope", "openid read", "--token-file", path)
    assert approve(server, code).returncode == 0
    out, err = proc.communicate(timeout=30)
    assert proc.returncode == 0, err
    with open(path) as f:
        return json.load(f)


def helper(server, *args):
    return subprocess.run([BIN, "token", "--server", server.base, *args], capture_output=True, text=True, timeout=60)


def introspect(server, token):
    r = requests.post(server.base + "/oauth/introspect", data={"token": token}, auth=("rs", RS_SECRET), timeout=10)
    assert r.status_code == 200, r.text
    return r.json()


def test_a_valid_saved_token_is_printed_as_it_is(server, tmpdir_path):
    path = os.path.join(tmpdir_path, "token.json")
    saved = logged_in(server, path)
    assert oct(os.stat(path).st_mode & 0o777) == "0o600"
    r = helper(server, "--token-file", path)                  # the client_id comes from the token
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == saved["access_token"]
    missing = helper(server, "--token-file", os.path.join(tmpdir_path, "none.json"), "--client-id", "tv")
    assert missing.returncode == 1 and "sign in first" in missing.stderr


def test_twenty_callers_near_expiry_make_one_refresh_and_the_family_stays_live(server, tmpdir_path):
    path = os.path.join(tmpdir_path, "token.json")
    saved = logged_in(server, path)
    # Access tokens live 3600 s: after 11 s, --min-valid 3590s makes the saved one "near expiry"
    # while a fresh one is not, so only the first caller through the lock refreshes.
    time.sleep(11)
    with ThreadPoolExecutor(max_workers=20) as pool:
        results = list(pool.map(lambda _: helper(server, "--client-id", "tv", "--token-file", path, "--min-valid", "3590s"),
                                range(20)))
    assert all(r.returncode == 0 for r in results), [r.stderr for r in results if r.returncode]
    printed = {r.stdout.strip() for r in results}
    assert len(printed) == 1 and saved["access_token"] not in printed     # exactly one refresh
    with open(path) as f:
        rotated = json.load(f)
    assert rotated["refresh_token"] != saved["refresh_token"]
    assert introspect(server, printed.pop())["active"] is True           # no reuse was detected
    assert introspect(server, rotated["refresh_token"])["active"] is True


def test_logout_revokes_and_deletes(server, tmpdir_path):
    path = os.path.join(tmpdir_path, "token.json")
    saved = logged_in(server, path)
    r = subprocess.run([BIN, "logout", "--server", server.base, "--token-file", path], capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    assert not os.path.exists(path)
    assert introspect(server, saved["refresh_token"])["active"] is False
    assert introspect(server, saved["access_token"])["active"] is False
    again = helper(server, "--token-file", path, "--client-id", "tv")
    assert again.returncode == 1 and "sign in first" in again.stderr


def test_error_lines_reach_the_terminal_sanitized(server, tmpdir_path):
    """runReporting sanitizes every line it prints: a path (or a server's message) with an
    escape sequence in it is shown as <U+001B>, never sent raw to the terminal."""
    hostile = os.path.join(tmpdir_path, "token\x1b]0;pwned\x07.json")
    r = helper(server, "--token-file", hostile, "--client-id", "tv")
    assert r.returncode == 1 and "sign in first" in r.stderr
    assert "\x1b" not in r.stderr and "<U+001B>" in r.stderr
