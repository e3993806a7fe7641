-- wrk script for mock-anveo's v3 door (and the floor).
--   wrk -t1 -c32 -d10s -s bench/wrk_anveo.lua URL -- WORKLOAD CONNECT.xml STATUS.xml EVERY IDS
-- WORKLOAD:
--   post    : POST CONNECT.xml on every request (DIAL.CONNECT; also used against the floor)
--   status  : DIAL.CONNECT until KEEP REQUESTIDs are known (taken from the responses), then
--             DIAL.GETSTATUS of those ids, round robin
--   mix     : like status, but every EVERY-th request is a DIAL.CONNECT (dial, then poll)
--   post-unique : like post, but every request dials its own PHONENUMBER (1215 and seven digits
--             of a counter) with the counter stamped on the MEMO, as a test suite's dials differ
--   status-unique : DIAL.GETSTATUS of the calls listed in IDS (one REQUESTID a line, dialled
--             beforehand by bench/loadgen.py), round robin: thousands of different bodies
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
local serial = 0
local polled = {}
-- post-unique: the body around its two varying fields (found once, in init)
local head, middle, tail = "", "", ""

local function unique_connect()
  serial = serial + 1
  return head .. string.format("%07d", serial % 10000000) .. middle .. " #" .. serial .. tail
end

local function slurp(path)
  local file = assert(io.open(path, "rb"))
  local data = file:read("*a")
  file:close()
  return data
end

function init(args)
  workload = args[1] or "post"
  connect_body = slurp(args[2])
  if args[3] and args[3] ~= "" then status_template = slurp(args[3]) end
  every = tonumber(args[4] or "0") or 0
  if workload == "post-unique" then
    -- the same edit as bench/loadgen.py's unique_connect (plain finds: no pattern characters)
    local phone = 'NAME="PHONENUMBER">1215'
    local a = assert(connect_body:find(phone, 1, true)) + #phone
    local b = assert(connect_body:find("24 hours</PARAMETER>", 1, true)) + #"24 hours"
    head = connect_body:sub(1, a - 1)
    middle = connect_body:sub(a + 6, b - 1)  -- the example's number has 6 digits after 1215
    tail = connect_body:sub(b)
  elseif workload == "status-unique" then
    for line in io.lines(args[5]) do
      if line ~= "" then polled[#polled + 1] = line end
    end
    assert(#polled > 0, "status-unique needs the REQUESTIDs file")
  end
  wrk.method = "POST"
  wrk.body = connect_body
  wrk.headers["Content-Type"] = "application/xml"
end

function request()
  if workload == "post" then
    return wrk.format("POST", nil, headers, connect_body)
  end
  counter = counter + 1
  if workload == "post-unique" then
    return wrk.format("POST", nil, headers, unique_connect())
  end
  if workload == "status-unique" then
    local id = polled[(counter % #polled) + 1]
    return wrk.format("POST", nil, headers, string.format(status_template, id))
  end
  if #ids < KEEP or (every > 0 and counter % every == 0) then
    return wrk.format("POST", nil, headers, connect_body)
  end
  local id = ids[(counter % #ids) + 1]
  return wrk.format("POST", nil, headers, string.format(status_template, id))
end

function response(status, headers, body)
  if (workload == "status" or workload == "mix") and #ids < MAX_IDS then
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
