/**
 * Commit marks held as the JSON text they were serialized to once, at `appendMarked`. A pipeline
 * checkpoint mark holds the whole operator state: copying it in (stringify + parse), writing it into
 * the manifest version (stringify again) and keeping it for `readMarks` made three passes over it on
 * the commit path. Now it is serialized once; the manifest splices the text into the versions and
 * snapshots it writes, and a reader parses it (a fresh copy) only when it asks for the marks.
 */
import type { CommitMarks } from '@skewless/core'
import { serializeMarks } from '@skewless/offline-log/adapter'

/** A mark value as JSON text (immutable: the caller's object can change, this cannot). */
export class MarkText {
  constructor(readonly text: string) {}
}

/** Validate `appendMarked`'s options and serialize each mark once. */
export function markTexts(options: unknown, what: string): CommitMarks {
  const out: CommitMarks = {}
  for (const [key, text] of Object.entries(serializeMarks(options, what))) {
    ;(out as Record<string, unknown>)[key] = new MarkText(text)
  }
  return out
}

/** A deep copy of marks in plain JSON (marks handed out must not alias the log's). */
export function copyOutMarks(m: CommitMarks): CommitMarks {
  const out: CommitMarks = {}
  for (const [key, v] of Object.entries(m)) {
    if (v === undefined) continue
    ;(out as Record<string, unknown>)[key] = JSON.parse(v instanceof MarkText ? v.text : JSON.stringify(v))
  }
  return out
}

/** JSON of marks whose values may be `MarkText` (spliced as is). */
function marksJson(m: CommitMarks): string {
  const parts: string[] = []
  for (const [key, v] of Object.entries(m)) {
    if (v === undefined) continue
    parts.push(`${JSON.stringify(key)}:${v instanceof MarkText ? v.text : JSON.stringify(v)}`)
  }
  return `{${parts.join(',')}}`
}

/**
 * `JSON.stringify` of a manifest version or snapshot whose `marks` may hold `MarkText` values: the
 * same JSON, with `marks` last.
 */
export function manifestJson(v: { marks?: CommitMarks | undefined }): string {
  const { marks, ...rest } = v
  const body = JSON.stringify(rest)
  if (marks === undefined) return body
  return `${body.slice(0, -1)}${body === '{}' ? '' : ','}"marks":${marksJson(marks)}}`
}
