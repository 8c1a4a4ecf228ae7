--[[
  Taking leads out by number, shared by removeNumbers (do-not-call) and eraseNumbers (erasure):
  the lease a lead is under, and the reply entry of one removed lead.
]]
--- @include "queue"

-- The lead's current lease (split) and its field; nil and the field (or nil) when it has none.
local function leaseOfLead(K, member)
  local field = currentLease(K, member)
  local raw = field and hget(K.leases, field)
  if raw then
    return splitLease(raw), field
  end
  return nil, field
end

--[[
  Append one removed lead to `reply`: phone digits, lead id, then the live lease revoked on it
  (field, agent, device, the epoch it was issued in), or four '' when none was.
]]
local function replyRemoved(reply, phone, leadId, revoked, field)
  reply[#reply + 1] = phone
  reply[#reply + 1] = leadId
  if revoked then
    reply[#reply + 1] = field
    reply[#reply + 1] = revoked[L_AGENT]
    reply[#reply + 1] = revoked[L_DEVICE]
    reply[#reply + 1] = revoked[L_EPOCH]
  else
    for _ = 1, 4 do
      reply[#reply + 1] = ''
    end
  end
end
