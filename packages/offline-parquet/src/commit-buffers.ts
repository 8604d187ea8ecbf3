type Ctor<T> = { new (buffer: ArrayBuffer, byteOffset: number, length: number): T; BYTES_PER_ELEMENT: number }

/**
 * Reusable typed-array buffers for the commit path. A commit of 2M rows allocates ~200 MB of
 * short-lived typed arrays; as external memory that churn triggers full mark-compact GCs over the
 * caller's whole heap (~200 ms each, measured). Commits and file encodes run one at a time, and a
 * batch's buffers are copied into the IPC stream before the next file is built, so one set of
 * buffers per writer is enough.
 */
export class Scratch {
  private readonly buffers = new Map<string, ArrayBuffer>()

  /** A view of `n` elements over the buffer named `key`, zero-filled when `zero`. */
  get<T extends { fill(v: never): T }>(key: string, ctor: Ctor<T>, n: number, zero = false): T {
    const bytes = Math.max(8, n * ctor.BYTES_PER_ELEMENT)
    let buf = this.buffers.get(key)
    if (buf === undefined || buf.byteLength < bytes) {
      buf = new ArrayBuffer(Math.ceil((bytes * 1.25) / 8) * 8)
      this.buffers.set(key, buf)
    }
    const arr = new ctor(buf, 0, n)
    if (zero) arr.fill(0 as never)
    return arr
  }

  /** Drop every buffer (after a large commit, so idle logs do not pin memory). */
  clear(): void {
    this.buffers.clear()
  }
}
