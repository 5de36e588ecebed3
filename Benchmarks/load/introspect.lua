-- wrk script: RFC 7662 introspection of one live access token by an authenticated resource
-- server (HTTP Basic), the request a resource server makes per API call. An answer counts as
-- good only when it is 200 with "active":true; anything else is bad.
-- args: PATH TOKEN BASIC_CREDENTIALS(base64 of id:secret)
local threads = {}

function setup(thread)
  table.insert(threads, thread)
end

function init(args)
  path = args[1]
  body = "token=" .. args[2] .. "&token_type_hint=access_token"
  headers = { ["Content-Type"] = "application/x-www-form-urlencoded", ["Authorization"] = "Basic " .. args[3] }
  good = 0
  bad = 0
end

function request()
  return wrk.format("POST", path, headers, body)
end

function response(status, headers, body)
  if status == 200 and body:find('"active":true', 1, true) then good = good + 1 else bad = bad + 1 end
end

function done(summary, latency, requests)
  local g, b = 0, 0
  for _, t in ipairs(threads) do g = g + t:get("good"); b = b + t:get("bad") end
  io.write(string.format('{"requests": %d, "seconds": %.3f, "req_per_s": %.1f, "active": %d, "other": %d, "socket_errors": %d, "p50_ms": %.3f, "p99_ms": %.3f}\n',
    summary.requests, summary.duration / 1e6, summary.requests / (summary.duration / 1e6), g, b,
    summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout,
    latency:percentile(50) / 1000, latency:percentile(99) / 1000))
end
