"""The Lua scripts of the pressure counters (run by storage/counters.py); they count, reserve and displace
against the limits the domain passes, and decide nothing else.

Per person (one hash tag, so a Redis Cluster keeps them on one node):
  slots      hash  firing id -> "state|at_ms|channel|category|priority|event|hold_until_ms"
             state H (held: displaceable by a higher priority), R (reserved), C (confirmed); a held slot whose
             firing is not asked again within HELD_GRACE of its hold's end is given back (the journey that
             fired it was interrupted, or its scenario stopped: nobody will send it)
  displaced  hash  firing id -> the firing that took its held slot
  loaded     string, present while the slots mirror PostgreSQL (absent: rebuild first)
"""

HELD_GRACE_MS = 3_600_000
"""How long after its hold's end a held slot waits for its firing to be asked again (scenario asks again at the
hold's end, within seconds): past it, the slot counts no more, and the firing asked again is judged afresh."""

RESERVE = """
if redis.call('EXISTS', KEYS[3]) == 0 then return {'rebuild'} end
local me, now, ttl = ARGV[1], tonumber(ARGV[2]), tonumber(ARGV[10])
local dry = ARGV[11] == '1'
redis.call('EXPIRE', KEYS[3], ttl)
redis.call('EXPIRE', KEYS[1], ttl)
redis.call('EXPIRE', KEYS[2], ttl)
local raw = redis.call('HGETALL', KEYS[1])
local entries = {}
for i = 1, #raw, 2 do
  local st, at, ch, cat, pr, ev, hold = string.match(raw[i + 1],
    '^(%a)|(%-?%d+)|([^|]*)|([^|]*)|(%-?%d+)|([^|]*)|(%-?%d+)$')
  at = tonumber(at)
  if at < tonumber(ARGV[9]) or (st == 'H' and now >= tonumber(hold) + HELD_GRACE_MS) then
    redis.call('HDEL', KEYS[1], raw[i])
  else
    entries[raw[i]] = {id = raw[i], st = st, at = at, ch = ch, cat = cat, pr = tonumber(pr), ev = ev,
                       hold = tonumber(hold), raw = raw[i + 1]}
  end
end
local mine = entries[me]
if not dry then
  local winner = redis.call('HGET', KEYS[2], me)
  if winner then
    redis.call('HDEL', KEYS[2], me)
    return {'displaced', '', '', '', '', '', winner}
  end
  if mine then
    if mine.st == 'H' and now >= mine.hold then
      redis.call('HSET', KEYS[1], me, 'R' .. string.sub(mine.raw, 2))
      return {'promoted', 'R', mine.ch, tostring(mine.at), tostring(mine.hold)}
    end
    return {mine.st == 'H' and 'holding' or 'reserved', mine.st, mine.ch, tostring(mine.at), tostring(mine.hold)}
  end
end
local my_pr = tonumber(ARGV[7])
local victims, counts = {}, {}
local n = tonumber(ARGV[12])
for i = 0, n - 1 do
  local kind, value = ARGV[13 + i * 4], ARGV[14 + i * 4]
  local since, limit = tonumber(ARGV[15 + i * 4]), tonumber(ARGV[16 + i * 4])
  local matching = {}
  for id, e in pairs(entries) do
    if id ~= me and not victims[id] and e.at >= since and (kind == 'all' or (kind == 'channel' and e.ch == value)
        or (kind == 'category' and e.cat == value) or (kind == 'event' and e.ev == value)) then
      matching[#matching + 1] = e
    end
  end
  local count = #matching
  counts[#counts + 1] = tostring(count)
  while not dry and count >= limit do
    local best = nil
    for _, e in ipairs(matching) do
      if e.st == 'H' and e.pr < my_pr and not victims[e.id]
          and (best == nil or e.pr < best.pr or (e.pr == best.pr and e.at > best.at)) then
        best = e
      end
    end
    if best == nil then
      local times = {}
      for _, e in ipairs(matching) do if not victims[e.id] then times[#times + 1] = e.at end end
      table.sort(times)
      local freeing = times[count - limit + 1]
      return {'blocked', '', '', '', '', table.concat(counts, ','), '', tostring(i), tostring(freeing or -1)}
    end
    victims[best.id] = true
    count = count - 1
  end
end
if dry then return {'counts', '', '', '', '', table.concat(counts, ',')} end
local gone = {}
for id, _ in pairs(victims) do
  redis.call('HDEL', KEYS[1], id)
  redis.call('HSET', KEYS[2], id, me)
  gone[#gone + 1] = id
end
local state = ARGV[3]
redis.call('HSET', KEYS[1], me, state .. '|' .. ARGV[2] .. '|' .. ARGV[5] .. '|' .. ARGV[6] .. '|' .. ARGV[7] .. '|'
  .. ARGV[8] .. '|' .. ARGV[4])
redis.call('EXPIRE', KEYS[1], ttl)
redis.call('EXPIRE', KEYS[2], ttl)
return {'ok', state, ARGV[5], ARGV[2], ARGV[4], table.concat(counts, ','), table.concat(gone, ',')}
""".replace("HELD_GRACE_MS", str(HELD_GRACE_MS))
"""KEYS: slots, displaced, loaded. ARGV: firing, now_ms, new state (H or R), hold_until_ms, channel, category,
priority, event, trim_before_ms, ttl_s, dry ("1": count only), limit count, then per limit: kind, value, since_ms,
limit. Answers {status, state, channel, at_ms, hold_ms, counts, victims_or_winner, blocked_index, freeing_ms}."""

LOAD = """
if redis.call('EXISTS', KEYS[3]) == 1 then return 0 end
redis.call('DEL', KEYS[1], KEYS[2])
local ttl = tonumber(ARGV[1])
local slots = tonumber(ARGV[2])
for i = 0, slots - 1 do redis.call('HSET', KEYS[1], ARGV[3 + i * 2], ARGV[4 + i * 2]) end
for i = 3 + slots * 2, #ARGV, 2 do redis.call('HSET', KEYS[2], ARGV[i], ARGV[i + 1]) end
redis.call('SET', KEYS[3], '1', 'EX', ttl)
redis.call('EXPIRE', KEYS[1], ttl)
redis.call('EXPIRE', KEYS[2], ttl)
return 1
"""
"""Mirror a person's slots from PostgreSQL unless another replica already did. ARGV: ttl_s, slot count, then
(firing, value) pairs for slots, then (firing, winner) pairs for displaced."""

CONFIRM = """
local value = redis.call('HGET', KEYS[1], ARGV[1])
if not value then return 0 end
redis.call('HSET', KEYS[1], ARGV[1], 'C' .. string.sub(value, 2))
return 1
"""
