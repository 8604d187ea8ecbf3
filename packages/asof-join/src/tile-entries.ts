/**
 * The staged (slot, tile) entries of the tile join (tile-join.ts): per entry the best record of one
 * tile seen so far at one label slot, as a struct of typed arrays grown by doubling, with the link
 * to the slot's next entry.
 */
import { compareRecord } from '@skewless/core/adapter'

export const NONE = -1

export class TileEntries {
  private cap = 1024
  /** Number of entries. */
  count = 0
  tile = new Float64Array(this.cap)
  et = new Float64Array(this.cap)
  ver = new Float64Array(this.cap)
  at = new Float64Array(this.cap)
  val = new Float64Array(this.cap)
  valid = new Uint8Array(this.cap)
  /** The slot's next entry, or NONE. */
  next = new Int32Array(this.cap)

  /** A new entry holding the record, linked in front of `head`. */
  push(
    head: number,
    tile: number,
    et: number,
    ver: number,
    at: number,
    value: number,
    valid: number,
  ): number {
    if (this.count === this.cap) this.grow()
    const k = this.count++
    this.set(k, tile, et, ver, at, value, valid)
    this.next[k] = head
    return k
  }

  set(k: number, tile: number, et: number, ver: number, at: number, value: number, valid: number): void {
    this.tile[k] = tile
    this.et[k] = et
    this.ver[k] = ver
    this.at[k] = at
    this.val[k] = value
    this.valid[k] = valid
  }

  private grow(): void {
    this.cap *= 2
    const g = <A extends Float64Array | Uint8Array | Int32Array>(a: A, make: new (n: number) => A): A => {
      const b = new make(this.cap)
      b.set(a)
      return b
    }
    this.tile = g(this.tile, Float64Array)
    this.et = g(this.et, Float64Array)
    this.ver = g(this.ver, Float64Array)
    this.at = g(this.at, Float64Array)
    this.val = g(this.val, Float64Array)
    this.valid = g(this.valid, Uint8Array)
    this.next = g(this.next, Int32Array)
  }

  /** Put entry `k` into the list `live` sorted by tileStart (from `first`), replacing a beaten one of its tile. */
  merge(live: number[], first: number, k: number): void {
    const tile = this.tile[k] as number
    let lo = first
    let hi = live.length
    while (lo < hi) {
      const mid = (lo + hi) >>> 1
      if ((this.tile[live[mid] as number] as number) < tile) lo = mid + 1
      else hi = mid
    }
    if (lo < live.length && this.tile[live[lo] as number] === tile) {
      const o = live[lo] as number
      // A full tie (same times and version) has the same eligibleFrom, so it was decided in one slot
      // by scan order; entries of different slots always differ.
      const d = compareRecord(
        this.et[k] as number,
        this.ver[k] as number,
        this.at[k] as number,
        this.et[o] as number,
        this.ver[o] as number,
        this.at[o] as number,
      )
      if (d > 0) live[lo] = k
      return
    }
    live.splice(lo, 0, k)
  }
}
