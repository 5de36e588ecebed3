"""The Debian package (issue 21): scripts/package-deb.sh packages the binary under test; the
package has what it should, installs, runs the way its unit says, completes a device flow with
its state in /var/lib/hallpass, and purges to nothing but that state.

It installs the package on this machine (dpkg -i, then dpkg -P), so it needs root: run as
another user it FAILS, unless HALLPASS_SKIP_PACKAGE_TEST=1 says to skip it. It refuses to run
where /usr/bin/hallpass, a hallpass package or /var/lib/hallpass already exists.
The binary packaged: HALLPASS_PACKAGE_BIN, else HALLPASS_BIN (the binary the other tests use)."""
import gzip
import json
import os
import pwd
import random
import re
import shlex
import shutil
import signal
import socket
import stat
import subprocess
import tempfile
import time

import pytest

from conftest import ALICE_PASSWORD, BIN, ROOT, device_authorization, get_json, post_form, post_json
from tui import Tmux

PACKAGE_BIN = os.environ.get("HALLPASS_PACKAGE_BIN") or BIN
UNIT = "/usr/lib/systemd/system/hallpass.service"
CONFIG = "/etc/hallpass/hallpass.toml"
STATE = "/var/lib/hallpass"
MAX_EXPOSURE = 1.5      # `systemd-analyze security` of the unit; 1.1 when written


def sh(*args, **kwargs):
    kwargs.setdefault("timeout", 120)
    return subprocess.run(list(args), capture_output=True, text=True, **kwargs)


def package_status():
    r = sh("dpkg-query", "-W", "-f=${Status}", "hallpass")
    return r.stdout.strip() if r.returncode == 0 else ""


def free_19xxx_ports(n):
    """`n` free loopback ports in 19000-19999 (the range this machine's tests may use)."""
    ports = []
    for port in random.sample(range(19000, 20000), 1000):
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                continue
        ports.append(port)
        if len(ports) == n:
            return ports
    raise AssertionError("no free ports in 19000-19999")


def unit_service_section(path):
    """The [Service] settings of the installed unit: a key's values in order (systemd allows
    some keys, e.g. Environment=, more than once)."""
    settings, section = {}, None
    with open(path) as f:
        for line in f:
            line = line.strip()
            if not line or line[0] in "#;":
                continue
            if line.startswith("["):
                section = line
                continue
            if section == "[Service]":
                key, _, value = line.partition("=")
                settings.setdefault(key.strip(), []).append(value.strip())
    return settings


class ServiceContext:
    """How the unit runs `hallpass`: its user and group (no supplementary groups), working
    directory, umask and environment (what systemd sets for User=, then Environment=)."""

    def __init__(self, unit):
        self.exec_start = shlex.split(unit["ExecStart"][-1].lstrip("-@:+!"))
        self.user = unit["User"][-1]
        self.group = unit["Group"][-1]
        self.cwd = unit["WorkingDirectory"][-1].lstrip("-")
        self.umask = int(unit.get("UMask", ["0022"])[-1], 8)
        account = pwd.getpwnam(self.user)
        self.env = {"PATH": "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin", "HOME": account.pw_dir,
                    "USER": self.user, "LOGNAME": self.user, "SHELL": account.pw_shell}
        for value in unit.get("Environment", []):
            for assignment in shlex.split(value):
                name, _, setting = assignment.partition("=")
                self.env[name] = setting

    def popen_args(self, extra_env=None):
        return dict(user=self.user, group=self.group, extra_groups=[], umask=self.umask, cwd=self.cwd,
                    env={**self.env, **(extra_env or {})})

    def run(self, *args, stdin=None, extra_env=None, timeout=60):
        """`hallpass ARGS` as the service's user, in its directory, with its environment."""
        return subprocess.run(["/usr/bin/hallpass", *args], input=stdin, capture_output=True, text=True,
                              timeout=timeout, **self.popen_args(extra_env))


@pytest.fixture(scope="module")
def package():
    """Builds the package from the binary under test and installs it; purges it (and removes
    the account and /var/lib/hallpass this test made) at the end, whatever happened."""
    if os.geteuid() != 0:
        if os.environ.get("HALLPASS_SKIP_PACKAGE_TEST") == "1":
            pytest.skip("HALLPASS_SKIP_PACKAGE_TEST=1: the package test needs root and was skipped on request")
        pytest.fail("the package test installs a .deb on this machine and must run as root "
                    "(or set HALLPASS_SKIP_PACKAGE_TEST=1 to skip it explicitly)", pytrace=False)
    for what, present in [("/usr/bin/hallpass", os.path.lexists("/usr/bin/hallpass")),
                          (f"a hallpass package ({package_status()})", package_status() != ""),
                          (STATE, os.path.lexists(STATE)), ("/etc/hallpass", os.path.lexists("/etc/hallpass"))]:
        if present:
            pytest.fail(f"{what} already exists on this machine: the package test will not replace it "
                        "(remove it, or run the test elsewhere)", pytrace=False)
    had_account = sh("getent", "passwd", "hallpass").returncode == 0
    env = {**os.environ, "HALLPASS_BIN": PACKAGE_BIN}
    env.pop("HALLPASS_GENERATE_MANUAL", None)     # the package under test has its man pages
    build = subprocess.run([os.path.join(ROOT, "scripts", "package-deb.sh")], env=env, capture_output=True,
                           text=True, timeout=1800)
    assert build.returncode == 0, build.stderr
    deb = build.stdout.strip().splitlines()[-1]
    assert os.path.isfile(deb) and deb.endswith("_amd64.deb"), build.stdout
    state = {"deb": deb, "build_log": build.stderr, "installed": False, "server": None}
    try:
        r = sh("dpkg", "-i", deb, timeout=600)
        assert r.returncode == 0, r.stdout + r.stderr
        state["installed"] = True
        yield state
    finally:
        server = state["server"]
        if server and server.poll() is None:
            server.kill()
            server.wait()
        if package_status():
            sh("dpkg", "-P", "hallpass", timeout=600)
        shutil.rmtree(STATE, ignore_errors=True)
        if not had_account and sh("getent", "passwd", "hallpass").returncode == 0:
            sh("userdel", "hallpass")
            if sh("getent", "group", "hallpass").returncode == 0:
                sh("groupdel", "hallpass")


def changelog_version():
    r = sh("dpkg-parsechangelog", "-l", os.path.join(ROOT, "packaging", "changelog"), "-S", "Version")
    assert r.returncode == 0, r.stderr
    return r.stdout.strip()


def deb_listing(deb):
    """`dpkg-deb -c`: path → (mode string, owner/group)."""
    r = sh("dpkg-deb", "-c", deb)
    assert r.returncode == 0, r.stderr
    entries = {}
    for line in r.stdout.splitlines():
        fields = line.split(None, 5)
        path = fields[5].split(" -> ")[0]
        entries["/" + path.lstrip("./").rstrip("/") if path != "./" else "/"] = (fields[0], fields[1])
    return entries


def command_names(binary):
    """Every command's man page name (hallpass, hallpass.users.add, …) from the argument tree."""
    r = sh(binary, "--experimental-dump-help")
    assert r.returncode == 0, r.stderr
    names = []

    def walk(command, parents):
        name = ".".join(parents + [command["commandName"]])
        names.append(name)
        for sub in command.get("subcommands") or []:
            walk(sub, parents + [command["commandName"]])
    walk(json.loads(r.stdout)["command"], [])
    return names


def test_package_contents_and_control_fields(package):
    deb = package["deb"]
    entries = deb_listing(deb)
    themes = sorted(f for f in os.listdir(os.path.join(ROOT, "Themes")) if f.endswith(".toml"))
    expected = ["/usr/bin/hallpass", CONFIG, UNIT, "/usr/lib/sysusers.d/hallpass.conf",
                "/usr/share/bash-completion/completions/hallpass", "/usr/share/zsh/vendor-completions/_hallpass",
                "/usr/share/fish/vendor_completions.d/hallpass.fish", "/usr/share/doc/hallpass/copyright",
                "/usr/share/doc/hallpass/changelog.Debian.gz", "/usr/share/lintian/overrides/hallpass"]
    expected += [f"/usr/share/hallpass/themes/{t}" for t in themes]
    expected += [f"/usr/share/man/man1/{name}.1.gz" for name in command_names("/usr/bin/hallpass")]
    missing = [path for path in expected if path not in entries]
    assert not missing, f"not in the package: {missing}"
    for path, (mode, owner) in entries.items():
        assert owner == "root/root", f"{path} is owned by {owner}"
        if mode.startswith("d"):
            assert mode == "drwxr-xr-x", f"{path}: {mode}"
        else:
            want = "-rwxr-xr-x" if path == "/usr/bin/hallpass" else "-rw-r--r--"
            assert mode == want, f"{path}: {mode}, not {want}"
        assert not path.startswith(STATE), f"{path}: state is made by postinst and the service, not shipped"

    fields = {}
    for name in ["Package", "Version", "Architecture", "Maintainer", "Section", "Priority", "Installed-Size",
                 "Depends", "Description"]:
        r = sh("dpkg-deb", "-f", deb, name)
        assert r.returncode == 0 and r.stdout.strip(), f"no {name}: {r.stderr}"
        fields[name] = r.stdout.strip()
    assert fields["Package"] == "hallpass" and fields["Architecture"] == "amd64"
    assert fields["Section"] == "net" and fields["Priority"] == "optional"
    assert fields["Version"] == changelog_version()
    assert os.path.basename(deb) == f"hallpass_{fields['Version']}_amd64.deb"
    assert int(fields["Installed-Size"]) > 1000
    # Depends names the package of every library the binary needs (computed, not written down).
    depends = {alt.split()[0] for dep in fields["Depends"].split(",") for alt in dep.split("|")}
    needed = re.findall(r"\(NEEDED\)\s+Shared library: \[(.+?)\]", sh("readelf", "-d", "/usr/bin/hallpass").stdout)
    assert needed
    for library in needed:
        owners = sh("dpkg-query", "-S", f"*/{library}").stdout
        names = {line.split(":")[0] for line in owners.splitlines()}
        assert names & depends, f"{library} ({names}) is not in Depends: {fields['Depends']}"
    assert "adduser" in depends
    r = sh("dpkg-deb", "-I", deb, "conffiles")
    assert r.returncode == 0 and r.stdout.split() == [CONFIG], r.stdout + r.stderr
    with gzip.open("/usr/share/doc/hallpass/changelog.Debian.gz", "rt") as f:
        assert f.readline().startswith(f"hallpass ({fields['Version']})")
    sections = sh("readelf", "-SW", "/usr/bin/hallpass").stdout
    assert ".symtab" not in sections and ".debug_info" not in sections, "the binary is not stripped"
    assert "(RUNPATH)" not in sh("readelf", "-d", "/usr/bin/hallpass").stdout


def test_lintian_finds_nothing_unexplained(package):
    """Debian's own checker: every tag it would report is fixed or overridden with its reason
    (packaging/lintian-overrides)."""
    assert shutil.which("lintian"), "lintian is missing: scripts/bootstrap.sh --tests installs it"
    r = sh("lintian", "--pedantic", "--fail-on", "error,warning,info,pedantic", package["deb"], timeout=600)
    assert r.returncode == 0, r.stdout + r.stderr


def test_installed_account_state_directory_and_unit(package):
    account = pwd.getpwnam("hallpass")
    assert account.pw_dir == STATE
    assert account.pw_shell in ("/usr/sbin/nologin", "/sbin/nologin", "/bin/false")
    assert account.pw_uid < 1000, "a system account"
    st = os.stat(STATE)
    assert (st.st_uid, st.st_gid) == (account.pw_uid, account.pw_gid)
    assert stat.S_IMODE(st.st_mode) == 0o700
    assert os.path.isfile(CONFIG)
    # It may hold a PostgreSQL password: root's, read by the service's group, no one else's.
    conf = os.stat(CONFIG)
    assert (conf.st_uid, conf.st_gid, stat.S_IMODE(conf.st_mode)) == (0, account.pw_gid, 0o640)
    # The unit as systemd reads it (this machine need not run systemd).
    r = sh("systemd-analyze", "verify", UNIT)
    problems = [line for line in (r.stdout + r.stderr).splitlines() if "hallpass" in line]
    assert not problems and r.returncode == 0, r.stdout + r.stderr
    r = sh("systemd-analyze", "security", "--offline=true", UNIT)
    score = re.search(r"Overall exposure level for hallpass\.service: ([0-9.]+)", r.stdout + r.stderr)
    assert score, r.stdout + r.stderr
    print(f"systemd-analyze security: exposure {score.group(1)}")
    assert float(score.group(1)) <= MAX_EXPOSURE, r.stdout
    r = sh("/usr/bin/hallpass", "--version")
    assert r.returncode == 0, r.stderr
    m = re.fullmatch(r"hallpass (\d+\.\d+\.\d+) \(commit [0-9A-Za-z-]+\)", r.stdout.strip())
    assert m, r.stdout
    assert changelog_version().rsplit("-", 1)[0] == m.group(1)


@pytest.fixture(scope="module")
def ports(package):
    http_port, ssh_port = free_19xxx_ports(2)
    return {"HALLPASS_LISTEN": f"127.0.0.1:{http_port}", "HALLPASS_SSH_LISTEN": f"127.0.0.1:{ssh_port}",
            "http": http_port, "ssh": ssh_port}


def port_overrides(ports):
    return {k: v for k, v in ports.items() if k.startswith("HALLPASS_")}


class Service:
    """`hallpass serve` started the way hallpass.service starts it (its ExecStart, User, Group,
    WorkingDirectory, UMask and Environment), on free ports through HALLPASS_LISTEN and
    HALLPASS_SSH_LISTEN, with a scope, the public client `tv` and the user alice."""

    def __init__(self, package, ports):
        self.unit = unit_service_section(UNIT)
        self.context = ServiceContext(self.unit)
        assert self.context.exec_start[:2] == ["/usr/bin/hallpass", "serve"] and CONFIG in self.context.exec_start
        assert (self.context.user, self.context.group, self.context.cwd) == ("hallpass", "hallpass", STATE)
        self.ports = ports
        self.base = f"http://127.0.0.1:{ports['http']}"
        self.log = tempfile.TemporaryFile("w+")
        self.proc = subprocess.Popen(self.context.exec_start, stdout=self.log, stderr=subprocess.STDOUT,
                                     **self.context.popen_args(port_overrides(ports)))
        package["server"] = self.proc
        deadline = time.time() + 60
        while True:
            assert self.proc.poll() is None, "hallpass serve exited:\n" + self.output()
            assert time.time() < deadline, "hallpass serve did not start:\n" + self.output()
            try:
                socket.create_connection(("127.0.0.1", ports["http"]), timeout=0.5).close()
                socket.create_connection(("127.0.0.1", ports["ssh"]), timeout=0.5).close()
                break
            except OSError:
                time.sleep(0.1)
        # Accounts, through the CLI as the service's user, on the configured database.
        for args, stdin in [(["scopes", "add", "openid", "--description", "Confirm who you are"], None),
                            (["clients", "add", "tv", "--name", "Living-room TV", "--public", "--scopes", "openid",
                              "--grant", "device_code", "--interval", "1s"], None),
                            (["users", "add", "alice", "--password-stdin"], ALICE_PASSWORD + "\n")]:
            self.cli(*args, stdin=stdin)

    def cli(self, *args, stdin=None):
        r = self.context.run(*args, "--config", CONFIG, stdin=stdin)
        assert r.returncode == 0, f"{args}: {r.stderr}"
        return r.stdout

    def output(self):
        self.log.flush()
        self.log.seek(0)
        return self.log.read()

    def stop(self):
        if self.proc.poll() is not None:
            return
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            raise AssertionError("hallpass serve did not stop on SIGTERM:\n" + self.output())


@pytest.fixture(scope="module")
def service(package, ports):
    s = Service(package, ports)
    yield s
    s.stop()


def redeem(base, device_code):
    return post_form(base + "/oauth/token", {"grant_type": "urn:ietf:params:oauth:grant-type:device_code",
                                             "device_code": device_code, "client_id": "tv"})


def test_doctor_finds_no_errors_as_the_service_user(package, ports):
    r = ServiceContext(unit_service_section(UNIT)).run("doctor", "--config", CONFIG, extra_env=port_overrides(ports))
    assert r.returncode == 0, f"doctor found errors:\n{r.stdout}{r.stderr}"


def test_the_service_completes_a_device_flow_through_the_consent_api(service):
    codes = device_authorization(service.base, client="tv", scope="openid")
    session = post_json(service.base + "/consent/login", {"username": "alice", "password": ALICE_PASSWORD})["session"]
    assert post_json(service.base + "/consent/approve", {"user_code": codes["user_code"]}, session)["status"] == "approved"
    token = redeem(service.base, codes["device_code"])
    assert token["access_token"] and token["token_type"].lower() in ("bearer", "dpop")


def test_the_ssh_front_as_the_service_user_approves_a_device(service, tmp_path):
    """The packaged service is not root: its SSH front must still take connections, and run
    `hallpass approve` on a PTY (forkpty) as the service user, with the packaged themes."""
    with socket.create_connection(("127.0.0.1", service.ports["ssh"]), timeout=5) as s:
        s.settimeout(10)
        try:
            banner = s.recv(256)
        except OSError as e:
            banner = repr(e).encode()
    assert banner.startswith(b"SSH-2.0-"), \
        f"the SSH front, running as user hallpass, closed the connection instead of greeting: {banner!r}"
    key = str(tmp_path / "id_alice")
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "alice@test", "-f", key], check=True)
    with open(key + ".pub") as f:
        service.cli("users", "add-key", "alice", stdin=f.read())
    codes = device_authorization(service.base, client="tv", scope="openid")
    t = Tmux(str(tmp_path), ["-p", str(service.ports["ssh"]), "-o", "StrictHostKeyChecking=no",
                             "-o", f"UserKnownHostsFile={tmp_path / 'known_hosts'}", "-o", "LogLevel=ERROR",
                             "-i", key, "-o", "IdentitiesOnly=yes", "-o", "PreferredAuthentications=publickey",
                             "-t", "alice@127.0.0.1"], program="ssh", report_exit=True)
    try:
        t.wait_for("Enter the code shown on the device", timeout=20)
        assert "Logged in as alice" in t.screen()
        t.type(codes["user_code"].lower().replace("-", " "))
        t.keys("Enter")
        t.wait_for("Deny")
        t.keys("Right", "Enter")                    # Deny has the focus; move to Approve
        t.wait_for("Approved")
    finally:
        t.close()
    assert redeem(service.base, codes["device_code"])["access_token"]


def test_reload_as_the_unit_does_it_keeps_serving(service):
    assert service.unit["ExecReload"][-1] == "/bin/kill -HUP $MAINPID"
    service.proc.send_signal(signal.SIGHUP)
    time.sleep(1)
    assert service.proc.poll() is None, "SIGHUP (systemctl reload) stopped the server:\n" + service.output()
    assert get_json(service.base + "/.well-known/openid-configuration")["issuer"]


def test_the_state_is_the_service_users_alone_and_it_stops_on_sigterm(service):
    account = pwd.getpwnam("hallpass")
    made = sorted(os.listdir(STATE))
    for name in ["hallpass.db", "hallpass.db.audit.jsonl", "hallpass-totp.key", "ssh_host_ed25519_key"]:
        assert name in made, f"{name} not in {STATE}: {made}"
    for directory, dirs, files in os.walk(STATE):
        for name in dirs + files:
            path = os.path.join(directory, name)
            st = os.lstat(path)
            assert (st.st_uid, st.st_gid) == (account.pw_uid, account.pw_gid), f"{path} is owned by {st.st_uid}:{st.st_gid}"
            assert stat.S_IMODE(st.st_mode) & 0o077 == 0, f"{path} has mode {oct(stat.S_IMODE(st.st_mode))}"
    service.stop()
    assert service.proc.returncode == 0, service.output()
    assert "runs on its own thread pool" not in service.output(), service.output()


def test_purge_leaves_only_the_state_directory(package):
    server = package["server"]
    if server and server.poll() is None:            # stopped already unless a test above failed
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=15)
    listing = deb_listing(package["deb"])
    r = sh("dpkg", "-P", "hallpass", timeout=600)
    assert r.returncode == 0, r.stdout + r.stderr
    assert package_status() == ""
    left = []
    for path in listing:
        if path == "/" or not os.path.lexists(path):
            continue
        # A directory may stay only while another package owns it.
        if os.path.isdir(path) and not os.path.islink(path) and sh("dpkg-query", "-S", path).returncode == 0:
            continue
        left.append(path)
    assert not left, f"left behind by dpkg -P: {left}"
    assert not os.path.exists("/etc/hallpass")
    assert not os.path.exists("/var/lib/systemd/deb-systemd-helper-enabled/hallpass.service.dsh-also")
    assert not os.path.lexists("/etc/systemd/system/multi-user.target.wants/hallpass.service")
    # The state and the account stay (Debian practice): a reinstall finds its database.
    assert os.path.isfile(os.path.join(STATE, "hallpass.db"))
    assert sh("getent", "passwd", "hallpass").returncode == 0
