-- wrk script: approvals through the consent API (`POST /consent/approve`, the call the TUI makes
-- when a person presses approve), each for a different pending user code (one per line in the
-- file given as the first argument; each thread approves its own slice, each code once). Good:
-- 200. A request after the slice is used up repeats a decided code (bad).
-- args: USER_CODES_FILE THREADS SESSION
dofile("Benchmarks/load/report.lua")
counted = "approved"

function init(args)
  codes = slice(args[1], tonumber(args[2]))
  headers = { ["Content-Type"] = "application/json", ["Authorization"] = "Bearer " .. args[3] }
  counter = 0
  good = 0
  bad = 0
end

function request()
  counter = counter + 1
  return wrk.format("POST", "/consent/approve", headers, '{"user_code":"' .. codes[math.min(counter, #codes)] .. '"}')
end

function response(status, headers, body)
  if status == 200 then good = good + 1 else bad = bad + 1 end
end
