-- Walks a list of pre-created requests, each used once: attempt starts and graded submits.
--   wrk ... -s walk.lua URL -- THREADS LIST ACKLOG
-- LIST: one request a line, tab-separated: path, bearer token, Idempotency-Key, JSON body.
-- With 2 threads, thread 0 walks the list from the top and thread 1 from the bottom, so a busier
-- thread may use more than half (wrk threads are not served evenly); with another THREADS, thread n
-- takes lines n+1, n+1+THREADS, ... The harness compares the items used ("sent") with the list's
-- length: more means the two walks met and the pool was too small. A thread at the end of its walk
-- sends GET /api/v1/bench-pool-exhausted (a 404, counted as non-2xx and as "exhausted") so a pool
-- that was too small shows in the table instead of replaying old work.
-- ACKLOG: prefix of one file per thread listing the attempt id of every 2xx answer (the attempt
-- id is read from the reply), so the harness can check each acknowledged submit is in the database.
dofile("report.lua")

local items, next_item, log = {}, 1, nil

function init(args)
   local nthreads = tonumber(args[1])
   local n = 0
   for line in io.lines(args[2]) do
      if nthreads == 2 or n % nthreads == tid then
         local path, token, key, body = line:match("^([^\t]*)\t([^\t]*)\t([^\t]*)\t(.*)$")
         table.insert(items, wrk.format("POST", path, {
            ["Authorization"] = "Bearer " .. token,
            ["Idempotency-Key"] = key,
            ["Content-Type"] = "application/json",
         }, body))
      end
      n = n + 1
   end
   if nthreads == 2 and tid == 1 then  -- walk from the bottom
      local reversed = {}
      for i = #items, 1, -1 do
         table.insert(reversed, items[i])
      end
      items = reversed
   end
   log = io.open(args[3] .. tid, "w")
   log:setvbuf("line")
end

function request()
   local item = items[next_item]
   if item == nil then
      exhausted = exhausted + 1
      return wrk.format("GET", "/api/v1/bench-pool-exhausted")
   end
   next_item = next_item + 1
   sent = sent + 1
   return item
end

function response(status, headers, body)
   if count(status) then
      local id = body:match('"attempt_id"%s*:%s*"(%x+)"') or body:match('"id"%s*:%s*"(%x+)"')
      log:write((id or "?"), "\n")
   end
end
