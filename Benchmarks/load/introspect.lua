-- wrk script: RFC 7662 introspection of one live access token by an authenticated resource
-- server (HTTP Basic), the request a resource server makes per API call. An answer counts as
-- good only when it is 200 with "active":true; anything else is bad.
-- args: PATH TOKEN BASIC_CREDENTIALS(base64 of id:secret)
dofile("Benchmarks/load/report.lua")
counted = "active"

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
  -- "active": true with or without a space (the peer's JSON has one, Hallpass's has none)
  if status == 200 and body:find('"active":%s*true') then good = good + 1 else bad = bad + 1 end
end
