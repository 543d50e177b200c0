/**
 * The promises of `CacheStore`, as one suite every implementation runs:
 * `storeContract("FileStore", (env) => makeFileStore(dir, { now: env.now }))`.
 *
 * The suite owns the clock: a store must read time only through `env.now`,
 * so expiry and least-recently-used order are tested without sleeping.
 */
import { createHash } from "node:crypto"
import { mkdtemp, rm, writeFile } from "node:fs/promises"
import { tmpdir } from "node:os"
import * as path from "node:path"
import { afterEach, beforeEach, describe, expect, it } from "vitest"
import { isCachePutError } from "./CachePutError.ts"
import type { CacheEntry, CacheStore, StoredFile } from "./CacheStore.ts"

/** What the suite gives the store under test. */
export interface ContractEnv {
  /** The suite's clock, epoch milliseconds; the store must use it for expiry and last use. */
  readonly now: () => number
}

const sha256 = (data: string | Uint8Array) => createHash("sha256").update(data).digest("hex")

/** A key for `n`, as the engine would make one. */
export const keyOf = (n: number | string): string => sha256(`key:${n}`)

const start = 1_700_000_000_000
/** Longer than any store's grace period for unreferenced blobs. */
const pastGrace = 10 * 60_000

export const storeContract = (name: string, make: (env: ContractEnv) => Promise<CacheStore>): void => {
  describe(`${name} keeps the CacheStore contract`, () => {
    let clock = start
    const env: ContractEnv = { now: () => clock }
    let sources: string
    let store: CacheStore

    beforeEach(async () => {
      clock = start
      sources = await mkdtemp(path.join(tmpdir(), "weft-contract-"))
      store = await make(env)
    })

    afterEach(async () => {
      await store.clear()
      await rm(sources, { recursive: true, force: true })
    })

    /** Writes an output file; returns what an entry records of it and where put copies it from. */
    const outputFile = async (relative: string, content: string | Uint8Array, mode = 0o644) => {
      const source = path.join(sources, relative.replaceAll("/", "_"))
      await writeFile(source, content)
      const bytes = typeof content === "string" ? Buffer.from(content) : content
      const file: StoredFile = { path: relative, digest: sha256(bytes), size: bytes.byteLength, mode }
      return { file, source }
    }

    const entryOf = (n: number | string, overrides: Partial<CacheEntry> = {}): CacheEntry => ({
      key: keyOf(n),
      kind: "step",
      workflow: "build",
      name: `step-${n}`,
      value: new Uint8Array(Buffer.from(`value of ${n}`)),
      logs: [],
      files: [],
      durationMs: 12,
      createdAt: clock,
      ...overrides
    })

    const blobsOf = (...outputs: ReadonlyArray<{ file: StoredFile; source: string }>) =>
      new Map(outputs.map((o) => [o.file.digest, o.source]))

    it("round-trips an entry: value bytes, logs, files and their blobs", async () => {
      const a = await outputFile("dist/a.js", "console.log('a')\n", 0o755)
      const b = await outputFile("dist/empty.txt", "")
      const big = await outputFile("dist/big.bin", new Uint8Array(300_000).map((_, i) => (i * 7) % 251))
      const entry = entryOf(1, {
        kind: "memo",
        value: new Uint8Array([0, 1, 2, 255, 128]),
        logs: [{ stream: "stdout", text: "built" }, { stream: "stderr", text: "warn ✓" }, { stream: "log", text: "" }],
        files: [a.file, b.file, big.file],
        expiresAt: start + 60_000
      })
      await store.put(entry, blobsOf(a, b, big))
      expect(await store.get(entry.key)).toEqual(entry)
      expect(await store.has(entry.key)).toBe(true)
      expect(Buffer.from((await store.readBlob(a.file.digest))!).toString()).toBe("console.log('a')\n")
      expect((await store.readBlob(b.file.digest))!.byteLength).toBe(0)
      expect(await store.readBlob(big.file.digest)).toEqual(new Uint8Array(300_000).map((_, i) => (i * 7) % 251))
    })

    it("round-trips a step's streamed parts; an entry written without them (before weft streamed) comes back without them", async () => {
      const streamed = entryOf(1, { partials: [{ text: "# Intro", afterLogs: 0 }, { text: "## Body\nline", afterLogs: 2 }] })
      const older = entryOf(2)
      await store.put(streamed)
      await store.put(older)
      expect(await store.get(streamed.key)).toEqual(streamed)
      const got = await store.get(older.key)
      expect(got).toEqual(older)
      expect(got !== undefined && "partials" in got).toBe(false)
    })

    it("misses what it does not hold", async () => {
      expect(await store.get(keyOf("absent"))).toBeUndefined()
      expect(await store.has(keyOf("absent"))).toBe(false)
      expect(await store.readBlob(sha256("absent"))).toBeUndefined()
      expect(await store.list()).toEqual([])
      expect(await store.stats()).toEqual({ entries: 0, bytes: 0 })
    })

    it("stores and returns copies", async () => {
      const entry = entryOf(1)
      const value = new Uint8Array(entry.value)
      await store.put(entry)
      entry.value[0] = 0
      const got = (await store.get(entry.key))!
      expect(got.value).toEqual(value)
      got.value[1] = 0
      expect((await store.get(entry.key))!.value).toEqual(value)
    })

    it("deletes, and deleting what is absent is fine", async () => {
      await store.put(entryOf(1))
      await store.put(entryOf(2))
      await store.delete(keyOf(1))
      await store.delete(keyOf(1))
      expect(await store.has(keyOf(1))).toBe(false)
      expect(await store.get(keyOf(1))).toBeUndefined()
      expect(await store.get(keyOf(2))).toEqual(entryOf(2))
    })

    it("replaces an entry put again under the same key", async () => {
      await store.put(entryOf(1, { value: new Uint8Array([1]) }))
      await store.put(entryOf(1, { value: new Uint8Array([2, 2]) }))
      expect((await store.get(keyOf(1)))!.value).toEqual(new Uint8Array([2, 2]))
      expect((await store.list()).length).toBe(1)
    })

    it("misses an expired entry and removes it", async () => {
      await store.put(entryOf(1, { expiresAt: start + 1000 }))
      clock = start + 1000
      expect(await store.get(keyOf(1))).toBeDefined()
      clock = start + 1001
      expect(await store.has(keyOf(1))).toBe(false)
      expect(await store.get(keyOf(1))).toBeUndefined()
      expect(await store.list()).toEqual([])
    })

    it("lists entries and counts their bytes", async () => {
      const out = await outputFile("out.txt", "x".repeat(1000))
      await store.put(entryOf(1, { files: [out.file] }), blobsOf(out))
      clock += 5
      await store.put(entryOf(2, { kind: "memo", expiresAt: start + 99_999 }))
      const list = [...(await store.list())].sort((a, b) => a.createdAt - b.createdAt)
      expect(list.map(({ bytes: _, ...info }) => info)).toEqual([
        { key: keyOf(1), kind: "step", workflow: "build", name: "step-1", createdAt: start, lastUsedAt: start },
        { key: keyOf(2), kind: "memo", workflow: "build", name: "step-2", createdAt: start + 5, lastUsedAt: start + 5, expiresAt: start + 99_999 }
      ])
      for (const info of list) expect(info.bytes).toBeGreaterThan(0)
      const stats = await store.stats()
      expect(stats.entries).toBe(2)
      expect(stats.bytes).toBeGreaterThanOrEqual(list[0]!.bytes + list[1]!.bytes + 1000)
    })

    it("marks an entry used on get, not on has", async () => {
      await store.put(entryOf(1))
      clock += 100
      await store.has(keyOf(1))
      expect((await store.list())[0]!.lastUsedAt).toBe(start)
      await store.get(keyOf(1))
      expect((await store.list())[0]!.lastUsedAt).toBe(start + 100)
    })

    it("prunes expired entries first, then the least recently used, down to maxBytes", async () => {
      for (const n of [1, 2, 3, 4]) {
        await store.put(entryOf(n, n === 4 ? { expiresAt: start + 50 } : {}))
        clock += 10
      }
      await store.get(keyOf(1))
      const sizes = new Map((await store.list()).map((info) => [info.key, info.bytes]))
      const total = (await store.stats()).bytes
      const maxBytes = total - sizes.get(keyOf(4))! - sizes.get(keyOf(2))!
      const result = await store.prune({ maxBytes, now: start + 100 })
      expect(result).toEqual({ removed: 2, freedBytes: sizes.get(keyOf(4))! + sizes.get(keyOf(2))! })
      expect((await store.list()).map((info) => info.key).sort()).toEqual([keyOf(1), keyOf(3)].sort())
      expect((await store.stats()).bytes).toBeLessThanOrEqual(maxBytes)
    })

    it("prunes blobs no entry refers to, keeping shared ones", async () => {
      const shared = await outputFile("shared.txt", "shared")
      const own = await outputFile("own.txt", "own")
      const second = entryOf(2, { files: [shared.file] })
      await store.put(entryOf(1, { files: [shared.file, own.file] }), blobsOf(shared, own))
      await store.put(second, blobsOf(shared))
      await store.delete(keyOf(1))
      clock += pastGrace
      const before = (await store.stats()).bytes
      const result = await store.prune({})
      expect(result.removed).toBe(0)
      expect(result.freedBytes).toBe(3)
      expect((await store.stats()).bytes).toBe(before - 3)
      expect(await store.readBlob(own.file.digest)).toBeUndefined()
      expect(await store.get(keyOf(2))).toEqual(second)
      expect(Buffer.from((await store.readBlob(shared.file.digest))!).toString()).toBe("shared")
    })

    it("keeps a step's output as a blob the entry refers to: stored, streamed back, kept by prune while referred to", async () => {
      const bytes = new Uint8Array(200_000).map((_, i) => (i * 13) % 251)
      const out = await outputFile("<output>", bytes)
      const entry = entryOf(1, { output: { digest: out.file.digest, size: bytes.byteLength, skipParts: 2 } })
      await store.put(entry, blobsOf(out))
      expect(await store.get(keyOf(1))).toEqual(entry)
      const read = async (chunks: AsyncIterable<Uint8Array>) => {
        const all: Array<Uint8Array> = []
        for await (const chunk of chunks) all.push(chunk)
        return new Uint8Array(Buffer.concat(all))
      }
      expect(await read((await store.openBlob(out.file.digest))!)).toEqual(bytes)
      expect(await store.openBlob(sha256("absent"))).toBeUndefined()
      clock += pastGrace
      await store.prune({})
      expect(await store.get(keyOf(1))).toEqual(entry)
      await store.delete(keyOf(1))
      await store.prune({})
      expect(await store.openBlob(out.file.digest)).toBeUndefined()
    })

    it("prunes everything with maxBytes 0", async () => {
      const out = await outputFile("out.txt", "content")
      await store.put(entryOf(1, { files: [out.file] }), blobsOf(out))
      await store.put(entryOf(2))
      clock += pastGrace
      const result = await store.prune({ maxBytes: 0 })
      expect(result.removed).toBe(2)
      expect(await store.stats()).toEqual({ entries: 0, bytes: 0 })
    })

    it("reuses a stored blob without its source", async () => {
      const out = await outputFile("out.txt", "content")
      await store.put(entryOf(1, { files: [out.file] }), blobsOf(out))
      await store.put(entryOf(2, { files: [out.file] }))
      expect(await store.get(keyOf(2))).toBeDefined()
    })

    it("refuses an output file that changed since it was hashed, storing nothing", async () => {
      const out = await outputFile("out.txt", "original")
      await writeFile(out.source, "modified")
      const error = await store.put(entryOf(1, { files: [out.file] }), blobsOf(out)).catch((e: unknown) => e)
      expect(isCachePutError(error)).toBe(true)
      expect(String((error as Error).message)).toContain("out.txt")
      expect(await store.get(keyOf(1))).toBeUndefined()
      expect(await store.readBlob(out.file.digest)).toBeUndefined()
    })

    it("rejects a put that lists a file it neither holds nor is given, and malformed keys", async () => {
      const out = await outputFile("out.txt", "content")
      await expect(store.put(entryOf(1, { files: [out.file] }))).rejects.toThrow(/out\.txt/)
      await expect(store.put(entryOf(1, { key: "../../escape" }))).rejects.toThrow(/invalid key/)
      await expect(store.get("ABC")).rejects.toThrow(/invalid key/)
      await expect(store.readBlob("abc")).rejects.toThrow(/invalid blob digest/)
    })

    it("clears everything, and works again afterwards", async () => {
      const out = await outputFile("out.txt", "content")
      await store.put(entryOf(1, { files: [out.file] }), blobsOf(out))
      await store.clear()
      expect(await store.stats()).toEqual({ entries: 0, bytes: 0 })
      expect(await store.get(keyOf(1))).toBeUndefined()
      await store.put(entryOf(1, { files: [out.file] }), blobsOf(out))
      expect(await store.get(keyOf(1))).toBeDefined()
    })

    it("keeps one complete entry when many puts of one key race", async () => {
      const values = Array.from({ length: 24 }, (_, i) => new Uint8Array(1000 + i * 37).fill(i))
      const outputs = await Promise.all(values.map((_, i) => outputFile(`out-${i}.txt`, `output ${i}`)))
      await Promise.all(values.map((value, i) => store.put(entryOf(1, { value, files: [outputs[i]!.file] }), blobsOf(outputs[i]!))))
      const got = (await store.get(keyOf(1)))!
      const i = got.value[0]!
      expect(got).toEqual(entryOf(1, { value: values[i], files: [outputs[i]!.file] }))
      expect(Buffer.from((await store.readBlob(got.files[0]!.digest))!).toString()).toBe(`output ${i}`)
      expect((await store.list()).length).toBe(1)
    })

    it("leases a key to one holder at a time: a second waits for its release; another key does not", async () => {
      const first = await store.lease(keyOf(1))
      let secondHeld = false
      const second = store.lease(keyOf(1)).then((lease) => ((secondHeld = true), lease))
      const other = await store.lease(keyOf(2))
      await other.release()
      await pause(50) // room for a wrong grant to show
      expect(secondHeld).toBe(false)
      await first.release()
      const next = await second
      await first.release() // a second release is harmless: it does not free the key from its new holder
      let thirdHeld = false
      const third = store.lease(keyOf(1)).then((lease) => ((thirdHeld = true), lease))
      await pause(50)
      expect(thirdHeld).toBe(false)
      await next.release()
      await (await third).release()
    })

    it("tells onWait who holds the key; an aborted wait rejects with the signal's reason and holds nothing", async () => {
      const first = await store.lease(keyOf(1))
      const holders: Array<string> = []
      const controller = new AbortController()
      const waiting = store.lease(keyOf(1), { signal: controller.signal, onWait: (holder) => holders.push(holder) })
      await until(() => holders.length > 0)
      expect(holders).toHaveLength(1)
      controller.abort(new Error("cancelled by the test"))
      await expect(waiting).rejects.toThrow("cancelled by the test")
      await first.release()
      await (await store.lease(keyOf(1))).release()
      const aborted = new AbortController()
      aborted.abort(new Error("already aborted"))
      await expect(store.lease(keyOf(1), { signal: aborted.signal })).rejects.toThrow("already aborted")
      await (await store.lease(keyOf(1))).release()
    })

    it("never has two holders of one key among many waiters", async () => {
      let holding = 0
      let most = 0
      let turns = 0
      await Promise.all(Array.from({ length: 8 }, async () => {
        const lease = await store.lease(keyOf(1))
        holding++
        most = Math.max(most, holding)
        await pause(2)
        holding--
        turns++
        await lease.release()
      }))
      expect({ most, turns }).toEqual({ most: 1, turns: 8 })
    })
  })
}

const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

/** Resolves once `condition` holds, polling; fails after ten seconds. */
const until = async (condition: () => boolean): Promise<void> => {
  for (let waited = 0; !condition(); waited += 5) {
    if (waited > 10_000) throw new Error("condition not met in 10 s")
    await pause(5)
  }
}
