/**
 * A store of two levels: the local store first, the remote cache behind it.
 * A local miss asks the remote; what it downloads is decoded and checked
 * (`artifact.ts`), then written into the local store through the local
 * store's own verified `put` and read back with its verified `get`, so a
 * remote hit is exactly as trusted as a local one, and its output files are
 * restored by the same guarded code. A put stores locally, then uploads
 * (unless read-only). Everything else (leases, listing, pruning) is the
 * local store's: the remote API has no listing and no delete.
 *
 * Uploads go on in the background: a step's dependents do not wait for the
 * network (over a real link a `PUT` takes tens to hundreds of milliseconds,
 * a step's whole cost when its result is small). A run waits for them after
 * its last step (`settleUploads`, in `Run.ts`), before weft exits; each is
 * bounded by the remote's timeout, and a failure ends the remote's use.
 *
 * So that the store keeps the `CacheStore` contract, a key this object
 * deleted, cleared or pruned is not fetched back from the remote until it
 * is put again: "delete" means this machine forgets it.
 *
 * @example
 * const store = makeTieredStore(makeFileStore(dir), makeRemoteCache(settings, { onWarning }), { onWarning })
 */
import { mkdtemp, rm, writeFile } from "node:fs/promises"
import { tmpdir } from "node:os"
import * as path from "node:path"
import type { CacheEntry, CacheStore } from "../CacheStore.ts"
import { blobDigests, isExpired, normalizeEntry } from "../internal/entry.ts"
import { decodeArtifact, encodeArtifact, type Artifact } from "./artifact.ts"
import type { RemoteCache } from "./RemoteCache.ts"

export interface TieredStoreOptions {
  /** Told about each downloaded artifact refused (it is then a miss). */
  readonly onWarning: (message: string) => void
  /** Epoch milliseconds (default `Date.now`): a downloaded entry past its expiry is a miss. */
  readonly now?: () => number
}

/** Uploads begun and not yet ended, of every tiered store of this process. */
const uploading = new Set<Promise<void>>()

/** Resolves once every upload begun so far has ended (uploaded, or given up: never rejects). */
export const settleUploads = async (): Promise<void> => {
  while (uploading.size > 0) await Promise.all(uploading)
}

export const makeTieredStore = (local: CacheStore, remote: RemoteCache, options: TieredStoreOptions): CacheStore => {
  const now = options.now ?? Date.now
  const forgotten = new Set<string>()
  const known = new Set<string>()

  /** Writes a downloaded artifact into the local store; false when the local store refused it (said). */
  const keep = async ({ entry, blobs }: Artifact): Promise<boolean> => {
    const dir = blobs.size === 0 ? undefined : await mkdtemp(path.join(tmpdir(), "weft-remote-"))
    try {
      const sources = new Map<string, string>()
      for (const [digest, bytes] of blobs) {
        const file = path.join(dir!, digest)
        await writeFile(file, bytes)
        sources.set(digest, file)
      }
      await local.put(entry, sources)
      return true
    } catch (error) {
      options.onWarning(`remote cache ${remote.where}: artifact ${entry.key} could not be kept locally (${error instanceof Error ? error.message : String(error)}); it counts as a miss`)
      return false
    } finally {
      if (dir !== undefined) await rm(dir, { recursive: true, force: true })
    }
  }

  const upload = async (entry: CacheEntry): Promise<void> => {
    const blobs = new Map<string, Uint8Array>()
    for (const digest of blobDigests(entry)) {
      const bytes = await local.readBlob(digest)
      if (bytes === undefined) return // pruned or damaged meanwhile: the next put of the key uploads it
      blobs.set(digest, bytes)
    }
    await remote.put(entry.key, encodeArtifact(entry, blobs))
  }

  return {
    id: local.id,

    get: async (key) => {
      const hit = await local.get(key)
      if (hit !== undefined || forgotten.has(key)) return hit
      const bytes = await remote.get(key)
      if (bytes === undefined) return undefined
      const decoded = decodeArtifact(bytes, key)
      if (!decoded.ok) {
        options.onWarning(`remote cache ${remote.where}: artifact ${key} ${decoded.problem}; it counts as a miss`)
        return undefined
      }
      if (isExpired(decoded.value.entry, now())) return undefined
      known.add(key)
      return (await keep(decoded.value)) ? local.get(key) : undefined
    },

    put: async (entry, blobs) => {
      await local.put(entry, blobs)
      forgotten.delete(entry.key)
      known.add(entry.key)
      if (remote.readOnly) return
      const sending = upload(normalizeEntry(entry)).catch((error: unknown) => {
        options.onWarning(`remote cache ${remote.where}: could not upload ${entry.key} (${error instanceof Error ? error.message : String(error)})`)
      })
      uploading.add(sending)
      void sending.finally(() => uploading.delete(sending))
    },

    has: (key) => local.has(key),

    delete: async (key) => {
      await local.delete(key)
      forgotten.add(key)
    },

    list: () => local.list(),
    stats: () => local.stats(),
    readBlob: (digest) => local.readBlob(digest),
    openBlob: (digest) => local.openBlob(digest),

    prune: async (prune) => {
      const before = await local.list()
      const pruned = await local.prune(prune)
      const after = new Set((await local.list()).map((info) => info.key))
      for (const info of before) if (!after.has(info.key)) forgotten.add(info.key)
      return pruned
    },

    clear: async () => {
      await local.clear()
      for (const key of known) forgotten.add(key)
    },

    lease: (key, leaseOptions) => local.lease(key, leaseOptions)
  }
}
