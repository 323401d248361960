-- One fixed request, repeated: `-- METHOD` (GET by default). Used for the bare apps, /healthz and
-- /api/v1/instansi.
dofile("report.lua")

function init(args)
   wrk.method = args[1] or "GET"
   if wrk.method ~= "GET" then
      wrk.headers["Content-Type"] = "application/json"
      wrk.body = "{}"
   end
end
