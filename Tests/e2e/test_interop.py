"""Interoperability: third-party OAuth client libraries from PyPI drive the running binary.
No Hallpass code on the client side: oauthlib/requests-oauthlib and Authlib do the flow,
PyJWT's PyJWKClient checks the token."""
import time
from urllib.parse import parse_qsl

import jwt
import requests
from authlib.integrations.requests_client import OAuth2Session as AuthlibSession
from authlib.integrations.base_client.errors import OAuthError as AuthlibOAuthError
from oauthlib.oauth2 import DeviceClient
from requests_oauthlib import OAuth2Session

from conftest import RS_SECRET, approve, get_json

DEVICE_GRANT = "urn:ietf:params:oauth:grant-type:device_code"


def metadata(server):
    return get_json(server.base + "/.well-known/oauth-authorization-server")


def test_oauthlib_device_client_with_requests_oauthlib(server, monkeypatch):
    monkeypatch.setenv("OAUTHLIB_INSECURE_TRANSPORT", "1")  # plain HTTP on loopback only
    meta = metadata(server)
    client = DeviceClient("tv")
    session = OAuth2Session(client=client, scope=["openid", "read"])
    # oauthlib builds the device authorization request …
    uri = client.prepare_request_uri(meta["device_authorization_endpoint"], scope=["openid", "read"])
    endpoint, query = uri.split("?", 1)
    answer = requests.post(endpoint, data=dict(parse_qsl(query)), timeout=10)
    assert answer.status_code == 200, answer.text
    codes = answer.json()
    # … pending before approval, as a typed oauthlib error …
    try:
        session.fetch_token(meta["token_endpoint"], device_code=codes["device_code"], include_client_id=True)
        raise AssertionError("expected authorization_pending")
    except Exception as e:  # oauthlib raises a subclass of OAuth2Error
        assert getattr(e, "error", None) == "authorization_pending", e
    assert approve(server, codes["user_code"]).returncode == 0
    time.sleep(codes["interval"])
    token = session.fetch_token(meta["token_endpoint"], device_code=codes["device_code"], include_client_id=True)
    assert token["token_type"] == "Bearer"
    assert set(token["scope"]) == {"openid", "read"}
    # PyJWT verifies it against the served JWKS.
    key = jwt.PyJWKClient(meta["jwks_uri"]).get_signing_key_from_jwt(token["access_token"])
    claims = jwt.decode(token["access_token"], key.key, algorithms=["EdDSA"], audience=meta["issuer"], issuer=meta["issuer"])
    assert claims["client_id"] == "tv"
    # The ID token is RS256 (OIDC Core §2 default, Discovery §3 must-support) and PyJWKClient finds its RSA key.
    assert jwt.get_unverified_header(token["id_token"])["alg"] == "RS256"
    id_claims = jwt.decode(token["id_token"], jwt.PyJWKClient(meta["jwks_uri"]).get_signing_key_from_jwt(token["id_token"]).key,
                           algorithms=["RS256"], audience="tv", issuer=meta["issuer"])
    assert id_claims["sub"] == claims["sub"]
    # requests-oauthlib refreshes it (rotation: a new refresh token each time).
    refreshed = session.refresh_token(meta["token_endpoint"], refresh_token=token["refresh_token"], client_id="tv",
                                      include_client_id=True)
    assert refreshed["refresh_token"] != token["refresh_token"]


def test_authlib_session_full_lifecycle(server):
    meta = metadata(server)
    client = AuthlibSession(client_id="tv", token_endpoint_auth_method="none", scope="openid profile read")
    answer = client.post(meta["device_authorization_endpoint"], data={"client_id": "tv", "scope": "openid profile read"}, withhold_token=True)
    assert answer.status_code == 200, answer.text
    codes = answer.json()
    try:
        client.fetch_token(meta["token_endpoint"], grant_type=DEVICE_GRANT, device_code=codes["device_code"])
        raise AssertionError("expected authorization_pending")
    except AuthlibOAuthError as e:
        assert e.error == "authorization_pending"
    # Polling again at once: slow_down, as RFC 8628 §3.5 says.
    try:
        client.fetch_token(meta["token_endpoint"], grant_type=DEVICE_GRANT, device_code=codes["device_code"])
        raise AssertionError("expected slow_down")
    except AuthlibOAuthError as e:
        assert e.error == "slow_down"
    assert approve(server, codes["user_code"]).returncode == 0
    time.sleep(codes["interval"] + 5)  # the interval grew by 5 s
    token = client.fetch_token(meta["token_endpoint"], grant_type=DEVICE_GRANT, device_code=codes["device_code"])
    assert token["scope"] == "openid profile read"
    # userinfo with the access token
    info = client.get(meta["userinfo_endpoint"]).json()
    assert info["preferred_username"] == "alice"
    # refresh with rotation, then reuse of the old token revokes the family
    old = token["refresh_token"]
    new = client.refresh_token(meta["token_endpoint"], refresh_token=old)
    assert new["refresh_token"] != old
    try:
        client.refresh_token(meta["token_endpoint"], refresh_token=old)
        raise AssertionError("expected invalid_grant")
    except AuthlibOAuthError as e:
        assert e.error == "invalid_grant"
    # introspection by a confidential resource server (client_secret_basic)
    rs = AuthlibSession(client_id="rs", client_secret=RS_SECRET, token_endpoint_auth_method="client_secret_basic")
    r = rs.introspect_token(meta["introspection_endpoint"], token=new["access_token"])
    assert r.json() == {"active": False}  # revoked with its family
    # revocation of a fresh token by its own client
    codes2 = client.post(meta["device_authorization_endpoint"], data={"client_id": "tv", "scope": "read"}, withhold_token=True).json()
    assert approve(server, codes2["user_code"]).returncode == 0
    time.sleep(codes2["interval"])
    token2 = client.fetch_token(meta["token_endpoint"], grant_type=DEVICE_GRANT, device_code=codes2["device_code"])
    assert rs.introspect_token(meta["introspection_endpoint"], token=token2["access_token"]).json()["active"] is True
    assert client.revoke_token(meta["revocation_endpoint"], token=token2["refresh_token"]).status_code == 200
    assert rs.introspect_token(meta["introspection_endpoint"], token=token2["access_token"]).json() == {"active": False}


def test_openid_discovery_is_consumable(server):
    oidc = get_json(server.base + "/.well-known/openid-configuration")
    assert oidc["issuer"] == server.base
    assert oidc["id_token_signing_alg_values_supported"][0] == "RS256"
    assert "EdDSA" in oidc["id_token_signing_alg_values_supported"]
    jwks = jwt.PyJWKSet.from_dict(get_json(oidc["jwks_uri"]))
    assert all(k.key_id for k in jwks.keys)
    assert sorted(k.algorithm_name for k in jwks.keys) == ["EdDSA", "RS256"]


def test_a_generated_secret_is_printed_once_and_authenticates(server):
    r = server.cli("clients", "add", "gen", "--name", "Generated", "--generate-secret", "--scopes", "read",
                   "--grant", "device_code", "--introspect")
    assert r.returncode == 0, r.stderr
    lines = dict(line.split(": ", 1) for line in r.stdout.splitlines() if line.startswith("client_secret: "))
    secret = lines["client_secret"]
    assert len(secret) == 43
    listed = server.cli("clients", "list").stdout
    assert "confidential(generated secret)" in listed and secret not in listed
    meta = metadata(server)
    for _ in range(3):
        answer = requests.post(meta["introspection_endpoint"], data={"token": "x"}, auth=("gen", secret), timeout=10)
        assert answer.status_code == 200 and answer.json() == {"active": False}, answer.text
    wrong_secret = secret[:-1] + ("B" if secret[-1] == "A" else "A")
    wrong = requests.post(meta["introspection_endpoint"], data={"token": "x"}, auth=("gen", wrong_secret), timeout=10)
    assert wrong.status_code == 401 and wrong.headers["WWW-Authenticate"].startswith("Basic")
    metrics = requests.get(server.base + "/metrics", timeout=10).text
    # One keyed-hash check, two remembered, and the wrong secret: a keyed-hash miss plus one Argon2id.
    for kind, n in [("hmac", 2), ("cached", 2), ("argon2id", 1)]:
        assert f'hallpass_client_secret_checks_total{{kind="{kind}"}} {n}' in metrics, metrics


ALLOWED = set(range(0x20, 0x22)) | set(range(0x23, 0x5C)) | set(range(0x5D, 0x7F))


def test_errors_keep_to_rfc6749_and_every_401_has_a_challenge(server):
    """RFC 6749 §5.2 error_description characters and RFC 9110 §15.5.2 challenges, on the real socket."""
    meta = metadata(server)
    answers = [
        requests.post(meta["token_endpoint"], data={"grant_type": 'pa"ss\\w\u00f6rd\u201c\u201d', "client_id": "tv"}, timeout=10),
        requests.post(meta["token_endpoint"], data={"grant_type": "refresh_token", "refresh_token": "x"}, timeout=10),
        requests.post(meta["device_authorization_endpoint"], data={"client_id": "ghost"}, timeout=10),
        requests.post(meta["introspection_endpoint"], data={"token": "x"}, timeout=10),
        requests.post(meta["device_authorization_endpoint"], data={"client_id": "tv", "scope": "r\u00e9ad"}, timeout=10),
        requests.post(server.base + "/consent/approve", json={"user_code": "BCDF-GHJK"}, timeout=10),
        requests.post(server.base + "/consent/login", json={"username": "alice", "password": "wrong"}, timeout=10),
    ]
    for answer in answers:
        body = answer.json()
        assert "error" in body, answer.text
        assert all(ord(c) in ALLOWED for c in body.get("error_description", "")), answer.text
        if answer.status_code == 401:
            assert answer.headers.get("WWW-Authenticate"), (answer.request.url, answer.text)
    assert answers[0].json()["error_description"] == "grant_type 'pa'ss/wU+00F6rd''' is not supported"
    assert [a.status_code for a in answers[1:4]] == [401, 401, 401]
    assert [a.status_code for a in answers[5:]] == [401, 401]


def test_metadata_passes_authlibs_validators(server):
    """Every RFC 8414 / OpenID Connect Discovery rule Authlib's metadata classes check, field by
    field (its validate() stops at the first failure), then validate() as a whole: since the
    authorization endpoint exists, response_types_supported is ["code"] and nothing is missing."""
    from authlib.oauth2.rfc8414 import AuthorizationServerMetadata
    from authlib.oidc.discovery import OpenIDProviderMetadata
    for cls, path in [(AuthorizationServerMetadata, "oauth-authorization-server"), (OpenIDProviderMetadata, "openid-configuration")]:
        metadata = cls(get_json(f"{server.base}/.well-known/{path}"))
        failures = {}
        for name in dir(metadata):
            if name.startswith("validate_"):
                try:
                    getattr(metadata, name)()
                except Exception as e:  # Authlib raises ValueError
                    failures[name] = str(e)
        assert failures == {}, (path, failures)
        metadata.validate()
        assert metadata["response_types_supported"] == ["code"]
