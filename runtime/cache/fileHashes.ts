/**
 * Digests of the files a step declares as inputs, without re-reading an
 * unchanged tree: a table persisted in `stateFile` remembers, per file, the
 * size, modification and change times (nanoseconds), inode and digest seen
 * last time; a file whose stat still matches is not read again.
 *
 * Globs are expanded with Node's `fs.promises.glob` relative to `root`
 * (`*` and `**` skip dot-files unless the pattern names them; `**` does not
 * descend into symlinked directories; a symlink to a file is hashed by its
 * target's content). `.weft/` and `node_modules/` are skipped unless a glob
 * names them as a whole path segment (`node_modules/foo/**`, not
 * `{node_modules,src}/**`). A pattern that matches nothing contributes
 * nothing; the empty set has a fixed digest.
 *
 * Trusting stat information has known limits, as in git and make:
 * - Racy writes: a file modified within `racyMs` (2 s) of being hashed is
 *   hashed but not remembered, so an edit landing in the same timestamp tick
 *   as the read is caught next time.
 * - An edit that keeps the size and restores the modification time
 *   (`touch -r`, `cp -p` over an equal-sized file, some archive tools) still
 *   changes the change time (ctime), which cannot be set from user space, so
 *   it is caught; the inode catches replacement by rename (atomic saves).
 *   What slips through is a change with all of size, mtime, ctime and inode
 *   restored: root resetting the clock, or a file system that does not keep
 *   ctime. `weft cache` commands that must be exact can use a fresh hasher
 *   with an empty table.
 *
 * @example
 * const hasher = makeFileHasher(path.join(folder, ".weft/file-hashes.json"))
 * const { digest, files } = await hasher.hashGlobs(folder, ["src/**\/*.ts", "package.json"])
 */
import { createHash } from "node:crypto"
import type { Dirent } from "node:fs"
import * as fs from "node:fs/promises"
import * as path from "node:path"
import * as Data from "effect/Data"
import { isErrno, writeAtomic } from "../internal/atomic.ts"
import { mapLimit } from "./internal/mapLimit.ts"
import { isOutputTemp } from "./internal/outputTemp.ts"

/** One input file: its path relative to the root, with `/` separators, and the SHA-256 of its content. */
export interface FileDigest {
  readonly path: string
  readonly digest: string
}

/** The files globs matched, sorted by path, and one digest over all of them. */
export interface FileSetDigest {
  readonly digest: string
  readonly files: ReadonlyArray<FileDigest>
  /**
   * Temporary files of a restore the globs matched (`internal/outputTemp.ts`),
   * absolute: never part of `files`, listed so a leftover can be removed.
   */
  readonly temps?: ReadonlyArray<string>
}

export interface FileHasher {
  /** The files under `root` matching any of `globs` and their digests; order of globs does not matter. */
  hashGlobs(root: string, globs: ReadonlyArray<string>): Promise<FileSetDigest>
  /** How many files this hasher has read so far; the others were answered from the table. */
  readonly filesRead: number
}

/** How a `FileHasher` tells time and which files count as just modified. */
export interface FileHasherOptions {
  /** Epoch milliseconds (default `Date.now`), compared with files' modification times. */
  readonly now?: () => number
  /** A file modified less than this many milliseconds ago is not remembered (default 2000). */
  readonly racyMs?: number
}

/** An input file that exists but cannot be read. */
export class FileHashError extends Data.TaggedError("FileHashError")<{
  readonly path: string
  readonly reason: string
}> {
  override get message(): string {
    return `cannot hash input file ${this.path}: ${this.reason}`
  }
}

/** Whether `u` is a `FileHashError`. */
export const isFileHashError = (u: unknown): u is FileHashError =>
  typeof u === "object" && u !== null && (u as { _tag?: unknown })._tag === "FileHashError"

/** What the table remembers of a file: size, mtimeNs, ctimeNs, ino (as decimal strings), digest, last seen (ms). */
type Remembered = readonly [size: string, mtimeNs: string, ctimeNs: string, ino: string, digest: string, seenAt: number]

interface Stat {
  readonly size: bigint
  readonly mtimeNs: bigint
  readonly ctimeNs: bigint
  readonly ino: bigint
}

const tableVersion = 1
/** Entries not seen for this long are dropped from the table when it is saved. */
const forgetAfterMs = 30 * 24 * 60 * 60 * 1000
/** How stale a remembered "last seen" may get before it is refreshed (which costs a save). */
const refreshSeenAfterMs = 24 * 60 * 60 * 1000
/** Files stat'ed or read at once. */
const parallelFiles = 64
const skippedDirs = [".weft", "node_modules"]
/** Files bigger than this are streamed instead of read whole. */
const streamAbove = 1024 * 1024

/** The digest of a set of (path, digest) pairs; fixed for the empty set. */
const combine = (files: ReadonlyArray<FileDigest>): string => {
  const hash = createHash("sha256").update("weft-files:1\0")
  for (const file of files) hash.update(`${file.path}\0${file.digest}\n`)
  return hash.digest("hex")
}

/** What no globs match. */
const noFiles: FileSetDigest = { digest: combine([]), files: [] }

const sameStat = (a: Stat, b: Stat): boolean =>
  a.size === b.size && a.mtimeNs === b.mtimeNs && a.ctimeNs === b.ctimeNs && a.ino === b.ino

const matches = (remembered: Remembered | undefined, stat: Stat): remembered is Remembered =>
  remembered !== undefined && remembered[0] === String(stat.size) && remembered[1] === String(stat.mtimeNs) &&
  remembered[2] === String(stat.ctimeNs) && remembered[3] === String(stat.ino)

const loadTable = async (stateFile: string): Promise<Map<string, Remembered>> => {
  try {
    const parsed = JSON.parse(await fs.readFile(stateFile, "utf8")) as { version?: unknown; files?: unknown }
    if (parsed.version !== tableVersion || typeof parsed.files !== "object" || parsed.files === null) return new Map()
    const valid = Object.entries(parsed.files).filter((pair): pair is [string, Remembered] => {
      const r = pair[1] as unknown
      return Array.isArray(r) && r.length === 6 && r.slice(0, 5).every((part) => typeof part === "string") && typeof r[5] === "number"
    })
    return new Map(valid)
  } catch {
    // Missing or damaged: it only saves work, so start over.
    return new Map()
  }
}

/**
 * Each matching file's absolute path; `.weft` and `node_modules` skipped
 * unless the glob names them. Temporary files of a restore go to `temps`:
 * half-written copies are no one's input or output.
 */
const expand = async (root: string, glob: string, temps: Array<string>): Promise<Array<string>> => {
  const segments = glob.split(/[\\/]/)
  const skipped = new Set(skippedDirs.filter((name) => !segments.includes(name)))
  const found: Array<string> = []
  const entries = fs.glob(glob, { cwd: root, withFileTypes: true, exclude: (dirent: Dirent) => skipped.has(dirent.name) })
  for await (const dirent of entries) {
    if (!(dirent.isFile() || dirent.isSymbolicLink())) continue
    if (isOutputTemp(dirent.name)) temps.push(path.join(dirent.parentPath, dirent.name))
    else found.push(path.join(dirent.parentPath, dirent.name))
  }
  return found
}

/** Creates a hasher whose table lives in `stateFile` (created on first save). */
export const makeFileHasher = (stateFile: string, options: FileHasherOptions = {}): FileHasher => {
  const now = options.now ?? Date.now
  const racyMs = options.racyMs ?? 2000
  let table: Promise<Map<string, Remembered>> | undefined
  let saving: Promise<void> = Promise.resolve()
  let filesRead = 0

  /** Reads and hashes `file`, retrying while it changes under us; `stable` when the stat held still. */
  const hashContent = async (file: string, shown: string): Promise<{ digest: string; stat: Stat; stable: boolean } | undefined> => {
    for (let attempt = 0; ; attempt++) {
      let handle: fs.FileHandle
      try {
        handle = await fs.open(file, "r")
      } catch (error) {
        if (isErrno(error, "ENOENT")) return undefined
        throw new FileHashError({ path: shown, reason: error instanceof Error ? error.message : String(error) })
      }
      try {
        const before = await handle.stat({ bigint: true })
        if (!before.isFile()) return undefined
        filesRead++
        const hash = createHash("sha256")
        if (before.size > streamAbove) {
          for await (const chunk of handle.createReadStream({ autoClose: false, start: 0 }) as AsyncIterable<Buffer>) hash.update(chunk)
        } else {
          hash.update(await handle.readFile())
        }
        const after = await handle.stat({ bigint: true })
        const stable = sameStat(before, after)
        if (stable || attempt >= 2) return { digest: hash.digest("hex"), stat: after, stable }
      } catch (error) {
        if (isFileHashError(error)) throw error
        throw new FileHashError({ path: shown, reason: error instanceof Error ? error.message : String(error) })
      } finally {
        await handle.close()
      }
    }
  }

  const save = (files: Map<string, Remembered>): Promise<void> => {
    saving = saving.then(async () => {
      const cutoff = now() - forgetAfterMs
      const kept = Object.fromEntries([...files].filter(([, r]) => r[5] >= cutoff))
      const text = JSON.stringify({ version: tableVersion, files: kept })
      await writeAtomic({
        tmpDir: path.dirname(stateFile),
        target: stateFile,
        durable: false,
        write: (handle) => handle.writeFile(text)
      })
    })
    return saving
  }

  const hashGlobs = async (rootDir: string, globs: ReadonlyArray<string>): Promise<FileSetDigest> => {
    // No globs, no files: nothing to read, not even the table.
    if (globs.length === 0) return noFiles
    const root = path.resolve(rootDir)
    table ??= loadTable(stateFile)
    const remembered = await table
    const temps: Array<string> = []
    const absolute = [...new Set((await Promise.all(globs.map((glob) => expand(root, glob, temps)))).flat())]
    const time = now()
    let changed = false
    const hashed = await mapLimit(absolute, parallelFiles, async (file): Promise<FileDigest | undefined> => {
      const shown = path.relative(root, file).split(path.sep).join("/")
      let stat: Stat
      try {
        stat = await fs.stat(file, { bigint: true })
      } catch (error) {
        if (isErrno(error, "ENOENT", "ENOTDIR", "ELOOP")) return undefined
        throw new FileHashError({ path: shown, reason: error instanceof Error ? error.message : String(error) })
      }
      const known = remembered.get(file)
      if (matches(known, stat)) {
        if (time - known[5] > refreshSeenAfterMs) {
          remembered.set(file, [known[0], known[1], known[2], known[3], known[4], time])
          changed = true
        }
        return { path: shown, digest: known[4] }
      }
      const content = await hashContent(file, shown)
      if (content === undefined) return undefined
      const newest = Number((content.stat.mtimeNs > content.stat.ctimeNs ? content.stat.mtimeNs : content.stat.ctimeNs) / 1_000_000n)
      if (content.stable && time - newest >= racyMs) {
        const { size, mtimeNs, ctimeNs, ino } = content.stat
        remembered.set(file, [String(size), String(mtimeNs), String(ctimeNs), String(ino), content.digest, time])
        changed = true
      } else if (known !== undefined) {
        remembered.delete(file)
        changed = true
      }
      return { path: shown, digest: content.digest }
    })
    const files = hashed.filter((f) => f !== undefined).sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0))
    if (changed) await save(remembered)
    return temps.length === 0 ? { digest: combine(files), files } : { digest: combine(files), files, temps: [...new Set(temps)] }
  }

  return {
    hashGlobs,
    get filesRead() {
      return filesRead
    }
  }
}
