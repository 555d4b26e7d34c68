-- The workflow pair: issue 1 unit of an untracked inventory to a part kit, then move it back.
--   wrk -s tests/perf/workflow.lua URL -- PAIRS_FILE TOKEN [drf]
-- PAIRS_FILE has one "partKitKey partInventoryKey" per line. Requests alternate issue and
-- move-to-inventory on a random pair, so counts stay level; every pair starts with units issued,
-- so a move that overtakes its issue on another connection still finds one to move. With "drf",
-- the plain DRF server's form: POST /part-kits/{key}/issue/ and .../move-to-inventory/.
local here = debug.getinfo(1, "S").source:match("^@(.*/)") or "./"
dofile(here .. "report.lua")

local pairs_list, headers, sent, current, drf = {}, {}, 0, nil, false
local ISSUE = "/workflows/inventory-control/part-kit/issue"
local MOVE = "/workflows/inventory-control/part-kit/move-to-inventory"

function init(args)
  for line in io.lines(args[1]) do
    local kit, inventory = line:match("(%d+)%s+(%d+)")
    if kit then
      pairs_list[#pairs_list + 1] = { kit, inventory }
    end
  end
  headers["Authorization"] = "Bearer " .. args[2]
  drf = args[3] == "drf"
  headers["Content-Type"] = "application/json"
  -- Each thread has its own Lua state: seed each differently.
  math.randomseed(os.time() + tonumber(tostring(headers):match("0x(%x+)") or "0", 16))
end

function request()
  sent = sent + 1
  local issue = sent % 2 == 1
  if issue then
    current = pairs_list[math.random(#pairs_list)]
  end
  if drf then
    local action = issue and "issue" or "move-to-inventory"
    local body = string.format('{"part_inventory":%s,"quantity":"1"}', current[2])
    return wrk.format("POST", "/part-kits/" .. current[1] .. "/" .. action .. "/", headers, body)
  end
  local body = string.format(
    '{"key":"%s","partInventory":{"key":"%s"},"quantity":1}', current[1], current[2])
  return wrk.format("POST", issue and ISSUE or MOVE, headers, body)
end
