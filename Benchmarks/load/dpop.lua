-- wrk script: GET with a DPoP-bound access token (RFC 9449 §7.1), a fresh proof per request
-- (a proof is accepted once). Each thread reads its share of the proofs file, one per line,
-- made by Benchmarks/dpop_proofs.py; a thread that runs out sends none and is refused (non-2xx).
-- env: PROOFS (the file), TOKEN, THREADS (wrk -t)
local threads = {}

function setup(thread)
  thread:set("id", #threads)
  table.insert(threads, thread)
end

function init(args)
  local count = tonumber(os.getenv("THREADS") or "2")
  token = os.getenv("TOKEN")
  proofs = {}
  local n = 0
  for line in io.lines(os.getenv("PROOFS")) do
    if n % count == id then proofs[#proofs + 1] = line end
    n = n + 1
  end
  i = 0
end

function request()
  i = i + 1
  return wrk.format("GET", nil, { ["Authorization"] = "DPoP " .. token, ["DPoP"] = proofs[i] })
end
