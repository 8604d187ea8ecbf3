import { constants } from 'node:fs'
import { mkdir, open, rename, unlink } from 'node:fs/promises'
import { dirname } from 'node:path'

/** Write `bytes` to a new file (fails if it exists), fsync it, close it. */
export async function writeFileDurable(path: string, bytes: Uint8Array): Promise<void> {
  const fh = await open(path, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL, 0o644)
  try {
    let off = 0
    while (off < bytes.length) {
      const { bytesWritten } = await fh.write(bytes, off, bytes.length - off)
      off += bytesWritten
    }
    await fh.sync()
  } finally {
    await fh.close()
  }
}

/** fsync an existing file (e.g. one written by another library). */
export async function fsyncFile(path: string): Promise<void> {
  const fh = await open(path, constants.O_RDONLY)
  try {
    await fh.sync()
  } finally {
    await fh.close()
  }
}

/**
 * fsync a directory, so that a rename or a new entry in it survives power loss (a rename is atomic
 * but only durable once its directory is synced). Some platforms cannot open directories; there the
 * rename's own atomicity is all we get.
 */
export async function fsyncDir(path: string): Promise<void> {
  let fh: Awaited<ReturnType<typeof open>> | undefined
  try {
    fh = await open(path, constants.O_RDONLY)
    await fh.sync()
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code
    if (code !== 'EISDIR' && code !== 'EPERM' && code !== 'EINVAL') throw e
  } finally {
    await fh?.close()
  }
}

/** mkdir -p, then fsync every parent of a newly created directory up to (and including) `root`. */
export async function ensureDir(root: string, path: string): Promise<void> {
  const first = await mkdir(path, { recursive: true })
  if (first === undefined) return
  let d = path
  while (d.length >= root.length) {
    await fsyncDir(dirname(d))
    if (d === root || d.length <= first.length) break
    d = dirname(d)
  }
}

/** Rename, then the caller fsyncs the directory. */
export { rename, unlink }

/** Remove a file, ignoring "not found". */
export async function removeQuietly(path: string): Promise<void> {
  try {
    await unlink(path)
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e
  }
}
