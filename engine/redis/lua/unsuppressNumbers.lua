--[[
  Take numbers off this campaign's suppression set (they left the tenant's do-not-call list):
  enqueue and the lease scripts stop skipping them, so leads queued from now on are dialled.
  Leads the listing removed stay removed: their records are gone, nothing is queued again here.

  One case refuses: a lead the listing removed while its call was in progress keeps its record
  under its lease until that call is completed, and the completion puts a retry back in the queue
  unless the number is suppressed. Unsuppressing then would bring a removed lead back, so when any
  such call of one of the numbers is still held, nothing changes and the numbers held are returned
  (the caller retries once the call is completed).

  KEYS[1..14]: the campaign key set (includes/campaign-keys.lua)
  ARGV[1] key base of the campaign
  ARGV[2...] phone digits (E.164 without "+")

  Returns { epoch, removed (how many numbers left the set), then the phone digits whose removed
  lead's call is still held (none when the set was changed) }, or CAMPAIGN_UNKNOWN.
]]
--- @include "status"
--- @include "campaign-keys"
--- @include "queue"

local base = ARGV[1]
local epoch = hget(K.cfg, 'epoch')
if not epoch then
  return ST_CAMPAIGN_UNKNOWN
end

local wanted, list = {}, {}
for n = 2, #ARGV do
  wanted[ARGV[n]] = true
  list[#list + 1] = ARGV[n]
end

-- Records held by a lease but no longer in the phone index: the removal kept them for a call.
local held, heldSeen = {}, {}
for _, member in ipairs(redis.call('HKEYS', K.leaseOf)) do
  local raw = record(base, member)
  if raw then
    local phone = splitRecord(raw)[R_PHONE]
    if wanted[phone] and not heldSeen[phone] and hget(phoneKey(base, phone), phone) ~= member then
      heldSeen[phone] = true
      held[#held + 1] = phone
    end
  end
end

local reply = { epoch, 0 }
if #held > 0 then
  for _, phone in ipairs(held) do
    reply[#reply + 1] = phone
  end
  return reply
end

local removed = 0
for _, phone in ipairs(list) do
  removed = removed + redis.call('SREM', K.suppressed, phone)
end
reply[2] = removed
return reply
