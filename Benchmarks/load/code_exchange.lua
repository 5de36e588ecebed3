-- wrk script: the authorization code grant's token request with PKCE (RFC 6749 §4.1.3, RFC 7636
-- §4.5) for the public client `cli`, each request redeeming a different approved code (lines
-- "CODE VERIFIER" in the file given as the first argument; each thread its own slice, each code
-- once). Good: 200 with an access_token. A request after the slice is used up replays a code (bad).
-- args: CODES_FILE THREADS TOKEN_PATH REDIRECT_URI
dofile("Benchmarks/load/report.lua")
counted = "issued"

function init(args)
  codes = slice(args[1], tonumber(args[2]))
  path = args[3]
  redirect = args[4]:gsub(":", "%%3A"):gsub("/", "%%2F")
  headers = { ["Content-Type"] = "application/x-www-form-urlencoded" }
  counter = 0
  good = 0
  bad = 0
end

function request()
  counter = counter + 1
  local code, verifier = codes[math.min(counter, #codes)]:match("(%S+) (%S+)")
  return wrk.format("POST", path, headers, "grant_type=authorization_code&client_id=cli&code=" .. code ..
    "&code_verifier=" .. verifier .. "&redirect_uri=" .. redirect)
end

function response(status, headers, body)
  if status == 200 and body:find('"access_token"', 1, true) then good = good + 1 else bad = bad + 1 end
end
