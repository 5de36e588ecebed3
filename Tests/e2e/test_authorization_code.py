"""Issue 15: the authorization code grant with PKCE, consented in the terminal, against the built
binary. Third-party clients (Authlib, requests-oauthlib) do the OAuth side; the person approves
with `hallpass approve --decision`; a real Chromium (Debian's, through Selenium) and w3m show
that the waiting tab moves on by itself, or on reload without JavaScript."""
import base64
import hashlib
import html
import http.server
import os
import re
import shutil
import subprocess
import threading
import time
import urllib.parse

import jwt
import pytest
import requests
from authlib.integrations.requests_client import OAuth2Session as AuthlibSession
from authlib.oauth2.rfc8414 import AuthorizationServerMetadata
from requests_oauthlib import OAuth2Session

from conftest import ALICE_PASSWORD, Server, approve, fresh_postgres_database, get_json, setup_accounts
from tui import Tmux

CALLBACK = "http://127.0.0.1/callback"          # loopback: any port (RFC 8252 §7.3)
WEB_CALLBACK = "https://app.example/cb"
USER_CODE = re.compile(r"\b([BCDFGHJKLMNPQRSTVWXZ]{4}-[BCDFGHJKLMNPQRSTVWXZ]{4})\b")


def add_web_clients(s):
    r = s.cli("clients", "add", "cli", "--name", "Team CLI", "--public", "--scopes", "openid profile read",
              "--grant", "authorization_code", "--grant", "refresh_token", "--redirect-uri", CALLBACK)
    assert r.returncode == 0, r.stderr
    r = s.cli("clients", "add", "webapp", "--name", "<b>Wiki</b> & \"friends\"", "--public", "--scopes", "openid read",
              "--grant", "authorization_code", "--redirect-uri", WEB_CALLBACK, "--redirect-uri", "https://app.example/other")
    assert r.returncode == 0, r.stderr


@pytest.fixture
def web(server):
    add_web_clients(server)
    return server


def no_redirect(url, **kw):
    return requests.get(url, allow_redirects=False, timeout=10, **kw)


def pkce_pair():
    verifier = base64.urlsafe_b64encode(os.urandom(40)).rstrip(b"=").decode()
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    return verifier, challenge


def start(s, client="cli", redirect=None, state="st-1", **params):
    """Sends a browser to the authorization endpoint: (page URL, user code, verifier)."""
    verifier, challenge = pkce_pair()
    query = {"response_type": "code", "client_id": client, "state": state, "scope": "openid read",
             "code_challenge": challenge, "code_challenge_method": "S256",
             "redirect_uri": redirect or "http://127.0.0.1:45678/callback", **params}
    r = no_redirect(s.base + "/oauth/authorize?" + urllib.parse.urlencode(query))
    assert r.status_code == 303, r.text
    page_url = r.headers["Location"]
    page = no_redirect(page_url)
    assert page.status_code == 200
    return page_url, USER_CODE.search(page.text).group(1), verifier


def query_of(location):
    return dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(location).query))


def test_metadata_passes_authlibs_validators(web):
    for path in ("/.well-known/oauth-authorization-server", "/.well-known/openid-configuration"):
        meta = get_json(web.base + path)
        AuthorizationServerMetadata(meta).validate()
        assert meta["authorization_endpoint"] == web.base + "/oauth/authorize"
        assert meta["response_types_supported"] == ["code"]
        assert meta["response_modes_supported"] == ["query"]
        assert meta["code_challenge_methods_supported"] == ["S256"]
        assert meta["authorization_response_iss_parameter_supported"] is True
        assert "authorization_code" in meta["grant_types_supported"]


def test_authlib_completes_the_flow_with_s256(web):
    meta = get_json(web.base + "/.well-known/openid-configuration")
    session = AuthlibSession("cli", scope="openid profile read", redirect_uri="http://127.0.0.1:40123/callback",
                             code_challenge_method="S256")
    verifier = base64.urlsafe_b64encode(os.urandom(48)).rstrip(b"=").decode()
    url, state = session.create_authorization_url(meta["authorization_endpoint"], code_verifier=verifier, nonce="n-0S6_WzA2Mj")
    page_url = no_redirect(url).headers["Location"]
    page = no_redirect(page_url)
    assert "Team CLI" in page.text and "127.0.0.1:40123" in page.text
    code = USER_CODE.search(page.text).group(1)
    assert approve(web, code).returncode == 0
    back = no_redirect(page_url)
    assert back.status_code == 303
    location = back.headers["Location"]
    assert location.startswith("http://127.0.0.1:40123/callback?")
    answer = query_of(location)
    assert answer["state"] == state and answer["iss"] == meta["issuer"]
    # The same redirect on every visit (a reload must not break the sign-in).
    assert no_redirect(page_url).headers["Location"] == location
    token = session.fetch_token(meta["token_endpoint"], authorization_response=location, code_verifier=verifier)
    assert set(token["scope"].split()) == {"openid", "profile", "read"}
    key = jwt.PyJWKClient(meta["jwks_uri"]).get_signing_key_from_jwt(token["id_token"])
    claims = jwt.decode(token["id_token"], key.key, algorithms=["RS256"], audience="cli", issuer=meta["issuer"])
    assert claims["nonce"] == "n-0S6_WzA2Mj"
    digest = hashlib.sha256(token["access_token"].encode()).digest()
    assert claims["at_hash"] == base64.urlsafe_b64encode(digest[:16]).rstrip(b"=").decode()
    assert abs(claims["auth_time"] - time.time()) < 120
    # Used: the page now says so instead of sending the code again.
    done = no_redirect(page_url)
    assert done.status_code == 200 and "complete" in done.text
    # A refresh works as for device grants.
    refreshed = session.refresh_token(meta["token_endpoint"], refresh_token=token["refresh_token"])
    assert refreshed["access_token"] != token["access_token"]


def test_requests_oauthlib_completes_the_flow_with_pkce(web, monkeypatch):
    monkeypatch.setenv("OAUTHLIB_INSECURE_TRANSPORT", "1")   # the loopback callback is plain HTTP
    meta = get_json(web.base + "/.well-known/oauth-authorization-server")
    session = OAuth2Session("cli", scope=["openid", "read"], redirect_uri="http://127.0.0.1:40999/callback", pkce="S256")
    url, state = session.authorization_url(meta["authorization_endpoint"])
    assert "code_challenge_method=S256" in url
    page_url = no_redirect(url).headers["Location"]
    code = USER_CODE.search(no_redirect(page_url).text).group(1)
    assert approve(web, code).returncode == 0
    location = no_redirect(page_url).headers["Location"]
    token = session.fetch_token(meta["token_endpoint"], authorization_response=location, include_client_id=True)
    assert token["token_type"] == "Bearer"
    assert set(token["scope"]) == {"openid", "read"}


def test_errors_that_must_not_redirect_get_a_page(web):
    verifier, challenge = pkce_pair()
    base = {"response_type": "code", "code_challenge": challenge, "code_challenge_method": "S256", "state": "s"}
    cases = [
        {**base, "client_id": "nobody", "redirect_uri": WEB_CALLBACK},
        {**base, "client_id": "webapp", "redirect_uri": "https://evil.example/cb"},
        {**base, "client_id": "webapp"},                                   # two registered, none named
        {**base, "client_id": "cli", "redirect_uri": "http://127.0.0.10:4000/callback"},
        {**base, "redirect_uri": WEB_CALLBACK},                            # no client_id
    ]
    for query in cases:
        r = no_redirect(web.base + "/oauth/authorize?" + urllib.parse.urlencode(query))
        assert r.status_code in (400, 404), (query, r.status_code)
        assert "Location" not in r.headers, query
        assert r.headers["Content-Type"].startswith("text/html")
        assert "frame-ancestors 'none'" in r.headers["Content-Security-Policy"]
    # A repeated client_id is a page as well.
    r = no_redirect(web.base + "/oauth/authorize?client_id=cli&client_id=webapp&response_type=code")
    assert r.status_code == 400 and "Location" not in r.headers


@pytest.mark.parametrize("change,error", [
    ({"response_type": "token"}, "unsupported_response_type"),
    ({"code_challenge": None}, "invalid_request"),
    ({"code_challenge_method": "plain"}, "invalid_request"),
    ({"code_challenge_method": None}, "invalid_request"),
    ({"scope": "openid admin"}, "invalid_scope"),
    ({"prompt": "none"}, "login_required"),
])
def test_errors_that_redirect_carry_state_and_iss(web, change, error):
    verifier, challenge = pkce_pair()
    query = {"response_type": "code", "client_id": "webapp", "redirect_uri": WEB_CALLBACK, "state": "xyz<'\">",
             "code_challenge": challenge, "code_challenge_method": "S256", "scope": "openid"}
    query.update(change)
    query = {k: v for k, v in query.items() if v is not None}
    r = no_redirect(web.base + "/oauth/authorize?" + urllib.parse.urlencode(query))
    assert r.status_code == 303
    location = r.headers["Location"]
    assert location.startswith(WEB_CALLBACK + "?")
    answer = query_of(location)
    assert answer["error"] == error and answer["state"] == "xyz<'\">" and answer["iss"] == web.base
    assert "error_description" in answer


def test_a_repeated_parameter_redirects_invalid_request(web):
    verifier, challenge = pkce_pair()
    r = no_redirect(web.base + "/oauth/authorize?response_type=code&client_id=webapp&redirect_uri="
                    + urllib.parse.quote(WEB_CALLBACK) + f"&code_challenge={challenge}&code_challenge_method=S256"
                    + "&scope=openid&scope=read&state=s1")
    answer = query_of(r.headers["Location"])
    assert answer["error"] == "invalid_request" and "repeated" in answer["error_description"] and answer["state"] == "s1"


def test_post_to_the_authorization_endpoint(web):
    verifier, challenge = pkce_pair()
    r = requests.post(web.base + "/oauth/authorize", allow_redirects=False, timeout=10, data={
        "response_type": "code", "client_id": "webapp", "redirect_uri": WEB_CALLBACK, "scope": "openid",
        "code_challenge": challenge, "code_challenge_method": "S256"})
    assert r.status_code == 303 and "/oauth/authorize/request/" in r.headers["Location"]


def test_denied_sign_in_redirects_access_denied(web):
    page_url, code, _ = start(web, client="webapp", redirect=WEB_CALLBACK)
    assert approve(web, code, decision="deny").returncode == 0
    answer = query_of(no_redirect(page_url).headers["Location"])
    assert answer["error"] == "access_denied" and answer["state"] == "st-1" and answer["iss"] == web.base
    # Decided: it cannot be decided again.
    assert approve(web, code).returncode != 0


def token_request(s, code, verifier, client="cli", redirect="http://127.0.0.1:45678/callback", **extra):
    fields = {"grant_type": "authorization_code", "code": code, "client_id": client, "code_verifier": verifier,
              "redirect_uri": redirect, **extra}
    return requests.post(s.base + "/oauth/token", data={k: v for k, v in fields.items() if v is not None}, timeout=10)


def approved_code(s, **kw):
    page_url, code, verifier = start(s, **kw)
    assert approve(s, code).returncode == 0
    return query_of(no_redirect(page_url).headers["Location"])["code"], verifier


def test_pkce_failures_and_bindings(web):
    code, verifier = approved_code(web)
    wrong = pkce_pair()[0]
    for fields, error in [({"code_verifier": wrong}, "invalid_grant"),
                          ({"code_verifier": None}, "invalid_request"),
                          ({"redirect_uri": "http://127.0.0.1:45679/callback"}, "invalid_grant"),
                          ({"redirect_uri": None}, "invalid_request"),
                          ({"client_id": "tv"}, "unauthorized_client")]:
        args = {"code": code, "verifier": verifier}
        if "code_verifier" in fields:
            args["verifier"] = fields.pop("code_verifier")
        r = token_request(web, args["code"], args["verifier"], **fields)
        assert r.status_code == 400 and r.json()["error"] == error, (fields, r.text)
        assert r.headers["Cache-Control"] == "no-store"
    # None of those used the code up: the right request still works.
    assert token_request(web, code, verifier).status_code == 200


def test_code_replay_revokes_its_tokens(web):
    code, verifier = approved_code(web)
    first = token_request(web, code, verifier)
    assert first.status_code == 200
    access = first.json()["access_token"]
    assert requests.get(web.base + "/oauth/userinfo", headers={"Authorization": "Bearer " + access}, timeout=10).status_code == 200
    second = token_request(web, code, verifier)
    assert second.status_code == 400 and second.json()["error"] == "invalid_grant"
    assert requests.get(web.base + "/oauth/userinfo", headers={"Authorization": "Bearer " + access}, timeout=10).status_code == 401
    refresh = requests.post(web.base + "/oauth/token", timeout=10, data={
        "grant_type": "refresh_token", "refresh_token": first.json()["refresh_token"], "client_id": "cli"})
    assert refresh.status_code == 400


def test_concurrent_redemptions_yield_at_most_one_live_token(web):
    code, verifier = approved_code(web)
    results = [None] * 6
    def go(i):
        results[i] = token_request(web, code, verifier)
    threads = [threading.Thread(target=go, args=(i,)) for i in range(6)]
    for t in threads: t.start()
    for t in threads: t.join()
    ok = [r for r in results if r.status_code == 200]
    assert len(ok) <= 1
    for r in ok:
        live = requests.get(web.base + "/oauth/userinfo", headers={"Authorization": "Bearer " + r.json()["access_token"]}, timeout=10)
        assert live.status_code == 401     # the losers' replays revoked it


def test_a_page_handle_is_no_device_code(web):
    page_url, code, _ = start(web)
    handle = page_url.rsplit("/", 1)[1]
    r = requests.post(web.base + "/oauth/token", timeout=10, data={
        "grant_type": "urn:ietf:params:oauth:grant-type:device_code", "device_code": handle, "client_id": "cli"})
    assert r.status_code == 400 and r.json()["error"] in ("invalid_grant", "unauthorized_client")


def test_page_escapes_hostile_values_and_sends_security_headers(web):
    page_url, code, _ = start(web, client="webapp", redirect=WEB_CALLBACK, state="<script>alert(1)</script>")
    page = no_redirect(page_url)
    assert "<b>Wiki</b>" not in page.text
    assert html.escape("<b>Wiki</b> & \"friends\"", quote=True).replace("&#x27;", "&#39;") in page.text
    assert "<script>alert" not in page.text
    h = page.headers
    assert h["Cache-Control"] == "no-store"
    assert h["Referrer-Policy"] == "no-referrer" and h["X-Content-Type-Options"] == "nosniff"
    csp = h["Content-Security-Policy"]
    assert "frame-ancestors 'none'" in csp and "script-src 'self'" in csp and "unsafe-inline" not in csp
    assert re.search(r"<script>(?!</script>)", page.text) is None    # no inline script
    assert "hallpass approve --server " + web.base in page.text
    js = no_redirect(web.base + "/oauth/authorize/page.js")
    assert js.status_code == 200 and js.headers["Content-Type"].startswith("text/javascript")


def test_expired_request_page_says_so(web):
    import sqlite3
    page_url, code, _ = start(web)
    with sqlite3.connect(web.db) as db:
        db.execute("UPDATE device_grants SET expires_at = 1 WHERE redirect_uri IS NOT NULL")
    r = no_redirect(page_url)
    assert r.status_code == 200 and "expired" in r.text and "Location" not in r.headers
    assert no_redirect(web.base + "/oauth/authorize/request/" + "A" * 43).status_code == 404


# --- the no-JavaScript path: w3m ---------------------------------------------------------

def w3m_dump(url):
    r = subprocess.run(["w3m", "-dump", "-o", "accept_cookie=0", url], stdin=subprocess.DEVNULL, capture_output=True,
                       text=True, timeout=30)
    assert r.returncode == 0, r.stderr
    return r.stdout


def test_w3m_reads_the_page_before_and_after_the_decision(web):
    assert shutil.which("w3m"), "w3m is required (scripts/test.sh installs it)"
    callback = CallbackServer()
    try:
        page_url, code, _ = start(web, redirect=f"http://127.0.0.1:{callback.port}/callback")
        before = w3m_dump(page_url)
        assert code in before and "Team CLI" in before and "Continue" in before
        assert "127.0.0.1:%d" % callback.port in before
        assert approve(web, code).returncode == 0
        after = w3m_dump(page_url)      # w3m follows the 303 to the callback
        assert "signed-in callback" in after
        assert callback.hits and "code" in query_of(callback.hits[-1]) and query_of(callback.hits[-1])["state"] == "st-1"
    finally:
        callback.stop()


# --- a real browser: Debian's Chromium driven by Selenium ---------------------------------

class CallbackServer:
    """A native app's loopback redirect target (RFC 8252 §7.3) on a free port."""

    def __init__(self):
        hits = self.hits = []

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):
                hits.append(self.path)
                body = b"<!DOCTYPE html><title>cb</title><p>signed-in callback</p>"
                self.send_response(200)
                self.send_header("Content-Type", "text/html")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.httpd.server_address[1]
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def stop(self):
        self.httpd.shutdown()
        self.httpd.server_close()


def chromium():
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service
    binary, driver = shutil.which("chromium"), shutil.which("chromedriver")
    assert binary and driver, "chromium and chromium-driver are required (scripts/test.sh installs them)"
    os.environ["SE_OFFLINE"] = "true"      # Selenium Manager must never download a browser
    options = webdriver.ChromeOptions()
    options.binary_location = binary
    for flag in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu", "--no-first-run"):
        options.add_argument(flag)
    return webdriver.Chrome(service=Service(executable_path=driver), options=options)


def wait_for(predicate, timeout):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.02)
    return predicate()


def browser_sign_in(page_server, approving_server, token_server, decide=None):
    """Chromium opens the authorization URL at `page_server`; the person approves through
    `approving_server` (`hallpass approve --decision`, or `decide(code, redirect_host)`); the tab
    must reach the loopback callback within 1 s of the decision, by itself."""
    callback = CallbackServer()
    browser = chromium()
    try:
        verifier, challenge = pkce_pair()
        redirect = f"http://127.0.0.1:{callback.port}/callback"
        url = page_server.base + "/oauth/authorize?" + urllib.parse.urlencode({
            "response_type": "code", "client_id": "cli", "redirect_uri": redirect, "state": "browser-state",
            "scope": "openid read", "code_challenge": challenge, "code_challenge_method": "S256"})
        browser.get(url)
        assert "/oauth/authorize/request/" in browser.current_url
        code = USER_CODE.search(browser.page_source).group(1)
        # The page's socket is subscribed before the decision (the first frame answers).
        time.sleep(0.5)
        if decide:
            decide(code, f"127.0.0.1:{callback.port}")
        else:
            assert approve(approving_server, code).returncode == 0
        decided = time.monotonic()
        arrived = wait_for(lambda: browser.current_url.startswith(redirect), timeout=1.0)
        elapsed = time.monotonic() - decided
        assert arrived, f"the tab is still at {browser.current_url} 1 s after the decision"
        answer = query_of(browser.current_url)
        assert answer["state"] == "browser-state" and answer["code"].startswith("ac_")
        token = token_request(token_server, answer["code"], verifier, redirect=redirect)
        assert token.status_code == 200, token.text
        return elapsed
    finally:
        browser.quit()
        callback.stop()


def test_chromium_tab_moves_on_when_the_terminal_approves(web):
    browser_sign_in(web, web, web)


def test_the_tui_shows_a_browser_sign_in_and_the_tab_moves_on(web, tmpdir_path):
    """The person decides in the real `hallpass approve` TUI (tmux): the screen says a browser
    is signing in and where it returns; Approve moves the Chromium tab on."""
    t = Tmux(tmpdir_path, ["approve", "--server", web.base])
    try:
        def decide(code, redirect_host):
            t.log_in("alice", ALICE_PASSWORD)
            t.enter_code(code)
            screen = t.wait_for("You are signing in with a web browser")
            assert "Returns to" in screen and redirect_host in screen and "Browser IP" in screen
            assert "[Team CLI" in screen and "[>Deny<]" in screen
            assert "If you did not just start this sign-in in your own browser, choose Deny." in screen
            t.keys("Right", "Enter")
            t.wait_for("✓ Approved")
        browser_sign_in(web, web, web, decide=decide)
    finally:
        t.close()


@pytest.fixture
def two_replicas(tmpdir_path):
    """Two replicas on one PostgreSQL, each its own issuer: the browser waits on B while the
    person approves through A (the decision crosses by LISTEN/NOTIFY)."""
    db = fresh_postgres_database()
    for sub in ("a", "b"):
        os.makedirs(os.path.join(tmpdir_path, sub))
    a = Server(os.path.join(tmpdir_path, "a"), extra=["--no-ssh"], db=db)
    setup_accounts(a)
    add_web_clients(a)
    b = Server(os.path.join(tmpdir_path, "b"), extra=["--no-ssh"], db=db, avoid=(a.port,))
    yield a, b
    a.stop()
    b.stop()


def test_chromium_tab_on_replica_b_moves_on_when_approved_through_replica_a(two_replicas):
    a, b = two_replicas
    browser_sign_in(b, a, b)


def test_a_confidential_web_app_authenticates_at_the_token_endpoint(web):
    """The README's registration: a generated secret, client_secret_basic through Authlib."""
    r = web.cli("clients", "add", "wiki", "--name", "Team wiki", "--generate-secret", "--scopes", "openid profile",
                "--grant", "authorization_code", "--grant", "refresh_token",
                "--redirect-uri", "https://wiki.example.com/oauth/callback")
    assert r.returncode == 0, r.stderr
    secret = re.search(r"client_secret: (\S+)", r.stdout).group(1)
    listed = web.cli("clients", "list").stdout
    assert "redirect_uris=https://wiki.example.com/oauth/callback" in listed
    page_url, code, verifier = start(web, client="wiki", redirect="https://wiki.example.com/oauth/callback",
                                     scope="openid profile")
    assert approve(web, code).returncode == 0
    location = no_redirect(page_url).headers["Location"]
    meta = get_json(web.base + "/.well-known/oauth-authorization-server")
    wrong = requests.post(meta["token_endpoint"], auth=("wiki", "not-the-secret"), timeout=10, data={
        "grant_type": "authorization_code", "code": query_of(location)["code"], "code_verifier": verifier,
        "redirect_uri": "https://wiki.example.com/oauth/callback"})
    assert wrong.status_code == 401 and wrong.json()["error"] == "invalid_client"
    session = AuthlibSession("wiki", secret, redirect_uri="https://wiki.example.com/oauth/callback")
    token = session.fetch_token(meta["token_endpoint"], authorization_response=location, code_verifier=verifier)
    assert set(token["scope"].split()) == {"openid", "profile"}


def test_clients_add_refuses_unsound_redirect_uris(web):
    for args, message in [
        (["--grant", "authorization_code"], "needs at least one --redirect-uri"),
        (["--redirect-uri", "https://a.example/cb"], "--grant authorization_code"),
        (["--grant", "authorization_code", "--redirect-uri", "http://localhost/cb"], "127.0.0.1"),
        (["--grant", "authorization_code", "--redirect-uri", "https://a.example/cb#x"], "fragment"),
        (["--grant", "authorization_code", "--redirect-uri", "http://a.example/cb"], "https"),
    ]:
        r = web.cli("clients", "add", "x", "--name", "X", "--public", *args)
        assert r.returncode != 0 and message in r.stderr, (args, r.stderr)
