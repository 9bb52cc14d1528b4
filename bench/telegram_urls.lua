-- wrk: each thread walks its own share of pre-signed callback URLs, so no link is used twice.
local urls = {}
for line in io.lines(os.getenv("URLS_FILE")) do urls[#urls + 1] = line end
local threads, counter = 0, 0
function setup(thread)
  thread:set("tid", threads)
  threads = threads + 1
end
function init(args)
  nthreads = tonumber(os.getenv("WRK_THREADS") or "2")
  i = tid
end
function request()
  local url = urls[(i % #urls) + 1]
  i = i + nthreads
  return wrk.format("GET", url)
end
function done(summary, latency, requests)
  io.write(string.format("non_2xx_3xx=%d\n", summary.errors.status))
end
