/**
 * The cache store on disk, `.weft/cache/` under the workflow's folder by
 * default (the caller picks the directory):
 *
 * ```
 * entries/<k0k1>/<key>        header + meta + body (see internal/entryFile.ts), checksummed
 * blobs/<d0d1>/<digest>       the raw bytes of an output file, named by SHA-256
 * tmp/                        files being written; renamed into place when complete
 * leases/<key>                who is producing the entry of a key now (see internal/lease.ts)
 * ```
 *
 * Every write goes to a unique temp file, is flushed and renamed into place,
 * blobs before the entry that refers to them. So an entry is visible only once
 * complete, and two processes writing one key leave the last complete write.
 * Everything read is verified; whatever fails a check is a miss, reported
 * through `onWarning` and removed, never an exception and never a wrong value.
 * The entry file's modification time records its last use (LRU, to the
 * minute by default: see `touchAfterMs`).
 *
 * @example
 * const store = makeFileStore(path.join(folder, ".weft/cache"), { onWarning: (m) => log(m) })
 * const hit = await store.get(key)
 */
import { createHash } from "node:crypto"
import * as fsSync from "node:fs"
import * as fs from "node:fs/promises"
import * as path from "node:path"
import type { CacheEntry, CacheStore, EntryInfo, StoredFile, StoreStats } from "./CacheStore.ts"
import { fileChunks, handleChunks } from "../internal/fileChunks.ts"
import { CachePutError } from "./CachePutError.ts"
import { ignoreMissing, isErrno, writeAtomic } from "../internal/atomic.ts"
import { assertDigest, assertKey, blobsOf, isDigest, isExpired, isKey, normalizeEntry } from "./internal/entry.ts"
import { decodeEntryFile, encodeEntryFile } from "./internal/entryFile.ts"
import { removeStaleLease, takeFileLease } from "./internal/lease.ts"
import { planPrune } from "./internal/prune.ts"
import { syncReadMaxBytes } from "./internal/smallFile.ts"
import { fannedFiles, filesIn, readMeta, type Scanned } from "./internal/scan.ts"

/** How a `FileStore` reports, tells time and flushes. */
export interface FileStoreOptions {
  /** Told, in words for the user, about every corrupt entry or blob found and removed. */
  readonly onWarning?: (message: string) => void
  /** Epoch milliseconds (default `Date.now`): expiry, last use, and the age of temp files and blobs. */
  readonly now?: () => number
  /** fsync every file before renaming it into place (default true). Tests may turn it off for speed. */
  readonly durable?: boolean
  /**
   * How old, in milliseconds, an unreferenced blob or a temp file must be
   * before `prune` removes it (default one minute): younger ones may belong
   * to a put in progress in another process.
   */
  readonly graceMs?: number
  /**
   * `get` marks an entry used (sets its modification time) only when its
   * last use is older than this many milliseconds (default one minute): LRU
   * to the minute is plenty for `prune`, and a replay of many hits in a row
   * then writes nothing.
   */
  readonly touchAfterMs?: number
}

/** Creates a store in `dir`; nothing is touched on disk until the first write. */
export const makeFileStore = (dir: string, options: FileStoreOptions = {}): CacheStore => {
  const now = options.now ?? Date.now
  const graceMs = options.graceMs ?? 60_000
  const touchAfterMs = options.touchAfterMs ?? 60_000
  const warn = options.onWarning ?? (() => {})
  const entriesDir = path.join(dir, "entries")
  const blobsDir = path.join(dir, "blobs")
  const tmpDir = path.join(dir, "tmp")
  const leasesDir = path.join(dir, "leases")
  // A store repairs what it finds in its way: warned once, then written over.
  const onRepair = (found: string) => warn(`cache: ${path.relative(dir, found)} was damaged (not what the store keeps there); it was removed and written again`)
  const entryPath = (key: string) => path.join(entriesDir, key.slice(0, 2), key)
  const blobPath = (digest: string) => path.join(blobsDir, digest.slice(0, 2), digest)

  /**
   * Removes `file` unless it was replaced since we looked (a concurrent put
   * must not lose its fresh entry). A file Windows will not let go of, being
   * open elsewhere, is left for a later prune.
   */
  const removeIfSame = async (file: string, ino: number): Promise<boolean> => {
    try {
      if ((await fs.stat(file)).ino !== ino) return false
      await fs.rm(file, { recursive: true, force: true })
      return true
    } catch (error) {
      if (isErrno(error, "ENOENT")) return false
      if (process.platform === "win32" && isErrno(error, "EPERM", "EBUSY", "EACCES")) return false
      throw error
    }
  }

  const discard = async (key: string, ino: number, problem: string): Promise<undefined> => {
    warn(`cache entry ${key} ${problem}; it was removed and counts as a miss`)
    await removeIfSame(entryPath(key), ino)
    return undefined
  }

  /** The missing or truncated blob among `files`, if any (a `stat` each, synchronous: see `smallFile.ts`). */
  const missingBlob = (files: ReadonlyArray<StoredFile>): StoredFile | undefined => {
    for (const file of files) {
      try {
        if (fsSync.statSync(blobPath(file.digest)).size !== file.size) return file
      } catch (error) {
        if (isErrno(error, "ENOENT", "ENOTDIR")) return file
        throw error
      }
    }
    return undefined
  }

  /**
   * The bytes and inode of entry file `file`, `undefined` when there is none;
   * a non-file is reported as such. A small one is read synchronously (see `smallFile.ts`).
   */
  const readEntryFile = async (file: string): Promise<{ bytes: Buffer; stat: fsSync.Stats } | { notFile: number } | undefined> => {
    let fd: number
    try {
      fd = fsSync.openSync(file, "r")
    } catch (error) {
      // ENOTDIR: a file where its shard directory should be, repaired by the next put.
      if (isErrno(error, "ENOENT", "ENOTDIR")) return undefined
      throw error
    }
    let stat: fsSync.Stats
    try {
      stat = fsSync.fstatSync(fd)
      if (!stat.isFile()) return { notFile: stat.ino }
      if (stat.size <= syncReadMaxBytes) {
        const bytes = Buffer.allocUnsafe(stat.size)
        let got = 0
        while (got < bytes.length) {
          const n = fsSync.readSync(fd, bytes, got, bytes.length - got, got)
          if (n === 0) break
          got += n
        }
        // Cut short or grown under us: the checksum decides, as for any other damage.
        return { bytes: got === bytes.length ? bytes : bytes.subarray(0, got), stat }
      }
    } finally {
      fsSync.closeSync(fd)
    }
    let handle: fs.FileHandle
    try {
      handle = await fs.open(file, "r")
    } catch (error) {
      if (isErrno(error, "ENOENT")) return undefined
      throw error
    }
    try {
      const big = await handle.stat()
      if (!big.isFile()) return { notFile: big.ino }
      return { bytes: await handle.readFile(), stat: big }
    } finally {
      await handle.close()
    }
  }

  /**
   * Sets the entry's last use, synchronously: a `utimes` is microseconds,
   * where an awaited one held each hit's slot for a trip through the thread
   * pool (1,000 cached steps run a minute after the last took 1.36 s instead
   * of 0.78 s at c=2). Best effort: LRU order only.
   */
  const markUsed = (file: string, time: number): void => {
    try {
      fsSync.utimesSync(file, time / 1000, time / 1000)
    } catch {
      // Removed or read-only meanwhile: the next prune sees it as less recently used, no more.
    }
  }

  const read = async (key: string, touch: boolean): Promise<CacheEntry | undefined> => {
    assertKey(key)
    const file = entryPath(key)
    const found = await readEntryFile(file)
    if (found === undefined) return undefined
    if ("notFile" in found) return discard(key, found.notFile, "is not a file")
    const { bytes, stat } = found
    const decoded = decodeEntryFile(bytes, key)
    if (!decoded.ok) return discard(key, stat.ino, decoded.problem)
    const entry = decoded.value
    const time = now()
    if (isExpired(entry, time)) {
      await removeIfSame(file, stat.ino)
      return undefined
    }
    if (entry.files.length > 0 || entry.output !== undefined) {
      const missing = missingBlob(blobsOf(entry))
      if (missing !== undefined) return discard(key, stat.ino, `refers to output file ${missing.path}, whose stored copy is missing or cut short`)
    }
    if (touch && time - stat.mtimeMs >= touchAfterMs) markUsed(file, time)
    return entry
  }

  /** Copies `source` into the store as blob `file.digest`, checking that it still has that digest. */
  const storeBlob = async (key: string, file: StoredFile, source: string | undefined): Promise<void> => {
    const target = blobPath(file.digest)
    try {
      const stat = await fs.lstat(target)
      if (stat.isFile() && stat.size === file.size) {
        // Young again, so a concurrent prune leaves it to the entry we are about to write.
        const time = now()
        await fs.utimes(target, time / 1000, time / 1000).catch(() => {})
        return
      }
    } catch (error) {
      if (!isErrno(error, "ENOENT", "ENOTDIR")) throw error
    }
    if (source === undefined) {
      throw new TypeError(`weft cache: entry ${key} lists output file ${file.path} (blob ${file.digest}), which is neither stored nor passed to put`)
    }
    let input: fs.FileHandle
    try {
      input = await fs.open(source, "r")
    } catch (error) {
      if (isErrno(error, "ENOENT")) throw new CachePutError({ key, path: file.path, reason: "vanished before it could be stored" })
      throw error
    }
    try {
      await writeAtomic({
        tmpDir,
        target,
        durable: options.durable,
        mtimeMs: now(),
        onRepair,
        write: async (output) => {
          const hash = createHash("sha256")
          let size = 0
          for await (const chunk of handleChunks(input)) {
            hash.update(chunk)
            size += chunk.length
            await output.write(chunk)
          }
          const digest = hash.digest("hex")
          if (digest !== file.digest || size !== file.size) {
            throw new CachePutError({ key, path: file.path, reason: "changed after it was hashed, while it was being stored" })
          }
        }
      })
    } finally {
      await input.close()
    }
  }

  const scanEntries = async (): Promise<Array<Scanned>> => {
    const files = await fannedFiles(entriesDir, isKey)
    const scanned = await Promise.all(files.map(readMeta))
    return scanned.filter((s) => s !== undefined)
  }

  const scanBlobs = () => fannedFiles(blobsDir, isDigest)

  return {
    id: `file:${path.resolve(dir)}`,

    get: (key) => read(key, true),

    has: async (key) => (await read(key, false)) !== undefined,

    put: async (entry, blobs) => {
      const normalized = normalizeEntry(entry)
      const seen = new Set<string>()
      for (const file of blobsOf(normalized)) {
        if (seen.has(file.digest)) continue
        seen.add(file.digest)
        await storeBlob(normalized.key, file, blobs?.get(file.digest))
      }
      const bytes = encodeEntryFile(normalized)
      await writeAtomic({
        tmpDir,
        target: entryPath(normalized.key),
        durable: options.durable,
        mtimeMs: now(),
        onRepair,
        write: (handle) => handle.writeFile(bytes)
      })
    },

    delete: async (key) => {
      assertKey(key)
      await ignoreMissing(fs.unlink(entryPath(key)))
    },

    list: async () => {
      const scanned = await scanEntries()
      return scanned.flatMap((s): Array<EntryInfo> =>
        s.ok
          ? [{
            key: s.key,
            kind: s.meta.kind,
            workflow: s.meta.workflow,
            name: s.meta.name,
            bytes: s.bytes,
            createdAt: s.meta.createdAt,
            lastUsedAt: s.mtimeMs,
            ...(s.meta.expiresAt === undefined ? {} : { expiresAt: s.meta.expiresAt })
          }]
          : []
      )
    },

    stats: async (): Promise<StoreStats> => {
      const [entries, blobs] = await Promise.all([scanEntries(), scanBlobs()])
      const bytes = [...entries, ...blobs].reduce((sum, f) => sum + f.bytes, 0)
      return { entries: entries.filter((e) => e.ok).length, bytes }
    },

    readBlob: async (digest) => {
      assertDigest(digest)
      const file = blobPath(digest)
      let bytes: Buffer
      let ino: number
      try {
        const handle = await fs.open(file, "r")
        try {
          ino = (await handle.stat()).ino
          bytes = await handle.readFile()
        } finally {
          await handle.close()
        }
      } catch (error) {
        if (isErrno(error, "EISDIR")) {
          warn(`cache blob ${digest} is not a file; it was removed and counts as a miss`)
          await fs.rm(file, { recursive: true, force: true })
          return undefined
        }
        if (isErrno(error, "ENOENT", "ENOTDIR")) return undefined
        throw error
      }
      if (createHash("sha256").update(bytes).digest("hex") !== digest) {
        warn(`cache blob ${digest} does not match its digest (its bytes were changed); it was removed and counts as a miss`)
        await removeIfSame(file, ino)
        return undefined
      }
      return new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength)
    },

    openBlob: async (digest) => {
      assertDigest(digest)
      const file = blobPath(digest)
      let ino: number
      const hash = createHash("sha256")
      try {
        const handle = await fs.open(file, "r")
        try {
          ino = (await handle.stat()).ino
          for await (const chunk of handleChunks(handle)) hash.update(chunk)
        } finally {
          await handle.close()
        }
      } catch (error) {
        if (isErrno(error, "ENOENT", "EISDIR")) return undefined
        throw error
      }
      if (hash.digest("hex") !== digest) {
        warn(`cache blob ${digest} does not match its digest (its bytes were changed); it was removed and counts as a miss`)
        await removeIfSame(file, ino)
        return undefined
      }
      return fileChunks(file)
    },

    prune: async (prune) => {
      const time = now()
      const at = prune.now ?? time
      const [scanned, blobs] = await Promise.all([scanEntries(), scanBlobs()])
      let removed = 0
      let freedBytes = 0
      const good: Array<Extract<Scanned, { ok: true }>> = []
      for (const s of scanned) {
        if (s.ok) {
          good.push(s)
        } else {
          warn(`cache entry ${s.key} ${s.problem}; it was removed`)
          if (await removeIfSame(entryPath(s.key), s.ino)) {
            removed++
            freedBytes += s.bytes
          }
        }
      }
      const plan = planPrune({
        now: at,
        maxBytes: prune.maxBytes,
        entries: good.map((s) => ({ key: s.key, bytes: s.bytes, lastUsedAt: s.mtimeMs, createdAt: s.meta.createdAt, expiresAt: s.meta.expiresAt, blobs: s.meta.blobs })),
        blobs: blobs.map((b) => ({ digest: b.name, bytes: b.bytes, removable: time - b.mtimeMs > graceMs }))
      })
      const byKey = new Map(good.map((s) => [s.key, s]))
      for (const key of plan.entries) {
        const s = byKey.get(key)!
        if (await removeIfSame(entryPath(key), s.ino)) {
          removed++
          freedBytes += s.bytes
        }
      }
      const byDigest = new Map(blobs.map((b) => [b.name, b]))
      for (const digest of plan.blobs) {
        const blob = byDigest.get(digest)!
        // A put reusing the blob since the scan made it young again: it stays.
        const stat = await fs.stat(blob.file).catch(() => undefined)
        if (stat === undefined || time - stat.mtimeMs <= graceMs) continue
        if (await removeIfSame(blob.file, blob.ino)) freedBytes += blob.bytes
      }
      for (const tmp of await filesIn(tmpDir)) {
        if (time - tmp.mtimeMs > graceMs && await removeIfSame(tmp.file, tmp.ino)) freedBytes += tmp.bytes
      }
      // Leases of killed processes: taken over when wanted anyway, but not kept forever.
      for (const lease of await filesIn(leasesDir)) {
        if (await removeStaleLease(lease.file, tmpDir)) freedBytes += lease.bytes
      }
      return { removed, freedBytes }
    },

    lease: (key, leaseOptions) => {
      assertKey(key)
      return takeFileLease(leasesDir, tmpDir, key, leaseOptions)
    },

    clear: async () => {
      await Promise.all([entriesDir, blobsDir, tmpDir].map((d) => fs.rm(d, { recursive: true, force: true })))
    }
  }
}
