-- Shared by every wrk script here (loaded with dofile; wrk runs with bench/wrk as its folder).
-- Counts 2xx and other answers per thread in response() (and walk.lua the requests it built); done() prints one JSON line that
-- bench/wrk_bench.py reads: totals, socket errors, latency percentiles in microseconds.

ok, non2xx, exhausted, sent = 0, 0, 0, 0

local threads = {}

function setup(thread)
   thread:set("tid", #threads)
   table.insert(threads, thread)
end

function count(status)
   if status >= 200 and status < 300 then
      ok = ok + 1
      return true
   end
   non2xx = non2xx + 1
   return false
end

function response(status, headers, body)
   count(status)
end

function done(summary, latency, requests)
   local sums = { ok = 0, non2xx = 0, exhausted = 0, sent = 0 }
   for _, t in ipairs(threads) do
      for k, _ in pairs(sums) do
         sums[k] = sums[k] + (t:get(k) or 0)
      end
   end
   local e = summary.errors
   io.write(string.format(
      '{"requests":%d,"duration_us":%d,"ok":%d,"non2xx":%d,"exhausted":%d,"sent":%d,'
         .. '"connect":%d,"read":%d,"write":%d,"timeout":%d,"p50_us":%d,"p90_us":%d,"p99_us":%d,"max_us":%d}\n',
      summary.requests, summary.duration, sums.ok, sums.non2xx, sums.exhausted, sums.sent,
      e.connect, e.read, e.write, e.timeout,
      latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max))
end
