--[[
  Status codes returned by scripts instead of raising, so a batch can report one status per item.
  Same numbers as SCRIPT_STATUS in engine/errors.ts (a unit test keeps them in step).
]]
local ST_OK = 1
local ST_DUPLICATE = 2
local ST_CAMPAIGN_UNKNOWN = -1
local ST_LEASE_UNKNOWN = -2
local ST_LEASE_STALE = -3
local ST_LEASE_EXPIRED = -4
local ST_LEASE_NOT_OWNED = -5
local ST_LEASE_NOT_ACCEPTED = -6
local ST_OUTCOME_UNKNOWN = -7
local ST_CALLBACK_REQUIRED = -8
local ST_AGENT_BUSY = -9
local ST_CONFIG_STALE = -10
local ST_CALLBACK_INVALID = -11
local ST_CAMPAIGN_STALE = -12
local ST_OUTSIDE_CALLING_WINDOW = -13
