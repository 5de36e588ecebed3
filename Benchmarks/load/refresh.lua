-- wrk script: the refresh-token grant with rotation (RFC 6749 §6, OAuth 2.1 §4.3.1). Each thread
-- takes its slice of a pool of refresh tokens (one per line in the file given as the first
-- argument) as a queue: a request redeems the token at the head, and the new refresh token of
-- each answer joins the tail. So every request presents a token never presented before, and a
-- server that rotates keeps the queue full. An answer counts as good only when it is 200 with a
-- new refresh_token; a request finding the queue empty sends an unknown token (bad).
-- args: TOKENS_FILE THREADS CLIENT_ID TOKEN_PATH
dofile("Benchmarks/load/report.lua")
counted = "rotated"

function init(args)
  queue = slice(args[1], tonumber(args[2]))
  head, tail = 1, #queue
  client = args[3]
  path = args[4]
  good = 0
  bad = 0
  headers = { ["Content-Type"] = "application/x-www-form-urlencoded" }
end

function request()
  local token = "pool-exhausted"
  if head <= tail then token = queue[head]; queue[head] = nil; head = head + 1 end
  return wrk.format("POST", path, headers, "grant_type=refresh_token&client_id=" .. client .. "&refresh_token=" .. token)
end

function response(status, headers, body)
  local token = status == 200 and body:match('"refresh_token"%s*:%s*"([^"]+)"')
  if token then
    good = good + 1
    tail = tail + 1
    queue[tail] = token
  else
    bad = bad + 1
  end
end
