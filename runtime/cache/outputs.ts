/**
 * A command step's declared output files: captured into the store after a
 * success, compared with the disk on a hit, and restored when they were
 * deleted or edited. Restoring never writes outside the workflow's folder: a
 * path that is absolute, climbs with `..`, or goes through a symlink that
 * leads out is refused, and the entry is treated as a miss.
 */
import { createHash } from "node:crypto"
import { existsSync, lstatSync, realpathSync } from "node:fs"
import * as fs from "node:fs/promises"
import * as path from "node:path"
import type { CacheStore, StoredFile } from "./CacheStore.ts"
import { ignoreMissing } from "./internal/atomic.ts"
import { isStaleOutputTemp, outputTempOf } from "./internal/outputTemp.ts"

/** Why a stored path may not be written, or `undefined` when it may. */
export const unsafePath = (root: string, relative: string): string | undefined => {
  if (relative === "" || path.isAbsolute(relative) || /^[A-Za-z]:/.test(relative) || relative.includes("\\")) {
    return `"${relative}" is not a relative path inside the workflow's folder`
  }
  if (relative.split("/").some((part) => part === ".." || part === "")) return `"${relative}" climbs out of the workflow's folder`
  const realRoot = realpathSync(root)
  // The deepest part of the path that exists must resolve inside the root, and
  // nothing along the way may be a symlink: a link could lead anywhere later.
  let at = realRoot
  for (const part of relative.split("/")) {
    at = path.join(at, part)
    if (!existsSync(at)) break
    if (lstatSync(at).isSymbolicLink()) return `"${relative}" goes through a symlink`
  }
  return undefined
}

const digestOf = async (file: string): Promise<string> => createHash("sha256").update(await fs.readFile(file)).digest("hex")

/** The declared outputs as stored files, and the blobs to copy in: digest → absolute path. */
export const captureOutputs = async (
  root: string,
  files: ReadonlyArray<{ readonly path: string; readonly digest: string }>
): Promise<{ files: Array<StoredFile>; blobs: Map<string, string> }> => {
  const stored: Array<StoredFile> = []
  const blobs = new Map<string, string>()
  for (const file of files) {
    const absolute = path.join(root, file.path)
    const stat = await fs.stat(absolute)
    stored.push({ path: file.path, digest: file.digest, size: stat.size, mode: stat.mode & 0o777 })
    blobs.set(file.digest, absolute)
  }
  return { files: stored, blobs }
}

/** Whether every stored output is on disk with the stored content and mode. */
export const outputsOnDisk = async (root: string, files: ReadonlyArray<StoredFile>): Promise<boolean> => {
  for (const file of files) {
    const absolute = path.join(root, file.path)
    try {
      const stat = await fs.lstat(absolute)
      if (!stat.isFile() || stat.size !== file.size || (stat.mode & 0o777) !== file.mode) return false
      if ((await digestOf(absolute)) !== file.digest) return false
    } catch {
      return false
    }
  }
  return true
}

/**
 * Writes the stored outputs back, each atomically (a temporary file renamed
 * into place). Resolves `false`, writing nothing more, when a path is unsafe
 * or a blob is missing: the caller treats the entry as a miss.
 */
export const restoreOutputs = async (
  root: string,
  files: ReadonlyArray<StoredFile>,
  store: CacheStore,
  onWarning: (message: string) => void
): Promise<boolean> => {
  for (const file of files) {
    const problem = unsafePath(root, file.path)
    if (problem !== undefined) {
      onWarning(`cache entry refused: ${problem}`)
      return false
    }
  }
  for (const file of files) {
    const bytes = await store.readBlob(file.digest)
    if (bytes === undefined) return false
    const target = path.join(root, file.path)
    await fs.mkdir(path.dirname(target), { recursive: true })
    const temp = outputTempOf(target)
    try {
      await fs.writeFile(temp, bytes, { mode: file.mode })
      await fs.chmod(temp, file.mode)
      await fs.rename(temp, target)
    } catch (error) {
      // Disk full, a directory in the way: no half-written copy is left behind.
      await ignoreMissing(fs.rm(temp, { force: true }))
      throw error
    }
  }
  return true
}

/** Removes the temporary files in `temps` whose writer is gone (a restore killed or crashed midway). */
export const removeStaleTemps = async (temps: ReadonlyArray<string>): Promise<void> => {
  for (const temp of temps) {
    if (isStaleOutputTemp(temp)) await ignoreMissing(fs.rm(temp, { force: true }))
  }
}
