-- wrk script: token-endpoint polls round-robin over pre-minted device codes (one per line in
-- the file given as the first argument). Each wrk thread polls its own slice, so every code is
-- polled at most once per slice cycle: with enough codes, a correct server answers every poll
-- authorization_pending, and anything else (slow_down included) is counted as bad.
-- args: CODES_FILE THREADS CLIENT_ID TOKEN_PATH
dofile("Benchmarks/load/report.lua")
counted = "pending"

function init(args)
  codes = slice(args[1], tonumber(args[2]))
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
