--[[
  Calling rules per number, mirroring heldUntil, withCall and withLockout in
  engine/calling-rules.ts. The engine compiles a campaign's rule packs per zone key into limits,
  "<minGapMs>,<lockoutMs>[,<count>/<periodMs>]..." in the zone limits hash (zone index -> limits;
  no field when nothing limits that zone's numbers). Each number called under limits has a
  history in the number history hash: phone digits -> "<lockedUntil>[,<call start>]...", oldest
  call first, calls past every rule's reach dropped on each write.

  A call is counted when its device accepts the offer (the call is dialled), so an offer that was
  declined or never taken costs nothing. The check is at the grant: one number has at most one
  lead, hence one lease, in a campaign, so no second call to it can start between the check and
  the accept. A lead the rules hold back is not offered: it waits, scheduled (or pinned to its
  agent) for the moment the rules let it through.
]]
--- @include "keys"
--- @include "stage"
--- @include "lead"

local zoneLimitsCache = {}
local anyZoneLimits = nil

local function parseLimits(raw)
  local t = {}
  for v in string.gmatch(raw, '[^,]+') do
    t[#t + 1] = v
  end
  local l = { gap = tonumber(t[1]), lockout = tonumber(t[2]), caps = {}, reach = tonumber(t[1]) }
  for n = 3, #t do
    local count, period = string.match(t[n], '^(%d+)/(%d+)$')
    l.caps[#l.caps + 1] = { count = tonumber(count), period = tonumber(period) }
    if tonumber(period) > l.reach then
      l.reach = tonumber(period)
    end
  end
  return l
end

-- Whether any zone of the campaign has limits. One EXISTS per run.
local function anyRules(base)
  if anyZoneLimits == nil then
    anyZoneLimits = redis.call('EXISTS', zoneLimitsKey(base)) == 1
  end
  return anyZoneLimits
end

-- The limits of a zone index, or nil.
local function zoneLimitsOf(base, zone)
  if not anyRules(base) then
    return nil
  end
  local l = zoneLimitsCache[zone]
  if l == nil then
    local raw = redis.call('HGET', zoneLimitsKey(base), zone)
    l = raw and parseLimits(raw) or false
    zoneLimitsCache[zone] = l
  end
  return l or nil
end

local function historyOf(base, digits)
  local raw = hget(numberHistoryKey(base), digits)
  local h = { lock = 0, calls = {} }
  if raw then
    local first = true
    for v in string.gmatch(raw, '[^,]+') do
      if first then
        h.lock = tonumber(v)
        first = false
      else
        h.calls[#h.calls + 1] = tonumber(v)
      end
    end
  end
  return h
end

local function putHistory(base, digits, h)
  if h.lock == 0 and #h.calls == 0 then
    hdel(numberHistoryKey(base), digits)
    return
  end
  local parts = { int(h.lock) }
  for _, t in ipairs(h.calls) do
    parts[#parts + 1] = int(t)
  end
  hset(numberHistoryKey(base), digits, table.concat(parts, ','))
end

-- When the number may next be called, if later than now (else nil).
local function ruleHold(l, h, now)
  local untilAt = 0
  if h.lock > now then
    untilAt = h.lock
  end
  local n = #h.calls
  if l.gap > 0 and n > 0 and h.calls[n] + l.gap > untilAt then
    untilAt = h.calls[n] + l.gap
  end
  for _, cap in ipairs(l.caps) do
    local inside = 0
    local i = n
    while i >= 1 and h.calls[i] > now - cap.period do
      inside = inside + 1
      i = i - 1
    end
    if inside >= cap.count and h.calls[n - cap.count + 1] + cap.period > untilAt then
      untilAt = h.calls[n - cap.count + 1] + cap.period
    end
  end
  if untilAt > now then
    return untilAt
  end
  return nil
end

-- A call to the lead's number starts now (its offer was accepted).
local function recordCall(base, rec, now)
  local l = zoneLimitsOf(base, rec[R_ZONE])
  if not l then
    return
  end
  local h = historyOf(base, rec[R_PHONE])
  local kept = {}
  for _, t in ipairs(h.calls) do
    if t > now - l.reach then
      kept[#kept + 1] = t
    end
  end
  kept[#kept + 1] = now
  h.calls = kept
  if h.lock <= now then
    h.lock = 0
  end
  putHistory(base, rec[R_PHONE], h)
end

-- A call to the lead's number ended with an outcome that locks it out.
local function lockNumber(base, rec, now)
  local l = zoneLimitsOf(base, rec[R_ZONE])
  if not (l and l.lockout > 0) then
    return
  end
  local h = historyOf(base, rec[R_PHONE])
  if now + l.lockout > h.lock then
    h.lock = now + l.lockout
  end
  putHistory(base, rec[R_PHONE], h)
end

--[[
  Store a zone's plan as the engine computed it, "<encoded window>#<limits>" (a bare window when
  it has no '#'): window and limits of one zone are always written together.
]]
local function putZonePlan(K, base, index, plan)
  local sep = string.find(plan, '#', 1, true)
  local enc, limits = plan, ''
  if sep then
    enc, limits = string.sub(plan, 1, sep - 1), string.sub(plan, sep + 1)
  end
  redis.call('HSET', K.windows, index, enc)
  if limits == '' then
    redis.call('HDEL', zoneLimitsKey(base), index)
  else
    redis.call('HSET', zoneLimitsKey(base), index, limits)
  end
  anyZoneLimits = nil
  zoneLimitsCache = {}
end
