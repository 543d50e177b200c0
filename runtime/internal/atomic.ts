/**
 * Atomic file replacement for the file store: write a uniquely named temp
 * file, flush it, rename it over the target. A reader sees the old file, the
 * new file or no file, never a part of one; of two processes writing one
 * target, the last rename wins.
 *
 * The directory is not fsynced after the rename: if a crash loses the rename,
 * the store has lost an entry (a miss) or an entry refers to a blob whose
 * rename was lost, which `get` detects and reports as a miss. Neither can make
 * a hit wrong, so the extra flush would buy nothing but latency.
 */
import { randomBytes } from "node:crypto"
import * as fs from "node:fs/promises"
import * as path from "node:path"

/** Whether `error` is a Node system error with this `code`. */
export const isErrno = (error: unknown, ...codes: ReadonlyArray<string>): boolean =>
  typeof error === "object" && error !== null && codes.includes((error as NodeJS.ErrnoException).code ?? "")

/** Runs `action`, treating "it is already gone" as success. */
export const ignoreMissing = async (action: Promise<unknown>): Promise<void> => {
  try {
    await action
  } catch (error) {
    if (!isErrno(error, "ENOENT")) throw error
  }
}

let counter = 0

/** A temp file name no other process or call will pick. */
export const tempName = (): string => `${process.pid}-${randomBytes(6).toString("hex")}-${(counter++).toString(36)}.tmp`

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms))

export interface WriteAtomicOptions {
  /** The directory for temp files; on the same file system as `target`. */
  readonly tmpDir: string
  readonly target: string
  /** Writes the content into the open temp file. */
  readonly write: (handle: fs.FileHandle) => Promise<void>
  /** Modification time to give the file, epoch milliseconds. */
  readonly mtimeMs?: number
  /** fsync the temp file before the rename (default true). */
  readonly durable?: boolean
  /**
   * Called with a path found in the way (a directory where the target or the
   * temp file goes, a file where their directory goes), which is then removed
   * so the write succeeds. Absent: such damage is an error, as it is for
   * files weft does not own.
   */
  readonly onRepair?: (found: string) => void
}

/**
 * Writes `target` atomically. Missing directories are created, and a temp
 * directory removed under our feet (a concurrent `clear`) makes it start over,
 * a few times.
 */
export const writeAtomic = async (options: WriteAtomicOptions): Promise<void> => {
  for (let attempt = 0; ; attempt++) {
    const tmp = path.join(options.tmpDir, tempName())
    let handle: fs.FileHandle
    try {
      handle = await fs.open(tmp, "wx")
    } catch (error) {
      if (!isErrno(error, "ENOENT", "ENOTDIR") || attempt >= 3) throw error
      if (isErrno(error, "ENOTDIR") && options.onRepair === undefined) throw error
      await makeDir(options.tmpDir, options.onRepair)
      continue
    }
    try {
      try {
        await options.write(handle)
        if (options.durable !== false) await handle.sync()
      } finally {
        await handle.close()
      }
      if (options.mtimeMs !== undefined) await fs.utimes(tmp, options.mtimeMs / 1000, options.mtimeMs / 1000)
      if (await renameInto(tmp, options.target, options.onRepair)) return
    } catch (error) {
      await ignoreMissing(fs.unlink(tmp))
      if (!isErrno(error, "ENOENT") || attempt >= 3) throw error
    }
  }
}

/** Renames `tmp` to `target`; `false` when `tmp` itself vanished and must be written again. */
const renameInto = async (tmp: string, target: string, onRepair: WriteAtomicOptions["onRepair"]): Promise<boolean> => {
  for (let attempt = 0; ; attempt++) {
    try {
      await fs.rename(tmp, target)
      return true
    } catch (error) {
      if (isErrno(error, "ENOENT") && attempt === 0) {
        await makeDir(path.dirname(target), onRepair)
        continue
      }
      if (isErrno(error, "ENOENT")) return false
      // A directory where the file goes, or a file where its directory goes:
      // damage that would otherwise fail every later write of this target.
      if (onRepair !== undefined && attempt < 3 && isErrno(error, "EISDIR", "ENOTEMPTY", "EEXIST", "ENOTDIR", "EPERM")) {
        if (await clearWay(target, onRepair)) continue
      }
      // Windows refuses to replace a file another process has open; it is brief.
      if (isErrno(error, "EPERM", "EACCES", "EBUSY") && process.platform === "win32" && attempt < 20) {
        await sleep(10)
        continue
      }
      throw error
    }
  }
}

/** Creates `dir`, first removing a file in its place when `onRepair` allows. */
const makeDir = async (dir: string, onRepair: WriteAtomicOptions["onRepair"]): Promise<void> => {
  try {
    await fs.mkdir(dir, { recursive: true })
  } catch (error) {
    if (onRepair === undefined || !isErrno(error, "EEXIST", "ENOTDIR")) throw error
    if (!(await clearWay(dir, onRepair, "directory"))) throw error
    await fs.mkdir(dir, { recursive: true })
  }
}

/**
 * Removes what stands where a `want` (file or directory) should be at `at`,
 * or at its parent when the parent is not a directory. `false`: nothing was
 * in the way, so the failure has another cause.
 */
const clearWay = async (at: string, onRepair: (found: string) => void, want: "file" | "directory" = "file"): Promise<boolean> => {
  const parent = path.dirname(at)
  const parentStat = await fs.lstat(parent).catch(() => undefined)
  if (parentStat !== undefined && !parentStat.isDirectory()) {
    onRepair(parent)
    await fs.rm(parent, { recursive: true, force: true })
    await fs.mkdir(parent, { recursive: true })
    return true
  }
  const stat = await fs.lstat(at).catch(() => undefined)
  if (stat === undefined || (want === "file" ? stat.isFile() : stat.isDirectory())) return false
  onRepair(at)
  await fs.rm(at, { recursive: true, force: true })
  return true
}
