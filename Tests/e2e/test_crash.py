"""Durability (issue 6): approvals acknowledged just before `kill -9` are all redeemable after a
restart, on SQLite and on PostgreSQL."""
import signal
import urllib.error
import urllib.parse
import urllib.request
from concurrent.futures import ThreadPoolExecutor

import pytest

from conftest import ALICE_PASSWORD, Server, device_authorization, fresh_postgres_database, post_form, post_json, setup_accounts

APPROVALS = 200


@pytest.mark.parametrize("store", ["sqlite", "postgres"])
def test_acknowledged_approvals_survive_kill_9(tmpdir_path, store):
    db = fresh_postgres_database() if store == "postgres" else None
    s = Server(tmpdir_path, db=db, extra=["--no-ssh"])
    try:
        setup_accounts(s)
        login = post_json(s.base + "/consent/login", {"username": "alice", "password": ALICE_PASSWORD})
        codes = [device_authorization(s.base) for _ in range(APPROVALS)]

        def approve(c):
            return post_json(s.base + "/consent/approve", {"user_code": c["user_code"]}, login["session"])["status"]

        # Eight at a time, so decisions share commits; the kill follows the last acknowledgement.
        with ThreadPoolExecutor(8) as pool:
            statuses = list(pool.map(approve, codes))
        s.proc.send_signal(signal.SIGKILL)
        s.proc.wait()
        assert statuses == ["approved"] * APPROVALS
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
