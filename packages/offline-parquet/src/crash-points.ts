/**
 * Crash points for the SIGKILL tests (test/crash.test.ts): `SKEWLESS_CRASH_AT=<name>:<n>` makes the
 * process SIGKILL itself the n-th time it passes the point `<name>` — a real crash at an exact step
 * of a compaction, which a signal sent from outside cannot hit reliably (each step takes
 * microseconds). Read once at load; unset (always, outside those tests) it costs one comparison.
 */
const spec = process.env.SKEWLESS_CRASH_AT
const [crashName, crashNth] = spec
  ? [spec.slice(0, spec.lastIndexOf(':')), Number(spec.slice(spec.lastIndexOf(':') + 1))]
  : []
let hits = 0

/** Kill this process here if the test asked for it (see the module comment). */
export function crashPoint(name: string): void {
  if (crashName === undefined || name !== crashName) return
  if (++hits === crashNth) process.kill(process.pid, 'SIGKILL')
}
