-- The wrk script of make bench's web section (bench/webbench.py).
-- WRK_ROUTES=api cycles through the JSON API (GET /json, GET /users/N,
-- GET /users?limit=10, POST /users); otherwise wrk sends its own GET
-- of the URL. Either way done() prints one line, "wrk-json {...}", with
-- the completed requests and the errors (status: responses >= 400).

local routes = os.getenv("WRK_ROUTES")

if routes == "api" then
   local n = 0
   local post = wrk.format("POST", "/users",
                           {["Content-Type"] = "application/json"},
                           '{"name": "bench", "email": "bench@example.org"}')
   function request()
      n = n + 1
      local k = n % 4
      if k == 1 then
         return wrk.format("GET", "/json")
      elseif k == 2 then
         return wrk.format("GET", "/users/" .. (n % 1000 + 1))
      elseif k == 3 then
         return wrk.format("GET", "/users?limit=10")
      end
      return post
   end
end

function done(summary, latency, requests)
   local e = summary.errors
   io.write(string.format(
      'wrk-json {"requests": %d, "duration_us": %d, "bytes": %d, ' ..
      '"connect": %d, "read": %d, "write": %d, "status": %d, ' ..
      '"timeout": %d}\n', summary.requests, summary.duration,
      summary.bytes, e.connect, e.read, e.write, e.status, e.timeout))
end
