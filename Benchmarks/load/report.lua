-- Shared by the wrk scripts in this folder, loaded first with dofile (wrk runs from the
-- repository root): numbers the threads for the scripts that split work between them (and
-- gives them `slice`), and
-- prints one JSON line per run with the rate, the latency percentiles, socket errors and the
-- per-thread counters `good` (under the name in the global `counted`) and `bad` ("other").
threads = {}

-- The lines of FILE this thread takes when NTHREADS threads split it round-robin (`id` is the
-- thread's number, set by setup below), so no two threads use the same line.
function slice(file, nthreads)
  local lines, i = {}, 0
  for line in io.lines(file) do
    if i % nthreads == id then lines[#lines + 1] = line end
    i = i + 1
  end
  return lines
end

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
