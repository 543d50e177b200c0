import { createHash } from "node:crypto"
import { mkdtempSync, mkdirSync, readFileSync, statSync, symlinkSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import * as path from "node:path"
import { describe, expect, it } from "vitest"
import { makeMemoryStore } from "./MemoryStore.ts"
import { restoreOutputs, unsafePath } from "./outputs.ts"

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
