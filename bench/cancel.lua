-- wrk script for the benchmark: one cancel per request, every request with a distinct order id.
--
--   wrk ... -s bench/cancel.lua URL -- gateway TOKENS_FILE CLIENT_ID CLIENT_SECRET RUN_TAG NTHREADS
--   wrk ... -s bench/cancel.lua URL -- gateway_bybit TOKENS_FILE CLIENT_ID CLIENT_SECRET RUN_TAG NTHREADS
--   wrk ... -s bench/cancel.lua URL -- direct REQUESTS_FILE RUN_TAG NTHREADS
--
-- gateway: POST /api/v1/transactions/cancel with Mesh's JSON; the authToken rotates round-robin over the
--   file's tokens (one per line), so with 2,000 tokens and at most 256 requests in flight no Kraken key is ever
--   in flight twice. A response counts as good only if it is HTTP 200 and carries "status":"ok".
-- gateway_bybit: the same for Bybit tokens: a numeric order id (Bybit's spot id shape) and symbolPair BTCUSDT
--   (so the cancel is one upstream request).
-- direct: each line of REQUESTS_FILE is `apiKey<TAB>apiSign<TAB>body`, a Kraken CancelOrder request signed in
--   advance (wrk's Lua has no HMAC-SHA512); good = HTTP 200 with "count":1 and no error.
-- Thread t of T uses lines t, t+T, t+2T, ... so threads never share a key.
-- done() prints one line `WRKJSON {...}` that bench/run.py parses.

local threads = {}

function setup(thread)
   thread:set("tid", #threads + 1)
   table.insert(threads, thread)
end

local mode, items, n, idx, counter, tag, expect, path, headers

good = 0
bad = 0

local function lines(file)
   local out = {}
   for line in io.lines(file) do
      if #line > 0 then table.insert(out, line) end
   end
   return out
end

function init(args)
   mode = args[1]
   local nthreads
   local all
   if mode == "gateway" or mode == "gateway_bybit" then
      all = lines(args[2])
      headers = {
         ["Content-Type"] = "application/json",
         ["X-Client-Id"] = args[3],
         ["X-Client-Secret"] = args[4],
      }
      tag = args[5]
      nthreads = tonumber(args[6])
      path = "/api/v1/transactions/cancel"
      expect = '"status":"ok"'
   else
      all = lines(args[2])
      tag = args[3]
      nthreads = tonumber(args[4])
      expect = '"count":1'
   end
   items = {}
   for i = tid, #all, nthreads do
      local item = all[i]
      if mode == "direct" then
         local key, sign, body = item:match("^([^\t]+)\t([^\t]+)\t(.+)$")
         item = wrk.format("POST", "/0/private/CancelOrder", {
            ["API-Key"] = key,
            ["API-Sign"] = sign,
            ["Content-Type"] = "application/x-www-form-urlencoded",
         }, body)
      end
      table.insert(items, item)
   end
   n = #items
   idx = 0
   counter = 0
end

function request()
   idx = idx % n + 1
   if mode == "direct" then
      return items[idx]
   end
   counter = counter + 1
   if mode == "gateway_bybit" then
      -- digits only: the run tag's digits, the thread, the counter (at most 20 digits, Bybit's spot id shape)
      local body = '{"authToken":"' .. items[idx] .. '","type":"bybit","id":"' .. (tag:gsub("%D", ""))
         .. string.format("%03d", tid) .. string.format("%09d", counter)
         .. '","isCryptocurrency":true,"symbolPair":"BTCUSDT"}'
      return wrk.format("POST", path, headers, body)
   end
   -- the shape of a Kraken txid (O + 5 + 5 + 6 characters), which the gateway checks
   local body = '{"authToken":"' .. items[idx] .. '","type":"kraken","id":"O' .. tag .. "-"
      .. string.format("%05d", tid) .. "-" .. string.format("%06d", counter) .. '","isCryptocurrency":true}'
   return wrk.format("POST", path, headers, body)
end

function response(status, hdrs, body)
   if status == 200 and string.find(body, expect, 1, true) then
      good = good + 1
   else
      bad = bad + 1
   end
end

function done(summary, latency, requests)
   local g, b = 0, 0
   for _, t in ipairs(threads) do
      g = g + t:get("good")
      b = b + t:get("bad")
   end
   local e = summary.errors
   io.write(string.format(
      'WRKJSON {"requests":%d,"duration_us":%d,"good":%d,"bad":%d,"connect_errors":%d,"read_errors":%d,'
         .. '"write_errors":%d,"status_errors":%d,"timeouts":%d,"p50_us":%d,"p90_us":%d,"p99_us":%d,'
         .. '"max_us":%d,"mean_us":%.1f}\n',
      summary.requests, summary.duration, g, b, e.connect, e.read, e.write, e.status, e.timeout,
      latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max, latency.mean))
end
