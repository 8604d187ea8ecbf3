/**
 * The fraud example from the command line:
 *
 *   REDIS_URL=redis://127.0.0.1:6379 pnpm --filter @skewless/example-fraud start [--out <dir>]
 *
 * (from the repository root: `npx tsx examples/fraud/src/main.ts`). Without `--out` the log and the
 * training set go to a temp dir that is removed at the end.
 */
import { mkdir, mkdtemp, readdir, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { parseArgs } from 'node:util'
import { features, MODEL_INPUTS, runFraudExample } from './fraud.js'

const { values } = parseArgs({
  args: process.argv.slice(2).filter((a, i) => !(i === 0 && a === '--')),
  options: { out: { type: 'string' } },
})
const redisUrl = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379'
const dir = values.out === undefined ? await mkdtemp(join(tmpdir(), 'skewless-fraud-')) : resolve(values.out)
await mkdir(dir, { recursive: true })
if ((await readdir(join(dir, 'feature-log')).catch(() => [])).length > 0) {
  console.error(`fraud: ${dir}/feature-log already holds a log; pass an empty --out directory`)
  process.exit(2)
}

const duration = (ms: number) => (ms % 3_600_000 === 0 ? `${ms / 3_600_000}h` : `${ms / 60_000}m`)
const round = (v: unknown) => (v === null ? null : Math.round(Number(v) * 100) / 100)

console.log('== Features (card = entity)')
console.table(
  features.describe().map((f) => ({
    name: f.name,
    aggregate: f.aggregate,
    window:
      f.window.kind === 'hopping'
        ? `${duration(f.window.sizeMs)} every ${duration(f.window.hopMs)}`
        : f.window.kind,
    'written as': f.emit === 'tiles' ? 'additive tiles' : 'value',
    description: f.description,
  })),
)
console.log(`== Data, Redis at ${redisUrl}`)
const r = await runFraudExample({ redisUrl, dir })

console.log(`\n== Training set: ${r.training.numRows} rows → ${r.trainingFile}`)
console.table(
  r.training
    .slice(0, r.training.numRows)
    .toArray()
    .filter((row) => row.is_fraud)
    .slice(0, 5)
    .map((row) => ({
      card: row.entity,
      time: new Date(Number(row.time)).toISOString(),
      is_fraud: row.is_fraud,
      ...Object.fromEntries(MODEL_INPUTS.map((f) => [f, round(row[f])])),
    })),
)
console.log(`== Logistic regression, trained before ${new Date(r.splitTime).toISOString()}, tested after`)
console.table(
  Object.fromEntries(
    MODEL_INPUTS.map((f, j) => [f, { 'weight (per standard deviation)': round(r.model.weights[j]) }]),
  ),
)
console.table({
  'held-out ROC AUC': { model: r.testAuc.toFixed(3), 'baseline (constant score)': r.baselineAuc.toFixed(3) },
  'held-out accuracy at 0.5': {
    model: r.testAccuracy.toFixed(3),
    'baseline (constant score)': `${r.baselineAccuracy.toFixed(3)} (always "not fraud")`,
  },
})
console.log(`   ${r.testRows} held-out payments, ${r.testFrauds} of them fraud`)
console.log(
  `== Skew audit of the Redis reads: ${r.auditChecked} values checked, ${r.auditMismatches} mismatches`,
)
if (values.out === undefined) await rm(dir, { recursive: true, force: true })
else console.log(`kept ${dir} (pnpm skewless inspect ${join(dir, 'feature-log')})`)
if (r.auditMismatches > 0) process.exitCode = 1
