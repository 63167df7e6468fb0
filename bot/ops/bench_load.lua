-- Load of the scale benchmark (bot/ops/bench_scale.py), run by Debian's wrk:
--   wrk -t N -c N -d 30s --timeout 30s -s bot/ops/bench_load.lua <rest url> -- <messages file> <tag>
-- One connection per thread (-t = -c), so each thread is one visitor: its own sender, one
-- message at a time, conversations of as many turns as the mix has messages, then a new
-- conversation (a new sender), as bot/ops/bench.py's run_users does. The messages file holds
-- one message per line, each already a JSON string literal (written by bench_scale.py from
-- bench.MIX). done() prints one line "WRK_RESULT {json}" that bench_scale.py parses.

local threads = {}
local next_id = 0

function setup(thread)
   thread:set("id", next_id)
   next_id = next_id + 1
   table.insert(threads, thread)
end

function init(args)
   mix = {}
   for line in io.lines(args[1]) do
      if line ~= "" then
         table.insert(mix, line)
      end
   end
   tag = args[2] or "scale"
   turn = 0
   answered = 0
   empty = 0
   failed = 0
   wrk.method = "POST"
   wrk.headers["Content-Type"] = "application/json"
end

function request()
   local conversation = math.floor(turn / #mix)
   local message = mix[(id + turn) % #mix + 1]
   local sender = string.format("%s-%d-%d", tag, id, conversation)
   turn = turn + 1
   local body = string.format('{"sender":"%s","message":%s}', sender, message)
   return wrk.format(nil, nil, nil, body)
end

function response(status, headers, body)
   if status ~= 200 then
      failed = failed + 1
   elseif body == "[]" then
      empty = empty + 1
   else
      answered = answered + 1
   end
end

function done(summary, latency, requests)
   local answered_total, empty_total, failed_total = 0, 0, 0
   for _, thread in ipairs(threads) do
      answered_total = answered_total + thread:get("answered")
      empty_total = empty_total + thread:get("empty")
      failed_total = failed_total + thread:get("failed")
   end
   local errors = summary.errors
   io.write(string.format(
      'WRK_RESULT {"requests":%d,"duration_us":%d,"answered":%d,"empty":%d,"failed_status":%d,'
      .. '"errors":{"connect":%d,"read":%d,"write":%d,"status":%d,"timeout":%d},'
      .. '"latency_us":{"p50":%d,"p95":%d,"p99":%d,"max":%d,"mean":%.1f}}\n',
      summary.requests, summary.duration, answered_total, empty_total, failed_total,
      errors.connect, errors.read, errors.write, errors.status, errors.timeout,
      latency:percentile(50), latency:percentile(95), latency:percentile(99),
      latency.max, latency.mean))
end
