-- wrk script for the benchmark: one cancel per request, every request with a distinct order id.
--
--   wrk ... -s bench/cancel.lua URL -- gateway TOKENS_FILE CLIENT_ID CLIENT_SECRET RUN_TAG NTHREADS
--   wrk ... -s bench/cancel.lua URL -- gateway_bybit TOKENS_FILE CLIENT_ID CLIENT_SECRET RUN_TAG NTHREADS
--   wrk ... -s bench/cancel.lua URL -- direct REQUESTS_FILE RUN_TAG NTHREADS
--
-- gateway: POST /api/v1/transactions/cancel with Mesh's JSON; the authToken rotates round-robin over the
--   file's tokens (one per line), so with 2,000 tokens and at most 256 requests in flight no Kraken key is ever
--   in flight twice. A response counts as good if it is HTTP 2xx: the gateway answers every outcome other than
--   a done cancel with a 4xx/5xx envelope, and bench/run.py also reads the upstream's own count of verified
--   cancels and of failed checks.
-- gateway_bybit: the same for Bybit tokens: a numeric order id (Bybit's spot id shape) and symbolPair BTCUSDT
--   (so the cancel is one upstream request).
-- direct: each line of REQUESTS_FILE is `apiKey<TAB>apiSign<TAB>body`, a Kraken CancelOrder request signed in
--   advance (wrk's Lua has no HMAC-SHA512); good = HTTP 200 with "count":1 and no error (Kraken answers its
--   errors with HTTP 200, so the body is read).
-- Thread t of T uses lines t, t+T, t+2T, ... so threads never share a key.
-- done() prints one line `WRKJSON {...}` that bench/run.py parses.
--
-- Why the gateway modes build little per request: wrk and the upstream share the machine's cores with the
-- process under test, so their CPU per request is CPU the gateway's workers lose. Each token's request is
-- formatted once in init() up to the order id's counter (the body has a fixed length, so Content-Length is
-- fixed too), and request() only appends the counter; with no response() callback wrk parses each answer without
-- copying its headers and body into Lua.

local threads = {}

function setup(thread)
   thread:set("tid", #threads + 1)
   table.insert(threads, thread)
end

local mode, items, n, idx, counter, tail, counter_format

good = 0
bad = 0
read_bodies = 1

local function lines(file)
   local out = {}
   for line in io.lines(file) do
      if #line > 0 then table.insert(out, line) end
   end
   return out
end

-- A request whose body holds `width` placeholder characters where the counter goes, split around them: (text
-- before, text after). The placeholder has the counter's width, so Content-Length counts the real body.
local function split_request(headers, path, body_head, width, body_tail)
   local marker = string.rep("#", width)
   local whole = wrk.format("POST", path, headers, body_head .. marker .. body_tail)
   local at = whole:find(marker, 1, true)
   return whole:sub(1, at - 1), whole:sub(at + width)
end

function init(args)
   mode = args[1]
   local nthreads
   local all
   items = {}
   idx = 0
   counter = 0
   if mode == "gateway" or mode == "gateway_bybit" then
      all = lines(args[2])
      local headers = {
         ["Content-Type"] = "application/json",
         ["X-Client-Id"] = args[3],
         ["X-Client-Secret"] = args[4],
      }
      local tag = args[5]
      nthreads = tonumber(args[6])
      local path = "/api/v1/transactions/cancel"
      for i = tid, #all, nthreads do
         local head, body_tail
         if mode == "gateway_bybit" then
            -- digits only: the run tag's digits, the thread, the counter (at most 20 digits, Bybit's spot id shape)
            head = '{"authToken":"' .. all[i] .. '","type":"bybit","id":"' .. (tag:gsub("%D", ""))
               .. string.format("%03d", tid)
            body_tail = '","isCryptocurrency":true,"symbolPair":"BTCUSDT"}'
            counter_format = "%09d"
         else
            -- the shape of a Kraken txid (O + 5 + 5 + 6 characters), which the gateway checks
            head = '{"authToken":"' .. all[i] .. '","type":"kraken","id":"O' .. tag .. "-"
               .. string.format("%05d", tid) .. "-"
            body_tail = '","isCryptocurrency":true}'
            counter_format = "%06d"
         end
         local before, after = split_request(headers, path, head, tonumber(counter_format:match("%d+")), body_tail)
         table.insert(items, before)
         tail = after
      end
      response = nil
      read_bodies = 0
   else
      all = lines(args[2])
      nthreads = tonumber(args[4])
      for i = tid, #all, nthreads do
         local key, sign, body = all[i]:match("^([^\t]+)\t([^\t]+)\t(.+)$")
         table.insert(items, wrk.format("POST", "/0/private/CancelOrder", {
            ["API-Key"] = key,
            ["API-Sign"] = sign,
            ["Content-Type"] = "application/x-www-form-urlencoded",
         }, body))
      end
   end
   n = #items
end

function request()
   idx = idx % n + 1
   if tail == nil then
      return items[idx]
   end
   counter = counter + 1
   return items[idx] .. string.format(counter_format, counter) .. tail
end

function response(status, hdrs, body)
   if status == 200 and string.find(body, '"count":1', 1, true) then
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
   if threads[1]:get("read_bodies") == 0 then
      -- no response() callback: wrk counts every answer with a status above 399 as a status error
      b = e.status
      g = summary.requests - b
   end
   io.write(string.format(
      'WRKJSON {"requests":%d,"duration_us":%d,"good":%d,"bad":%d,"connect_errors":%d,"read_errors":%d,'
         .. '"write_errors":%d,"status_errors":%d,"timeouts":%d,"p50_us":%d,"p90_us":%d,"p99_us":%d,'
         .. '"max_us":%d,"mean_us":%.1f}\n',
      summary.requests, summary.duration, g, b, e.connect, e.read, e.write, e.status, e.timeout,
      latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max, latency.mean))
end
