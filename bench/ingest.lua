-- wrk: POST /api/v1/events, cycling through pre-generated batch bodies (one JSON per line,
-- from bench/ingest_bodies.py). Each thread starts at its own offset.
--
--   unified-portal api-key create --platform MOBILE_APP --name bench   # note the key: line
--   python3 bench/ingest_bodies.py "$DATABASE_URL" 2000 /tmp/ingest_bodies.jsonl
--   BODIES_FILE=/tmp/ingest_bodies.jsonl API_KEY=upk_… WRK_THREADS=2 \
--     wrk -t2 -c8 -d30s -s bench/ingest.lua http://127.0.0.1:3000/api/v1/events
--
-- Events per second = requests per second × 500 (the batch size); compare with a psql
-- COPY of the same rows.
local bodies = {}
for line in io.lines(os.getenv("BODIES_FILE")) do bodies[#bodies + 1] = line end
local key = os.getenv("API_KEY")
local threads = 0
function setup(thread)
  thread:set("tid", threads)
  threads = threads + 1
end
function init(args)
  nthreads = tonumber(os.getenv("WRK_THREADS") or "2")
  i = tid
  wrk.method = "POST"
  wrk.headers["Content-Type"] = "application/json"
  wrk.headers["Authorization"] = "Bearer " .. key
end
function request()
  local body = bodies[(i % #bodies) + 1]
  i = i + nthreads
  return wrk.format(nil, nil, nil, body)
end
function done(summary, latency, requests)
  io.write(string.format("non_2xx_3xx=%d\n", summary.errors.status))
end
