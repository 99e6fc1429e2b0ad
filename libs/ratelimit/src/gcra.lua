-- GCRA (generic cell rate algorithm) for one (class, client) key, atomically, in one round trip.
--
-- KEYS[1]  the key holding the client's theoretical arrival time (TAT), in microseconds since
--          the Unix epoch, as an integer string
-- ARGV[1]  the emission interval T in microseconds: the quota's period divided by its requests
-- ARGV[2]  the burst: the quota's requests
--
-- Returns {allowed (1 or 0), remaining, retry_after_us, reset_after_us}.
--
-- Only commands of Redis 6.2 and older (tests/script_commands.rs checks this): TIME, GET, SET
-- with PX. The clock is the server's TIME, so replicas with skewed clocks still agree. Redis 5
-- and later replicate a script's effects (the SET with its expiry), not the script, so reading
-- TIME before a write is allowed; on Redis 3.2 to 4.x the script would need
-- redis.replicate_commands() as its first statement.
--
-- Microseconds since the epoch (about 1.8e15) stay well inside the 2^53 a Lua 5.1 number holds
-- exactly.

local interval = tonumber(ARGV[1])
local burst = tonumber(ARGV[2])
local tolerance = interval * burst

local clock = redis.call('TIME')
local now = tonumber(clock[1]) * 1000000 + tonumber(clock[2])

local tat = tonumber(redis.call('GET', KEYS[1]))
if tat == nil or tat < now then
  tat = now
end

local new_tat = tat + interval
local allow_at = new_tat - tolerance
if now < allow_at then
  -- Refused: nothing is written, so a refused request costs the client nothing.
  return {0, 0, allow_at - now, tat - now}
end

local reset_after = new_tat - now
-- The key expires when its TAT is reached: from then on an absent key means the same (a full
-- quota), so idle clients cost no memory.
redis.call('SET', KEYS[1], string.format('%.0f', new_tat), 'PX', math.ceil(reset_after / 1000))
return {1, math.floor((now - allow_at) / interval), 0, reset_after}
