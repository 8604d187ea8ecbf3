/**
 * Redis Cluster hash slots: CRC16 (XMODEM) of the key's hash tag, mod 16384 — the same function
 * as the server, so batches can be split by slot before they are sent (a multi-key script call
 * must touch one slot only).
 */

const TABLE = new Uint16Array(256)
for (let i = 0; i < 256; i++) {
  let crc = i << 8
  for (let j = 0; j < 8; j++) crc = crc & 0x8000 ? ((crc << 1) ^ 0x1021) & 0xffff : (crc << 1) & 0xffff
  TABLE[i] = crc
}

/** Number of hash slots of a Redis Cluster. */
export const SLOTS = 16384

/** The hash slot of `key` (keys are treated as UTF-8, like the server does). */
export function keySlot(key: string): number {
  let start = 0
  let end = key.length
  const open = key.indexOf('{')
  if (open !== -1) {
    const close = key.indexOf('}', open + 1)
    // An empty tag `{}` does not count: the whole key is hashed.
    if (close > open + 1) {
      start = open + 1
      end = close
    }
  }
  return crc16(key, start, end) % SLOTS
}

/** CRC16/XMODEM of the UTF-8 bytes of `s` (or of its code units `start` to `end`). */
export function crc16(s: string, start = 0, end = s.length): number {
  let crc = 0
  for (let i = start; i < end; i++) {
    let c = s.charCodeAt(i)
    if (c < 0x80) {
      crc = ((crc << 8) ^ (TABLE[((crc >>> 8) ^ c) & 0xff] as number)) & 0xffff
      continue
    }
    // Non-ASCII: hash the UTF-8 bytes.
    if (c >= 0xd800 && c <= 0xdbff && i + 1 < end) {
      const lo = s.charCodeAt(i + 1)
      if (lo >= 0xdc00 && lo <= 0xdfff) {
        c = 0x10000 + ((c - 0xd800) << 10) + (lo - 0xdc00)
        i++
      }
    }
    const bytes = Buffer.from(String.fromCodePoint(c), 'utf8')
    for (let b = 0; b < bytes.length; b++) {
      crc = ((crc << 8) ^ (TABLE[((crc >>> 8) ^ (bytes[b] as number)) & 0xff] as number)) & 0xffff
    }
  }
  return crc
}

/**
 * Group the items of `bySlot` (one per slot) by the Cluster node that serves their slot, so each
 * group can go out as one pipeline (ioredis accepts a pipeline whose slots one set of nodes serves). The node comes from the
 * client's slot map (ioredis `Cluster.slots`: slot → node keys, master first); without one (not
 * connected yet, or a client that has none), every slot is its own group. A map that changes
 * before the pipeline is sent makes ioredis refuse it, which the sink retries.
 */
export function groupByNode<T>(
  slotMap: readonly (readonly string[] | undefined)[] | undefined,
  bySlot: Iterable<readonly [number, T]>,
): T[][] {
  if (slotMap === undefined || slotMap.length === 0) return [...bySlot].map(([, x]) => [x])
  const byNode = new Map<string | number, T[]>()
  for (const [slot, item] of bySlot) {
    const nodes = slotMap[slot]
    const node = nodes === undefined || nodes.length === 0 ? slot : nodes.join(';')
    const g = byNode.get(node)
    if (g === undefined) byNode.set(node, [item])
    else g.push(item)
  }
  return [...byNode.values()]
}
