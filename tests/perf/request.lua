-- One fixed request, sent again and again:
--   wrk -s tests/perf/request.lua URL -- METHOD BODY_FILE|- TOKEN|- [CONTENT_TYPE]
-- TOKEN "-" sends no Authorization header (the token endpoint); CONTENT_TYPE defaults to JSON.
local here = debug.getinfo(1, "S").source:match("^@(.*/)") or "./"
dofile(here .. "report.lua")

function init(args)
  wrk.method = args[1]
  if args[3] ~= "-" then
    wrk.headers["Authorization"] = "Bearer " .. args[3]
  end
  if args[2] ~= "-" then
    local file = assert(io.open(args[2], "rb"))
    wrk.body = file:read("*a")
    file:close()
    wrk.headers["Content-Type"] = args[4] or "application/json"
  end
end
