#!/usr/bin/env python3
"""CIBA ping delivery (issue 19): from the person's approval to the ping arriving at the
client's notification endpoint, on loopback.

Starts a throwaway `hallpass serve` (SQLite, loopback), registers a confidential ping-mode client
whose notification endpoint is a small HTTP server in this process, and for each of N rounds:
the client asks for alice (`/oauth/bc-authorize`), alice's consent session finds it in her inbox,
and this process measures, on one monotonic clock, from just before the approving request is
sent to the moment the notification endpoint has the ping's body. Reports p50, p99 and max.

Usage: Benchmarks/ciba_ping_latency.py [--bin PATH] [--rounds 50]
"""
import argparse
import base64
import http.server
import json
import os
import re
import shutil
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from benchlib import DEFAULT_BIN, cli, percentile, start_server  # noqa: E402

PASSWORD = "bench-password-123"


def request(url, data=None, headers=None, method=None):
    req = urllib.request.Request(url, data=data, headers=headers or {}, method=method)
    with urllib.request.urlopen(req, timeout=10) as r:
        return json.loads(r.read() or b"{}")


class Endpoint:
    """The client's notification endpoint: records when each auth_req_id's ping arrived."""
    def __init__(self):
        self.arrived = {}
        self.lock = threading.Condition()
        outer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self):
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                with outer.lock:
                    outer.arrived[body["auth_req_id"]] = time.monotonic()
                    outer.lock.notify_all()
                self.send_response(204)
                self.end_headers()

            def log_message(self, *args):
                pass
        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.httpd.server_address[1]
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def wait(self, auth_req_id, timeout=10):
        deadline = time.monotonic() + timeout
        with self.lock:
            while auth_req_id not in self.arrived:
                if not self.lock.wait(deadline - time.monotonic()):
                    raise TimeoutError("no ping for " + auth_req_id)
            return self.arrived[auth_req_id]


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--bin", default=DEFAULT_BIN)
    parser.add_argument("--rounds", type=int, default=50)
    args = parser.parse_args()
    server, base, db, tmp = start_server(args.bin, "hallpass-ciba-bench-")
    endpoint = Endpoint()
    try:
        cli(args.bin, db, "scopes", "add", "openid", "--description", "Who you are")
        out = cli(args.bin, db, "clients", "add", "box", "--name", "Bench box", "--generate-secret", "--scopes", "openid",
                  "--grant", "ciba", "--ciba-mode", "ping", "--ciba-notification-endpoint", f"http://127.0.0.1:{endpoint.port}/cb")
        secret = re.search(r"client_secret: (\S+)", out).group(1)
        cli(args.bin, db, "users", "add", "alice", "--password-stdin", stdin=PASSWORD + "\n")
        basic = {"Authorization": "Basic " + base64.b64encode(f"box:{secret}".encode()).decode()}
        json_headers = {"Content-Type": "application/json"}
        session = request(base + "/consent/login", json.dumps({"username": "alice", "password": PASSWORD}).encode(),
                          json_headers)["session"]
        bearer = {**json_headers, "Authorization": f"Bearer {session}"}
        latencies = []
        for _ in range(args.rounds):
            made = request(base + "/oauth/bc-authorize",
                           urllib.parse.urlencode({"scope": "openid", "login_hint": "alice", "client_notification_token": "bench-token"}).encode(),
                           basic)
            inbox = request(base + "/consent/inbox", headers=bearer)["requests"]
            code = inbox[0]["user_code"]
            started = time.monotonic()
            request(base + "/consent/approve", json.dumps({"user_code": code}).encode(), bearer)
            latencies.append((endpoint.wait(made["auth_req_id"]) - started) * 1000)
            # Take the tokens, as a pinged client does (and keep the inbox under its limit).
            request(base + "/oauth/token", urllib.parse.urlencode({"grant_type": "urn:openid:params:grant-type:ciba",
                                                                    "auth_req_id": made["auth_req_id"]}).encode(), basic)
        print(f"CIBA ping, approval → notification endpoint, {args.rounds} rounds (ms): "
              f"p50 {percentile(latencies, 50):.1f}, p99 {percentile(latencies, 99):.1f}, max {max(latencies):.1f}")
    finally:
        server.terminate()
        server.wait(timeout=10)
        endpoint.httpd.shutdown()
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
