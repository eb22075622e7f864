-- wrk-upload.lua - wrk script of `make bench-server` (scripts/bench-server.sh):
-- POST /api/v1/builds with a bearer token, each request a distinct commit so
-- that each one is a real insert, and a count of the answers by status.
--
-- Environment: BENCH_BODY (an upload body file whose commit is the text
-- @COMMIT@ and whose first symbol's size is the number 987654321, replaced
-- per request by a size no other request uses, so that each upload changes
-- one symbol, as a pull request does: its symbol set is new (a delta), its
-- diff has one row), BENCH_TOKEN.  Commits are "wrk<thread>-<n>": unique across the
-- threads of one run; BENCH_RUN (a word) keeps runs apart.
local threads = {}
local next_id = 0

function setup(thread)
  thread:set("tid", next_id)
  next_id = next_id + 1
  table.insert(threads, thread)
end

function init(args)
  local f = assert(io.open(os.getenv("BENCH_BODY"), "rb"))
  local body = f:read("*a")
  f:close()
  local at = assert(string.find(body, "@COMMIT@", 1, true), "no @COMMIT@ in the body")
  head, rest = string.sub(body, 1, at - 1), string.sub(body, at + 8)
  local sz = assert(string.find(rest, "987654321", 1, true), "no size 987654321 in the body")
  middle, tail = string.sub(rest, 1, sz - 1), string.sub(rest, sz + 9)
  run = os.getenv("BENCH_RUN") or "run"
  headers = {["Content-Type"] = "application/json",
             ["Authorization"] = "Bearer " .. os.getenv("BENCH_TOKEN")}
  n, ok, bad = 0, 0, 0
end

function request()
  n = n + 1
  local commit = string.format("wrk%s%d-%d", run, tid, n)
  return wrk.format("POST", "/api/v1/builds", headers, head .. commit .. middle .. tostring(1000000 * (tid + 1) + n) .. tail)
end

function response(status, hdrs, body)
  if status >= 200 and status < 300 then ok = ok + 1 else bad = bad + 1 end
end

function done(summary, latency, requests)
  local t_ok, t_bad = 0, 0
  for _, t in ipairs(threads) do
    t_ok = t_ok + t:get("ok")
    t_bad = t_bad + t:get("bad")
  end
  io.write(string.format("answers: %d 2xx, %d other\n", t_ok, t_bad))
end
