/**
 * A cache store in memory, for tests and for `run()` without a folder. It
 * keeps the promises of `CacheStore` in one process: entries and blobs are
 * copied in and out (a caller mutating what it passed or got changes nothing
 * stored), output files are verified against their digest when copied in,
 * and sizes count the bytes a `FileStore` body would take.
 *
 * @example
 * const store = makeMemoryStore()
 * await store.put(entry)
 * const hit = await store.get(entry.key)
 */
import { createHash } from "node:crypto"
import * as fs from "node:fs/promises"
import * as v8 from "node:v8"
import type { CacheEntry, CacheStore, EntryInfo, StoredFile } from "./CacheStore.ts"
import { CachePutError } from "./CachePutError.ts"
import { isErrno } from "../internal/atomic.ts"
import { assertDigest, assertKey, blobDigests, blobsOf, isExpired, normalizeEntry, plainBytes } from "./internal/entry.ts"
import { planPrune } from "./internal/prune.ts"

/** How a `MemoryStore` tells time. */
export interface MemoryStoreOptions {
  /** Epoch milliseconds (default `Date.now`): expiry and last use. */
  readonly now?: () => number
}

interface Held {
  readonly entry: CacheEntry
  readonly bytes: number
  lastUsedAt: number
}

/** Creates an empty store. */
export const makeMemoryStore = (options: MemoryStoreOptions = {}): CacheStore => {
  const now = options.now ?? Date.now
  const entries = new Map<string, Held>()
  const blobs = new Map<string, Uint8Array>()
  /** Keys leased, each to the promise its holder settles on release. */
  const leases = new Map<string, Promise<void>>()
  /** Blobs of puts in progress, by how many refer to them: not removable until their entry is in. */
  const pinned = new Map<string, number>()

  const copy = (entry: CacheEntry): CacheEntry => structuredClone(entry)

  const read = (key: string, touch: boolean): CacheEntry | undefined => {
    assertKey(key)
    const held = entries.get(key)
    if (held === undefined) return undefined
    const time = now()
    if (isExpired(held.entry, time)) {
      entries.delete(key)
      return undefined
    }
    if (blobsOf(held.entry).some((file) => !blobs.has(file.digest))) {
      entries.delete(key)
      return undefined
    }
    if (touch) held.lastUsedAt = time
    return copy(held.entry)
  }

  const load = async (key: string, file: StoredFile, source: string | undefined): Promise<void> => {
    if (blobs.has(file.digest)) return
    if (source === undefined) {
      throw new TypeError(`weft cache: entry ${key} lists output file ${file.path} (blob ${file.digest}), which is neither stored nor passed to put`)
    }
    let bytes: Buffer
    try {
      bytes = await fs.readFile(source)
    } catch (error) {
      if (isErrno(error, "ENOENT")) throw new CachePutError({ key, path: file.path, reason: "vanished before it could be stored" })
      throw error
    }
    if (bytes.length !== file.size || createHash("sha256").update(bytes).digest("hex") !== file.digest) {
      throw new CachePutError({ key, path: file.path, reason: "changed after it was hashed, while it was being stored" })
    }
    blobs.set(file.digest, plainBytes(bytes))
  }

  const blobBytes = () => [...blobs.values()].reduce((sum, b) => sum + b.byteLength, 0)

  return {
    get: async (key) => read(key, true),

    has: async (key) => read(key, false) !== undefined,

    put: async (entry, sources) => {
      const normalized = copy(normalizeEntry(entry))
      const digests = blobDigests(normalized)
      for (const digest of digests) pinned.set(digest, (pinned.get(digest) ?? 0) + 1)
      try {
        for (const file of blobsOf(normalized)) await load(normalized.key, file, sources?.get(file.digest))
        entries.set(normalized.key, { entry: normalized, bytes: v8.serialize(normalized).byteLength, lastUsedAt: now() })
      } finally {
        for (const digest of digests) {
          const count = pinned.get(digest)! - 1
          if (count === 0) pinned.delete(digest)
          else pinned.set(digest, count)
        }
      }
    },

    delete: async (key) => {
      assertKey(key)
      entries.delete(key)
    },

    list: async () =>
      [...entries.values()].map(({ entry, bytes, lastUsedAt }): EntryInfo => ({
        key: entry.key,
        kind: entry.kind,
        workflow: entry.workflow,
        name: entry.name,
        bytes,
        createdAt: entry.createdAt,
        lastUsedAt,
        ...(entry.expiresAt === undefined ? {} : { expiresAt: entry.expiresAt })
      })),

    stats: async () => ({
      entries: entries.size,
      bytes: [...entries.values()].reduce((sum, held) => sum + held.bytes, 0) + blobBytes()
    }),

    readBlob: async (digest) => {
      assertDigest(digest)
      const bytes = blobs.get(digest)
      return bytes === undefined ? undefined : plainBytes(bytes)
    },

    openBlob: async (digest) => {
      assertDigest(digest)
      const bytes = blobs.get(digest)
      if (bytes === undefined) return undefined
      const copy = plainBytes(bytes)
      return (async function*() {
        yield copy
      })()
    },

    prune: async ({ maxBytes, now: at }) => {
      const plan = planPrune({
        now: at ?? now(),
        maxBytes,
        entries: [...entries.values()].map(({ entry, bytes, lastUsedAt }) => ({
          key: entry.key,
          bytes,
          lastUsedAt,
          createdAt: entry.createdAt,
          expiresAt: entry.expiresAt,
          blobs: blobDigests(entry)
        })),
        blobs: [...blobs].map(([digest, bytes]) => ({ digest, bytes: bytes.byteLength, removable: !pinned.has(digest) }))
      })
      for (const key of plan.entries) entries.delete(key)
      for (const digest of plan.blobs) blobs.delete(digest)
      return { removed: plan.entries.length, freedBytes: plan.freedBytes }
    },

    lease: async (key, leaseOptions = {}) => {
      assertKey(key)
      const { signal } = leaseOptions
      let told = false
      for (let held = leases.get(key); held !== undefined; held = leases.get(key)) {
        signal?.throwIfAborted()
        if (!told) {
          told = true
          leaseOptions.onWait?.("another run in this process")
        }
        await untilSettledOrAborted(held, signal)
      }
      signal?.throwIfAborted()
      let settle!: () => void
      const held = new Promise<void>((resolve) => (settle = resolve))
      leases.set(key, held)
      return {
        release: async () => {
          if (leases.get(key) === held) leases.delete(key)
          settle()
        }
      }
    },

    clear: async () => {
      entries.clear()
      blobs.clear()
    }
  }
}

/** Resolves when `promise` settles, or rejects with the signal's reason when it aborts first. */
const untilSettledOrAborted = (promise: Promise<void>, signal: AbortSignal | undefined): Promise<void> =>
  new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason)
    const onAbort = () => reject(signal!.reason)
    signal?.addEventListener("abort", onAbort, { once: true })
    promise.then(() => {
      signal?.removeEventListener("abort", onAbort)
      resolve()
    })
  })
