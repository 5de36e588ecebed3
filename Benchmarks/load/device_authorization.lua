-- wrk script: device authorization requests (RFC 8628 §3.1) for a public client.
-- With a fourth argument, each thread also writes the device codes it got to PREFIX.<thread>,
-- one per line, for the polling phase; with a fifth, FIELD (user_code for the consent
-- benchmark) instead of device_code.
-- args: CLIENT_ID DEVICE_PATH SCOPE [CODES_PREFIX [FIELD]]
dofile("Benchmarks/load/report.lua")
counted = "ok"

function init(args)
  body = "client_id=" .. args[1] .. "&scope=" .. string.gsub(args[3], " ", "+")
  path = args[2]
  headers = { ["Content-Type"] = "application/x-www-form-urlencoded" }
  good = 0
  bad = 0
  if args[4] then
    out = io.open(args[4] .. "." .. id, "w")
    out:setvbuf("line")
    field = args[5] or "device_code"
  end
end

function request()
  return wrk.format("POST", path, headers, body)
end

function response(status, headers, body)
  if status == 200 and body:find("user_code", 1, true) then
    good = good + 1
    if out then
      local code = body:match('"' .. field .. '"%s*:%s*"([^"]+)"')
      if code then out:write(code, "\n") end
    end
  else
    bad = bad + 1
  end
end
