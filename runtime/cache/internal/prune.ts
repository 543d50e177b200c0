/**
 * What `prune` removes, decided as a pure function of a snapshot of the store
 * so every store prunes the same way and the policy is tested without a disk.
 */
import { isExpired } from "./entry.ts"

/** An entry as `prune` sees it. */
export interface PruneEntry {
  readonly key: string
  readonly bytes: number
  readonly lastUsedAt: number
  readonly createdAt: number
  readonly expiresAt?: number | undefined
  /** Digests of the blobs it refers to, each once. */
  readonly blobs: ReadonlyArray<string>
}

/** A blob as `prune` sees it. */
export interface PruneBlob {
  readonly digest: string
  readonly bytes: number
  /**
   * Whether it may be removed once unreferenced. A young blob may belong to
   * an entry another process is writing right now (blobs are written before
   * their entry), so it is kept until it is old enough.
   */
  readonly removable: boolean
}

export interface PrunePlan {
  /** Keys to remove, expired ones first, then least recently used first. */
  readonly entries: ReadonlyArray<string>
  readonly blobs: ReadonlyArray<string>
  /** Bytes the removals free. */
  readonly freedBytes: number
}

/** Least recently used first; ties broken by age, then key, so the order is total. */
const byLastUse = (a: PruneEntry, b: PruneEntry): number =>
  a.lastUsedAt - b.lastUsedAt || a.createdAt - b.createdAt || (a.key < b.key ? -1 : a.key > b.key ? 1 : 0)

/**
 * Expired entries go first; then, while the store holds more than
 * `maxBytes` (entries plus the blobs that stay), the least recently used
 * entry goes. A blob goes when no remaining entry refers to it and it is
 * removable.
 */
export const planPrune = (snapshot: {
  readonly entries: ReadonlyArray<PruneEntry>
  readonly blobs: ReadonlyArray<PruneBlob>
  readonly now: number
  readonly maxBytes?: number | undefined
}): PrunePlan => {
  const removedEntries: Array<string> = []
  const removedBlobs: Array<string> = []
  let freedBytes = 0
  const live: Array<PruneEntry> = []
  for (const entry of snapshot.entries) {
    if (isExpired(entry, snapshot.now)) {
      removedEntries.push(entry.key)
      freedBytes += entry.bytes
    } else {
      live.push(entry)
    }
  }
  const refs = new Map<string, number>()
  for (const entry of live) for (const digest of entry.blobs) refs.set(digest, (refs.get(digest) ?? 0) + 1)
  const blobs = new Map(snapshot.blobs.map((blob) => [blob.digest, blob]))
  let total = live.reduce((sum, entry) => sum + entry.bytes, 0)
  for (const blob of snapshot.blobs) {
    if ((refs.get(blob.digest) ?? 0) === 0 && blob.removable) {
      removedBlobs.push(blob.digest)
      freedBytes += blob.bytes
    } else {
      total += blob.bytes
    }
  }
  const maxBytes = snapshot.maxBytes
  if (maxBytes !== undefined) {
    for (const entry of live.sort(byLastUse)) {
      if (total <= maxBytes) break
      removedEntries.push(entry.key)
      freedBytes += entry.bytes
      total -= entry.bytes
      for (const digest of entry.blobs) {
        const count = (refs.get(digest) ?? 0) - 1
        refs.set(digest, count)
        const blob = blobs.get(digest)
        if (count === 0 && blob !== undefined && blob.removable) {
          removedBlobs.push(digest)
          freedBytes += blob.bytes
          total -= blob.bytes
        }
      }
    }
  }
  return { entries: removedEntries, blobs: removedBlobs, freedBytes }
}
