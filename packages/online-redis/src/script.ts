/**
 * The one Lua script of the store: applies many writes (upsert, CAS, additive tile) in one call,
 * each atomically, and returns one outcome code per write. Per-write errors (e.g. WRONGTYPE when a
 * key holds a string) are caught with `redis.pcall`, so the rest of the batch still lands.
 *
 * Writes come grouped by feature ("spec"), so a value write costs one argument besides its key
 * (measured: both ioredis and the server pay per argument):
 *   ARGV[1]  number of specs S;  ARGV[2]  the writer's wall clock (ms)
 *   then 5 strings per spec:
 *     mode    'u' upsert | 'c' CAS | 't<sizeMs>:<maxTiles>' CAS on a tile, with pruning
 *     field   hash field (the feature name), or '' for tiles: each tile write then carries its field
 *     life    physical lifetime in ms after max(now, eventTime), or '-1' for none
 *     noexp   when life is -1: 'P' persist the key (other features have a TTL) or '' (leave it)
 *     count   number of writes of this spec
 *   then the writes, spec by spec, KEYS[i] being the hash of write i (repeats allowed):
 *     value write: enc                 tile write: tileStart, enc
 *   enc = '<eventTime>,<version>,<tag><value>' is stored as is (see encoding.ts).
 * Changelog (optional): when KEYS holds one key more than there are writes, that last key is the
 * changelog stream, and ARGV continues after the writes with 3 strings per spec: the feature name,
 * and where the entity is in the spec's keys (first byte, 1-based; bytes after it), keys.ts. The writes the call applied are then appended to the stream by one
 * `XADD <stream> *` as the call's last command, in the same atomic step (see changelog-codec.ts for
 * the entry's fields); its id's ms part + 1 is an upper bound of when the call's writes became readable.
 * Returns { codes, msg... }: one char per write ('a' applied, 's' stale, 'w' WRONGTYPE, 'e' other
 * error); each 'w'/'e' has its message, in order, after the codes. A write refused for a reason
 * that passes (OOM, READONLY, MISCONF...) fails the whole call with that reply instead.
 *
 * CAS: applied iff (eventTime, version) is strictly greater than the stored one. A tile hash keeps
 * its prune horizon in field 'h': once it holds more than maxTiles tiles, tiles older than the
 * newest minus two windows are deleted, and writes below the horizon are stale, so a replay never
 * re-creates (and double counts) a pruned tile.
 *
 * Expiry: a key's TTL is only ever raised (PTTL compared first) to the largest lifetime its applied
 * writes need; a key without TTL that this call did not create holds a feature without TTL and
 * keeps none; 'P' persists it, and so does a value field without TTL that a write creates (the
 * hash may have a TTL from another sink's features).
 */
import { createHash } from 'node:crypto'

/**
 * Most writes per changelog entry: a call that applied more appends several, in the same step. Lua
 * passes at most ~8000 arguments to one `redis.call`, and a write takes 2 (4 when it starts a run).
 */
export const CHANGELOG_CHUNK = 1500

export const APPLY_SCRIPT = `
local find, sub, tonumber, type, pcall = string.find, string.sub, tonumber, type, redis.pcall
local nspec, now = tonumber(ARGV[1]), tonumber(ARGV[2])
local pos, i = 2 + nspec * 5, 0
local codes, msgs, exp, created = {}, {}, nil, nil
-- The changelog stream is the key after the writes' keys, when present; its arguments follow the writes.
local nw, wend = 0, pos
for s = 1, nspec do
  local b = 2 + (s - 1) * 5
  local c = tonumber(ARGV[b + 5])
  nw = nw + c
  if ARGV[b + 2] == '' then wend = wend + 2 * c else wend = wend + c end
end
local clog, clk, clv, cls = KEYS[nw + 1], nil, nil, nil
if clog then
  -- Checked before any write: a failing XADD after the writes would apply them unlogged.
  local t = redis.call('TYPE', clog).ok
  if t ~= 'stream' and t ~= 'none' then
    return redis.error_reply('WRONGTYPE the changelog key ' .. clog .. ' holds a ' .. t .. ', not a stream')
  end
  -- Likewise a user whose ACL lacks XADD (Redis >= 7 can ask before writing).
  if redis.acl_check_cmd and not redis.acl_check_cmd('XADD', clog, '*', 'f', 'v') then
    return redis.error_reply("NOPERM this user has no permissions to run the 'xadd' command on the changelog key " .. clog)
  end
  clk, clv, cls = {}, {}, {}
end
-- Append the applied writes to the changelog: per run of one spec, (feature name, kind .. count),
-- then (entity, value) per write, the value being enc, or 'tileStart,enc' for a tile. Entries of at
-- most CHANGELOG_CHUNK writes: Lua cannot pass more than ~8000 arguments to one redis.call.
local function logApplied()
  local n = clk and #clk or 0
  if n == 0 then return end
  local k = 1
  local args, a, inEntry = { clog, '*' }, 2, 0
  while k <= n do
    local s = cls[k]
    local j = k
    while j < n and cls[j + 1] == s and inEntry + (j + 1 - k) < ${CHANGELOG_CHUNK} do j = j + 1 end
    local name = ARGV[wend + 3 * s - 2]
    local tile = ARGV[2 + (s - 1) * 5 + 2] == ''
    local from, cut = tonumber(ARGV[wend + 3 * s - 1]), tonumber(ARGV[wend + 3 * s])
    args[a + 1] = name
    args[a + 2] = (tile and 't' or 'v') .. (j - k + 1)
    a = a + 2
    for m = k, j do
      local key = KEYS[clk[m]]
      args[a + 1] = sub(key, from, #key - cut)
      args[a + 2] = clv[m]
      a = a + 2
    end
    inEntry = inEntry + (j - k + 1)
    k = j + 1
    if inEntry >= ${CHANGELOG_CHUNK} or k > n then
      redis.call('XADD', unpack(args))
      args, a, inEntry = { clog, '*' }, 2, 0
    end
  end
end
local transient = { OOM = true, READONLY = true, MISCONF = true, NOREPLICAS = true, MASTERDOWN = true,
  LOADING = true, BUSY = true, TRYAGAIN = true, CLUSTERDOWN = true }
for s = 1, nspec do
  local b = 2 + (s - 1) * 5
  local mode, sfield, life, noexp = ARGV[b + 1], ARGV[b + 2], tonumber(ARGV[b + 3]), ARGV[b + 4]
  local cas, tile, span, maxTiles = mode ~= 'u', sfield == '', nil, nil
  if string.byte(mode, 1) == 116 then
    local c = find(mode, ':', 2, true)
    span, maxTiles = 2 * tonumber(sub(mode, 2, c - 1)), tonumber(sub(mode, c + 1))
  end
  local wantexp = life >= 0 or noexp ~= ''
  for _ = 1, tonumber(ARGV[b + 5]) do
    i = i + 1
    local key, field, enc = KEYS[i], sfield, nil
    if tile then
      field, enc = ARGV[pos + 1], ARGV[pos + 2]
      pos = pos + 2
    else
      enc = ARGV[pos + 1]
      pos = pos + 1
    end
    local code, r = 'a', nil
    if cas then
      local cur, hz = nil, nil
      if maxTiles then
        r = pcall('HMGET', key, field, 'h')
        if r.err == nil then
          cur, hz = r[1], r[2]
        end
      else
        r = pcall('HGET', key, field)
        cur = r
      end
      if type(r) == 'table' and r.err then
        code = nil
      elseif hz and not tonumber(hz) then
        -- Not ours: this write fails alone (comparing with it would abort the whole call).
        code = 'e'
        msgs[#msgs + 1] = 'field h of ' .. key .. ' does not hold a skewless prune horizon'
      elseif hz and tonumber(field) < tonumber(hz) then
        code = 's'
      elseif cur then
        -- Newer event time is the common case: the versions are parsed only on a tie.
        local c1 = find(cur, ',', 1, true)
        local oet = c1 and tonumber(sub(cur, 1, c1 - 1))
        local n1 = find(enc, ',', 1, true)
        local net = tonumber(sub(enc, 1, n1 - 1))
        if not oet then
          code = 'e'
        elseif net < oet then
          code = 's'
        elseif net == oet then
          local c2 = find(cur, ',', c1 + 1, true)
          local over = c2 and tonumber(sub(cur, c1 + 1, c2 - 1))
          if not over then
            code = 'e'
          elseif tonumber(sub(enc, n1 + 1, find(enc, ',', n1 + 1, true) - 1)) <= over then
            code = 's'
          end
        end
        if code == 'e' then
          msgs[#msgs + 1] = 'field ' .. field .. ' of ' .. key .. ' does not hold a skewless-encoded value'
        end
      end
    end
    if code == 'a' then
      r = pcall('HSET', key, field, enc)
      if type(r) == 'table' then code = nil end
    end
    if code == nil then
      -- The server refuses writes for now (maxmemory, demoted to replica, failed RDB save): the
      -- whole call fails with that reply, which the sink retries; writes that already landed
      -- come back stale on the retry and are resolved there. Per-write codes would be permanent.
      if transient[string.match(r.err, '^%u+') or ''] then
        -- The writes that did land are logged all the same (one write's refusal does not undo them).
        logApplied()
        return redis.error_reply(r.err)
      end
      if sub(r.err, 1, 9) == 'WRONGTYPE' then code = 'w' else code = 'e' end
      msgs[#msgs + 1] = r.err
    elseif code == 'a' then
      if maxTiles and redis.call('HLEN', key) > maxTiles + 1 then
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
      -- A feature without TTL that adds its field to a hash persists it even when 'noexp' is '':
      -- another feature list (another sink) may have given the hash a TTL that would delete it.
      if wantexp or (r == 1 and not tile) then
        if exp == nil then
          exp, created = {}, {}
        end
        if created[key] == nil then
          -- Created by this call iff its first applied write added the hash's only field. Checked
          -- now: pruning (which adds 'h' and deletes tiles) and later writes change HLEN.
          created[key] = r == 1 and redis.call('HLEN', key) == 1
        end
        local want = exp[key]
        if life < 0 then
          exp[key] = -1
        elseif want ~= -1 then
          local et = tonumber(sub(enc, 1, find(enc, ',', 1, true) - 1))
          local ms = life
          if et > now then ms = ms + math.ceil(et - now) end
          -- Past 1e15 ms (an eventTime in ns, say) PEXPIRE would get an exponent and fail the
          -- whole call after its writes landed; no expiry is never earlier than the logical TTL.
          if ms >= 1e15 then
            exp[key] = -1
          elseif want == nil or ms > want then
            exp[key] = ms
          end
        end
      end
    end
    if code == 'a' and clk then
      local n = #clk + 1
      clk[n], cls[n] = i, s
      if tile then clv[n] = field .. ',' .. enc else clv[n] = enc end
    end
    codes[i] = code
  end
end
-- Expiry errors are caught, so that the XADD can come last whatever happens: a write is in the
-- changelog iff it landed, and the id is the server's clock once the call's work is done.
local expErr = nil
if exp then
  for key, ms in pairs(exp) do
    local r2 = nil
    if ms == -1 then
      r2 = pcall('PERSIST', key)
    else
      local cur = pcall('PTTL', key)
      if type(cur) == 'table' then
        r2 = cur
      elseif (cur == -1 and created[key]) or (cur >= 0 and cur < ms) then
        r2 = pcall('PEXPIRE', key, ms)
      end
    end
    if type(r2) == 'table' and r2.err and expErr == nil then expErr = r2.err end
  end
end
logApplied()
-- The writes landed and are logged; the call still fails, so the sink retries it (they come back stale).
if expErr then return redis.error_reply(expErr) end
local out = { table.concat(codes) }
for j = 1, #msgs do out[j + 1] = msgs[j] end
return out
`

/** SHA1 of `APPLY_SCRIPT`, for EVALSHA. */
export const APPLY_SCRIPT_SHA = createHash('sha1').update(APPLY_SCRIPT).digest('hex')
