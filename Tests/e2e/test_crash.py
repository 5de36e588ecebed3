"""Durability (issue 6): approvals acknowledged just before `kill -9` are all redeemable after a
restart, on SQLite and on PostgreSQL."""
import json
import os
import signal
import urllib.error
import urllib.parse
import urllib.request
from concurrent.futures import ThreadPoolExecutor

import pytest

from conftest import ALICE_PASSWORD, Server, fresh_postgres_database, setup_accounts

APPROVALS = 200


def post_form(url, fields):
    with urllib.request.urlopen(url, data=urllib.parse.urlencode(fields).encode(), timeout=30) as r:
        return json.loads(r.read())


def post_json(url, body, session=None):
    headers = {"Content-Type": "application/json"}
    if session:
        headers["Authorization"] = f"Bearer {session}"
    request = urllib.request.Request(url, data=json.dumps(body).encode(), headers=headers)
    with urllib.request.urlopen(request, timeout=30) as r:
        return r.status, json.loads(r.read())


@pytest.mark.parametrize("store", ["sqlite", "postgres"])
def test_acknowledged_approvals_survive_kill_9(tmpdir_path, store):
    db = fresh_postgres_database() if store == "postgres" else None
    s = Server(tmpdir_path, db=db, extra=["--no-ssh"])
    try:
        setup_accounts(s)
        _, login = post_json(s.base + "/consent/login", {"username": "alice", "password": ALICE_PASSWORD})
        codes = [post_form(s.base + "/oauth/device_authorization", {"client_id": "tv", "scope": "openid"})
                 for _ in range(APPROVALS)]

        def approve(c):
            return post_json(s.base + "/consent/approve", {"user_code": c["user_code"]}, login["session"])[0]

        # Eight at a time, so decisions share commits; the kill follows the last acknowledgement.
        with ThreadPoolExecutor(8) as pool:
            statuses = list(pool.map(approve, codes))
        s.proc.send_signal(signal.SIGKILL)
        s.proc.wait()
        assert statuses == [200] * APPROVALS
    finally:
        s.stop()

    again = Server(tmpdir_path, db=s.db, extra=["--no-ssh"])
    try:
        lost = 0
        for c in codes:
            try:
                token = post_form(again.base + "/oauth/token", {
                    "grant_type": "urn:ietf:params:oauth:grant-type:device_code",
                    "device_code": c["device_code"], "client_id": "tv"})
                lost += 0 if token.get("access_token") else 1
            except urllib.error.HTTPError:
                lost += 1
        assert lost == 0, f"{lost} of {APPROVALS} acknowledged approvals were lost"
    finally:
        again.stop()
