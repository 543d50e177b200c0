import { createHash } from "node:crypto"
import { mkdtempSync, mkdirSync, readFileSync, statSync, symlinkSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import * as path from "node:path"
import { describe, expect, it } from "vitest"
import { makeFileHasher } from "./fileHashes.ts"
import { makeMemoryStore } from "./MemoryStore.ts"
import { refusedOutput, restoreOutputs, unsafePath } from "./outputs.ts"

describe("restore paths", () => {
  const root = mkdtempSync(path.join(tmpdir(), "weft-out-"))
  mkdirSync(path.join(root, "dist"))
  symlinkSync("/etc", path.join(root, "etc-link"))
  symlinkSync("..", path.join(root, "dist", "up"))
  writeFileSync(path.join(root, "dist", "a.js"), "")

  it.for([
    ["../escape"], ["/abs"], ["////abs"], ["C:..\\x"], ["dir\\..\\x"], ["dist/../../x"], ["etc-link/passwd"], ["dist/up/x"], ["dist//a"], [""]
  ])("refuses %s", ([p]) => {
    expect(unsafePath(root, p!)).toBeDefined()
  })

  it.for([["dist/a.js"], ["dist/new/b.js"], ["c.txt"]])("allows %s", ([p]) => {
    expect(unsafePath(root, p!)).toBeUndefined()
  })

  it("judges the paths under a root reached through a symlink (a linked checkout) as under the root itself", () => {
    const linked = path.join(mkdtempSync(path.join(tmpdir(), "weft-out-link-")), "checkout")
    symlinkSync(root, linked)
    expect(unsafePath(linked, "dist/a.js")).toBeUndefined()
    expect(unsafePath(linked, "dist/new/b.js")).toBeUndefined()
    expect(unsafePath(linked, "etc-link/passwd")).toMatch(/symlink/)
    expect(unsafePath(linked, "dist/up/x")).toMatch(/symlink/)
  })
})

describe("restoreOutputs", () => {
  const bytes = Buffer.alloc(3 * 1024 * 1024, 7)
  const digest = createHash("sha256").update(bytes).digest("hex")
  const file = { path: "dist/big.bin", digest, size: bytes.byteLength, mode: 0o644 }
  const stored = async () => {
    const root = mkdtempSync(path.join(tmpdir(), "weft-restore-"))
    writeFileSync(path.join(root, "source.bin"), bytes)
    const store = makeMemoryStore()
    await store.put({ key: "a".repeat(64), kind: "step", workflow: "w", name: "s", value: new Uint8Array(), logs: [], files: [file], durationMs: 0, createdAt: 0 }, new Map([[digest, path.join(root, "source.bin")]]))
    return { root, store }
  }

  it("streams a blob to disk instead of reading it whole", async () => {
    const { root, store } = await stored()
    const streaming = { ...store, readBlob: () => Promise.reject(new Error("read whole into memory")) }
    expect(await restoreOutputs(root, [file], ["dist/**"], streaming, () => {})).toBe(true)
    expect(statSync(path.join(root, "dist/big.bin")).size).toBe(bytes.byteLength)
  })

  it("refuses bytes that are not what the entry describes, leaving nothing behind", async () => {
    const { root, store } = await stored()
    const swapped = { ...store, openBlob: async () => (async function*() { yield new Uint8Array(file.size) })() }
    const warnings: Array<string> = []
    expect(await restoreOutputs(root, [file], ["dist/**"], swapped, (w) => warnings.push(w))).toBe(false)
    expect(() => readFileSync(path.join(root, "dist/big.bin"))).toThrow(/ENOENT/)
    expect(warnings).toEqual([expect.stringContaining(`"dist/big.bin"`)])
  })
})

describe("refusedOutput", () => {
  it("accepts every file the hasher captures for the globs, and nothing they do not match", async () => {
    const root = mkdtempSync(path.join(tmpdir(), "weft-globs-"))
    for (const file of ["dist/a.js", "dist/.hidden", "dist/sub/b.js", "a/x.js", "b/y.js", "c/z.js", "top.txt", ".config/rc", "node_modules/foo/i.js", "out/m/n.map", ".git/hooks/pre-commit", ".weft/x.txt"]) {
      mkdirSync(path.dirname(path.join(root, file)), { recursive: true })
      writeFileSync(path.join(root, file), file)
    }
    const globs = ["dist/**", "*.txt", "{a,b}/*.js", "out/**/*.map", ".config/*", "node_modules/foo/**"]
    const { files } = await makeFileHasher(path.join(root, "hashes.json")).hashGlobs(root, globs)
    const stored = files.map((f) => ({ ...f, size: 0, mode: 0o644 }))
    expect(stored.map((f) => f.path).sort()).toEqual(["a/x.js", "b/y.js", "dist/a.js", "dist/sub/b.js", "node_modules/foo/i.js", "out/m/n.map", "top.txt", ".config/rc"].sort())
    expect(refusedOutput(root, stored, globs)).toBeUndefined()
    for (const other of ["dist/.hidden", "c/z.js", ".git/hooks/pre-commit", ".weft/x.txt", "wf.yaml"]) {
      expect(refusedOutput(root, [...stored, { path: other, digest: "", size: 0, mode: 0o644 }], globs)).toContain(`"${other}"`)
    }
    // Weft's own folder, even when a glob names it.
    expect(refusedOutput(root, [{ path: ".weft/x.txt", digest: "", size: 0, mode: 0o644 }], [".weft/**"])).toMatch(/weft's own/)
  })
})
