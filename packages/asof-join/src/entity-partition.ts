import { InvalidArgumentError } from '@skewless/core'
import { fnv1a } from './string-table.js'

const encoder = new TextEncoder()

/**
 * The entity-hash partition of a key: FNV-1a (32-bit) of the UTF-8 bytes of `String(key)`, modulo
 * `count`. Integer keys hash like their decimal string, so a process holding `'42'` and one holding
 * `42` agree. Use it to split labels across processes; `options.partitions` uses the same function.
 */
export function entityPartition(key: string | number | bigint, count: number): number {
  if (!Number.isInteger(count) || count < 1) {
    throw new InvalidArgumentError(`asof-join: partition count must be an integer >= 1, got ${count}`)
  }
  const bytes = encoder.encode(String(key))
  return fnv1a(bytes, 0, bytes.length) % count
}
