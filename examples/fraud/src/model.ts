/**
 * A logistic regression in plain TypeScript (full-batch gradient descent on standardized inputs),
 * and the ROC AUC to judge it: enough to show whether features carry signal, no ML library needed.
 */

/** A fitted model: `score(x) = sigmoid(bias + Σ weights[j] · (x[j] − mean[j]) / sd[j])`. */
export interface LogisticModel {
  weights: number[]
  bias: number
  mean: number[]
  sd: number[]
  /** Fraud probability of one row of inputs. */
  score(x: readonly number[]): number
}

/** Options of `fitLogistic`. */
export interface FitOptions {
  /** Gradient steps. @default 500 */
  iterations?: number
  /** Step size. @default 0.5 */
  learningRate?: number
  /** L2 penalty on the weights. @default 1e-3 */
  l2?: number
}

const sigmoid = (z: number) => 1 / (1 + Math.exp(-z))

/** Fit `y ~ x` (y in {0, 1}). */
export function fitLogistic(
  x: readonly (readonly number[])[],
  y: readonly number[],
  options: FitOptions = {},
): LogisticModel {
  const n = x.length
  if (n === 0 || n !== y.length) throw new Error(`fitLogistic: ${n} rows of inputs for ${y.length} labels`)
  const d = (x[0] as readonly number[]).length
  const mean = Array.from({ length: d }, (_, j) => x.reduce((s, r) => s + (r[j] as number), 0) / n)
  const sd = Array.from({ length: d }, (_, j) => {
    const v = x.reduce((s, r) => s + ((r[j] as number) - (mean[j] as number)) ** 2, 0) / n
    return Math.sqrt(v) || 1
  })
  const z = x.map((r) => r.map((v, j) => (v - (mean[j] as number)) / (sd[j] as number)))
  const w = new Array<number>(d).fill(0)
  let b = 0
  const iterations = options.iterations ?? 500
  const lr = options.learningRate ?? 0.5
  const l2 = options.l2 ?? 1e-3
  for (let it = 0; it < iterations; it++) {
    const gw = new Array<number>(d).fill(0)
    let gb = 0
    for (let i = 0; i < n; i++) {
      const row = z[i] as number[]
      let s = b
      for (let j = 0; j < d; j++) s += (w[j] as number) * (row[j] as number)
      const err = sigmoid(s) - (y[i] as number)
      for (let j = 0; j < d; j++) gw[j] = (gw[j] as number) + err * (row[j] as number)
      gb += err
    }
    for (let j = 0; j < d; j++) w[j] = (w[j] as number) - lr * ((gw[j] as number) / n + l2 * (w[j] as number))
    b -= (lr * gb) / n
  }
  return {
    weights: w,
    bias: b,
    mean,
    sd,
    score(row) {
      let s = b
      for (let j = 0; j < d; j++)
        s += (w[j] as number) * (((row[j] as number) - (mean[j] as number)) / (sd[j] as number))
      return sigmoid(s)
    },
  }
}

/**
 * ROC AUC: the probability that a random positive scores above a random negative (ties count
 * half), by ranks. 0.5 is a model that knows nothing.
 */
export function auc(scores: readonly number[], y: readonly number[]): number {
  const idx = scores.map((_, i) => i).sort((a, b) => (scores[a] as number) - (scores[b] as number))
  let rankSumPos = 0
  let pos = 0
  for (let i = 0; i < idx.length; ) {
    let j = i
    while (j + 1 < idx.length && scores[idx[j + 1] as number] === scores[idx[i] as number]) j++
    const avgRank = (i + j) / 2 + 1 // ranks i+1 .. j+1, ties share their mean
    for (let k = i; k <= j; k++) {
      if (y[idx[k] as number] === 1) {
        rankSumPos += avgRank
        pos++
      }
    }
    i = j + 1
  }
  const neg = idx.length - pos
  if (pos === 0 || neg === 0)
    throw new Error(`auc: needs both classes, got ${pos} positives and ${neg} negatives`)
  return (rankSumPos - (pos * (pos + 1)) / 2) / (pos * neg)
}
