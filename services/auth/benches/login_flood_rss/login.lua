-- wrk script of measure.sh: POST /v1/auth/login, body per thread; the argument is the run label.
-- Each wrk thread (one connection each with -t4 -c4) logs in as its own registered user.
local threads = 0
function setup(thread)
  threads = threads + 1
  thread:set("n", threads)
end
function init(args)
  body = string.format('{"email":"flood-%s-%d@example.com","password":"correct horse battery"}', args[1], n)
end
function request()
  return wrk.format("POST", "/v1/auth/login", {["Content-Type"] = "application/json"}, body)
end
