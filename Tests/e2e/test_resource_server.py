"""Issue 16 (part): the example resource server (Examples/resource-server), protected by
HallpassResource, against the running binary. Real tokens pass; the forgery corpus built with
PyJWT and by hand is refused with RFC 6750 answers; a rotated key works without a restart."""
import base64
import hashlib
import hmac
import json
import os
import subprocess
import time

import jwt
import pytest
import requests
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from conftest import BIN, ROOT, RS_SECRET, approved_login, free_port, get_json

EXAMPLE = os.environ.get("HALLPASS_RESOURCE_EXAMPLE_BIN",
                         os.path.join(ROOT, ".build", "debug", "hallpass-resource-example"))


@pytest.fixture
def api(server):
    port = free_port()
    proc = subprocess.Popen([EXAMPLE, "--issuer", server.base, "--listen", f"127.0.0.1:{port}", "--refetch-interval", "3"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    base = f"http://127.0.0.1:{port}"
    deadline = time.time() + 30
    while time.time() < deadline:
        try:
            if requests.get(base + "/health", timeout=1).status_code == 200:
                break
        except requests.ConnectionError:
            time.sleep(0.1)
    else:
        proc.kill()
        raise RuntimeError("the example resource server did not start: " + proc.stderr.read().decode())
    yield base
    proc.terminate()
    proc.wait(timeout=10)


def token_response(server, scope="openid read"):
    out = approved_login(server, "--json", "--scope", scope)
    return json.loads(out.strip().splitlines()[-1])["token"]


def b64(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def notes(api, token, method="GET"):
    headers = {"Authorization": "Bearer " + token} if token is not None else {}
    return requests.request(method, api + "/api/notes", headers=headers, timeout=10)


def test_a_real_token_reads_and_a_missing_scope_is_insufficient(server, api):
    token = token_response(server)
    r = notes(api, token["access_token"])
    assert r.status_code == 200, r.text
    assert r.json()["client"] == "tv" and "read" in r.json()["scope"].split()
    write = notes(api, token["access_token"], method="POST")
    assert write.status_code == 403
    challenge = write.headers["WWW-Authenticate"]
    assert 'error="insufficient_scope"' in challenge and 'scope="write"' in challenge
    # No credentials: the challenge without an error code (RFC 6750 §3.1).
    bare = notes(api, None)
    assert bare.status_code == 401
    assert bare.headers["WWW-Authenticate"] == 'Bearer realm="api", DPoP algs="EdDSA Ed25519 ES256 PS256 RS256"'
    assert requests.get(api + "/health", timeout=5).text == "ok"


def forgery_corpus(server, token):
    """name → (forged token, what `hallpass token inspect` must name)."""
    access = token["access_token"]
    header = jwt.get_unverified_header(access)
    claims = jwt.decode(access, options={"verify_signature": False})
    kid = header["kid"]
    attacker = Ed25519PrivateKey.generate()
    jwks = get_json(server.base + "/oauth/jwks.json")
    server_public = json.dumps(next(k for k in jwks["keys"] if k["kid"] == kid)).encode()

    def signed(payload, headers=None, key=attacker, algorithm="EdDSA"):
        return jwt.encode(payload, key, algorithm=algorithm, headers={"kid": kid, "typ": "at+jwt", **(headers or {})})

    def hs256_with(secret, payload):
        head = b64(json.dumps({"alg": "HS256", "typ": "at+jwt", "kid": kid}).encode())
        body = b64(json.dumps(payload).encode())
        mac = hmac.new(secret, f"{head}.{body}".encode(), hashlib.sha256).digest()
        return f"{head}.{body}.{b64(mac)}"

    parts = access.split(".")
    tampered = dict(claims, scope="openid read write admin")
    return kid, {
        "alg none": (b64(json.dumps({"alg": "none", "typ": "at+jwt", "kid": kid}).encode()) + "."
                     + b64(json.dumps(claims).encode()) + ".", "algorithm none is refused"),
        "HS256 keyed with the public key": (hs256_with(server_public, claims), "algorithm HS256 is refused"),
        "attacker key with the server's kid": (signed(claims), "the signature does not verify"),
        "kid with path and SQL characters": (jwt.encode(claims, attacker, algorithm="EdDSA",
                                                        headers={"kid": "../../x' OR '1'='1", "typ": "at+jwt"}),
                                             "no published key has kid"),
        "jku to the attacker": (signed(claims, {"jku": "http://127.0.0.1:1/jwks"}), "names its own key (jku)"),
        "x5u to the attacker": (signed(claims, {"x5u": "http://127.0.0.1:1/cert"}), "names its own key (x5u)"),
        "embedded jwk": (signed(claims, {"jwk": {"kty": "OKP", "crv": "Ed25519", "x": "AAAA"}}), "names its own key (jwk)"),
        "payload changed after signing": (parts[0] + "." + b64(json.dumps(tampered).encode()) + "." + parts[2],
                                          "the signature does not verify"),
        "expired": (jwt.encode(dict(claims, exp=int(time.time()) - 7200), attacker, algorithm="EdDSA",
                               headers={"kid": kid, "typ": "at+jwt"}), "the signature does not verify"),
        "another issuer": (signed(dict(claims, iss="https://evil.example")), "the signature does not verify"),
        "an ID token": (token["id_token"], "this is an ID token"),
        "a refresh token string": (token["refresh_token"], "this is a Hallpass refresh token"),
        "garbage": ("not-a-token", "a JWS has 3 parts"),
    }


def test_the_forgery_corpus_is_refused(server, api):
    token = token_response(server)
    kid, corpus = forgery_corpus(server, token)
    for name, (forged, _) in corpus.items():
        r = notes(api, forged)
        assert r.status_code == 401, (name, r.status_code, r.text)
        challenge = r.headers["WWW-Authenticate"]
        assert 'error="invalid_token"' in challenge, (name, challenge)
        assert kid not in r.text and kid not in challenge, name           # nothing that helps an attacker
        # The server's own checks: userinfo refuses it, introspection says only inactive.
        u = requests.get(server.base + "/oauth/userinfo", headers={"Authorization": "Bearer " + forged}, timeout=10)
        assert u.status_code == 401 and 'error="invalid_token"' in u.headers["WWW-Authenticate"], (name, u.text)
        seen = requests.post(server.base + "/oauth/introspect", data={"token": forged}, auth=("rs", RS_SECRET), timeout=10).json()
        if name == "a refresh token string":
            assert seen["active"] is True and seen["token_type"] == "refresh_token"   # active, and says it is no access token
        else:
            assert seen == {"active": False}, (name, seen)
    assert notes(api, token["access_token"]).status_code == 200           # the real one still works


def inspect(server, token, *extra):
    return subprocess.run([BIN, "token", "inspect", "--issuer", server.base, *extra], input=token + "\n",
                          capture_output=True, text=True, timeout=60)


def test_token_inspect_names_each_forgerys_reason_in_one_line(server):
    token = token_response(server)
    good = inspect(server, token["access_token"])
    assert good.returncode == 0, good.stdout + good.stderr
    assert "✓ verifies with key" in good.stdout
    kid, corpus = forgery_corpus(server, token)
    for name, (forged, reason) in corpus.items():
        r = inspect(server, forged)
        assert r.returncode == 1, (name, r.stdout, r.stderr)
        verdicts = [line for line in r.stdout.splitlines() if line.startswith("✗")]
        assert len(verdicts) == 1 and reason in verdicts[0], (name, r.stdout)
    # Expired, signed by the real issuer: how long ago. Another audience: both values.
    unknown = inspect(server, corpus["kid with path and SQL characters"][0])
    assert kid in unknown.stdout                                          # which kids the server publishes
    as_json = inspect(server, corpus["an ID token"][0], "--json")
    answer = json.loads(as_json.stdout)
    assert as_json.returncode == 1 and answer["valid"] is False and answer["code"] == "id_token"
    wrong_audience = inspect(server, token["access_token"], "--audience", "https://api.example")
    assert wrong_audience.returncode == 1 and "expected https://api.example" in wrong_audience.stdout
    # Control characters in a token's claims never reach the terminal raw.
    hostile = jwt.encode({"iss": "\x1b]0;pwned\x07", "aud": "x"}, Ed25519PrivateKey.generate(), algorithm="EdDSA",
                         headers={"kid": kid, "typ": "at+jwt"})
    r = inspect(server, hostile)
    assert "\x1b" not in r.stdout and "<U+001B>" in r.stdout


def test_a_rotated_key_is_accepted_without_a_restart_and_old_tokens_keep_working(server, api):
    old = token_response(server)["access_token"]
    assert notes(api, old).status_code == 200
    old_kid = jwt.get_unverified_header(old)["kid"]
    assert server.cli("keys", "rotate", "--alg", "ES256").returncode == 0
    deadline = time.time() + 30
    new = old
    while time.time() < deadline:
        new = token_response(server)["access_token"]
        if jwt.get_unverified_header(new)["kid"] != old_kid:
            break
        time.sleep(1)
    assert jwt.get_unverified_header(new)["alg"] == "ES256"
    # The verifier fetched the key set at the first request; within its refetch interval (3 s
    # here) an unknown kid is refused without a fetch, after it the new kid is fetched.
    deadline = time.time() + 20
    while time.time() < deadline and notes(api, new).status_code != 200:
        time.sleep(1)
    assert notes(api, new).status_code == 200
    assert notes(api, old).status_code == 200
    # The old key is published with the time it was retired, and inspect says so.
    retired = [k for k in get_json(server.base + "/oauth/jwks.json")["keys"] if k["kid"] == old_kid]
    assert len(retired) == 1 and retired[0]["hallpass_retired_at"].endswith("Z")
    said = inspect(server, old)
    assert said.returncode == 0 and f"key {old_kid} was retired at {retired[0]['hallpass_retired_at']}" in said.stdout, said.stdout


def test_introspection_mode_makes_a_revocation_bite_within_the_cache(server):
    from conftest import RS_SECRET
    port = free_port()
    proc = subprocess.Popen([EXAMPLE, "--issuer", server.base, "--listen", f"127.0.0.1:{port}", "--introspect-as", "rs",
                             "--introspection-cache", "1"],
                            env={**os.environ, "HALLPASS_INTROSPECTION_SECRET": RS_SECRET},
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    api = f"http://127.0.0.1:{port}"
    try:
        deadline = time.time() + 30
        while time.time() < deadline:
            try:
                requests.get(api + "/health", timeout=1)
                break
            except requests.ConnectionError:
                time.sleep(0.1)
        token = token_response(server)
        assert notes(api, token["access_token"]).status_code == 200
        assert notes(api, token["refresh_token"]).status_code == 401          # active, but no access token
        r = requests.post(server.base + "/oauth/revoke", data={"token": token["access_token"], "client_id": "tv"}, timeout=10)
        assert r.status_code == 200
        time.sleep(1.2)
        refused = notes(api, token["access_token"])
        assert refused.status_code == 401 and 'error="invalid_token"' in refused.headers["WWW-Authenticate"]
    finally:
        proc.terminate()
        proc.wait(timeout=10)
