import { readFile } from 'node:fs/promises'
import { type Table, tableFromIPC } from 'apache-arrow'
import * as pw from 'parquet-wasm'
import { InputFileError } from './errors.js'

/** Read a whole Parquet file (labels, served values) into an Arrow table; `InputFileError` naming it otherwise. */
export async function readParquetTable(path: string, what: string): Promise<Table> {
  const bytes = await readFile(path).catch((cause) => {
    throw new InputFileError(`${what} ${path}: cannot read it (${(cause as Error).message})`, { cause })
  })
  try {
    return tableFromIPC(pw.readParquet(bytes).intoIPCStream())
  } catch (cause) {
    throw new InputFileError(`${what} ${path}: not a readable Parquet file (${String(cause)})`, { cause })
  }
}

/** A cell as a plain JS value: bigints and Dates become numbers (ms for times). */
export function plain(v: unknown): unknown {
  if (typeof v === 'bigint') return Number(v)
  if (v instanceof Date) return v.getTime()
  return v
}
