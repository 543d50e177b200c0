/**
 * Pruning the store after a run, so that it does not grow without end:
 * expired entries go, then the least recently used until the store is under
 * its size budget (`CacheStore.prune`).
 *
 * - Budget: the run's `cache.maxSize`, else `$WEFT_CACHE_MAX_SIZE`, else
 *   {@link defaultCacheMaxBytes} (5 GiB, ccache's default: a store of build
 *   outputs that size is cheap to keep and rarely worth more).
 * - Bounded work: at most once per {@link pruneEveryMs} per store, told by
 *   the modification time of a marker file in it (`pruned-at`), so a hundred
 *   runs in an hour scan the store once; whoever finds the marker old touches
 *   it before pruning, so two processes rarely prune at once (and prunes are
 *   safe together anyway).
 * - Bounded time: the run waits at most {@link pruneWaitMs} for it; a prune
 *   still going on then is left to finish while the process lives (a prune
 *   cut short by exit removes whole files only, and the next one goes on).
 * - Never the run's concern: `run:end` has been delivered; a prune that fails
 *   changes nothing of the result.
 */
import * as fs from "node:fs/promises"
import * as path from "node:path"
import type { CacheStore } from "./CacheStore.ts"
import { parseSize } from "./size.ts"

/** The size budget when none is set: 5 GiB. */
export const defaultCacheMaxBytes = 5 * 1024 ** 3

/** How often a store is pruned at most: once an hour. */
export const pruneEveryMs = 60 * 60 * 1000

/** How long a run waits for its prune at most. */
export const pruneWaitMs = 2000

/** The marker file whose modification time says when the store was last pruned. */
export const pruneMarker = "pruned-at"

/**
 * The size budget in bytes: `maxSize` (bytes, or a size like "500MB"), else
 * `$WEFT_CACHE_MAX_SIZE`, else 5 GiB.
 *
 * @throws Error naming where a size that is not one came from.
 */
export const cacheBudget = (maxSize: number | string | undefined): number => {
  if (typeof maxSize === "number") return maxSize
  const [text, from] = maxSize !== undefined ? [maxSize, "cache.maxSize"] : [process.env.WEFT_CACHE_MAX_SIZE, "WEFT_CACHE_MAX_SIZE"]
  if (text === undefined || text === "") return defaultCacheMaxBytes
  const bytes = parseSize(text)
  if (bytes === undefined) throw new Error(`${from} "${text}" is not a size: use bytes or a number with KB, MB, GB or KiB, MiB, GiB, like 5GiB`)
  return bytes
}

/** What `sizeProblem` says of a `cache.maxSize`, or `undefined` when it is one. */
export const sizeProblem = (value: unknown): string | undefined =>
  (typeof value === "number" && Number.isInteger(value) && value >= 0) || (typeof value === "string" && parseSize(value) !== undefined)
    ? undefined
    : `must be a size, bytes or like "5GiB" or "500MB", not ${JSON.stringify(value)}`

export interface AutoPruneOptions {
  /** The size budget in bytes (see {@link cacheBudget}). */
  readonly maxBytes: number
  /** Epoch milliseconds (default: `Date.now()`). */
  readonly now?: number | undefined
  /** The longest wait (default {@link pruneWaitMs}). */
  readonly waitMs?: number | undefined
}

/**
 * Prunes the store in `dir` unless it was pruned within the last hour.
 * `"skipped"`: it was; `"timed out"`: the prune goes on after `waitMs`;
 * `"failed"`: it could not (a read-only disk), which the run ignores.
 */
export const autoPrune = async (dir: string, store: CacheStore, options: AutoPruneOptions): Promise<"pruned" | "skipped" | "timed out" | "failed"> => {
  const now = options.now ?? Date.now()
  const marker = path.join(dir, pruneMarker)
  try {
    const last = await fs.stat(marker).then((s) => s.mtimeMs, () => undefined)
    if (last !== undefined && now - last < pruneEveryMs && last <= now) return "skipped"
    await fs.writeFile(marker, "")
    await fs.utimes(marker, now / 1000, now / 1000)
  } catch {
    return "failed"
  }
  let timer: NodeJS.Timeout | undefined
  const timedOut = new Promise<"timed out">((resolve) => {
    timer = setTimeout(() => resolve("timed out"), options.waitMs ?? pruneWaitMs)
    // Waiting must not keep the process alive by itself; the prune may, while it lasts.
    timer.unref()
  })
  const pruned = store.prune({ maxBytes: options.maxBytes, now }).then(() => "pruned" as const, () => "failed" as const)
  try {
    return await Promise.race([pruned, timedOut])
  } finally {
    clearTimeout(timer)
  }
}
