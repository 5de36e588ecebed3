-- Shared by the wrk scripts in this folder, loaded first with dofile (wrk runs from the
-- repository root): numbers the threads for the scripts that split work between them, and
-- prints one JSON line per run with the rate, the latency percentiles, socket errors and the
-- per-thread counters `good` (under the name in the global `counted`) and `bad` ("other").
threads = {}

function setup(thread)
  thread:set("id", #threads)
  table.insert(threads, thread)
end

function done(summary, latency, requests)
  local g, b = 0, 0
  for _, t in ipairs(threads) do g = g + t:get("good"); b = b + t:get("bad") end
  io.write(string.format('{"requests": %d, "seconds": %.3f, "req_per_s": %.1f, "%s": %d, "other": %d, "socket_errors": %d, "p50_ms": %.3f, "p99_ms": %.3f}\n',
    summary.requests, summary.duration / 1e6, summary.requests / (summary.duration / 1e6), counted, g, b,
    summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout,
    latency:percentile(50) / 1000, latency:percentile(99) / 1000))
end
