"""`hallpass login` on a terminal: large code, QR, countdown, Ctrl-C, and the saved token."""
import os
import re
import stat

from conftest import approve, start_login
from tui import Tmux


def login_tui(server, tmpdir_path, *extra, width=100, height=50, env=None):
    return Tmux(tmpdir_path, ["login", "--server", server.base, "--client-id", "tv", *extra],
                width=width, height=height, env=env)


def shown_code(screen):
    return re.search(r"\(([BCDFGHJKLMNPQRSTVWXZ]{4}-[BCDFGHJKLMNPQRSTVWXZ]{4})\)", screen).group(1)


def test_a_terminal_gets_a_large_code_a_qr_code_a_countdown_and_a_private_token_file(server, tmpdir_path):
    config = os.path.join(tmpdir_path, "xdg")
    t = login_tui(server, tmpdir_path, env={"XDG_CONFIG_HOME": config})
    try:
        screen = t.wait_for("Waiting for approval")
        assert "or scan it:" in screen and "█▀▀▀▀▀█" in screen
        assert f"or:    ssh -p {server.ssh_port} 127.0.0.1" in screen   # the SSH consent front
        assert "the code expires in 9:5" in screen or "the code expires in 10:00" in screen
        code = shown_code(screen)
        assert screen.count("█") > 100                         # the block letters and the QR code
        assert approve(server, code).returncode == 0
        screen = t.wait_for("Token saved to")
        path = os.path.join(config, "hallpass", "token-tv.json")
        assert path in screen.replace("\n", "")
        assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
        assert stat.S_IMODE(os.stat(os.path.dirname(path)).st_mode) == 0o700
        with open(path) as f:
            assert '"access_token"' in f.read()
    finally:
        t.close()


def test_narrow_terminals_and_no_qr_skip_the_qr_code(server, tmpdir_path):
    for extra, width in [((), 30), (("--no-qr",), 100)]:
        t = login_tui(server, tmpdir_path, *extra, width=width, height=40)
        try:
            screen = t.wait_for("(or see")
            assert "or scan it:" not in screen
            assert "█▀▀▀▀▀█" not in screen
        finally:
            t.close()


def test_ctrl_c_cancels_cleanly_with_its_own_exit_code(server, tmpdir_path):
    t = Tmux(tmpdir_path, ["login", "--server", server.base, "--client-id", "tv", "--no-qr"], report_exit=True)
    try:
        t.wait_for("Waiting for approval")
        t.keys("C-c")
        t.wait_for("hallpass: cancelled")
        t.wait_for("EXIT=130")
        assert "Traceback" not in t.screen() and "Fatal" not in t.screen()
    finally:
        t.close()


def test_token_file_through_a_pipe(server, tmpdir_path):
    path = os.path.join(tmpdir_path, "sub", "tok.json")
    proc, code = start_login(server, "--token-file", path)
    assert approve(server, code).returncode == 0
    out, err = proc.communicate(timeout=20)
    assert proc.returncode == 0, err
    assert f"Token saved to {path} (mode 0600)." in out
    assert "access_token" not in out                          # saved, not printed
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
