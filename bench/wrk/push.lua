-- bench/wrk/push.lua - wrk sends one signed GitHub push payload, over and
-- over, on keep-alive connections, each time as a new delivery: its own
-- X-GitHub-Delivery id, as GitHub gives every delivery (tailhook answers a
-- repeated id as a redelivery, without deploying).  bench/bench.py sets:
--   BENCH_BODY  the payload file (a real GitHub push payload, ~10 KB)
--   BENCH_SIG   "sha256=<hex>": the X-Hub-Signature-256 header value
--   BENCH_PATH  the hook's path
--   BENCH_RUN   a token that makes the ids unique across runs
-- done() prints one JSON line that bench.py reads.

local function env(name)
  local v = os.getenv(name)
  if v == nil or v == "" then
    error(name .. " is not set")
  end
  return v
end

local f = assert(io.open(env("BENCH_BODY"), "rb"))
local body = f:read("*a")
f:close()

wrk.method = "POST"
wrk.path = env("BENCH_PATH")
wrk.body = body
wrk.headers["Content-Type"] = "application/json"
wrk.headers["User-Agent"] = "GitHub-Hookshot/bench"
wrk.headers["X-GitHub-Event"] = "push"
wrk.headers["X-Hub-Signature-256"] = env("BENCH_SIG")

local threads = 0
function setup(thread)
  threads = threads + 1
  thread:set("thread_id", threads)
end

local sent = 0
local run = env("BENCH_RUN")
function request()
  sent = sent + 1
  wrk.headers["X-GitHub-Delivery"] = string.format("bench-%s-%d-%d", run, thread_id or 0, sent)
  return wrk.format()
end

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    '{"requests":%d,"duration_us":%d,"bytes":%d,"err_connect":%d,"err_read":%d,' ..
    '"err_write":%d,"err_status":%d,"err_timeout":%d,"p50_us":%d,"p90_us":%d,' ..
    '"p99_us":%d,"max_us":%d,"mean_us":%.1f}\n',
    summary.requests, summary.duration, summary.bytes, e.connect, e.read, e.write,
    e.status, e.timeout, latency:percentile(50), latency:percentile(90),
    latency:percentile(99), latency.max, latency.mean))
end
