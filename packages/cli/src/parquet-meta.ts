import { openAsBlob } from 'node:fs'
import * as pw from 'parquet-wasm'

/** What a Parquet file's footer says: its rows and its key-value metadata. */
export interface ParquetFooter {
  rows: number
  keyValue: Map<string, string>
}

/** Read only the footer of a Parquet file (a `Blob` reads just the byte ranges parquet-wasm asks for). */
export async function readFooter(path: string): Promise<ParquetFooter> {
  const file = await pw.ParquetFile.fromFile(await openAsBlob(path))
  try {
    const meta = file.metadata()
    const fileMeta = meta.fileMetadata()
    const keyValue = new Map<string, string>()
    for (const [k, v] of fileMeta.keyValueMetadata()) keyValue.set(String(k), String(v))
    return { rows: fileMeta.numRows(), keyValue }
  } finally {
    file.free()
  }
}
