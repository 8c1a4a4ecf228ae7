--[[
  Restore numbers' calling-rules history from the system of record, after Redis lost it (a
  rebuild): each number's calls and lockout outcomes read back from the call attempts are merged
  into what the queue holds (calls united and kept within every rule's reach, the later lockout
  kept), under the limits of the zone of the lead queued under the number. A number without a
  queued lead here, or whose zone no rule limits, is skipped. Mirrors withRestored in
  engine/calling-rules.ts.

  KEYS[1..14]: the campaign key set (includes/campaign-keys.lua)
  ARGV[1] key base of the campaign
  ARGV[2] now (ms)
  ARGV[3...] groups of 3: phone digits (E.164 without "+"), call start times ("t1,t2,...", ms,
             may be ''), lockout outcome times ("t1,...", ms, may be '')

  Returns how many numbers' histories were written, or CAMPAIGN_UNKNOWN.
]]
--- @include "status"
--- @include "campaign-keys"
--- @include "queue"

local base, now = ARGV[1], tonumber(ARGV[2])
if not hget(K.cfg, 'epoch') then
  return ST_CAMPAIGN_UNKNOWN
end

local function times(s)
  local t = {}
  for v in string.gmatch(s, '[^,]+') do
    t[#t + 1] = tonumber(v)
  end
  return t
end

local written = 0
for a = 3, #ARGV, 3 do
  local digits = ARGV[a]
  local member = hget(phoneKey(base, digits), digits)
  local raw = member and record(base, member)
  local l = raw and zoneLimitsOf(base, splitRecord(raw)[R_ZONE])
  if l then
    local h = historyOf(base, digits)
    local seen, calls = {}, {}
    for _, list in ipairs({ h.calls, times(ARGV[a + 1]) }) do
      for _, t in ipairs(list) do
        if not seen[t] and t > now - l.reach and t <= now then
          seen[t] = true
          calls[#calls + 1] = t
        end
      end
    end
    table.sort(calls)
    h.calls = calls
    if l.lockout > 0 then
      for _, t in ipairs(times(ARGV[a + 2])) do
        if t + l.lockout > h.lock then
          h.lock = t + l.lockout
        end
      end
    end
    if h.lock <= now then
      h.lock = 0
    end
    putHistory(base, digits, h)
    written = written + 1
  end
end
flush()
return written
