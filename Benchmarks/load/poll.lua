-- wrk script: token-endpoint polls round-robin over pre-minted device codes (one per line in
-- the file given as the first argument). Each wrk thread polls its own slice, so every code is
-- polled at most once per slice cycle: with enough codes, a correct server answers every poll
-- authorization_pending, and anything else (slow_down included) is counted as bad.
-- args: CODES_FILE THREADS CLIENT_ID TOKEN_PATH
local threads = {}

function setup(thread)
  thread:set("id", #threads)
  table.insert(threads, thread)
end

function init(args)
  local nthreads = tonumber(args[2])
  codes = {}
  local i = 0
  for line in io.lines(args[1]) do
    if i % nthreads == id then codes[#codes + 1] = line end
    i = i + 1
  end
  client = args[3]
  path = args[4]
  counter = 0
  bad = 0
  good = 0
  headers = { ["Content-Type"] = "application/x-www-form-urlencoded" }
end

function request()
  counter = counter + 1
  local code = codes[(counter % #codes) + 1]
  return wrk.format("POST", path, headers,
    "grant_type=urn%3Aietf%3Aparams%3Aoauth%3Agrant-type%3Adevice_code&client_id=" .. client .. "&device_code=" .. code)
end

function response(status, headers, body)
  if status == 400 and body:find("authorization_pending", 1, true) then good = good + 1 else bad = bad + 1 end
end

function done(summary, latency, requests)
  local g, b = 0, 0
  for _, t in ipairs(threads) do g = g + t:get("good"); b = b + t:get("bad") end
  io.write(string.format('{"requests": %d, "seconds": %.3f, "req_per_s": %.1f, "pending": %d, "other": %d, "socket_errors": %d, "p50_ms": %.3f, "p99_ms": %.3f}\n',
    summary.requests, summary.duration / 1e6, summary.requests / (summary.duration / 1e6), g, b,
    summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout,
    latency:percentile(50) / 1000, latency:percentile(99) / 1000))
end
