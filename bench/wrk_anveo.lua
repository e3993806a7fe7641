-- wrk script for mock-anveo's v3 door (and the floor).
--   wrk -t1 -c32 -d10s -s bench/wrk_anveo.lua URL -- WORKLOAD CONNECT.xml STATUS.xml EVERY
-- WORKLOAD:
--   post    : POST CONNECT.xml on every request (DIAL.CONNECT; also used against the floor)
--   status  : DIAL.CONNECT until KEEP REQUESTIDs are known (taken from the responses), then
--             DIAL.GETSTATUS of those ids, round robin
--   mix     : like status, but every EVERY-th request is a DIAL.CONNECT (dial, then poll)
--   post-unique, status-unique : like post and status, but every body is different bytes (an
--             XML comment with a counter, which the parser drops), so mock-anveo's memo of
--             accepted requests never hits: the full parse and both schema passes every time
-- STATUS.xml holds one %s where the REQUESTID goes.
-- done() prints one line "BENCHJSON {...}" that bench/loadgen.py parses.

local workload = "post"
local connect_body = ""
local status_template = ""
local every = 0
local ids = {}
local KEEP = 64
local MAX_IDS = 1000
local counter = 0
local headers = { ["Content-Type"] = "application/xml" }
local unique = false
local serial = 0

local function fresh(body)
  if not unique then return body end
  serial = serial + 1
  return (body:gsub("<REQUEST>", "<REQUEST><!-- " .. serial .. " -->", 1))
end

local function slurp(path)
  local file = assert(io.open(path, "rb"))
  local data = file:read("*a")
  file:close()
  return data
end

function init(args)
  workload = args[1] or "post"
  if workload:sub(-7) == "-unique" then
    unique = true
    workload = workload:sub(1, -8)
  end
  connect_body = slurp(args[2])
  if args[3] and args[3] ~= "" then status_template = slurp(args[3]) end
  every = tonumber(args[4] or "0") or 0
  wrk.method = "POST"
  wrk.body = connect_body
  wrk.headers["Content-Type"] = "application/xml"
end

function request()
  if workload == "post" then
    return wrk.format("POST", nil, headers, fresh(connect_body))
  end
  counter = counter + 1
  if #ids < KEEP or (every > 0 and counter % every == 0) then
    return wrk.format("POST", nil, headers, fresh(connect_body))
  end
  local id = ids[(counter % #ids) + 1]
  return wrk.format("POST", nil, headers, fresh(string.format(status_template, id)))
end

function response(status, headers, body)
  if workload ~= "post" and #ids < MAX_IDS then
    local id = body:match('NAME="REQUESTID">(%x+)<')
    if id then ids[#ids + 1] = id end
  end
end

done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'BENCHJSON {"requests": %d, "duration_us": %d, "bytes": %d, ' ..
    '"errors": {"connect": %d, "read": %d, "write": %d, "status": %d, "timeout": %d}, ' ..
    '"p50_us": %d, "p90_us": %d, "p99_us": %d, "p999_us": %d, "max_us": %d, ' ..
    '"mean_us": %.1f}\n',
    summary.requests, summary.duration, summary.bytes,
    e.connect, e.read, e.write, e.status, e.timeout,
    latency:percentile(50), latency:percentile(90), latency:percentile(99),
    latency:percentile(99.9), latency.max, latency.mean))
end
