/**
 * Card transactions, generated from a seed (the same seed gives the same stream, byte for byte).
 *
 * Legitimate use: each card pays a few times a day, mostly at a handful of favourite merchants,
 * small amounts; now and then its owner goes on a shopping spree (several payments within an hour,
 * still at familiar merchants). Fraud: a compromised card is drained in a burst — many payments
 * within half an hour, each at a different merchant, for larger amounts. Only the burst's payments
 * are labelled fraud.
 */

/** One card payment. */
export interface Transaction {
  /** Card id, the entity: `card-0042`. */
  card: string
  /** When it happened (ms since the epoch, UTC). */
  ts: number
  /** Merchant id. */
  merchant: string
  /** Amount in dollars. */
  amount: number
  /** The label: part of a fraud burst. */
  fraud: boolean
}

/** Options of `generateTransactions`. */
export interface GenerateOptions {
  /** Seed of the pseudo-random generator. @default 7 */
  seed?: number
  /** Number of cards. @default 200 */
  cards?: number
  /** Days of history. @default 3 */
  days?: number
  /** First instant (ms). @default 2026-11-02T00:00:00Z */
  start?: number
  /** Cards drained by a fraud burst (each once, at a random instant). @default 30 */
  compromised?: number
}

/** mulberry32: a small, fast, deterministic generator of floats in [0, 1). */
export function rng(seed: number): () => number {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = Math.imul(a ^ (a >>> 15), 1 | a)
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

const HOUR = 3_600_000
const MERCHANTS = 500

/** Transactions sorted by time, with distinct timestamps. */
export function generateTransactions(options: GenerateOptions = {}): Transaction[] {
  const rand = rng(options.seed ?? 7)
  const cards = options.cards ?? 200
  const days = options.days ?? 3
  const start = options.start ?? Date.UTC(2026, 10, 2)
  const end = start + days * 24 * HOUR
  const merchant = (i: number) => `m-${String(i).padStart(3, '0')}`
  const out: Transaction[] = []
  for (let c = 0; c < cards; c++) {
    const card = `card-${String(c).padStart(4, '0')}`
    const favourites = Array.from({ length: 4 }, () => Math.floor(rand() * MERCHANTS))
    const typical = 15 + rand() * 40 // this card's usual spend
    const pay = (ts: number, fraud: boolean, at?: number) =>
      out.push({
        card,
        ts: Math.floor(ts),
        merchant: merchant(at ?? (favourites[Math.floor(rand() * favourites.length)] as number)),
        amount: Math.round(typical * Math.exp(rand() - 0.5) * 100) / 100,
        fraud,
      })
    // About 4 payments a day, a Poisson process (exponential gaps, 6 h on average).
    const gap = () => -Math.log(1 - rand()) * 6 * HOUR
    for (let t = start + gap(); t < end; t += gap()) {
      if (rand() < 0.04) {
        // A shopping spree: 4-7 payments within an hour at familiar merchants (legitimate).
        const n = 4 + Math.floor(rand() * 4)
        for (let k = 0; k < n; k++) pay(t + rand() * HOUR, false)
      } else {
        pay(t, false)
      }
    }
  }
  for (let k = 0; k < (options.compromised ?? 30); k++) {
    const card = `card-${String(Math.floor(rand() * cards)).padStart(4, '0')}`
    const at = start + HOUR + rand() * (end - start - 2 * HOUR)
    const n = 6 + Math.floor(rand() * 10)
    for (let i = 0; i < n; i++) {
      out.push({
        card,
        ts: Math.floor(at + rand() * 30 * 60_000),
        merchant: merchant(Math.floor(rand() * MERCHANTS)), // anywhere
        amount: Math.round((80 + rand() * 700) * 100) / 100,
        fraud: true,
      })
    }
  }
  const inRange = out.filter((t) => t.ts >= start && t.ts < end)
  inRange.sort((a, b) => a.ts - b.ts)
  // Distinct timestamps: a label at a payment's instant then means exactly "just before it".
  for (let i = 1; i < inRange.length; i++) {
    const prev = inRange[i - 1] as Transaction
    const cur = inRange[i] as Transaction
    if (cur.ts <= prev.ts) cur.ts = prev.ts + 1
  }
  return inRange
}
