-- wrk script: each connection posts the next line of POOL_FILE ("<id> [<token>]") to PATH_FORMAT.
-- Lines are dealt to wrk's threads in turn; a thread that runs out starts again from its first
-- line (those answers are errors: the benchmark sizes the pool so that it never happens).
local threads = {}
local counter = 0

function setup(thread)
  thread:set("tid", counter)
  counter = counter + 1
  table.insert(threads, thread)
end

function init(args)
  local pool, nthreads = os.getenv("POOL_FILE"), tonumber(os.getenv("WRK_THREADS"))
  path_format = os.getenv("PATH_FORMAT")
  items, next_item = {}, 1
  local i = 0
  for line in io.lines(pool) do
    if i % nthreads == tid then
      local id, token = line:match("^(%S+)%s*(%S*)")
      table.insert(items, {id = id, token = token})
    end
    i = i + 1
  end
end

function request()
  local item = items[next_item]
  next_item = next_item + 1
  if next_item > #items then next_item = 1 end
  local headers = {["Content-Type"] = "application/json", ["Accept"] = "application/json"}
  if item.token ~= "" then headers["Authorization"] = "Bearer " .. item.token end
  return wrk.format("POST", string.format(path_format, item.id), headers, "{}")
end

function done(summary, latency, requests)
  io.write(string.format(
    "JSON {\"requests\": %d, \"duration_us\": %d, \"non2xx\": %d, \"connect\": %d, \"read\": %d, \"write\": %d, \"timeout\": %d, \"p50_us\": %d, \"p95_us\": %d, \"p99_us\": %d, \"max_us\": %d}\n",
    summary.requests, summary.duration, summary.errors.status, summary.errors.connect, summary.errors.read,
    summary.errors.write, summary.errors.timeout, latency:percentile(50), latency:percentile(95),
    latency:percentile(99), latency.max))
end
