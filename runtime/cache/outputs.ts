/**
 * A command step's declared output files: captured into the store after a
 * success, compared with the disk on a hit, and restored when they were
 * deleted or edited.
 *
 * An entry is trusted for its checksum, never for where it says its files
 * go: anyone who can write the store can write an entry with a valid
 * checksum. So restoring writes only files the step declares (a path its
 * `cache.outputs` globs match, as the hasher matches them), never into
 * weft's own `.weft/` folder, never outside the workflow's folder (absolute,
 * `..`, a symlink on the way), and never with setuid, setgid or sticky bits
 * (the permission bits under the user's umask). Anything else makes the
 * entry a miss, with a warning naming the path.
 */
import { createHash } from "node:crypto"
import { lstatSync } from "node:fs"
import * as fs from "node:fs/promises"
import * as path from "node:path"
import { matches, patternsOf } from "../watch/globs.ts"
import type { CacheStore, StoredFile } from "./CacheStore.ts"
import { ignoreMissing } from "../internal/atomic.ts"
import { isStaleOutputTemp, outputTempOf } from "./internal/outputTemp.ts"
import { readSmallFile, syncReadMaxBytes } from "./internal/smallFile.ts"
import { insideWeftFolder } from "../../dsl/weftFolder.ts"

/** Why a stored path may not be written, or `undefined` when it may. */
export const unsafePath = (root: string, relative: string): string | undefined => {
  if (relative === "" || path.isAbsolute(relative) || /^[A-Za-z]:/.test(relative) || relative.includes("\\")) {
    return `"${relative}" is not a relative path inside the workflow's folder`
  }
  const parts = relative.split("/")
  if (parts.some((part) => part === ".." || part === "")) return `"${relative}" climbs out of the workflow's folder`
  // The deepest part of the path that exists must resolve inside the root, and
  // nothing along the way may be a symlink: a link could lead anywhere later.
  // From the root as given: `lstat` resolves the root's own links (allowed)
  // as its real path would, and every hit asks this, so no `realpath` each time.
  let at = root
  for (const part of parts) {
    at = path.join(at, part)
    const stat = lstatSync(at, { throwIfNoEntry: false })
    if (stat === undefined) break
    if (stat.isSymbolicLink()) return `"${relative}" goes through a symlink`
  }
  return undefined
}

/**
 * Why stored `files` may not be restored for a step declaring `globs`, or
 * `undefined` when every one may: the first problem found, naming the path.
 */
export const refusedOutput = (root: string, files: ReadonlyArray<StoredFile>, globs: ReadonlyArray<string>): string | undefined => {
  const patterns = globs.flatMap((glob) => patternsOf(root, glob))
  for (const file of files) {
    const problem = unsafePath(root, file.path)
    if (problem !== undefined) return problem
    if (insideWeftFolder(file.path)) return `"${file.path}" is inside weft's own .weft folder`
    const absolute = path.resolve(root, file.path)
    if (!patterns.some((pattern) => matches(pattern, absolute))) {
      return `"${file.path}" is not one of the step's declared outputs (cache.outputs: ${globs.length === 0 ? "none" : globs.join(", ")})`
    }
  }
  return undefined
}

/**
 * The mode a stored file is restored with: its permission bits under the
 * umask, never setuid, setgid or sticky (a forged entry could ask for them).
 */
export const restoredMode = (stored: number): number => stored & 0o777 & ~process.umask()

/**
 * Whether a file's permission bits on disk are what `stored` restores to,
 * or the stored bits themselves (the step may have set bits the umask
 * would clear; that file is as the step made it).
 */
export const sameMode = (onDisk: number, stored: number): boolean =>
  (onDisk & 0o777) === (stored & 0o777) || (onDisk & 0o777) === restoredMode(stored)

const sha256 = (bytes: Uint8Array): string => createHash("sha256").update(bytes).digest("hex")
const digestOf = async (file: string): Promise<string> => sha256(await fs.readFile(file))

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

/**
 * Whether every stored output is on disk with the stored content and mode.
 * A cache hit asks it of every output: a small one is checked with
 * synchronous calls (see `smallFile.ts`).
 */
export const outputsOnDisk = async (root: string, files: ReadonlyArray<StoredFile>): Promise<boolean> => {
  for (const file of files) {
    const absolute = path.join(root, file.path)
    try {
      const stat = lstatSync(absolute)
      if (!stat.isFile() || stat.size !== file.size || !sameMode(stat.mode, file.mode)) return false
      if (stat.size <= syncReadMaxBytes) {
        const bytes = readSmallFile(absolute, file.size)
        if (bytes === undefined || sha256(bytes) !== file.digest) return false
      } else if ((await digestOf(absolute)) !== file.digest) return false
    } catch {
      return false
    }
  }
  return true
}

/**
 * Copies a blob to `temp` a chunk at a time (a big output never sits in
 * memory), hashing what is written: the store checked the blob before
 * handing it out, but what reached the disk is what must match.
 */
const writeVerified = async (chunks: AsyncIterable<Uint8Array>, temp: string, file: StoredFile): Promise<boolean> => {
  const hash = createHash("sha256")
  let size = 0
  const handle = await fs.open(temp, "wx", 0o600)
  try {
    // Each chunk may be a view of a buffer the store reuses: written before the next is asked for.
    for await (const chunk of chunks) {
      hash.update(chunk)
      size += chunk.byteLength
      for (let at = 0; at < chunk.byteLength;) at += (await handle.write(chunk, at, chunk.byteLength - at)).bytesWritten
    }
    await handle.chmod(restoredMode(file.mode))
  } finally {
    await handle.close()
  }
  return size === file.size && hash.digest("hex") === file.digest
}

/**
 * Writes the stored outputs back, each streamed to a temporary file and
 * renamed into place. Resolves `false`, writing nothing more, when a path is
 * refused (`refusedOutput`, said through `onWarning`), a blob is missing or
 * its bytes are not what the entry says: the caller treats the entry as a
 * miss.
 */
export const restoreOutputs = async (
  root: string,
  files: ReadonlyArray<StoredFile>,
  globs: ReadonlyArray<string>,
  store: CacheStore,
  onWarning: (message: string) => void
): Promise<boolean> => {
  const problem = refusedOutput(root, files, globs)
  if (problem !== undefined) {
    onWarning(`cache entry refused: ${problem}`)
    return false
  }
  for (const file of files) {
    const chunks = await store.openBlob(file.digest)
    if (chunks === undefined) return false
    const target = path.join(root, file.path)
    await fs.mkdir(path.dirname(target), { recursive: true })
    const temp = outputTempOf(target)
    try {
      if (!(await writeVerified(chunks, temp, file))) {
        onWarning(`cache entry refused: the stored "${file.path}" is not the file the entry describes`)
        await ignoreMissing(fs.rm(temp, { force: true }))
        return false
      }
      await fs.rename(temp, target)
    } catch (error) {
      // Disk full, a directory in the way: no half-written copy is left behind.
      await ignoreMissing(fs.rm(temp, { force: true }))
      throw error
    }
  }
  return true
}

/**
 * Writes one output file whole, as a restore does: through a temporary file
 * the hasher never counts (`outputTemp.ts`), given its permission bits
 * (`restoredMode`), then renamed into place. The caller checked the path.
 */
export const writeOutputFile = async (target: string, bytes: Uint8Array, mode: number): Promise<void> => {
  await fs.mkdir(path.dirname(target), { recursive: true })
  const temp = outputTempOf(target)
  try {
    await fs.writeFile(temp, bytes, { flag: "wx", mode: 0o600 })
    await fs.chmod(temp, restoredMode(mode))
    await fs.rename(temp, target)
  } catch (error) {
    await ignoreMissing(fs.rm(temp, { force: true }))
    throw error
  }
}

/** Removes the temporary files in `temps` whose writer is gone (a restore killed or crashed midway). */
export const removeStaleTemps = async (temps: ReadonlyArray<string>): Promise<void> => {
  for (const temp of temps) {
    if (isStaleOutputTemp(temp)) await ignoreMissing(fs.rm(temp, { force: true }))
  }
}
