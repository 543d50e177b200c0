/**
 * Automatic pruning (issue 12, item 14): a run that used the cache prunes it
 * afterwards (expired entries, then the least recently used beyond the size
 * budget), at most once an hour per store, waiting a bounded time.
 */
import { existsSync, mkdtempSync, rmSync, statSync, utimesSync } from "node:fs"
import { tmpdir } from "node:os"
import * as path from "node:path"
import { afterAll, afterEach, describe, expect, it } from "vitest"
import { workflow } from "../../dsl/Workflow.ts"
import { run } from "../Run.ts"
import { autoPrune, cacheBudget, defaultCacheMaxBytes, pruneEveryMs, pruneMarker } from "./autoPrune.ts"
import type { CacheEntry, CacheStore } from "./CacheStore.ts"
import { makeFileStore } from "./FileStore.ts"

const dirs: Array<string> = []
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })))
const temp = () => {
  const dir = mkdtempSync(path.join(tmpdir(), "weft-autoprune-"))
  dirs.push(dir)
  return dir
}
const saved = process.env.WEFT_CACHE_MAX_SIZE
afterEach(() => {
  if (saved === undefined) delete process.env.WEFT_CACHE_MAX_SIZE
  else process.env.WEFT_CACHE_MAX_SIZE = saved
})

const keyOf = (n: number) => n.toString(16).padStart(64, "0")
/** Whether entry `n`'s file is still there (`has` would call an expired one absent either way). */
const onDisk = (dir: string, n: number) => existsSync(path.join(dir, "entries", keyOf(n).slice(0, 2), keyOf(n)))
const entry = (n: number, createdAt: number, expiresAt?: number, bytes = 1): CacheEntry => ({
  key: keyOf(n), kind: "step", workflow: "w", name: `s${n}`, value: new Uint8Array(bytes), logs: [], files: [], durationMs: 1, createdAt,
  ...(expiresAt === undefined ? {} : { expiresAt })
})

describe("automatic pruning", () => {
  it("removes expired entries, then waits an hour before pruning the same store again", async () => {
    const dir = temp()
    const store = makeFileStore(dir)
    const t0 = Date.now()
    await store.put(entry(1, t0 - 10_000, t0 - 1))
    await store.put(entry(2, t0))
    expect(await autoPrune(dir, store, { now: t0, maxBytes: defaultCacheMaxBytes })).toBe("pruned")
    expect([onDisk(dir, 1), onDisk(dir, 2)]).toEqual([false, true])
    expect(statSync(path.join(dir, pruneMarker)).mtimeMs).toBeCloseTo(t0, -3)

    await store.put(entry(3, t0, t0 + 1000))
    expect(await autoPrune(dir, store, { now: t0 + 2000, maxBytes: defaultCacheMaxBytes })).toBe("skipped")
    expect(onDisk(dir, 3)).toBe(true)
    expect(await autoPrune(dir, store, { now: t0 + pruneEveryMs + 1, maxBytes: defaultCacheMaxBytes })).toBe("pruned")
    expect(onDisk(dir, 3)).toBe(false)
  })

  it("keeps the store under its budget, the least recently used going first", async () => {
    const dir = temp()
    const store = makeFileStore(dir)
    const t0 = Date.now()
    for (let n = 1; n <= 4; n++) await store.put(entry(n, t0, undefined, 10_000))
    // Last used: 1 now, the others minutes ago (a store marks use to the minute).
    for (let n = 1; n <= 4; n++) {
      const at = (n === 1 ? t0 : t0 - (10 - n) * 60_000) / 1000
      utimesSync(path.join(dir, "entries", keyOf(n).slice(0, 2), keyOf(n)), at, at)
    }
    expect(await autoPrune(dir, store, { now: t0, maxBytes: 25_000 })).toBe("pruned")
    const kept = [1, 2, 3, 4].filter((n) => onDisk(dir, n))
    expect(kept).toEqual([1, 4])
    expect((await store.stats()).bytes).toBeLessThanOrEqual(25_000)
  })

  it("waits a bounded time: a prune that takes longer goes on without holding the run", async () => {
    const dir = temp()
    const slow: CacheStore = { ...makeFileStore(dir), prune: () => new Promise(() => {}) }
    const started = Date.now()
    expect(await autoPrune(dir, slow, { maxBytes: 1, waitMs: 50 })).toBe("timed out")
    expect(Date.now() - started).toBeLessThan(5000)
  })

  it("the budget: the run's cache.maxSize, else $WEFT_CACHE_MAX_SIZE, else 5 GiB; a bad one names where it came from", () => {
    delete process.env.WEFT_CACHE_MAX_SIZE
    expect(cacheBudget(undefined)).toBe(5 * 1024 ** 3)
    process.env.WEFT_CACHE_MAX_SIZE = "200MB"
    expect(cacheBudget(undefined)).toBe(200e6)
    expect(cacheBudget("1 GiB")).toBe(1024 ** 3)
    expect(cacheBudget(1234)).toBe(1234)
    process.env.WEFT_CACHE_MAX_SIZE = "lots"
    expect(() => cacheBudget(undefined)).toThrow(/WEFT_CACHE_MAX_SIZE "lots" is not a size/)
  })

  it("a run that used the cache prunes it when it ends: expired entries are gone once run() resolves", async () => {
    const root = temp()
    const cacheDir = path.join(root, "cache")
    const store = makeFileStore(cacheDir)
    const t0 = Date.now()
    await store.put(entry(7, t0 - 10_000, t0 - 1))
    const result = await run(workflow("w").step("a", { cache: true }, () => 1), { cwd: root, cacheDir })
    expect(result.status).toBe("succeeded")
    expect(onDisk(cacheDir, 7)).toBe(false)
    expect(existsSync(path.join(cacheDir, pruneMarker))).toBe(true)
  })

  it("a run with the cache off, or a bad maxSize, prunes nothing", async () => {
    const root = temp()
    const cacheDir = path.join(root, "cache")
    const store = makeFileStore(cacheDir)
    const t0 = Date.now()
    await store.put(entry(8, t0 - 10_000, t0 - 1))
    await run(workflow("w").step("a", { cache: true }, () => 1), { cwd: root, cache: { dir: cacheDir, mode: "off" } })
    expect(onDisk(cacheDir, 8)).toBe(true)
    await expect(run(workflow("w").step("a", () => 1), { cwd: root, cache: { dir: cacheDir, maxSize: "big" } })).rejects.toThrow(/run option cache\.maxSize must be a size/)
  })
})
