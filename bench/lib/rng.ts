/**
 * The benchmarks' deterministic pseudo-random generator (xorshift32): the same seed gives the same
 * data in every engine and every run, so checksums can be compared.
 */
export function xorshift(seed: number): () => number {
  let s = seed | 0 || 1
  return () => {
    s ^= s << 13
    s ^= s >>> 17
    s ^= s << 5
    return (s >>> 0) / 4294967296
  }
}
