#!/usr/bin/env python3
"""Makes the credentials the rate benchmarks (Benchmarks/rates.sh) spend: loopback only, bounded.

  device-pool BASE N OUT   N device flows, each approved and redeemed: writes N refresh tokens to
                           OUT, one per line, and one live access token to OUT.access.
  code-pool BASE N OUT     N authorization requests with PKCE (client `cli`), each approved in the
                           consent API: writes "code verifier" lines to OUT (Hallpass only).
  login BASE               prints a consent-API session for alice (Hallpass only).

Approval: with --admin-url (the Authlib peer's /admin/decide, {user_code} replaced, with
--admin-header), else Hallpass's consent API as alice (--password). Standard library only, so it
runs under any of the repository's Python environments.
"""
import argparse
import base64
import concurrent.futures
import hashlib
import http.client
import json
import os
import re
import sys
import threading
import time
import urllib.parse

USER_CODE = re.compile(r"\b([BCDFGHJKLMNPQRSTVWXZ]{4}-[BCDFGHJKLMNPQRSTVWXZ]{4})\b")
CALLBACK = "http://127.0.0.1:45678/callback"
local = threading.local()


def request(base, method, path, body=None, headers=None, form=None):
    """One request on this thread's keep-alive connection: (status, headers, text)."""
    url = urllib.parse.urlsplit(base)
    if getattr(local, "conn", None) is None:
        local.conn = http.client.HTTPConnection(url.hostname, url.port, timeout=30)
    headers = dict(headers or {})
    if form is not None:
        body = urllib.parse.urlencode(form)
        headers["Content-Type"] = "application/x-www-form-urlencoded"
    elif body is not None:
        body = json.dumps(body)
        headers["Content-Type"] = "application/json"
    for attempt in (1, 2):  # a keep-alive connection the server closed is reopened once
        try:
            local.conn.request(method, url.path.rstrip("/") + path, body=body, headers=headers)
            answer = local.conn.getresponse()
            return answer.status, dict(answer.getheaders()), answer.read().decode()
        except (http.client.HTTPException, ConnectionError):
            local.conn.close()
            local.conn = http.client.HTTPConnection(url.hostname, url.port, timeout=30)
            if attempt == 2:
                raise


def login(args):
    status, _, text = request(args.base, "POST", "/consent/login", {"username": "alice", "password": args.password})
    if status != 200:
        sys.exit(f"token_pool.py: consent login failed: {status} {text}")
    return json.loads(text)["session"]


def approver(args):
    """A function approving one user code, by the peer's admin URL or Hallpass's consent API."""
    if args.admin_url:
        name, _, value = args.admin_header.partition(":")
        admin = urllib.parse.urlsplit(args.admin_url)

        def approve(user_code):
            path = admin.path + "?" + admin.query.replace("{user_code}", urllib.parse.quote(user_code)).replace("{decision}", "approve")
            status, _, text = request(f"{admin.scheme}://{admin.netloc}", "POST", path, headers={name: value.strip()})
            if status != 200:
                raise RuntimeError(f"approval of {user_code}: {status} {text}")
        return approve
    session = login(args)

    def approve(user_code):
        status, _, text = request(args.base, "POST", "/consent/approve", {"user_code": user_code},
                                  headers={"Authorization": "Bearer " + session})
        if status != 200:
            raise RuntimeError(f"approval of {user_code}: {status} {text}")
    return approve


def parallel(function, count):
    with concurrent.futures.ThreadPoolExecutor(8) as pool:
        return list(pool.map(function, range(count)))


def device_pool(args):
    approve = approver(args)

    def begin(_):
        status, _, text = request(args.base, "POST", args.device_path, form={"client_id": args.client, "scope": args.scope})
        if status != 200:
            raise RuntimeError(f"device authorization: {status} {text}")
        answer = json.loads(text)
        approve(answer["user_code"])
        return answer["device_code"], answer.get("interval", 5)

    started = time.monotonic()
    flows = parallel(begin, args.count)
    time.sleep(max(0.0, max(i for _, i in flows) + 0.5 - (time.monotonic() - started)))

    def redeem(i):
        status, _, text = request(args.base, "POST", args.token_path, form={
            "grant_type": "urn:ietf:params:oauth:grant-type:device_code", "client_id": args.client,
            "device_code": flows[i][0]})
        if status != 200:
            raise RuntimeError(f"redemption: {status} {text}")
        return json.loads(text)
    tokens = parallel(redeem, args.count)
    with open(args.out, "w") as f:
        f.writelines(t["refresh_token"] + "\n" for t in tokens)
    with open(args.out + ".access", "w") as f:
        f.write(tokens[0]["access_token"] + "\n")


def code_pool(args):
    approve = approver(args)

    def one(_):
        verifier = base64.urlsafe_b64encode(os.urandom(40)).rstrip(b"=").decode()
        challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
        query = urllib.parse.urlencode({"response_type": "code", "client_id": "cli", "scope": "openid read",
                                        "state": "s", "code_challenge": challenge, "code_challenge_method": "S256",
                                        "redirect_uri": CALLBACK})
        status, headers, text = request(args.base, "GET", "/oauth/authorize?" + query)
        if status != 303:
            raise RuntimeError(f"authorization request: {status} {text}")
        page = urllib.parse.urlsplit(headers["Location"]).path
        status, _, text = request(args.base, "GET", page)
        approve(USER_CODE.search(text).group(1))
        status, headers, text = request(args.base, "GET", page)
        if status != 303:
            raise RuntimeError(f"page after approval: {status} {text}")
        code = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(headers["Location"]).query))["code"]
        return f"{code} {verifier}\n"
    lines = parallel(one, args.count)
    with open(args.out, "w") as f:
        f.writelines(lines)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("what", choices=["device-pool", "code-pool", "login"])
    parser.add_argument("base")
    parser.add_argument("count", type=int, nargs="?", default=0)
    parser.add_argument("out", nargs="?")
    parser.add_argument("--password", default="bench-password-123")
    parser.add_argument("--admin-url")
    parser.add_argument("--admin-header", default="")
    parser.add_argument("--client", default="demo-device")
    parser.add_argument("--scope", default="openid read")
    parser.add_argument("--device-path", default="/oauth/device_authorization")
    parser.add_argument("--token-path", default="/oauth/token")
    args = parser.parse_args()
    if args.what == "login":
        print(login(args))
    elif args.what == "device-pool":
        device_pool(args)
    else:
        code_pool(args)


if __name__ == "__main__":
    main()
