#!/usr/bin/env python3
"""Medians over rounds of Benchmarks/compare.sh output: prints a Markdown table and writes
bench-out/summary.json."""
import glob
import json
import os
import statistics
import sys

out, rounds = sys.argv[1], int(sys.argv[2])


def load_json(path):
    try:
        with open(path) as f:
            return json.load(f)
    except (OSError, ValueError):
        return None


def wrk_line(path):
    try:
        with open(path) as f:
            for line in f:
                if line.startswith("{"):
                    return json.loads(line)
    except OSError:
        pass
    return None


def collect(name):
    rows = {"driver_da": [], "driver_poll": [], "wrk_da": [], "wrk_poll": [], "wrk_poll_bad": [], "cpu_da": [], "cpu_poll": [],
            "rss": [], "lat_p50": [], "lat_p99": []}
    for r in range(1, rounds + 1):
        d = load_json(f"{out}/{name}-driver-{r}.json") or {}
        if "device_authorization" in d:
            rows["driver_da"].append(d["device_authorization"]["requests_per_s"])
        if "poll_pending" in d:
            rows["driver_poll"].append(d["poll_pending"]["requests_per_s"])
        if "server_memory" in d:
            rows["rss"].append(d["server_memory"]["peak_total_rss_mib"])
        lat = d.get("approval_latency", {}).get("approval_to_token_from_sent", {})
        if lat.get("n"):
            rows["lat_p50"].append(lat["p50_ms"])
            rows["lat_p99"].append(lat["p99_ms"])
        w = wrk_line(f"{out}/{name}-wrk-da-{r}.txt")
        if w:
            rows["wrk_da"].append(w["req_per_s"])
            if "cpu_us_per_request" in w:
                rows["cpu_da"].append(round(w["cpu_us_per_request"], 1))
        w = wrk_line(f"{out}/{name}-wrk-poll-{r}.txt")
        if w:
            rows["wrk_poll"].append(w["req_per_s"])
            rows["wrk_poll_bad"].append(w["other"] + w["socket_errors"])
            if "cpu_us_per_request" in w:
                rows["cpu_poll"].append(round(w["cpu_us_per_request"], 1))
    return rows


def med(values):
    return round(statistics.median(values), 1) if values else None


summary = {}
names = [n for n in ("peer", "hallpass-before", "hallpass", "hallpass-pg") if glob.glob(f"{out}/{n}-wrk-*") or glob.glob(f"{out}/{n}-driver-*")]
for name in names:
    rows = collect(name)
    summary[name] = {k: {"median": med(v), "runs": v} for k, v in rows.items()}
with open(os.path.join(out, "summary.json"), "w") as f:
    json.dump(summary, f, indent=2)

titles = {"peer": "Authlib peer", "hallpass-before": "Hallpass before, 1 × SQLite", "hallpass": "Hallpass, 1 × SQLite", "hallpass-pg": "Hallpass, 2 × PostgreSQL + nginx"}
labels = [("wrk_poll", "pending polls/s (wrk)"), ("wrk_da", "device authorizations/s (wrk)"),
          ("cpu_poll", "server CPU per poll, µs (wrk)"), ("cpu_da", "server CPU per device authorization, µs (wrk)"),
          ("driver_poll", "pending polls/s (driver, paced)"), ("driver_da", "device authorizations/s (driver)"),
          ("rss", "peak server RSS, MiB (driver)"), ("lat_p50", "approval→token p50, ms (polling)"),
          ("lat_p99", "approval→token p99, ms (polling)"), ("wrk_poll_bad", "polls not answered authorization_pending")]
others = [n for n in names if n != "peer"]
print("| metric | " + " | ".join(f"{titles[n]} | ratio" if n != "peer" else titles[n] for n in names) + " |")
print("|---|" + "---|" * (len(names) + len(others)))
for key, label in labels:
    p = summary.get("peer", {}).get(key, {}).get("median")
    cells = []
    for n in names:
        v = summary[n][key]["median"]
        cells.append(str(v))
        if n != "peer":
            cells.append(f"{v / p:.2f}×" if p and v is not None and key != "wrk_poll_bad" else "–")
    print(f"| {label} | " + " | ".join(cells) + " |")
for n in names:
    print(f"runs {n}: " + "; ".join(f"{k} {summary[n][k]['runs']}" for k in ("wrk_poll", "wrk_da", "cpu_poll", "cpu_da", "rss")))
