"""Administrator-supplied text that is not UTF-8 (issue 13): refused with a clear message and
nothing stored, never kept with U+FFFD in place of the bad byte."""
import os
import subprocess

from conftest import BIN


def hallpass(server, *args, stdin=b"", env=None):
    """Runs one admin command with raw-byte arguments and standard input."""
    return subprocess.run([BIN, *args, "--db", server.db], input=stdin, capture_output=True, timeout=60,
                          env={**os.environ, **(env or {})})


def test_arguments_that_are_not_utf8_are_refused_and_nothing_is_stored(server):
    cases = [
        (["clients", "add", "kiosk", "--name", b"Caf\xe9 kiosk", "--public", "--scopes", "openid"], 5, b"Caf\\xE9 kiosk", b"0xE9"),
        (["clients", "add", b"kiosk\xff", "--public", "--scopes", "openid"], 3, b"kiosk\\xFF", b"0xFF"),
        (["scopes", "add", "photos", "--description", b"See your \xc3\x28photos"], 5, b"See your \\xC3(photos", b"0xC3"),
        (["users", "add", b"b\xc0\xafb", "--password-stdin"], 3, b"b\\xC0\\xAFb", b"0xC0"),
    ]
    for args, index, shown, byte in cases:
        r = hallpass(server, *args, stdin=b"a password\n")
        assert r.returncode == 64, (args, r.stdout, r.stderr)
        assert r.stderr.startswith(b"hallpass: argument %d ('%s') is not valid UTF-8: byte %s" % (index, shown, byte)), r.stderr
        assert b"\xef\xbf\xbd" not in r.stderr                 # no U+FFFD anywhere
    listed = hallpass(server, "clients", "list")
    assert listed.returncode == 0 and b"kiosk" not in listed.stdout and b"\xef\xbf\xbd" not in listed.stdout, listed.stdout
    assert b"photos" not in hallpass(server, "scopes", "list").stdout
    # A valid non-ASCII name is kept exactly.
    r = hallpass(server, "clients", "add", "kiosk", "--name", "Café kiosk ☕".encode(), "--public", "--scopes", "openid")
    assert r.returncode == 0, r.stderr
    assert "Café kiosk ☕".encode() in hallpass(server, "clients", "list").stdout


def test_a_hallpass_variable_that_is_not_utf8_is_refused(server):
    r = hallpass(server, "clients", "list", env={"HALLPASS_THEME": b"dark\xff".decode("utf-8", "surrogateescape")})
    assert r.returncode == 64 and r.stderr.startswith(b"hallpass: environment variable HALLPASS_THEME is not valid UTF-8: byte 0xFF"), r.stderr


def test_secrets_and_keys_on_standard_input_that_are_not_utf8_are_refused(server):
    r = hallpass(server, "users", "add", "mallory", "--password-stdin", stdin=b"pass\xffword\n")
    assert r.returncode != 0 and b"the password on standard input is not valid UTF-8: byte 0xFF at offset 4" in r.stderr, r.stderr
    assert b"mallory" not in hallpass(server, "users", "list").stdout
    r = hallpass(server, "clients", "add", "svc", "--name", "Service", "--secret-stdin", "--scopes", "openid", stdin=b"s3cret\xe9-s3cret-s3cret\n")
    assert r.returncode != 0 and b"client secret on standard input is not valid UTF-8" in r.stderr, r.stderr
    key = b"ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAINxDQILeWuHewSRmCKSoNft6fCSvZ+JNPXa4t5OOEqk+ al\xefce@laptop\n"
    r = hallpass(server, "users", "add-key", "alice", stdin=key)
    assert r.returncode != 0 and b"key on standard input is not valid UTF-8" in r.stderr, r.stderr


def test_overlong_secrets_and_keys_are_refused_not_cut(server):
    r = hallpass(server, "users", "add", "mallory", "--password-stdin", stdin=b"p" * (64 * 1024 + 1) + b"\n")
    assert r.returncode != 0 and b"longer than 65536 bytes; nothing was stored" in r.stderr, r.stderr
    assert b"mallory" not in hallpass(server, "users", "list").stdout
    # Exactly the limit is still a password.
    r = hallpass(server, "users", "add", "maxine", "--password-stdin", stdin=b"p" * (64 * 1024) + b"\n")
    assert r.returncode == 0, r.stderr
    r = hallpass(server, "users", "add-key", "alice", stdin=b"ssh-ed25519 " + b"A" * (16 * 1024))
    assert r.returncode != 0 and b"longer than 16384 bytes" in r.stderr, r.stderr


def test_a_config_file_that_is_not_utf8_is_refused_with_its_line(server, tmpdir_path):
    path = os.path.join(tmpdir_path, "bad.toml")
    with open(path, "wb") as f:
        f.write(b'# Hallpass\nissuer = "http://127.0.0.1:9/caf\xe9"\n')
    r = subprocess.run([BIN, "serve", "--config", path, "--db", server.db + "-other"], capture_output=True, timeout=60)
    assert r.returncode != 0 and f"{path}:2:33: not valid UTF-8: byte 0xE9".encode() in r.stderr, r.stderr
