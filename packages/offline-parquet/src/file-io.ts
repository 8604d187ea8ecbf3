import { constants } from 'node:fs'
import { lstat, mkdir, open, readlink, rename, unlink } from 'node:fs/promises'
import { dirname, relative } from 'node:path'
import { CommitFailedError } from './errors.js'

/**
 * Modes the log creates files and directories with, narrowed further by the process umask: never
 * writable by group or others, whatever the umask (with umask 000, a world-writable directory would
 * let any local user replace committed files or plant symbolic links in it).
 */
export const FILE_MODE = 0o644
/** See `FILE_MODE`. */
export const DIR_MODE = 0o755

/** Write `bytes` to a new file (fails if it exists), fsync it, close it. */
export async function writeFileDurable(path: string, bytes: Uint8Array): Promise<void> {
  const fh = await open(path, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL, FILE_MODE)
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

/**
 * mkdir -p, then fsync every parent of a newly created directory up to (and including) `root`.
 * @throws CommitFailedError when a directory between `root` and `path` is a symbolic link: the log
 * never writes through a link someone placed inside it (the root itself may be a link: it is the
 * operator's choice of where the log lives).
 */
export async function ensureDir(root: string, path: string): Promise<void> {
  // Checked before mkdir (which would create inside a linked directory) and after (a link placed
  // meanwhile); the modes keep others from placing one at all.
  await refuseLinks(root, path)
  const first = await mkdir(path, { recursive: true, mode: DIR_MODE })
  await refuseLinks(root, path)
  if (first === undefined) return
  let d = path
  while (d.length >= root.length) {
    await fsyncDir(dirname(d))
    if (d === root || d.length <= first.length) break
    d = dirname(d)
  }
}

/** Throw when a component of `path` below `root` is a symbolic link. */
async function refuseLinks(root: string, path: string): Promise<void> {
  for (let d = path; d.length > root.length && d !== dirname(d); d = dirname(d)) {
    const st = await lstat(d).catch((e: NodeJS.ErrnoException) => {
      if (e.code === 'ENOENT') return undefined
      throw e
    })
    if (st === undefined || !st.isSymbolicLink()) continue
    const target = await readlink(d).catch(() => '?')
    throw new CommitFailedError(
      `${relative(root, d)} in the log directory ${root} is a symbolic link (to ${target}); remove it: the log writes only into real directories under its root`,
    )
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
