/**
 * The tiered store against a real turborepo-remote-cache server on
 * loopback: the CacheStore contract, then what the remote adds, each on a
 * team of its own so that tests share nothing on the server.
 */
import { createHash } from "node:crypto"
import { createServer, type Server, type Socket } from "node:net"
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises"
import { existsSync } from "node:fs"
import { tmpdir } from "node:os"
import * as path from "node:path"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { isRunning, startRemoteCacheServer, type RemoteCacheServer } from "../../../test/fixtures/remoteCacheServer.ts"
import type { CacheEntry, CacheStore, StoredFile } from "../CacheStore.ts"
import { makeFileStore } from "../FileStore.ts"
import { keyOf, storeContract } from "../store.contract.ts"
import { makeRemoteCache, type RemoteCacheSettings } from "./RemoteCache.ts"
import { makeTieredStore, settleUploads } from "./TieredStore.ts"

const token = "tiered-test-token"
let server: RemoteCacheServer
let signing: RemoteCacheServer
const dirs: Array<string> = []
const tempDir = async () => {
  const dir = await mkdtemp(path.join(tmpdir(), "weft-tiered-"))
  dirs.push(dir)
  return dir
}
let teams = 0
const freshTeam = () => `team-${process.pid}-${teams++}`

beforeAll(async () => {
  ;[server, signing] = await Promise.all([startRemoteCacheServer({ token }), startRemoteCacheServer({ token, keepsSignatures: true })])
})
afterAll(async () => {
  await Promise.all([server?.stop(), signing?.stop()])
  await Promise.all(dirs.map((dir) => rm(dir, { recursive: true, force: true })))
  // No orphans: the servers are gone once stopped.
  expect([server, signing].filter((s) => s !== undefined && isRunning(s.pid))).toEqual([])
})

storeContract("TieredStore", async (env) => {
  const remote = makeRemoteCache({ url: server.url, token, team: freshTeam() }, { onWarning: (m) => { throw new Error(`unexpected warning: ${m}`) } })
  return makeTieredStore(makeFileStore(path.join(await tempDir(), "cache"), { now: env.now, touchAfterMs: 0 }), remote, { onWarning: () => {}, now: env.now })
})

const sha256 = (data: string | Uint8Array) => createHash("sha256").update(data).digest("hex")

/** One "machine": its own local store over the remote, and the warnings it was told. */
const machine = async (settings: Partial<RemoteCacheSettings> & { team: string }, on: RemoteCacheServer = server) => {
  const warnings: Array<string> = []
  const remote = makeRemoteCache({ url: on.url, token, ...settings }, { onWarning: (m) => warnings.push(m) })
  const store = makeTieredStore(makeFileStore(path.join(await tempDir(), "cache")), remote, { onWarning: (m) => warnings.push(m) })
  return { store, warnings }
}

/** An entry with one output file, and the blob map to put it with. */
const entryWithFile = async (n: string): Promise<{ entry: CacheEntry; blobs: Map<string, string> }> => {
  const source = path.join(await tempDir(), "out.txt")
  const content = `output of ${n}\n`.repeat(100)
  await writeFile(source, content)
  const file: StoredFile = { path: "dist/out.txt", digest: sha256(content), size: Buffer.byteLength(content), mode: 0o644 }
  const entry: CacheEntry = {
    key: keyOf(n), kind: "step", workflow: "wf", name: n, value: new Uint8Array(Buffer.from(`value of ${n}`)),
    logs: [{ stream: "stdout", text: "built" }], files: [file], durationMs: 5, createdAt: Date.now()
  }
  return { entry, blobs: new Map([[file.digest, source]]) }
}

const putOn = async (store: CacheStore, n: string) => {
  const { entry, blobs } = await entryWithFile(n)
  await store.put(entry, blobs)
  // Uploads go on in the background: what another machine sees is there once they are done.
  await settleUploads()
  return entry
}

describe("the tiered store", () => {
  it("gives a second machine, whose local store is empty, the entry and its blobs from the remote; then from its own store", async () => {
    const team = freshTeam()
    const a = await machine({ team })
    const b = await machine({ team })
    const entry = await putOn(a.store, "shared")
    expect(existsSync(server.artifactPath(entry.key, team))).toBe(true)
    expect(await b.store.get(entry.key)).toEqual(entry)
    expect(Buffer.from((await b.store.readBlob(entry.files[0]!.digest))!).toString()).toBe(`output of shared\n`.repeat(100))
    // Now local: found with the server gone from the picture (a new team would miss remotely).
    expect((await b.store.list()).map((info) => info.key)).toEqual([entry.key])
    expect([...a.warnings, ...b.warnings]).toEqual([])
  })

  it("takes a tampered artifact for a miss, with a warning, never a wrong value", async () => {
    const team = freshTeam()
    const a = await machine({ team })
    const entry = await putOn(a.store, "tampered")
    const file = server.artifactPath(entry.key, team)
    const bytes = await readFile(file)
    const at = bytes.indexOf(Buffer.from("value of tampered"))
    expect(at).toBeGreaterThan(0)
    bytes[at] = "V".charCodeAt(0)
    await writeFile(file, bytes)
    const b = await machine({ team })
    expect(await b.store.get(entry.key)).toBeUndefined()
    expect(b.warnings).toEqual([expect.stringMatching(new RegExp(`artifact ${entry.key} does not match its checksum.*counts as a miss`))])
    expect(await b.store.list()).toEqual([])
  })

  it("takes an artifact holding another key's entry, or a blob that is not its digest, for a miss", async () => {
    const team = freshTeam()
    const a = await machine({ team })
    const one = await putOn(a.store, "one")
    const two = await putOn(a.store, "two")
    // The server's copy of one's artifact replaced by two's: a valid entry, of another key.
    await writeFile(server.artifactPath(one.key, team), await readFile(server.artifactPath(two.key, team)))
    const blobOf = server.artifactPath(two.key, team)
    const bytes = await readFile(blobOf)
    bytes[bytes.length - 1] ^= 1
    await writeFile(blobOf, bytes)
    const b = await machine({ team })
    expect(await b.store.get(one.key)).toBeUndefined()
    expect(await b.store.get(two.key)).toBeUndefined()
    expect(b.warnings).toEqual([
      expect.stringMatching(/holds the entry of another key/),
      expect.stringMatching(/holds a blob that does not match its digest/)
    ])
  })

  it("signs uploads; verifies downloads: a wrong key or a missing signature is a miss, with a warning", async () => {
    const team = `team_${process.pid}signed`
    const a = await machine({ team, signatureKey: "right key" }, signing)
    const entry = await putOn(a.store, "signed")
    const right = await machine({ team, signatureKey: "right key" }, signing)
    expect(await right.store.get(entry.key)).toEqual(entry)
    const wrong = await machine({ team, signatureKey: "wrong key" }, signing)
    expect(await wrong.store.get(entry.key)).toBeUndefined()
    expect(wrong.warnings).toEqual([expect.stringMatching(new RegExp(`artifact ${entry.key} has a signature that does not match.*counts as a miss`))])
    // Uploaded by someone without the key (the server keeps no tag and answers 404 for the artifact: a miss) …
    const unsigned = await machine({ team: "unsigned" })
    const plain = await putOn(unsigned.store, "unsigned")
    const checking = await machine({ team: "unsigned", signatureKey: "right key" })
    expect(await checking.store.get(plain.key)).toBeUndefined()
    expect(checking.warnings).toEqual([expect.stringMatching(/is not signed/)])
  })

  it("read-only: downloads, never uploads", async () => {
    const team = freshTeam()
    const writer = await machine({ team })
    const shared = await putOn(writer.store, "from-ci")
    const reader = await machine({ team, readOnly: true })
    expect(await reader.store.get(shared.key)).toEqual(shared)
    const mine = await putOn(reader.store, "from-a-fork")
    expect(await reader.store.get(mine.key)).toEqual(mine)
    expect(existsSync(server.artifactPath(mine.key, team))).toBe(false)
    expect(reader.warnings).toEqual([])
  })

  it("a token the server refuses: one warning, then local only", async () => {
    const warnings: Array<string> = []
    const remote = makeRemoteCache({ url: server.url, token: "not the token", team: freshTeam() }, { onWarning: (m) => warnings.push(m) })
    const store = makeTieredStore(makeFileStore(path.join(await tempDir(), "cache")), remote, { onWarning: (m) => warnings.push(m) })
    for (const n of ["x", "y", "z"]) {
      expect(await store.get(keyOf(n))).toBeUndefined()
      const entry = await putOn(store, n)
      expect(await store.get(entry.key)).toEqual(entry)
    }
    expect(warnings).toEqual([expect.stringMatching(/refused the token \(HTTP 401\)/)])
    expect(warnings.join("\n")).not.toContain("not the token")
  })
})

describe("a remote that is down or never answers", () => {
  /** A TCP server that accepts connections and never answers; counts the requests it is sent. */
  let silent: Server
  let connections = 0
  const sockets = new Set<Socket>()
  beforeAll(async () => {
    silent = createServer((socket) => {
      sockets.add(socket)
      // Requests, not connections: undici's pool dials spare connections after an abort, sending nothing on them.
      socket.on("data", (data) => (connections += data.toString("latin1").split("HTTP/1.1\r\n").length - 1))
      socket.on("error", () => {})
    })
    await new Promise<void>((resolve) => silent.listen(0, "127.0.0.1", resolve))
  })
  afterAll(async () => {
    for (const socket of sockets) socket.destroy()
    await new Promise<void>((resolve) => silent.close(() => resolve()))
  })
  const closedPort = async () => {
    const probe = createServer()
    await new Promise<void>((resolve) => probe.listen(0, "127.0.0.1", resolve))
    const { port } = probe.address() as { port: number }
    await new Promise<void>((resolve) => probe.close(() => resolve()))
    return port
  }

  for (const [name, url] of [["down (port closed)", async () => `http://127.0.0.1:${await closedPort()}`], ["slow (never answers)", async () => `http://127.0.0.1:${(silent.address() as { port: number }).port}`]] as const) {
    it(`${name}: one warning, every get and put answered from the local store, no request after the first failure`, async () => {
      const warnings: Array<string> = []
      connections = 0
      // Down: a wide timeout, so that the refusal is what is said even on a loaded machine (undici loads on first use).
      const remote = makeRemoteCache({ url: await url(), token, team: "t", timeoutMs: name.startsWith("down") ? 20_000 : 300 }, { onWarning: (m) => warnings.push(m) })
      const store = makeTieredStore(makeFileStore(path.join(await tempDir(), "cache")), remote, { onWarning: (m) => warnings.push(m) })
      // Twenty at once, as a run's steps would ask: all wait out one timeout together, not one each.
      const misses = await Promise.all(Array.from({ length: 20 }, (_, i) => store.get(keyOf(`down-${i}`))))
      expect(misses.every((m) => m === undefined)).toBe(true)
      const seen = connections
      for (const n of ["a", "b"]) {
        const entry = await putOn(store, `down-${n}`)
        expect(await store.get(entry.key)).toEqual(entry)
        expect(await store.get(keyOf(`never-${n}`))).toBeUndefined()
      }
      expect(connections).toBe(seen)
      expect(warnings).toEqual([expect.stringMatching(name.startsWith("down") ? /could not be reached/ : /got no answer within 300 ms/)])
      expect(warnings[0]).toMatch(/goes on with the local cache alone/)
    })
  }
})
