/**
 * Event-time timers: for each instant, the keys whose feature value may change then (a tile
 * leaving the window, a session closing). A binary min-heap of distinct instants plus one list
 * of keys per instant, so a timer costs an array push and the heap only grows per distinct instant.
 */
export class TimerQueue<K> {
  private readonly heap: number[] = []
  private readonly lists = new Map<number, K[]>()

  /** Number of distinct pending instants. */
  get size(): number {
    return this.heap.length
  }

  /** Schedule `key` at instant `at`. */
  add(at: number, key: K): void {
    const list = this.lists.get(at)
    if (list !== undefined) {
      list.push(key)
      return
    }
    this.lists.set(at, [key])
    const h = this.heap
    let i = h.length
    h.push(at)
    while (i > 0) {
      const p = (i - 1) >> 1
      const pv = h[p] as number
      if (pv <= at) break
      h[i] = pv
      i = p
    }
    h[i] = at
  }

  /** The earliest pending instant, or `Infinity`. */
  peek(): number {
    return this.heap.length > 0 ? (this.heap[0] as number) : Number.POSITIVE_INFINITY
  }

  /** Remove the earliest instant and return its keys (in scheduling order, possibly with repeats). */
  pop(): { at: number; keys: K[] } | undefined {
    const h = this.heap
    if (h.length === 0) return undefined
    const at = h[0] as number
    const lastV = h.pop() as number
    if (h.length > 0) {
      let i = 0
      const n = h.length
      for (;;) {
        const l = 2 * i + 1
        if (l >= n) break
        const r = l + 1
        const c = r < n && (h[r] as number) < (h[l] as number) ? r : l
        if ((h[c] as number) >= lastV) break
        h[i] = h[c] as number
        i = c
      }
      h[i] = lastV
    }
    const keys = this.lists.get(at) as K[]
    this.lists.delete(at)
    return { at, keys }
  }

  /** Drop every timer. */
  clear(): void {
    this.heap.length = 0
    this.lists.clear()
  }
}
