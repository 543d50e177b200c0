import { createHash } from "node:crypto"
import { mkdir, mkdtemp, rename, rm, stat, symlink, utimes, writeFile } from "node:fs/promises"
import { tmpdir } from "node:os"
import * as path from "node:path"
import { afterEach, beforeEach, describe, expect, it } from "vitest"
import { makeFileHasher } from "./fileHashes.ts"

const sha256 = (data: string | Uint8Array) => createHash("sha256").update(data).digest("hex")
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

let root: string
let stateFile: string
/** Far enough ahead that every file written by the test counts as settled (not racy). */
const later = () => Date.now() + 10_000

const write = async (relative: string, content: string | Uint8Array) => {
  const file = path.join(root, relative)
  await mkdir(path.dirname(file), { recursive: true })
  await writeFile(file, content)
}

beforeEach(async () => {
  root = await mkdtemp(path.join(tmpdir(), "weft-hashes-"))
  stateFile = path.join(root, ".weft", "file-hashes.json")
  await write("src/a.ts", "export const a = 1\n")
  await write("src/b.ts", "export const b = 2\n")
  await write("src/nested/c.ts", "export const c = 3\n")
  await write("src/.hidden.ts", "secret\n")
  await write("README.md", "# readme\n")
  await write("node_modules/dep/index.ts", "dep\n")
  await write(".weft/cache/junk.ts", "junk\n")
})

afterEach(async () => {
  await rm(root, { recursive: true, force: true })
})

describe("makeFileHasher", () => {
  it("hashes the matching files, sorted, with their content digests", async () => {
    const result = await makeFileHasher(stateFile, { now: later }).hashGlobs(root, ["src/**/*.ts", "README.md"])
    expect(result.files).toEqual([
      { path: "README.md", digest: sha256("# readme\n") },
      { path: "src/a.ts", digest: sha256("export const a = 1\n") },
      { path: "src/b.ts", digest: sha256("export const b = 2\n") },
      { path: "src/nested/c.ts", digest: sha256("export const c = 3\n") }
    ])
    expect(result.digest).toMatch(/^[0-9a-f]{64}$/)
  })

  it("skips node_modules and .weft unless a glob names them", async () => {
    const hasher = makeFileHasher(stateFile, { now: later })
    expect((await hasher.hashGlobs(root, ["**/*.ts"])).files.map((f) => f.path)).toEqual(["src/a.ts", "src/b.ts", "src/nested/c.ts"])
    expect((await hasher.hashGlobs(root, ["node_modules/**/*.ts", ".weft/cache/**"])).files.map((f) => f.path)).toEqual([
      ".weft/cache/junk.ts",
      "node_modules/dep/index.ts"
    ])
  })

  it("does not read an unchanged tree again, even from a new process", async () => {
    const first = makeFileHasher(stateFile, { now: later })
    const a = await first.hashGlobs(root, ["src/**", "README.md"])
    expect(first.filesRead).toBe(4)
    expect(await first.hashGlobs(root, ["src/**", "README.md"])).toEqual(a)
    expect(first.filesRead).toBe(4)
    const second = makeFileHasher(stateFile, { now: later })
    expect(await second.hashGlobs(root, ["README.md", "src/**"])).toEqual(a)
    expect(second.filesRead).toBe(0)
  })

  it("gives the same digest whatever the order or overlap of the globs", async () => {
    const hasher = makeFileHasher(stateFile, { now: later })
    const a = await hasher.hashGlobs(root, ["src/*.ts", "src/nested/*.ts", "README.md"])
    const b = await hasher.hashGlobs(root, ["README.md", "src/**/*.ts", "src/nested/*.ts", "src/a.ts"])
    expect(b.digest).toBe(a.digest)
  })

  it("changes the digest when a matching file is added, not when another is", async () => {
    const hasher = makeFileHasher(stateFile, { now: later })
    const before = await hasher.hashGlobs(root, ["src/**/*.ts"])
    await write("docs/guide.md", "guide\n")
    expect((await hasher.hashGlobs(root, ["src/**/*.ts"])).digest).toBe(before.digest)
    await write("src/d.ts", "export const d = 4\n")
    expect((await hasher.hashGlobs(root, ["src/**/*.ts"])).digest).not.toBe(before.digest)
  })

  it("gives the empty set one fixed digest", async () => {
    const hasher = makeFileHasher(stateFile, { now: later })
    const none = await hasher.hashGlobs(root, [])
    expect(none).toEqual(await hasher.hashGlobs(root, ["missing/**", "absent.txt"]))
    expect(none).toEqual({ digest: sha256("weft-files:1\0"), files: [] })
  })

  it("notices an edit that keeps the size and restores the modification time (the ctime changes)", async () => {
    const file = path.join(root, "src/a.ts")
    const seconds = Math.floor(Date.now() / 1000) - 60
    await utimes(file, seconds, seconds)
    const digest = (await makeFileHasher(stateFile, { now: later }).hashGlobs(root, ["src/a.ts"])).digest
    await sleep(20)
    await writeFile(file, "export const a = 9\n")
    await utimes(file, seconds, seconds)
    expect((await stat(file)).mtimeMs).toBe(seconds * 1000)
    const after = makeFileHasher(stateFile, { now: later })
    expect((await after.hashGlobs(root, ["src/a.ts"])).digest).not.toBe(digest)
    expect(after.filesRead).toBe(1)
  })

  it("notices an atomic save (rename over) with the same size and times (new inode and ctime)", async () => {
    const file = path.join(root, "src/a.ts")
    const seconds = Math.floor(Date.now() / 1000) - 60
    await utimes(file, seconds, seconds)
    const digest = (await makeFileHasher(stateFile, { now: later }).hashGlobs(root, ["src/a.ts"])).digest
    await writeFile(path.join(root, "src/a.ts.tmp"), "export const a = 8\n")
    await utimes(path.join(root, "src/a.ts.tmp"), seconds, seconds)
    await rename(path.join(root, "src/a.ts.tmp"), file)
    expect((await makeFileHasher(stateFile, { now: later }).hashGlobs(root, ["src/a.ts"])).digest).not.toBe(digest)
  })

  it("hashes a file modified in the last two seconds every time, and does not remember it (racy git)", async () => {
    const hasher = makeFileHasher(stateFile)
    await hasher.hashGlobs(root, ["src/a.ts"])
    await hasher.hashGlobs(root, ["src/a.ts"])
    expect(hasher.filesRead).toBe(2)
    const settled = makeFileHasher(stateFile, { now: later })
    await settled.hashGlobs(root, ["src/a.ts"])
    expect(settled.filesRead).toBe(1)
  })

  it("drops a deleted file and starts over from a damaged table", async () => {
    const hasher = makeFileHasher(stateFile, { now: later })
    await hasher.hashGlobs(root, ["src/*.ts"])
    await rm(path.join(root, "src/b.ts"))
    expect((await hasher.hashGlobs(root, ["src/*.ts"])).files.map((f) => f.path)).toEqual(["src/a.ts"])
    await writeFile(stateFile, "{ not json")
    const fresh = makeFileHasher(stateFile, { now: later })
    expect((await fresh.hashGlobs(root, ["src/*.ts"])).files).toHaveLength(1)
    expect(fresh.filesRead).toBe(1)
  })

  it("streams a big file and hashes a symlink by its target's content", async () => {
    const big = new Uint8Array(3 * 1024 * 1024 + 17).map((_, i) => i % 253)
    await write("data/big.bin", big)
    await symlink(path.join(root, "README.md"), path.join(root, "data/link.md"))
    const result = await makeFileHasher(stateFile, { now: later }).hashGlobs(root, ["data/*"])
    expect(result.files).toEqual([
      { path: "data/big.bin", digest: sha256(big) },
      { path: "data/link.md", digest: sha256("# readme\n") }
    ])
  })
})
