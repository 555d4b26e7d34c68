-- Bad client secrets for one client id, each connection one request at most every PAUSE_MS
-- (a client retrying, not a load generator running flat out):
--   wrk -s tests/perf/token_flood.lua URL/oauth2/token -- CLIENT_ID PAUSE_MS
-- Prints FLOOD_JSON: requests, seconds and how many answers had each status.
local threads = {}

function setup(thread)
  table.insert(threads, thread)
end

function init(args)
  wrk.method = "POST"
  wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"
  wrk.body = "grant_type=client_credentials&client_id=" .. args[1]
    .. "&client_secret=not-the-secret-of-this-client"
  pause = tonumber(args[2])
  statuses = {}
end

function delay()
  return pause
end

function response(status, headers, body)
  statuses[status] = (statuses[status] or 0) + 1
end

function done(summary, latency, requests)
  local counts = {}
  for _, thread in ipairs(threads) do
    for status, count in pairs(thread:get("statuses")) do
      counts[status] = (counts[status] or 0) + count
    end
  end
  local parts = {}
  for status, count in pairs(counts) do
    table.insert(parts, string.format('"%d":%d', status, count))
  end
  io.write(string.format(
    'FLOOD_JSON {"requests":%d,"duration_us":%d,"p50_us":%d,"statuses":{%s}}\n',
    summary.requests, summary.duration, latency:percentile(50), table.concat(parts, ",")))
end
