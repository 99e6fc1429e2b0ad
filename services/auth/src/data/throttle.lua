-- The login throttle's one script (data/throttle.rs explains the rules). `take` takes one
-- attempt from every bucket before the password is checked, or takes none and says why;
-- `settle` records the outcome once the hash has answered. Every check and write of a call
-- happens at once, so parallel attempts cannot all see the same free slot.
--
-- Only commands of Redis 6.2 and older, with their 6.2 arguments (managed Redis 6 has no
-- `PEXPIRE ... NX`): a unit test checks every name called here against a 6.2 list. Time is
-- the server's (TIME), so every replica of auth uses the same clock.
--
-- KEYS[1] attempts of this account from this address, counted per window (a string)
-- KEYS[2] which of those are still in flight (zset: attempt id -> lease end, ms)
-- KEYS[3] the account's slow-down, a GCRA: its theoretical arrival time, ms (a string)
-- KEYS[4] attempts in flight that took from KEYS[3]
-- KEYS[5] attempts from this address over all accounts, counted per window
-- KEYS[6] attempts in flight that took from KEYS[5]
-- KEYS[7] addresses the account logged in from (zset: address digest -> last success, ms)
--
-- take:   ARGV = 'take', id, address digest, pair limit, address limit, window ms,
--                burst, interval ms, lease ms, known ttl ms
--   -> {0, slowed}  taken; slowed = 1 when it took from the account's slow-down
--   -> {1, 0}       busy: a bucket is full only of attempts still in flight, ask again soon
--   -> {2, wait ms} refused; nothing was taken
-- settle: ARGV = 'settle', id, address digest, outcome ('ok', 'failed', 'void'), slowed,
--                interval ms, known ttl ms, known max
--   'failed' leaves the attempt counted; 'ok' clears the pair's count, gives the attempt
--   back to the slow-down and the address, and remembers the address; 'void' (no answer was
--   given) gives the attempt back everywhere.

local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)

local function int(n)
  return string.format('%d', n)
end

-- How many attempts are still in flight, after dropping those whose lease ran out (their
-- request is gone; they stay counted as failures).
local function in_flight(key)
  redis.call('ZREMRANGEBYSCORE', key, '-inf', int(now))
  return redis.call('ZCARD', key)
end

-- A counter per window: 0 room, 1 full only because attempts are in flight, 2 full.
local function counter(count_key, flight_key, limit)
  local taken = tonumber(redis.call('GET', count_key) or '0')
  if taken < limit then
    return 0, 0
  end
  if taken - in_flight(flight_key) < limit then
    return 1, 0
  end
  return 2, math.max(redis.call('PTTL', count_key), 1)
end

-- GCRA: `burst` attempts, refilled one per `interval`. Also returns the next arrival time.
local function slowdown(tat_key, flight_key, burst, interval)
  local tat = math.max(tonumber(redis.call('GET', tat_key) or '0'), now)
  local allowed_at = tat + interval - burst * interval
  if allowed_at <= now then
    return 0, 0, tat + interval
  end
  local refundable = in_flight(flight_key) * interval
  if math.max(tat - refundable, now) + interval - burst * interval <= now then
    return 1, 0, 0
  end
  return 2, allowed_at - now, 0
end

local function count(count_key, flight_key, id, window, lease)
  redis.call('INCR', count_key)
  if redis.call('PTTL', count_key) < 0 then
    -- The window starts at the first attempt; later ones do not extend it.
    redis.call('PEXPIRE', count_key, int(window))
  end
  redis.call('ZADD', flight_key, int(now + lease), id)
  redis.call('PEXPIRE', flight_key, int(lease))
end

local function give_back(count_key)
  if tonumber(redis.call('GET', count_key) or '0') > 0 then
    redis.call('DECR', count_key)
  end
end

local function is_known(digest, known_ttl)
  local last = redis.call('ZSCORE', KEYS[7], digest)
  return last and tonumber(last) > now - known_ttl
end

local function take(id, digest, pair_limit, address_limit, window, burst, interval, lease,
                    known_ttl)
  local worst, wait = 0, 0
  local function judge(verdict, verdict_wait)
    worst = math.max(worst, verdict)
    if verdict == 2 then
      wait = math.max(wait, verdict_wait)
    end
  end
  judge(counter(KEYS[1], KEYS[2], pair_limit))
  local slowed, next_tat = not is_known(digest, known_ttl), 0
  if slowed then
    local verdict, verdict_wait
    verdict, verdict_wait, next_tat = slowdown(KEYS[3], KEYS[4], burst, interval)
    judge(verdict, verdict_wait)
  end
  judge(counter(KEYS[5], KEYS[6], address_limit))
  if worst > 0 then
    return {worst, wait}
  end
  count(KEYS[1], KEYS[2], id, window, lease)
  if slowed then
    redis.call('SET', KEYS[3], int(next_tat), 'PX', int(next_tat - now))
    redis.call('ZADD', KEYS[4], int(now + lease), id)
    redis.call('PEXPIRE', KEYS[4], int(lease))
  end
  count(KEYS[5], KEYS[6], id, window, lease)
  return {0, slowed and 1 or 0}
end

local function settle(id, digest, outcome, slowed, interval, known_ttl, known_max)
  redis.call('ZREM', KEYS[2], id)
  redis.call('ZREM', KEYS[4], id)
  redis.call('ZREM', KEYS[6], id)
  if outcome == 'failed' then
    return 0
  end
  if outcome == 'ok' then
    redis.call('DEL', KEYS[1])
  else
    give_back(KEYS[1])
  end
  if slowed then
    local tat = tonumber(redis.call('GET', KEYS[3]) or '0') - interval
    if tat > now then
      redis.call('SET', KEYS[3], int(tat), 'PX', int(tat - now))
    else
      redis.call('DEL', KEYS[3])
    end
  end
  -- Only this attempt: failures of a spray from the address stay counted.
  give_back(KEYS[5])
  if outcome == 'ok' then
    redis.call('ZADD', KEYS[7], int(now), digest)
    redis.call('ZREMRANGEBYSCORE', KEYS[7], '-inf', int(now - known_ttl))
    redis.call('ZREMRANGEBYRANK', KEYS[7], 0, -(known_max + 1))
    redis.call('PEXPIRE', KEYS[7], int(known_ttl))
  end
  return 0
end

local op = ARGV[1]
if op == 'take' then
  return take(ARGV[2], ARGV[3], tonumber(ARGV[4]), tonumber(ARGV[5]), tonumber(ARGV[6]),
    tonumber(ARGV[7]), tonumber(ARGV[8]), tonumber(ARGV[9]), tonumber(ARGV[10]))
elseif op == 'settle' then
  return settle(ARGV[2], ARGV[3], ARGV[4], ARGV[5] == '1', tonumber(ARGV[6]),
    tonumber(ARGV[7]), tonumber(ARGV[8]))
end
return redis.error_reply('unknown throttle operation ' .. tostring(op))
