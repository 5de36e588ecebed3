"""Issue 16: DPoP (RFC 9449) end to end against the running binary and the example resource
server. Proofs are built here with PyJWT and `cryptography` (an implementation that is not ours),
the thumbprint with RFC 7638 by hand; the CLI's own key and proofs are checked the same way."""
import base64
import hashlib
import json
import os
import stat
import subprocess
import time
import uuid

import jwt
import requests
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from conftest import BIN, RS_SECRET, Server, approve, approved_login, device_authorization, run, setup_accounts
from test_resource_server import api  # noqa: F401  (the example resource server fixture)

DEVICE_GRANT = "urn:ietf:params:oauth:grant-type:device_code"


def b64(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def public_jwk(key):
    numbers = key.public_key().public_numbers()
    return {"kty": "EC", "crv": "P-256", "x": b64(numbers.x.to_bytes(32, "big")), "y": b64(numbers.y.to_bytes(32, "big"))}


def thumbprint(jwk):
    """RFC 7638 §3: the required members in lexicographic order, no whitespace, SHA-256."""
    required = {"EC": ("crv", "kty", "x", "y"), "OKP": ("crv", "kty", "x"), "RSA": ("e", "kty", "n")}[jwk["kty"]]
    canonical = json.dumps({k: jwk[k] for k in required}, separators=(",", ":"), sort_keys=True)
    return b64(hashlib.sha256(canonical.encode()).digest())


def proof(key, htm, htu, token=None, nonce=None, iat=None, jwk=None, alg="ES256", typ="dpop+jwt"):
    claims = {"jti": uuid.uuid4().hex, "htm": htm, "htu": htu, "iat": int(iat if iat is not None else time.time())}
    if token:
        claims["ath"] = b64(hashlib.sha256(token.encode()).digest())
    if nonce:
        claims["nonce"] = nonce
    return jwt.encode(claims, key, algorithm=alg, headers={"typ": typ, "jwk": jwk or public_jwk(key)})


def dpop_token(server, key, scope="openid profile read", client="tv"):
    codes = device_authorization(server.base, client=client, scope=scope)
    assert approve(server, codes["user_code"]).returncode == 0
    url = server.base + "/oauth/token"
    r = requests.post(url, data={"grant_type": DEVICE_GRANT, "device_code": codes["device_code"], "client_id": client},
                      headers={"DPoP": proof(key, "POST", url)}, timeout=10)
    assert r.status_code == 200, r.text
    return r.json()


def introspect(server, token):
    r = requests.post(server.base + "/oauth/introspect", data={"token": token}, auth=("rs", RS_SECRET), timeout=10)
    assert r.status_code == 200, r.text
    return r.json()


def inspect(server, token, *extra):
    return subprocess.run([BIN, "token", "inspect", "--issuer", server.base, *extra], input=token + "\n",
                          capture_output=True, text=True, timeout=60)


def test_python_proofs_bind_the_tokens_and_every_forgery_is_refused_everywhere(server, api):  # noqa: F811
    key = ec.generate_private_key(ec.SECP256R1())
    token = dpop_token(server, key)
    access = token["access_token"]
    assert token["token_type"] == "DPoP"
    jkt = thumbprint(public_jwk(key))
    assert jwt.decode(access, options={"verify_signature": False})["cnf"] == {"jkt": jkt}
    seen = introspect(server, access)
    assert seen["active"] is True and seen["token_type"] == "DPoP" and seen["cnf"] == {"jkt": jkt}
    metadata = requests.get(server.base + "/.well-known/openid-configuration", timeout=10).json()
    assert metadata["dpop_signing_alg_values_supported"] == ["EdDSA", "Ed25519", "ES256", "PS256", "RS256"]

    userinfo_url = server.base + "/oauth/userinfo"
    notes_url = api + "/api/notes"

    def call(url, proof_value, scheme="DPoP"):
        headers = {"Authorization": f"{scheme} {access}"}
        if proof_value is not None:
            headers["DPoP"] = proof_value
        return requests.get(url, headers=headers, timeout=10)

    for url in (userinfo_url, notes_url):
        good = proof(key, "GET", url, token=access)
        assert call(url, good).status_code == 200, url
        replay = call(url, good)
        assert replay.status_code == 401 and 'error="invalid_dpop_proof"' in replay.headers["WWW-Authenticate"], url
        # RFC 9449 §7.2: a bound token is no bearer token.
        as_bearer = call(url, None, scheme="Bearer")
        challenge = as_bearer.headers["WWW-Authenticate"]
        assert as_bearer.status_code == 401 and challenge.startswith("DPoP ") and 'error="invalid_token"' in challenge, url

    attacker = ec.generate_private_key(ec.SECP256R1())
    numbers = key.private_numbers()
    with_private = dict(public_jwk(key), d=b64(numbers.private_value.to_bytes(32, "big")))

    def corpus(url):
        """name → (proof, what the refusal names)."""
        return {
            "for another method": (proof(key, "POST", url, token=access), "for method POST, this request is GET"),
            "for another URL": (proof(key, "GET", url + "/elsewhere", token=access), "this request is to"),
            "too old": (proof(key, "GET", url, token=access, iat=time.time() - 600), "s ago"),
            "signed by another key": (proof(attacker, "GET", url, token=access), "another key than the one the token is bound to"),
            "a private key in its header": (proof(key, "GET", url, token=access, jwk=with_private), "holds a private key"),
            "alg none": (jwt.encode({"jti": "n", "htm": "GET", "htu": url, "iat": int(time.time())}, None, algorithm="none",
                                    headers={"typ": "dpop+jwt", "jwk": public_jwk(key)}), "alg none is not accepted"),
            "HS256": (jwt.encode({"jti": "h", "htm": "GET", "htu": url, "iat": int(time.time())}, "secret" * 6,
                                 algorithm="HS256", headers={"typ": "dpop+jwt", "jwk": public_jwk(key)}),
                      "alg HS256 is not accepted"),
            "typ JWT": (proof(key, "GET", url, token=access, typ="JWT"), "typ must be dpop+jwt"),
            "no ath": (proof(key, "GET", url), "no valid ath claim"),
        }

    for url in (userinfo_url, notes_url):
        for name, (forged, _) in corpus(url).items():
            r = call(url, forged)
            assert r.status_code == 401, (url, name, r.text)
            assert 'error="invalid_dpop_proof"' in r.headers["WWW-Authenticate"], (url, name)
    # Introspection cannot see proofs: it says the token is active and bound, so the resource
    # server that asks demands the proof (RFC 9449 §6.2).
    assert introspect(server, access)["cnf"] == {"jkt": jkt}

    # hallpass token inspect names each reason in one line; the good proof verifies.
    good = inspect(server, access, "--dpop", proof(key, "GET", notes_url, token=access), "--url", notes_url)
    assert good.returncode == 0 and "✓ the DPoP proof verifies" in good.stdout, good.stdout + good.stderr
    for name, (forged, reason) in corpus(notes_url).items():
        r = inspect(server, access, "--dpop", forged, "--url", notes_url)
        verdicts = [line for line in r.stdout.splitlines() if line.startswith("✗")]
        assert r.returncode == 1 and len(verdicts) == 1 and reason in verdicts[0], (name, r.stdout, r.stderr)
    bearer = inspect(server, access)
    assert bearer.returncode == 0 and "DPoP-bound to key " + jkt in bearer.stdout
    # Pasted as the header it was sent in: a bound token as Bearer is named as such.
    as_header = inspect(server, "Bearer " + access)
    verdicts = [line for line in as_header.stdout.splitlines() if line.startswith("✗")]
    assert as_header.returncode == 1 and len(verdicts) == 1 and "presented as Bearer" in verdicts[0], as_header.stdout
    assert inspect(server, "DPoP " + access).returncode == 0


def test_the_cli_keeps_its_key_signs_its_requests_and_refreshes_with_it(server, api, tmpdir_path):  # noqa: F811
    token_file = os.path.join(tmpdir_path, "pi-token.json")
    approved_login(server, "--dpop", "--token-file", token_file)
    key_file = os.path.join(tmpdir_path, "pi-token.dpop-key.json")
    assert stat.S_IMODE(os.stat(key_file).st_mode) == 0o600
    key = json.load(open(key_file))
    assert key["kty"] == "OKP" and key["crv"] == "Ed25519" and "d" in key
    saved = json.load(open(token_file))
    jkt = thumbprint(key)
    assert saved["token_type"] == "DPoP"
    assert jwt.decode(saved["access_token"], options={"verify_signature": False})["cnf"] == {"jkt": jkt}

    notes_url = api + "/api/notes"

    def headers(*extra):
        r = subprocess.run([BIN, "token", "--token-file", token_file, "--server", server.base, "--url", notes_url, *extra],
                           capture_output=True, text=True, timeout=60)
        assert r.returncode == 0, r.stderr
        return dict(line.split(": ", 1) for line in r.stdout.splitlines())

    sent = headers()
    assert sent["Authorization"].startswith("DPoP ") and set(sent) == {"Authorization", "DPoP"}
    assert requests.get(notes_url, headers=sent, timeout=10).status_code == 200
    assert requests.get(notes_url, headers=sent, timeout=10).status_code == 401          # each proof once

    # A stolen refresh token is worth nothing without the key; the helper refreshes with it.
    stolen = requests.post(server.base + "/oauth/token", timeout=10, data={
        "grant_type": "refresh_token", "refresh_token": saved["refresh_token"], "client_id": "tv"})
    assert stolen.status_code == 400 and stolen.json()["error"] == "invalid_dpop_proof", stolen.text
    refreshed = headers("--min-valid", "100000s")
    assert refreshed["Authorization"] != sent["Authorization"]
    new = json.load(open(token_file))
    assert new["refresh_token"] != saved["refresh_token"]
    assert jwt.decode(new["access_token"], options={"verify_signature": False})["cnf"] == {"jkt": jkt}
    assert requests.get(notes_url, headers=refreshed, timeout=10).status_code == 200

    out = subprocess.run([BIN, "logout", "--token-file", token_file, "--server", server.base],
                         capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert not os.path.exists(key_file) and not os.path.exists(token_file)


def test_server_nonces_and_clients_that_require_dpop(tmpdir_path):
    s = Server(tmpdir_path, extra=["--dpop-nonces"])
    try:
        setup_accounts(s)
        r = s.cli("clients", "add", "pi", "--name", "Pi", "--public", "--scopes", "openid read", "--grant", "device_code",
                  "--grant", "refresh_token", "--interval", "1s", "--require-dpop")
        assert r.returncode == 0, r.stderr
        assert "require_dpop" in s.cli("clients", "list").stdout
        # A proof without the server's nonce is asked for one (RFC 9449 §8).
        key = ec.generate_private_key(ec.SECP256R1())
        codes = device_authorization(s.base, client="pi", scope="read")
        url = s.base + "/oauth/token"
        form = {"grant_type": DEVICE_GRANT, "device_code": codes["device_code"], "client_id": "pi"}
        asked = requests.post(url, data=form, headers={"DPoP": proof(key, "POST", url)}, timeout=10)
        assert asked.status_code == 400 and asked.json()["error"] == "use_dpop_nonce", asked.text
        nonce = asked.headers["DPoP-Nonce"]
        pending = requests.post(url, data=form, headers={"DPoP": proof(key, "POST", url, nonce=nonce)}, timeout=10)
        assert pending.json()["error"] == "authorization_pending" and "DPoP-Nonce" in pending.headers
        bare = requests.post(url, data=form, timeout=10)
        assert bare.json()["error"] == "invalid_dpop_proof" and "must send a DPoP proof" in bare.json()["error_description"]
        # The CLI learns the nonce from the refusal and goes on; without --dpop it is refused.
        proc_out = run(["login", "--server", s.base, "--client-id", "pi", "--scope", "read", "--json"], s.db, timeout=60)
        assert proc_out.returncode == 1 and "DPoP" in proc_out.stderr, proc_out.stdout + proc_out.stderr
        token_file = os.path.join(tmpdir_path, "pi.json")
        from conftest import start_login
        proc, code = start_login(s, "--dpop", "--dpop-alg", "ES256", "--token-file", token_file, client="pi")
        assert approve(s, code).returncode == 0
        out, err = proc.communicate(timeout=30)
        assert proc.returncode == 0, err
        saved = json.load(open(token_file))
        assert saved["token_type"] == "DPoP"
        key_jwk = json.load(open(os.path.join(tmpdir_path, "pi.dpop-key.json")))
        assert key_jwk["crv"] == "P-256"
        claims = jwt.decode(saved["access_token"], options={"verify_signature": False})
        assert claims["cnf"] == {"jkt": thumbprint(key_jwk)}
    finally:
        s.stop()


def test_an_ed25519_proof_from_pyjwt_is_accepted(server):
    key = Ed25519PrivateKey.generate()
    jwk = {"kty": "OKP", "crv": "Ed25519", "x": b64(key.public_key().public_bytes_raw())}
    codes = device_authorization(server.base, scope="read")
    assert approve(server, codes["user_code"]).returncode == 0
    url = server.base + "/oauth/token"
    r = requests.post(url, data={"grant_type": DEVICE_GRANT, "device_code": codes["device_code"], "client_id": "tv"},
                      headers={"DPoP": proof(key, "POST", url, jwk=jwk, alg="EdDSA")}, timeout=10)
    assert r.status_code == 200 and r.json()["token_type"] == "DPoP", r.text
    claims = jwt.decode(r.json()["access_token"], options={"verify_signature": False})
    assert claims["cnf"] == {"jkt": thumbprint(jwk)}


def test_replicas_share_the_replay_memory_and_honour_each_others_nonces(tmpdir_path):
    """Two replicas on one PostgreSQL with nonces on: a nonce from A is good at B, and a proof
    accepted by A is a replay at B (the dpop_proofs table, RFC 9449 §11.1)."""
    from test_replicas import Replicas
    for sub in ("a", "b"):
        os.makedirs(os.path.join(tmpdir_path, sub))
    r = Replicas(tmpdir_path, extra_args=["--dpop-nonces"])
    try:
        key = ec.generate_private_key(ec.SECP256R1())
        url = r.base + "/oauth/token"          # the issuer's URL, whichever replica answers
        a, b = f"http://127.0.0.1:{r.a.port}/oauth/token", f"http://127.0.0.1:{r.b.port}/oauth/token"
        codes = device_authorization(r.base)
        form = {"grant_type": DEVICE_GRANT, "device_code": codes["device_code"], "client_id": "tv"}
        asked = requests.post(a, data=form, headers={"DPoP": proof(key, "POST", url)}, timeout=10)
        assert asked.json()["error"] == "use_dpop_nonce"
        once = proof(key, "POST", url, nonce=asked.headers["DPoP-Nonce"])
        at_b = requests.post(b, data=form, headers={"DPoP": once}, timeout=10)
        assert at_b.json()["error"] == "authorization_pending", at_b.text      # A's nonce is good at B
        again = requests.post(a, data=form, headers={"DPoP": once}, timeout=10)
        assert again.json()["error"] == "invalid_dpop_proof" and "used before" in again.json()["error_description"], again.text
    finally:
        r.stop()
