"""Drives the real `hallpass approve` in tmux: send keys, read the screen, keep the raw PTY bytes."""
import os
import shlex
import subprocess
import time
import uuid

from conftest import BIN


class Tmux:
    def __init__(self, tmp, args, width=80, height=24, env=None, report_exit=False, program=BIN):
        self.socket = "hallpass-" + uuid.uuid4().hex[:10]
        self.raw_path = os.path.join(tmp, f"pty-{self.socket}.raw")
        environment = {"LANG": "C.UTF-8", "TERM": "xterm-256color", **(env or {})}
        self.env = {**os.environ, **environment}
        command = "env " + " ".join(f"{k}={shlex.quote(v)}" for k, v in environment.items()) + " " + \
                  " ".join(shlex.quote(a) for a in [program, *args])
        # Either the program is the pane, or a shell reports its exit status on screen after it.
        command = command + '; echo "EXIT=$?"; sleep 600' if report_exit else "exec " + command
        self.tmux("new-session", "-d", "-s", "main", "-x", str(width), "-y", str(height), command)
        self.tmux("set-option", "-g", "remain-on-exit", "on")
        self.tmux("pipe-pane", "-o", "-t", "main", "cat >> " + shlex.quote(self.raw_path))

    def tmux(self, *args):
        return subprocess.run(["tmux", "-L", self.socket, *args], env=self.env, capture_output=True, text=True, check=True).stdout

    def keys(self, *keys):
        self.tmux("send-keys", "-t", "main", *keys)

    def type(self, text):
        self.tmux("send-keys", "-t", "main", "-l", "--", text)

    def screen(self):
        return self.tmux("capture-pane", "-p", "-t", "main")

    def lines(self):
        return self.screen().split("\n")

    def wait_for(self, text, timeout=10):
        """The first settled screen showing `text`: a capture can catch the program halfway
        through painting a frame (seen with the release build), so the screen is taken again
        30 ms later and returned only if it did not change meanwhile."""
        deadline = time.time() + timeout
        while time.time() < deadline:
            screen = self.screen()
            if text in screen:
                time.sleep(0.03)
                again = self.screen()
                if again == screen:
                    return screen
                continue
            time.sleep(0.05)
        raise AssertionError(f"screen never showed {text!r}; it shows:\n{self.screen()}")

    def wait_until(self, condition, what, timeout=10):
        """The first screen for which condition(screen) holds: after a resize, tmux shows the old
        frame cropped to the new size until the program repaints, so a text the old frame also
        holds is no sign that the new one arrived."""
        deadline = time.time() + timeout
        while time.time() < deadline:
            screen = self.screen()
            if condition(screen):
                return screen
            time.sleep(0.05)
        raise AssertionError(f"screen never showed {what}; it shows:\n{self.screen()}")

    def pid(self):
        return int(self.tmux("display-message", "-p", "-t", "main", "#{pane_pid}").strip())

    def dead(self):
        return self.tmux("display-message", "-p", "-t", "main", "#{pane_dead}").strip() == "1"

    def resize(self, width, height):
        self.tmux("resize-window", "-t", "main", "-x", str(width), "-y", str(height))

    def raw(self):
        with open(self.raw_path, "rb") as f:
            return f.read()

    def close(self):
        subprocess.run(["tmux", "-L", self.socket, "kill-server"], env=self.env, capture_output=True)

    def log_in(self, user, password):
        self.wait_for("Log in to approve a device")
        self.type(user)
        self.keys("Tab")
        self.type(password)
        self.keys("Enter")
        self.wait_for("Enter the code shown on the device")

    def enter_code(self, code):
        self.type(code.lower().replace("-", " "))
        self.keys("Enter")
