import { spawn, spawnSync } from "node:child_process"
import { createHash } from "node:crypto"
import { existsSync, mkdirSync, writeFileSync } from "node:fs"
import { hostname } from "node:os"
import { mkdir, mkdtemp, readdir, readFile, rm, truncate, unlink, utimes, writeFile } from "node:fs/promises"
import { tmpdir } from "node:os"
import * as path from "node:path"
import * as fc from "fast-check"
import { afterAll, describe, expect, it } from "vitest"
import type { CacheEntry, StoredFile } from "./CacheStore.ts"
import { makeFileStore } from "./FileStore.ts"
import { keyOf, storeContract } from "./store.contract.ts"

const dirs: Array<string> = []
const tempDir = async () => {
  const dir = await mkdtemp(path.join(tmpdir(), "weft-filestore-"))
  dirs.push(dir)
  return dir
}
afterAll(async () => {
  await Promise.all(dirs.map((dir) => rm(dir, { recursive: true, force: true })))
})

const sha256 = (data: string | Uint8Array) => createHash("sha256").update(data).digest("hex")

// The contract marks use to the millisecond; the default (to the minute) is tested below.
storeContract("FileStore", async (env) => makeFileStore(path.join(await tempDir(), ".weft", "cache"), { now: env.now, touchAfterMs: 0 }))

/** A store holding one entry with one output file, and where both live on disk. */
const storeWithEntry = async () => {
  const dir = await tempDir()
  const cacheDir = path.join(dir, "cache")
  const warnings: Array<string> = []
  const store = makeFileStore(cacheDir, { onWarning: (message) => warnings.push(message) })
  const source = path.join(dir, "out.txt")
  await writeFile(source, "output bytes")
  const file: StoredFile = { path: "dist/out.txt", digest: sha256("output bytes"), size: 12, mode: 0o644 }
  const entry: CacheEntry = {
    key: keyOf("corrupt-me"),
    kind: "step",
    workflow: "build",
    name: "compile",
    value: new Uint8Array(Buffer.from("the step's output value")),
    logs: [{ stream: "stdout", text: "compiled 3 files" }],
    files: [file],
    durationMs: 1234,
    createdAt: Date.now()
  }
  const blobs = new Map([[file.digest, source]])
  await store.put(entry, blobs)
  return {
    store,
    cacheDir,
    warnings,
    entry,
    blobs,
    entryFile: path.join(cacheDir, "entries", entry.key.slice(0, 2), entry.key),
    blobFile: path.join(cacheDir, "blobs", file.digest.slice(0, 2), file.digest)
  }
}

type Setup = Awaited<ReturnType<typeof storeWithEntry>>

const rewrite = async (file: string, change: (bytes: Buffer) => Buffer) => writeFile(file, change(await readFile(file)))
const minutesAgo = (file: string, minutes: number) => {
  const time = (Date.now() - minutes * 60_000) / 1000
  return utimes(file, time, time)
}

describe("FileStore under corruption", () => {
  const cases: ReadonlyArray<readonly [string, (s: Setup) => Promise<unknown>, RegExp]> = [
    ["truncated to half", async (s) => truncate(s.entryFile, (await readFile(s.entryFile)).length >> 1), /truncated/],
    ["emptied", (s) => truncate(s.entryFile, 0), /truncated/],
    ["a flipped byte in the body", (s) => rewrite(s.entryFile, (b) => (b[b.length - 1]! ^= 0x01, b)), /checksum/],
    ["a flipped byte in the metadata", (s) => rewrite(s.entryFile, (b) => (b[60]! ^= 0x20, b)), /checksum/],
    ["a garbage header", (s) => rewrite(s.entryFile, (b) => (b.write("garbage!garbage!", 0), b)), /header/],
    ["zero-filled", (s) => rewrite(s.entryFile, (b) => b.fill(0)), /header/],
    ["extra bytes appended", (s) => rewrite(s.entryFile, (b) => Buffer.concat([b, Buffer.from("tail")])), /header announces/],
    ["its blob deleted", (s) => unlink(s.blobFile), /dist\/out\.txt.*missing/],
    ["its blob cut short", (s) => truncate(s.blobFile, 3), /dist\/out\.txt.*cut short/],
    ["a directory in its place", async (s) => (await unlink(s.entryFile), await mkdir(s.entryFile)), /not a file/]
  ]

  for (const [what, corrupt, problem] of cases) {
    it(`misses an entry with ${what}, warns, removes it, and stores it again`, async () => {
      const s = await storeWithEntry()
      await corrupt(s)
      expect(await s.store.get(s.entry.key)).toBeUndefined()
      expect(s.warnings).toHaveLength(1)
      expect(s.warnings[0]).toContain(s.entry.key)
      expect(s.warnings[0]).toMatch(problem)
      expect(existsSync(s.entryFile)).toBe(false)
      expect(await s.store.get(s.entry.key)).toBeUndefined()
      expect(s.warnings).toHaveLength(1)
      await s.store.put(s.entry, s.blobs)
      expect(await s.store.get(s.entry.key)).toEqual(s.entry)
    })
  }

  // Issue 10, item 8: damage in place of a blob or an entry was warned about on every put, forever.
  const damages: ReadonlyArray<readonly [string, (s: Setup) => Promise<unknown>]> = [
    ["its blob replaced by a directory", async (s) => (await unlink(s.blobFile), await mkdir(path.join(s.blobFile, "inner"), { recursive: true }))],
    ["its blob's shard directory replaced by a file", async (s) => (await rm(path.dirname(s.blobFile), { recursive: true }), await writeFile(path.dirname(s.blobFile), "x"))],
    ["its entry replaced by a directory, never read", async (s) => (await unlink(s.entryFile), await mkdir(path.join(s.entryFile, "inner"), { recursive: true }))],
    ["its entry's shard directory replaced by a file", async (s) => (await rm(path.dirname(s.entryFile), { recursive: true }), await writeFile(path.dirname(s.entryFile), "x"))]
  ]
  for (const [what, damage] of damages) {
    it(`repairs a store with ${what}: the next put rewrites it and the entry is a hit again`, async () => {
      const s = await storeWithEntry()
      await damage(s)
      await s.store.put(s.entry, s.blobs)
      expect(await s.store.get(s.entry.key)).toEqual(s.entry)
      expect(Buffer.from((await s.store.readBlob(s.entry.files[0]!.digest))!).toString()).toBe("output bytes")
      await s.store.put(s.entry, s.blobs)
      expect(await s.store.get(s.entry.key)).toEqual(s.entry)
    })
  }

  it("removes a directory found where a blob should be when reading it", async () => {
    const s = await storeWithEntry()
    await unlink(s.blobFile)
    await mkdir(s.blobFile)
    expect(await s.store.readBlob(s.entry.files[0]!.digest)).toBeUndefined()
    expect(existsSync(s.blobFile)).toBe(false)
    expect(s.warnings.join("\n")).toMatch(/blob .* is not a file/)
  })

  it("misses an entry file copied under another key", async () => {
    const s = await storeWithEntry()
    const other = keyOf("other")
    const otherFile = path.join(s.cacheDir, "entries", other.slice(0, 2), other)
    await mkdir(path.dirname(otherFile), { recursive: true })
    await writeFile(otherFile, await readFile(s.entryFile))
    expect(await s.store.get(other)).toBeUndefined()
    expect(s.warnings[0]).toMatch(new RegExp(`${other} holds the entry of another key`))
    expect(await s.store.get(s.entry.key)).toEqual(s.entry)
  })

  it("misses a blob whose bytes changed, then the entry that needs it", async () => {
    const s = await storeWithEntry()
    await writeFile(s.blobFile, "OUTPUT BYTES")
    expect(await s.store.readBlob(s.entry.files[0]!.digest)).toBeUndefined()
    expect(s.warnings[0]).toMatch(new RegExp(`blob ${s.entry.files[0]!.digest} does not match`))
    expect(existsSync(s.blobFile)).toBe(false)
    expect(await s.store.get(s.entry.key)).toBeUndefined()
    await s.store.put(s.entry, s.blobs)
    expect(Buffer.from((await s.store.readBlob(s.entry.files[0]!.digest))!).toString()).toBe("output bytes")
  })

  it("leaves a blob whose entry was deleted to prune, once it is old", async () => {
    const s = await storeWithEntry()
    await unlink(s.entryFile)
    expect(await s.store.get(s.entry.key)).toBeUndefined()
    expect(s.warnings).toEqual([])
    await s.store.prune({})
    expect(existsSync(s.blobFile)).toBe(true)
    await minutesAgo(s.blobFile, 2)
    expect(await s.store.prune({})).toEqual({ removed: 0, freedBytes: 12 })
    expect(existsSync(s.blobFile)).toBe(false)
  })

  it("ignores a leftover temp file, and prune removes it once it is old", async () => {
    const s = await storeWithEntry()
    const bytes = await readFile(s.entryFile)
    await unlink(s.entryFile)
    const leftover = path.join(s.cacheDir, "tmp", "99999-deadbeef-0.tmp")
    await writeFile(leftover, bytes.subarray(0, bytes.length >> 1))
    expect(await s.store.get(s.entry.key)).toBeUndefined()
    await s.store.prune({})
    expect(existsSync(leftover)).toBe(true)
    await minutesAgo(leftover, 2)
    await s.store.prune({})
    expect(await readdir(path.join(s.cacheDir, "tmp"))).toEqual([])
    expect(s.warnings).toEqual([])
  })

  it("skips a corrupt entry in list and stats, and prune removes it with a warning", async () => {
    const s = await storeWithEntry()
    await truncate(s.entryFile, 30)
    expect(await s.store.list()).toEqual([])
    expect((await s.store.stats()).entries).toBe(0)
    expect((await s.store.prune({})).removed).toBe(1)
    expect(s.warnings[0]).toContain(s.entry.key)
    expect(existsSync(s.entryFile)).toBe(false)
  })

  it("never returns anything but the stored entry when any byte changes or the file is cut (property)", async () => {
    const s = await storeWithEntry()
    const original = await readFile(s.entryFile)
    await fc.assert(
      fc.asyncProperty(
        fc.nat({ max: original.length - 1 }),
        fc.integer({ min: 0, max: 255 }),
        fc.option(fc.nat({ max: original.length }), { freq: 4 }),
        async (offset, byte, cut) => {
          const mutated = Buffer.from(original)
          mutated[offset] = byte
          await writeFile(s.entryFile, cut === null ? mutated : mutated.subarray(0, cut))
          const got = await s.store.get(s.entry.key)
          if (got !== undefined) expect(got).toEqual(s.entry)
          const unchanged = mutated[offset] === original[offset] && cut === null
          expect(got === undefined).toBe(!unchanged)
        }
      ),
      { numRuns: 100 }
    )
  })
})

describe("FileStore marking use", () => {
  it("marks an entry used on get only once its last use is older than touchAfterMs (default a minute)", async () => {
    let clock = 1_000_000_000_000
    const store = makeFileStore(path.join(await tempDir(), "cache"), { now: () => clock })
    await store.put({ key: keyOf(1), kind: "step", workflow: "build", name: "a", value: new Uint8Array([1]), logs: [], files: [], durationMs: 1, createdAt: clock })
    const lastUsed = async () => (await store.list())[0]!.lastUsedAt
    clock += 59_000
    expect(await store.get(keyOf(1))).toBeDefined()
    expect(await lastUsed()).toBe(1_000_000_000_000)
    clock += 2_000
    expect(await store.get(keyOf(1))).toBeDefined()
    expect(await lastUsed()).toBe(clock)
  })
})

describe("FileStore shared by two processes", () => {
  const fixture = path.join(import.meta.dirname, "internal", "putManyFixture.ts")

  const writer = (cacheDir: string, id: number, keys: ReadonlyArray<string>) =>
    new Promise<{ code: number | null; stderr: string }>((resolve, reject) => {
      const child = spawn(process.execPath, ["--disable-warning=ExperimentalWarning", fixture, cacheDir, String(id), "200", ...keys], {
        stdio: ["ignore", "ignore", "pipe"]
      })
      let stderr = ""
      child.stderr.setEncoding("utf8").on("data", (chunk: string) => (stderr += chunk))
      child.on("error", reject)
      child.on("close", (code) => resolve({ code, stderr }))
    })

  it("leaves every key one whole entry from one writer, and no temp files", async () => {
    const cacheDir = path.join(await tempDir(), "cache")
    const keys = Array.from({ length: 5 }, (_, i) => keyOf(`race-${i}`))
    const results = await Promise.all([writer(cacheDir, 1, keys), writer(cacheDir, 2, keys)])
    expect(results).toEqual([{ code: 0, stderr: "" }, { code: 0, stderr: "" }])
    const warnings: Array<string> = []
    const store = makeFileStore(cacheDir, { onWarning: (message) => warnings.push(message) })
    for (const key of keys) {
      const entry = (await store.get(key))!
      expect(entry).toBeDefined()
      const writerId = entry.value[2]!
      expect([1, 2]).toContain(writerId)
      expect(entry.value.subarray(2).every((b) => b === writerId)).toBe(true)
      expect(entry.value.length).toBe((entry.value[0]! << 8) | entry.value[1]!)
      expect(entry.name).toBe(`writer-${writerId}`)
      expect(entry.logs).toEqual([{ stream: "stdout", text: sha256(entry.value) }])
    }
    await store.prune({})
    expect(await readdir(path.join(cacheDir, "tmp"))).toEqual([])
    expect(warnings).toEqual([])
  })

  it("survives eviction racing the writers: reads are whole or misses, and the size ends under the limit", async () => {
    const cacheDir = path.join(await tempDir(), "cache")
    const keys = Array.from({ length: 20 }, (_, i) => keyOf(`evict-${i}`))
    const warnings: Array<string> = []
    const store = makeFileStore(cacheDir, { onWarning: (message) => warnings.push(message) })
    let writing = true
    const writers = Promise.all([writer(cacheDir, 1, keys), writer(cacheDir, 2, keys)]).finally(() => (writing = false))
    do {
      await store.prune({ maxBytes: 20_000 })
      for (const key of keys.slice(0, 5)) {
        const entry = await store.get(key)
        if (entry !== undefined) expect(entry.logs).toEqual([{ stream: "stdout", text: sha256(entry.value) }])
      }
    } while (writing)
    expect(await writers).toEqual([{ code: 0, stderr: "" }, { code: 0, stderr: "" }])
    await store.prune({ maxBytes: 20_000 })
    expect((await store.stats()).bytes).toBeLessThanOrEqual(20_000)
    expect(warnings).toEqual([])
  })
})

describe("FileStore leases across processes", () => {
  const holderFixture = path.join(import.meta.dirname, "internal", "leaseHolderFixture.ts")

  /** A process holding `key` until it is killed, started once it holds it. */
  const holder = (cacheDir: string, key: string) =>
    new Promise<ReturnType<typeof spawn>>((resolve, reject) => {
      const child = spawn(process.execPath, ["--disable-warning=ExperimentalWarning", holderFixture, cacheDir, key], { stdio: ["ignore", "pipe", "inherit"] })
      child.on("error", reject)
      child.on("exit", (code) => reject(new Error(`the lease holder exited with ${code} before holding`)))
      child.stdout!.setEncoding("utf8").on("data", (text: string) => text.includes("held") && resolve(child))
    })

  it("waits for a live holder in another process, and takes the lease over once it is killed", async () => {
    const cacheDir = path.join(await tempDir(), "cache")
    const key = keyOf("held")
    const child = await holder(cacheDir, key)
    const holders: Array<string> = []
    let held = false
    try {
      const waiting = makeFileStore(cacheDir).lease(key, { onWait: (h) => holders.push(h) }).then((lease) => ((held = true), lease))
      await new Promise((resolve) => setTimeout(resolve, 300))
      expect(held).toBe(false)
      expect(holders).toEqual([`weft process ${child.pid}`])
      child.kill("SIGKILL")
      await (await waiting).release()
    } finally {
      child.kill("SIGKILL")
    }
  })

  const leaseFile = (cacheDir: string, key: string, holder: object) => {
    mkdirSync(path.join(cacheDir, "leases"), { recursive: true })
    writeFileSync(path.join(cacheDir, "leases", key), JSON.stringify({ host: hostname(), nonce: "n", ...holder }))
  }

  it("takes over a lease left by a process that is gone, or whose pid now names a newer process", async () => {
    const cacheDir = path.join(await tempDir(), "cache")
    const store = makeFileStore(cacheDir)
    const dead = spawnSync(process.execPath, ["-e", ""]).pid!
    leaseFile(cacheDir, keyOf(1), { pid: dead, start: "" })
    await (await store.lease(keyOf(1))).release()
    if (existsSync("/proc/self/stat")) {
      // Our own pid, but a start time that is not ours: a process that had the pid before us.
      leaseFile(cacheDir, keyOf(2), { pid: process.pid, start: "another-boot:1" })
      await (await store.lease(keyOf(2))).release()
    }
    // Damaged: not a holder at all, and not being written (it is old).
    mkdirSync(path.join(cacheDir, "leases"), { recursive: true })
    writeFileSync(path.join(cacheDir, "leases", keyOf(3)), "{half")
    await minutesAgo(path.join(cacheDir, "leases", keyOf(3)), 1)
    await (await store.lease(keyOf(3))).release()
    expect(existsSync(path.join(cacheDir, "leases", keyOf(1)))).toBe(false)
  })

  it("prune removes the leases of processes that are gone, and keeps those of live ones", async () => {
    const cacheDir = path.join(await tempDir(), "cache")
    const store = makeFileStore(cacheDir)
    leaseFile(cacheDir, keyOf(1), { pid: spawnSync(process.execPath, ["-e", ""]).pid!, start: "" })
    const live = await store.lease(keyOf(2))
    await store.prune({})
    expect(existsSync(path.join(cacheDir, "leases", keyOf(1)))).toBe(false)
    expect(existsSync(path.join(cacheDir, "leases", keyOf(2)))).toBe(true)
    await live.release()
  })
})
