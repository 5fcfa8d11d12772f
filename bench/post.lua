-- wrk script: POST the JSON body in the file given after `--` (GET when no file is named);
-- print one JSON summary line.
function init(args)
  if args[1] == nil or args[1] == "" then
    request_bytes = wrk.format("GET", nil, {}, nil)
    return
  end
  local file = assert(io.open(args[1], "rb"))
  local body = file:read("*a")
  file:close()
  request_bytes = wrk.format("POST", nil, {["Content-Type"] = "application/json"}, body)
end

function request()
  return request_bytes
end

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    '{"requests": %d, "duration_us": %d, "errors": %d, "p50_us": %d, "p99_us": %d}\n',
    summary.requests, summary.duration, e.connect + e.read + e.write + e.status + e.timeout,
    latency:percentile(50), latency:percentile(99)))
end
