/**
 * The structural subset of vitest's test API the conformance suites call. Callers pass vitest's
 * own `it` (or `test`), so this package does not depend on a test runner.
 */
export type TestFn = (name: string, fn: () => unknown | Promise<unknown>, timeoutMs?: number) => void
