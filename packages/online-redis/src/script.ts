/**
 * The one Lua script of the store: applies many writes (upsert, CAS, additive tile) in one call,
 * each atomically, and returns one outcome code per write. Per-write errors (e.g. WRONGTYPE when a
 * key holds a string) are caught with `redis.pcall`, so the rest of the batch still lands.
 *
 * KEYS[i] is the hash of write i (repeats allowed). ARGV holds 6 strings per write:
 *   mode     'u' upsert | 'c' CAS | 't<sizeMs>:<maxTiles>' CAS on a tile (with pruning)
 *   field    feature name, or tileStart for a tile
 *   et, ver  eventTime and version (decimal)
 *   payload  tag + value (see encoding.ts)
 *   px       '' no expiry change | 'P' persist the key | '<ms>' keep the key at least this long
 * Returns { codes, msg... }: codes has one char per write ('a' applied, 's' stale, 'w' WRONGTYPE,
 * 'e' other error); each 'w'/'e' has its message, in order, after it.
 *
 * A tile hash keeps its prune horizon in field 'h': tiles older than the newest minus two windows
 * are deleted once there are more than maxTiles, and writes below the horizon are stale, so a
 * replay never re-creates (and double counts) a pruned tile.
 */
import { createHash } from 'node:crypto'

export const APPLY_SCRIPT = `
local codes, msgs, exp, newf = {}, {}, nil, nil
for i = 1, #KEYS do
  local key, b = KEYS[i], (i - 1) * 6
  local mode, field, et, ver = ARGV[b + 1], ARGV[b + 2], ARGV[b + 3], ARGV[b + 4]
  local enc = et .. ',' .. ver .. ',' .. ARGV[b + 5]
  local code, r = 'a', nil
  if mode ~= 'u' then
    local cur, hz = nil, nil
    if mode == 'c' then
      r = redis.pcall('HGET', key, field)
      cur = r
    else
      r = redis.pcall('HMGET', key, field, 'h')
      if r.err == nil then
        cur = r[1]
        hz = r[2]
      end
    end
    if type(r) == 'table' and r.err then
      code = nil
    elseif hz and tonumber(field) < tonumber(hz) then
      code = 's'
    elseif cur then
      local c1 = string.find(cur, ',', 1, true)
      local c2 = c1 and string.find(cur, ',', c1 + 1, true)
      local oet = c2 and tonumber(string.sub(cur, 1, c1 - 1))
      local over = oet and tonumber(string.sub(cur, c1 + 1, c2 - 1))
      if not over then
        code = 'e'
        msgs[#msgs + 1] = 'field ' .. field .. ' of ' .. key .. ' does not hold a skewless-encoded value'
      else
        local net = tonumber(et)
        if net < oet or (net == oet and tonumber(ver) <= over) then code = 's' end
      end
    end
  end
  if code == 'a' then
    r = redis.pcall('HSET', key, field, enc)
    if type(r) == 'table' then code = nil end
  end
  if code == nil then
    if string.sub(r.err, 1, 9) == 'WRONGTYPE' then code = 'w' else code = 'e' end
    msgs[#msgs + 1] = r.err
  elseif code == 'a' then
    if string.byte(mode, 1) == 116 then
      local c = string.find(mode, ':', 2, true)
      local maxTiles = tonumber(string.sub(mode, c + 1))
      if redis.call('HLEN', key) > maxTiles + 1 then
        local span = 2 * tonumber(string.sub(mode, 2, c - 1))
        local fields = redis.call('HKEYS', key)
        local newest = nil
        for _, f in ipairs(fields) do
          local ts = tonumber(f)
          if f ~= 'h' and ts and (newest == nil or ts > newest) then newest = ts end
        end
        local horizon = newest - span
        local old = tonumber(redis.call('HGET', key, 'h') or '')
        if old == nil or horizon > old then
          for _, f in ipairs(fields) do
            local ts = tonumber(f)
            if f ~= 'h' and ts and ts < horizon then redis.call('HDEL', key, f) end
          end
          redis.call('HSET', key, 'h', tostring(horizon))
        end
      end
    end
    local px = ARGV[b + 6]
    if px ~= '' then
      if exp == nil then
        exp = {}
        newf = {}
      end
      newf[key] = (newf[key] or 0) + r
      local cur = exp[key]
      if px == 'P' then
        exp[key] = -1
      elseif cur ~= -1 then
        local ms = tonumber(px)
        if cur == nil or ms > cur then exp[key] = ms end
      end
    end
  end
  codes[i] = code
end
if exp then
  for key, ms in pairs(exp) do
    if ms == -1 then
      redis.call('PERSIST', key)
    else
      local cur = redis.call('PTTL', key)
      -- No expiry yet: set one only if this call created the key; otherwise it holds a feature
      -- without TTL and must stay.
      if (cur == -1 and redis.call('HLEN', key) == newf[key]) or (cur >= 0 and cur < ms) then
        redis.call('PEXPIRE', key, ms)
      end
    end
  end
end
local out = { table.concat(codes) }
for j = 1, #msgs do out[j + 1] = msgs[j] end
return out
`

/** SHA1 of `APPLY_SCRIPT`, for EVALSHA. */
export const APPLY_SCRIPT_SHA = createHash('sha1').update(APPLY_SCRIPT).digest('hex')
